// The page's actions: they send commands to the worker, read and write saved runs, and update
// the store from the worker's events. Components call these; nothing else talks to the worker.
import type { ExperimentConfig, NetEntry } from '../core/config';
import { DATA_GUIDANCE } from '../core/data/guidance';
import { RUN_FORMAT, RUN_VERSION, parseRunFile, runFileName } from '../core/runFile';
import type { RunFile } from '../core/runFile';
import type { RunRecord } from '../storage/runsDb';
import { deleteRun, getRun, listRuns, loadSeries, renameRun, replaceSeries, saveRun } from '../storage/runsDb';
import { download } from './charts/exportChart';
import { LabClient } from './labClient';
import type { RunView } from './store';
import { mergeSeries, runViewFromFile, showConfig, syncUrl, useLab } from './store';
import type { BenchResult, BenchSpec, StartOptions, WorkerEvent } from '../worker/protocol';

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

/** A short, readable run name from its config, e.g. "8·56 plain+res A, 300 it". */
export function describeConfig(c: ExperimentConfig): string {
  const fam = c.families === 'both' ? 'plain+res' : c.families === 'plain' ? 'plain' : 'res';
  const extras = [c.warmup !== 'off' ? `warmup ${c.warmup}` : '', c.width !== 1 ? `×${c.width}` : ''].filter(Boolean).join(', ');
  return `${c.depths.join('·')} ${fam} ${c.shortcuts.join('')}${extras ? `, ${extras}` : ''}, ${c.iterations.toLocaleString('en')} it`;
}

function addError(message: string) {
  useLab.setState((s) => ({ errors: [...s.errors.slice(-4), message] }));
}

function onEvent(e: WorkerEvent): void {
  switch (e.type) {
    case 'backend':
      useLab.setState({ backend: e.report });
      return;
    case 'selftest':
      useLab.setState({ selftest: e.result });
      return;
    case 'netCheck':
      useLab.setState({ netCheck: { backend: e.backend, maxRelDiff: e.maxRelDiff, worst: e.worst } });
      return;
    case 'dataProgress':
      useLab.setState({ data: { status: 'loading', file: e.file, loaded: e.loaded, total: e.total } });
      return;
    case 'dataset':
      useLab.setState({ data: { status: 'ready', summary: e.summary } });
      return;
    case 'dataMissing':
      useLab.setState({ data: { status: 'missing', reason: e.reason, guidance: e.guidance } });
      return;
    case 'dataError': {
      const data = useLab.getState().data;
      // a failed drop leaves a loaded dataset in place; the message says what was wrong
      if (data.status === 'ready') addError(e.message);
      else useLab.setState({ data: { status: 'error', message: e.message } });
      return;
    }
    case 'run':
      useLab.setState((s) => {
        if (!s.run || s.run.id !== e.runId) return {};
        return {
          run: {
            ...s.run,
            state: e.state,
            engine: e.engine ?? s.run.engine,
            message: e.message,
            interrupted: e.state === 'running' ? false : s.run.interrupted,
          },
        };
      });
      if (e.state !== 'running' && e.state !== 'starting') void refreshRuns();
      return;
    case 'metrics':
      useLab.setState((s) => {
        if (!s.run || s.run.id !== e.runId) return {};
        return {
          run: {
            ...s.run,
            series: mergeSeries(s.run.series, e.delta.nets),
            // keep the same array while nothing about the nets changed, so memoised charts skip work
            nets: JSON.stringify(s.run.nets) === JSON.stringify(e.delta.infos) ? s.run.nets : e.delta.infos,
            progress: e.delta.progress,
          },
          memory: { tensors: e.delta.memory.tensors, bytes: e.delta.memory.bytes },
        };
      });
      return;
    case 'series':
      useLab.setState((s) => (s.run && s.run.id === e.runId ? { run: { ...s.run, series: e.nets, nets: e.infos } } : {}));
      return;
    case 'checkpoint':
      useLab.setState((s) => (s.run && s.run.id === e.runId ? { run: { ...s.run, checkpointIteration: e.iteration } } : {}));
      return;
    case 'backendFailed':
      useLab.setState({ backendFailure: { runId: e.runId, backend: e.backend, message: e.message, suggestion: e.suggestion } });
      return;
    case 'benchResult':
      benchWaiters.get(e.id)?.(e.result);
      benchWaiters.delete(e.id);
      return;
    case 'error':
      addError(`${e.during}: ${e.message}`);
      return;
  }
}

let started = false;

/** Start the lab: probe the backends, load the data, and reopen the last run if it was not finished. */
export function bootLab(): void {
  if (started) return;
  started = true;
  client.subscribe(onEvent);
  client.send({ type: 'probe' });
  useLab.setState({ data: { status: 'loading' } });
  client.send({ type: 'loadData' });
  syncUrl(useLab.getState());
  void refreshRuns().then(async (runs) => {
    const last = runs.find((r) => r.origin === 'lab');
    if (last && (last.status === 'running' || last.status === 'paused') && !useLab.getState().run) {
      await openRun(last.id);
      if (last.status === 'running') {
        // the page that ran it is gone: the run is resumable from its checkpoint
        useLab.setState((s) => (s.run ? { run: { ...s.run, state: 'paused', interrupted: true } } : {}));
      }
    }
  });
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

export async function dropFiles(files: File[]): Promise<void> {
  if (!files.length) return;
  useLab.setState({ data: { status: 'loading', file: files.map((f) => f.name).join(', ') } });
  const payload = await Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
  client.send({ type: 'dropFiles', files: payload });
}

export async function refreshRuns(): Promise<RunRecord[]> {
  try {
    const runs = await listRuns();
    useLab.setState({ savedRuns: runs });
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
  const id = newRunId();
  const config = s.config;
  const previous = s.run;
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
    compare: previous && Object.keys(previous.series).length ? { id: previous.id, name: previous.name, nets: previous.nets, series: previous.series } : s.compare,
  });
  client.send({ type: 'start', runId: id, name: run.name, config, options });
}

export function pauseRun(): void {
  client.send({ type: 'pause' });
}

export function stopRun(): void {
  client.send({ type: 'stop' });
}

export function resumeRun(backend?: ExperimentConfig['backend']): void {
  const run = useLab.getState().run;
  if (!run) return;
  useLab.setState({ backendFailure: null });
  client.send({ type: 'resume', runId: run.id, backend });
}

/** Simulate a lost device or out-of-memory error in the running experiment (tests, demos). */
export function injectFault(kind: 'device-lost' | 'out-of-memory'): void {
  client.send({ type: 'injectFault', kind });
}

export function addNet(entry: NetEntry): void {
  client.send({ type: 'addNet', entry });
}

/** Show a saved run (its points from IndexedDB). */
export async function openRun(id: string): Promise<void> {
  const rec = await getRun(id);
  if (!rec) return;
  const series = await loadSeries(id);
  useLab.setState({
    run: {
      id,
      name: rec.name,
      state: rec.status,
      engine: rec.backend,
      config: rec.config,
      nets: rec.nets,
      series,
      progress: rec.progress,
      checkpointIteration: rec.checkpointIteration,
      message: rec.error,
    },
    scrubIteration: null,
  });
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
  await renameRun(id, name);
  useLab.setState((s) => ({ run: s.run && s.run.id === id ? { ...s.run, name } : s.run }));
  await refreshRuns();
}

export async function deleteSavedRun(id: string): Promise<void> {
  await deleteRun(id);
  useLab.setState((s) => ({ compare: s.compare?.id === id ? null : s.compare, run: s.run?.id === id && s.run.state !== 'running' ? null : s.run }));
  await refreshRuns();
}

export async function runAsFile(id: string): Promise<RunFile> {
  const rec = await getRun(id);
  if (!rec) throw new Error(`no saved run ${id}`);
  return {
    format: RUN_FORMAT,
    version: RUN_VERSION,
    name: rec.name,
    createdAt: rec.createdAt,
    config: rec.config,
    backend: rec.backend,
    dataset: rec.dataset,
    status: rec.status,
    progress: rec.progress,
    nets: rec.nets,
    series: await loadSeries(id),
  };
}

export async function exportRun(id: string): Promise<void> {
  const file = await runAsFile(id);
  download(JSON.stringify(file), runFileName(file), 'application/json');
}

/** Import a run file: validated first; a bad file changes nothing and gets a message. */
export async function importRun(file: File): Promise<boolean> {
  let run: RunFile;
  try {
    run = parseRunFile(await file.text());
  } catch (err) {
    addError(`Could not import ${file.name}: ${err instanceof Error ? err.message : String(err)}`);
    return false;
  }
  const id = newRunId();
  const status = run.status === 'running' ? 'stopped' : run.status;
  await saveRun({
    id,
    name: run.name,
    createdAt: run.createdAt,
    updatedAt: new Date().toISOString(),
    config: run.config,
    status,
    backend: run.backend,
    dataset: run.dataset,
    nets: run.nets,
    progress: run.progress,
    checkpointIteration: null,
    origin: 'import',
  });
  await replaceSeries(id, run.series);
  await refreshRuns();
  if (useLab.getState().run?.state !== 'running') {
    useLab.setState({ run: { ...runViewFromFile(id, { ...run, status }), state: status } });
    showConfig(run.config);
  }
  useLab.setState({ notice: `Imported “${run.name}”.` });
  return true;
}

export function dismissError(i: number): void {
  useLab.setState((s) => ({ errors: s.errors.filter((_, k) => k !== i) }));
}
