// The page's actions on a run and the data: they send commands to the worker (./lab/channel.ts) and
// apply the worker's events to the store (through ./events.ts). The rest of the page's side of the
// worker is one idea per file in ./lab/: saved runs (savedRuns.ts), the hang watchdog (watchdog.ts),
// this machine's speed (speed.ts), run names (runName.ts) and the PyTorch job (torchJob.ts).
import type { ExperimentConfig } from '../core/config';
import type { NetEntry } from '../core/experimentNets';
import { configToQuery } from '../core/config';
import { DATA_GUIDANCE } from '../core/data/guidance';
import { dropSizeError } from '../core/data/archive';
import { costProblem } from '../core/cost';
import { onStorageProblem } from '../storage/runsDb';
import i18n from './i18n';
import type { RunView } from './store';
import { linkHasConfigKeys, syncUrl, useLab } from './store';
import { dataFailed, reduceEvent } from './events';
import type { Command, StartOptions, WorkerEvent } from '../worker/protocol';
import { addError, answer, client, own } from './lab/channel';
import { describeConfig, newRunId } from './lab/runName';
import { measureStorage, openRun, refreshRuns } from './lab/savedRuns';
import { estimateSpeed, rememberSpeed } from './lab/speed';
import { checkHeartbeat, watchHeartbeat } from './lab/watchdog';

function onEvent(e: WorkerEvent): void {
  const change = reduceEvent(useLab.getState(), e);
  if (change) useLab.setState(change);
  if (answer(e)) return;
  switch (e.type) {
    case 'heartbeat':
      watchHeartbeat(e);
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
  // the saved-runs database's trouble (an old tab blocking an upgrade, the browser closing it) is
  // said, in the page's messages, whether the page or the worker met it
  onStorageProblem(addError);
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
  client.send(
    { type: 'dropFiles', files: payload },
    payload.map((p) => p.bytes),
  );
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
  own.runId = id;
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
  client.send(run && run.id !== own.runId ? { type: 'stop', runId: run.id } : { type: 'stop' });
}

export function resumeRun(backend?: ExperimentConfig['backend']): void {
  const run = useLab.getState().run;
  if (!run) return;
  useLab.setState({ backendFailure: null });
  own.runId = run.id;
  client.send({ type: 'resume', runId: run.id, backend });
}

/** Simulate a lost device or out-of-memory error in the running experiment (tests, demos). */
export function injectFault(kind: Extract<Command, { type: 'injectFault' }>['kind']): void {
  client.send({ type: 'injectFault', kind });
}

export function addNet(entry: NetEntry): void {
  client.send({ type: 'addNet', entry });
}

export function dismissError(i: number): void {
  useLab.setState((s) => ({ errors: s.errors.filter((_, k) => k !== i) }));
}

/**
 * Compute the loss landscapes of nets of the run on screen (it must not be training): the page shows the rows as they
 * stream in (store.ts's landscapeJob), and the worker saves the result with the run.
 */
export function computeLandscape(nets: readonly { id: string; label: string }[], grid: number, span: number, wanted: number): void {
  const run = useLab.getState().run;
  if (!run || run.landscapeJob) return;
  // a sample of the run's own training images: at most as many as it has
  const sample = Math.min(wanted, run.config.trainSize);
  const partial = {
    iteration: run.progress?.iteration ?? 0,
    seed: run.config.seed,
    grid,
    span,
    sample,
    nets: nets.map((n) => ({ ...n, loss: [], err: [], seconds: 0 })),
  };
  // the rows of every surface, then one path from initialisation per net of the run
  useLab.setState({
    run: { ...run, landscapeJob: { partial, done: 0, total: grid * nets.length + run.nets.length, startedAt: Date.now(), stepAt: Date.now() } },
  });
  client.send({ type: 'landscape', runId: run.id, nets: nets.map((n) => n.id), grid, span, sample, path: true });
}

export function cancelLandscape(): void {
  client.send({ type: 'cancelLandscape' });
}
