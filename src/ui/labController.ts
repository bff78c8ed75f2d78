// The page's actions: they send commands to the worker, read saved runs, and apply the worker's
// events to the store (through ./events.ts). Saved runs are written only by the worker: rename,
// delete and import are requests to it. Components call these; nothing else talks to the worker.
// A saved record becomes a view through one path: record → run file (runFileOf) → view.
import type { ExperimentConfig, NetEntry } from '../core/config';
import { configToQuery } from '../core/config';
import { DATA_GUIDANCE } from '../core/data/guidance';
import { dropSizeError } from '../core/data/archive';
import { costProblem, measuredSpeed } from '../core/cost';
import { cifarNet, multiplyAdds } from '../core/nets';
import { median } from '../core/fig7';
import { torchExport } from '../core/torchExport';
import torchScript from '../../bench/reference/lab_train.py?raw';
import { strToU8, zipSync } from 'fflate';
import { runFileName, runFileSizeError } from '../core/runFile';
import type { RunFile } from '../core/runFile';
import type { RunRecord } from '../storage/runsDb';
import { getRun, listRuns, loadSeries, runFileOf } from '../storage/runsDb';
import { download } from './charts/exportChart';
import i18n from './i18n';
import { LabClient } from './labClient';
import type { RunView } from './store';
import { linkHasConfigKeys, runViewFromFile, saveSpeed, showConfig, syncUrl, useLab } from './store';
import { dataFailed, reduceEvent, withError } from './events';
import type { BenchResult, BenchSpec, Command, StartOptions, WorkerEvent } from '../worker/protocol';
import { runLockHeld } from '../worker/protocol';

const client = new LabClient();

const benchWaiters = new Map<number, (r: BenchResult) => void>();
let benchIds = 0;

/** Time one benchmark case in the worker (bench/run.ts drives this through the automation API). */
export function runBench(spec: BenchSpec): Promise<BenchResult> {
  const id = ++benchIds;
  return new Promise((resolve) => {
    benchWaiters.set(id, resolve);
    client.send({ type: 'bench', id, spec });
  });
}

const newRunId = () => `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

/** A short, readable run name from its config in the page's language, e.g. "8·56 plain+res A, 300 it". */
export function describeConfig(c: ExperimentConfig): string {
  const fam = c.families.map((f) => i18n.t(`runName.${f}`)).join('+');
  const warm = c.warmup.filter((w) => w !== 'off');
  const extras = [
    c.blocks.includes('bottleneck') ? i18n.t('runName.bottleneck') : '',
    warm.length ? i18n.t('runName.warmup', { mode: c.warmup.join('/') }) : '',
    c.width !== 1 ? `×${c.width}` : '',
  ].filter(Boolean).join(', ');
  return `${c.depths.join('·')} ${fam} ${c.shortcuts.join('')}${extras ? `, ${extras}` : ''}, ${i18n.t('runName.its', { n: c.iterations.toLocaleString('en') })}`;
}

function addError(message: string) {
  useLab.setState((s) => withError(s, message));
}

let requestIds = 0;
const savedRunWaiters = new Map<number, (e: Extract<WorkerEvent, { type: 'savedRun' }>) => void>();

/** Ask the worker (the one writer of saved runs) for an edit, and wait for its answer. */
function savedRunRequest(
  make: (requestId: number) => Extract<Command, { type: 'renameRun' | 'deleteRun' | 'importRun' }>,
  transfer: Transferable[] = [],
): Promise<Extract<WorkerEvent, { type: 'savedRun' }>> {
  const requestId = ++requestIds;
  return new Promise((resolve) => {
    savedRunWaiters.set(requestId, resolve);
    client.send(make(requestId), transfer);
  });
}

/**
 * The watchdog. While a run trains, the worker's heartbeat counter (shared memory: its timer, and
 * every kernel call of every CPU thread, bump it) must move. If it stands still this long, training
 * hangs (a helper thread died, and the others wait at a barrier forever; Pause and Stop cannot get
 * through): the page ends the worker, starts a fresh one, and shows the run as interrupted, with its
 * saved points and a Resume from the last checkpoint. Longer than any single kernel call.
 */
export const HANG_MS = 8000;
const watch = { counter: null as Int32Array | null, last: 0, movedAt: 0 };

function checkHeartbeat(): void {
  const now = performance.now();
  const run = useLab.getState().run;
  if (!watch.counter || run?.state !== 'running') {
    watch.movedAt = now;
    return;
  }
  const beat = Atomics.load(watch.counter, 0);
  if (beat !== watch.last) {
    watch.last = beat;
    watch.movedAt = now;
  } else if (now - watch.movedAt > HANG_MS) {
    recoverFromHang(Math.round((now - watch.movedAt) / 1000));
  }
}

function recoverFromHang(seconds: number): void {
  watch.counter = null;
  ownRunId = null;
  client.restart();
  useLab.setState((s) => ({
    run: s.run ? { ...s.run, state: 'paused', interrupted: true } : s.run,
    data: { status: 'loading' },
    ...withError(s, `Training stopped answering for ${seconds} s (a CPU helper thread may have died), so the lab restarted its worker. Every point saved until then is kept; Resume continues from the last checkpoint.`),
  }));
  client.send({ type: 'probe' });
  client.send({ type: 'loadData' });
  void refreshRuns();
}

/** Iterations a run must have trained for its throughput to stand for this machine's speed. */
const SPEED_MIN_ITERATIONS = 30;

/** Keep this machine's training speed from a run that ran here long enough (for expected times before Start). */
function rememberSpeed(runId: string): void {
  const run = useLab.getState().run;
  if (!run || run.id !== runId || run.id !== ownRunId || !run.progress || run.progress.iteration < SPEED_MIN_ITERATIONS || !(run.progress.imagesPerSec > 0)) return;
  saveSpeed({ macsPerSec: measuredSpeed(run.config, run.progress.imagesPerSec), engine: run.engine });
}

/**
 * The net a first visit times to say how long an experiment will take here before any run has
 * measured this machine: ResNet-20 at the Classroom width and batch, a few steps of one copy per thread
 * of the lab CPU engine stepped together, as a run of several nets trains (about a second). The first
 * run that trains long enough replaces the figure (rememberSpeed).
 */
export const ESTIMATE_SPEC: BenchSpec = { backend: 'lab-cpu', n: 3, residual: true, width: 0.25, batch: 64, reps: 3, budgetMs: 1500, schedule: 'nets', copies: 'threads' };
let estimating = false;

async function estimateSpeed(): Promise<void> {
  if (estimating || useLab.getState().speed || useLab.getState().run?.state === 'running') return;
  estimating = true;
  const r = await runBench(ESTIMATE_SPEC);
  if (!r.ok || !r.stepMs?.length || useLab.getState().speed) return;
  const stepMs = median(r.stepMs);
  const macs = multiplyAdds(cifarNet({ n: ESTIMATE_SPEC.n, residual: ESTIMATE_SPEC.residual, shortcut: 'A', width: ESTIMATE_SPEC.width }));
  saveSpeed({ macsPerSec: ((r.copies ?? 1) * ESTIMATE_SPEC.batch * macs) / (stepMs / 1000), engine: r.engine ?? 'lab CPU engine', estimated: true });
}

function onEvent(e: WorkerEvent): void {
  const change = reduceEvent(useLab.getState(), e);
  if (change) useLab.setState(change);
  switch (e.type) {
    case 'heartbeat':
      watch.counter = e.counter;
      watch.last = Atomics.load(e.counter, 0);
      watch.movedAt = performance.now();
      return;
    case 'run':
      // the list shows a run once it trains, and its status whenever that changes
      if (e.state !== 'starting') void refreshRuns();
      if (e.state === 'done' || e.state === 'stopped' || e.state === 'paused') rememberSpeed(e.runId);
      return;
    case 'dataset':
    case 'dataMissing':
      // nothing measured this machine yet: time a few steps once the worker has settled its data
      void estimateSpeed();
      return;
    case 'benchResult':
      benchWaiters.get(e.id)?.(e.result);
      benchWaiters.delete(e.id);
      return;
    case 'savedRun':
      savedRunWaiters.get(e.requestId)?.(e);
      savedRunWaiters.delete(e.requestId);
      return;
  }
}

let started = false;

/** Start the lab: probe the backends, load the data, and reopen the last run if it was not finished. */
export function bootLab(): void {
  if (started) return;
  started = true;
  // read before the URL is rewritten with the form's config (syncUrl below)
  const linkAsks = linkHasConfigKeys(location.search) || new URLSearchParams(location.search).has('preset');
  client.subscribe(onEvent);
  setInterval(checkHeartbeat, 1000);
  // nothing fails silently: an error no code caught still reaches the page
  const unexpected = (reason: unknown) => addError(i18n.t('errors.unexpected', { message: reason instanceof Error ? reason.message : String(reason) }));
  window.addEventListener('unhandledrejection', (e) => unexpected(e.reason));
  window.addEventListener('error', (e) => unexpected(e.error ?? e.message));
  // a hidden or unloading page asks for a checkpoint now (the worker also takes them often: an
  // unloading page's worker may die before it answers)
  const checkpointSoon = () => {
    if (useLab.getState().run?.state === 'running') client.send({ type: 'checkpointSoon' });
  };
  document.addEventListener('visibilitychange', () => document.visibilityState === 'hidden' && checkpointSoon());
  window.addEventListener('pagehide', checkpointSoon);
  client.send({ type: 'probe' });
  useLab.setState({ data: { status: 'loading' } });
  client.send({ type: 'loadData' });
  syncUrl(useLab.getState());
  void measureStorage(true);
  void refreshRuns().then(async (runs) => {
    // After a reload the last run reopens with its charts: always one left running or paused, and a
    // finished one unless the link asks for another experiment (a shared link wins over old runs).
    const last = runs[0];
    if (!last || useLab.getState().run) return;
    const live = last.status === 'running' || last.status === 'paused';
    if (live || !linkAsks || configToQuery(useLab.getState().config) === configToQuery(last.config)) await openRun(last.id);
  });
}

/** The run this tab's worker trains (or was last asked to), if any. */
let ownRunId: string | null = null;

/** Whether another tab's worker owns this run: it holds the run's Web Lock, and this tab does not train it. */
async function ownedByAnotherTab(id: string): Promise<boolean> {
  return id !== ownRunId && (await runLockHeld(id));
}

/** Check the active backend: a conv pass against tfjs's CPU backend, then a whole net's gradients against the lab CPU engine. */
export function verifyBackend(): void {
  useLab.setState({ selftest: 'running', netCheck: 'running' });
  client.send({ type: 'selftest' });
  client.send({ type: 'netCheck' });
}

export function reloadData(): void {
  useLab.setState({ data: { status: 'loading' } });
  client.send({ type: 'loadData', reload: true });
}

/**
 * Files the user dropped or picked: refused whole if too large, read here, and moved (not copied)
 * to the worker, which unpacks and checks them. A file that cannot be read, or a drop the worker
 * refuses, leaves the dataset loaded before it in place and says why.
 */
export async function dropFiles(files: File[]): Promise<void> {
  if (!files.length) return;
  const before = useLab.getState().data;
  const previous = before.status === 'ready' ? before : before.status === 'loading' ? before.previous : undefined;
  const fail = (message: string) => useLab.setState((s) => dataFailed({ ...s, data: { status: 'loading', previous } }, message));
  const tooBig = dropSizeError(files);
  if (tooBig) return fail(tooBig);
  useLab.setState({ data: { status: 'loading', file: files.map((f) => f.name).join(', '), previous } });
  let payload: { name: string; bytes: ArrayBuffer }[];
  try {
    payload = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
  } catch (err) {
    return fail(`could not read ${files.map((f) => f.name).join(', ')}: ${err instanceof Error ? err.message : String(err)}`);
  }
  client.send({ type: 'dropFiles', files: payload }, payload.map((p) => p.bytes));
}

/**
 * Ask the browser to keep the lab's storage (so saved runs are not evicted under pressure), and
 * measure what it uses of the quota, for the saved-runs panel.
 */
async function measureStorage(persist = false): Promise<void> {
  if (typeof navigator === 'undefined' || !navigator.storage?.estimate) return;
  try {
    const persisted = persist && navigator.storage.persist ? await navigator.storage.persist() : ((await navigator.storage.persisted?.()) ?? false);
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    useLab.setState({ storage: { usage, quota, persisted } });
  } catch {
    // storage estimates are a convenience: without them the panel shows no figure
  }
}

/** Damaged records already reported, so each is named once. */
const reportedDamaged = new Set<string>();

export async function refreshRuns(): Promise<RunRecord[]> {
  try {
    const { runs, damaged } = await listRuns();
    useLab.setState({ savedRuns: runs });
    void measureStorage();
    for (const d of damaged.filter((d) => !reportedDamaged.has(d.id))) {
      reportedDamaged.add(d.id);
      addError(`A saved run could not be read and is hidden: ${d.id}: ${d.problem}.`);
    }
    return runs;
  } catch (err) {
    addError(`saved runs are unavailable: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
}

/** Start a new experiment. A run already on screen stays saved and becomes the comparison. */
export function startRun(options: StartOptions = {}): void {
  const s = useLab.getState();
  if (s.data.status !== 'ready') {
    addError(s.data.status === 'missing' ? DATA_GUIDANCE[0] : 'CIFAR-10 is not loaded yet');
    return;
  }
  const tooBig = costProblem(s.config);
  if (tooBig) {
    addError(`Not started: ${tooBig}.`);
    return;
  }
  const id = newRunId();
  const config = s.config;
  const run: RunView = {
    id,
    name: describeConfig(config),
    state: 'starting',
    engine: '',
    config,
    nets: [],
    series: {},
    progress: null,
    checkpointIteration: null,
  };
  useLab.setState({
    run,
    backendFailure: null,
    scrubIteration: null,
  });
  ownRunId = id;
  client.send({ type: 'start', runId: id, name: run.name, config, options });
}

const markPending = (pending: 'pausing' | 'stopping') => useLab.setState((s) => (s.run ? { run: { ...s.run, pending } } : {}));

/** Pause: the page says "Pausing…" until the worker, at the end of its current round, confirms. */
export function pauseRun(): void {
  markPending('pausing');
  client.send({ type: 'pause' });
}

/**
 * Stop: the page says "Stopping…" until the worker confirms. A run this tab's worker does not train
 * (restored after a reload) is stopped in storage by the worker, by its id.
 */
export function stopRun(): void {
  const run = useLab.getState().run;
  markPending('stopping');
  client.send(run && run.id !== ownRunId ? { type: 'stop', runId: run.id } : { type: 'stop' });
}

export function resumeRun(backend?: ExperimentConfig['backend']): void {
  const run = useLab.getState().run;
  if (!run) return;
  useLab.setState({ backendFailure: null });
  ownRunId = run.id;
  client.send({ type: 'resume', runId: run.id, backend });
}

/** Simulate a lost device or out-of-memory error in the running experiment (tests, demos). */
export function injectFault(kind: Extract<Command, { type: 'injectFault' }>['kind']): void {
  client.send({ type: 'injectFault', kind });
}

export function addNet(entry: NetEntry): void {
  client.send({ type: 'addNet', entry });
}

/**
 * Show a saved run (its points from IndexedDB), with the settings that made it in the form and the
 * URL. A run another tab trains is shown read-only; one left 'running' by a page that is gone is
 * shown interrupted, resumable from its checkpoint.
 */
export async function openRun(id: string): Promise<void> {
  const rec = await getRun(id);
  if (!rec) return;
  const file = runFileOf(rec, await loadSeries(id));
  const view = runViewFromFile(id, file, { checkpointIteration: rec.checkpointIteration, message: rec.error });
  const live = rec.status === 'running' || rec.status === 'paused';
  if (live && (await ownedByAnotherTab(id))) view.elsewhere = true;
  else if (rec.status === 'running' && id !== ownRunId) Object.assign(view, { state: 'paused', interrupted: true });
  useLab.setState({ run: view, scrubIteration: null });
  showConfig(rec.config);
}

export async function compareRun(id: string | null): Promise<void> {
  if (!id) {
    useLab.setState({ compare: null });
    return;
  }
  const rec = await getRun(id);
  if (!rec) return;
  useLab.setState({ compare: { id, name: rec.name, nets: rec.nets, series: await loadSeries(id) } });
}

export async function renameSavedRun(id: string, name: string): Promise<void> {
  const answer = await savedRunRequest((requestId) => ({ type: 'renameRun', requestId, runId: id, name }));
  if (!answer.ok) {
    addError(`Could not rename the run: ${answer.message}`);
    return;
  }
  const newName = answer.name ?? name;
  useLab.setState((s) => ({ run: s.run && s.run.id === id ? { ...s.run, name: newName } : s.run }));
  await refreshRuns();
}

export async function deleteSavedRun(id: string): Promise<void> {
  const answer = await savedRunRequest((requestId) => ({ type: 'deleteRun', requestId, runId: id }));
  if (!answer.ok) {
    addError(`Could not delete the run: ${answer.message}`);
    return;
  }
  useLab.setState((s) => ({ compare: s.compare?.id === id ? null : s.compare, run: s.run?.id === id ? null : s.run }));
  await refreshRuns();
}

/**
 * A run as a file. The run on screen is exported from the page's own points, which are complete
 * even when storage filled up mid-run; any other run from storage.
 */
export async function runAsFile(id: string): Promise<RunFile> {
  const rec = await getRun(id);
  if (!rec) throw new Error(`no saved run ${id}`);
  const live = useLab.getState().run;
  if (live?.id === id && Object.keys(live.series).length) return runFileOf({ ...rec, nets: live.nets, progress: live.progress ?? rec.progress }, live.series);
  return runFileOf(rec, await loadSeries(id));
}

export async function exportRun(id: string): Promise<void> {
  const file = await runAsFile(id);
  download(JSON.stringify(file), runFileName(file), 'application/json');
}

/**
 * Import a run file. Its bytes move to the worker, which checks the file whole and saves it; a bad
 * file changes nothing and gets a message that names the cause.
 */
export async function importRun(file: File): Promise<boolean> {
  const fail = (why: string) => {
    addError(`Could not import ${file.name}: ${why}`);
    return false;
  };
  const tooBig = runFileSizeError(file.name, file.size);
  if (tooBig) return fail(tooBig);
  let bytes: ArrayBuffer;
  try {
    bytes = await file.arrayBuffer();
  } catch (err) {
    return fail(`the file could not be read (${err instanceof Error ? err.message : String(err)})`);
  }
  const id = newRunId();
  const answer = await savedRunRequest((requestId) => ({ type: 'importRun', requestId, runId: id, fileName: file.name, bytes }), [bytes]);
  if (!answer.ok) return fail(answer.message);
  await refreshRuns();
  if (useLab.getState().run?.state !== 'running') await openRun(id);
  useLab.setState({ notice: `Imported “${answer.name ?? file.name}”.` });
  return true;
}

/**
 * "Full scale (PyTorch)": the form's experiment as a zip of the PyTorch script, its config and a
 * README with the commands (src/core/torchExport.ts). The run file it writes imports here.
 */
export function exportTorchJob(): void {
  const { config } = useLab.getState();
  const name = describeConfig(config);
  const { files } = torchExport(config, torchScript, name);
  const zip = zipSync(Object.fromEntries(files.map((f) => [`degradation-lab-pytorch/${f.name}`, strToU8(f.text)])));
  download(new Blob([zip], { type: 'application/zip' }), `${name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '')}-pytorch.zip`);
}

export function dismissError(i: number): void {
  useLab.setState((s) => ({ errors: s.errors.filter((_, k) => k !== i) }));
}
