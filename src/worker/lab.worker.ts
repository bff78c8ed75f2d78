// The training worker: owns tfjs, the lab CPU engine, the data and the running experiment, so the
// page only renders. It streams metrics a few times a second, persists every point and regular
// checkpoints to IndexedDB, and reports every failure to the page with its cause.
import type { BackendReport } from '../core/backend';
import { probeBackends } from '../core/backend';
import type { ExperimentConfig } from '../core/config';
import { netsOf, validateConfig } from '../core/config';
import type { CifarDataset } from '../core/data/cifar10';
import { DataError, IMAGE_BYTES, selectSubsets } from '../core/data/cifar10';
import { DATA_GUIDANCE } from '../core/data/guidance';
import { Experiment, netSpecOf } from '../core/experiment';
import { truncateSeries } from '../core/metrics';
import { convSelfTest } from '../core/selftest';
import type { RunRecord } from '../storage/runsDb';
import { appendPoints, getRun, loadCheckpoint, loadSeries, replaceSeries, saveCheckpoint, saveRun } from '../storage/runsDb';
import { NoServerData, loadDataset, loadDropped } from './dataLoader';
import type { EngineHandle } from './engines';
import { engineFor, nextBackend, planSchedule } from './engines';
import type { BenchResult, BenchSpec, Command, DatasetSummary, WorkerEvent } from './protocol';
import { cifarNet } from '../core/nets';
import { Rng } from '../core/rng';
import { initialState } from '../core/train';

const post = (event: WorkerEvent, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(event, transfer);

function reportError(during: string, err: unknown) {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: 'error', during, message: e.message, stack: e.stack });
}

self.addEventListener('error', (e) => reportError('worker', (e as ErrorEvent).error ?? (e as ErrorEvent).message));
self.addEventListener('unhandledrejection', (e) => reportError('worker', (e as PromiseRejectionEvent).reason));

/**
 * Metrics reach the page at most this often; points are batched in between. Each update costs the
 * page a chart redraw, which on a 2-core machine competes with the training threads: 2.5 per second
 * keeps streaming within a few percent of not streaming (npm run bench -- --stream-cost).
 */
const FLUSH_MS = 400;
/** A checkpoint of every net's weights and optimiser state at most this often (and at pause/stop). */
const CHECKPOINT_MS = 30_000;

let report: BackendReport | null = null;
let dataset: CifarDataset | null = null;
let handle: EngineHandle | null = null;

interface ActiveRun {
  record: RunRecord;
  exp: Experiment;
  state: 'running' | 'paused' | 'stopped' | 'done' | 'failed';
  stream: boolean;
  lastFlush: number;
  lastCheckpoint: number;
  looping: boolean;
}
let active: ActiveRun | null = null;
let injectedFault: string | null = null;

function summarize(ds: CifarDataset, cacheNote?: string): DatasetSummary {
  // four images of each class, in dataset order, for the sample grid
  const per = 4;
  const picked: number[] = [];
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < ds.train.count && picked.length < 10 * per; i++) {
    const l = ds.train.labels[i];
    if (counts[l] < per) {
      counts[l]++;
      picked.push(i);
    }
  }
  picked.sort((a, b) => ds.train.labels[a] - ds.train.labels[b] || a - b);
  const images = new Uint8Array(picked.length * IMAGE_BYTES);
  picked.forEach((idx, k) => images.set(ds.train.images.subarray(idx * IMAGE_BYTES, (idx + 1) * IMAGE_BYTES), k * IMAGE_BYTES));
  return {
    source: ds.source,
    description: ds.description,
    trainCount: ds.train.count,
    testCount: ds.test.count,
    classNames: ds.classNames,
    stats: ds.stats,
    samples: { images, labels: Uint8Array.from(picked, (i) => ds.train.labels[i]) },
    cacheNote,
  };
}

function announce(ds: CifarDataset, cacheNote?: string) {
  dataset = ds;
  const summary = summarize(ds, cacheNote);
  post({ type: 'dataset', summary }, [summary.samples.images.buffer]);
}

function progressPoster() {
  let last = 0;
  return (file: string, loaded: number, total: number | null) => {
    const now = performance.now();
    if (now - last < 100 && loaded !== total) return;
    last = now;
    post({ type: 'dataProgress', file, loaded, total });
  };
}

async function switchEngine(choice: ExperimentConfig['backend']): Promise<EngineHandle> {
  const next = await engineFor(choice, report);
  if (handle && handle.engine !== next.engine && handle.name !== 'lab-cpu') handle.engine.dispose();
  handle = next;
  return next;
}

function requireData(): CifarDataset {
  if (!dataset) throw new DataError('no CIFAR-10 data is loaded yet: load it from the server or drop the archive onto the page');
  return dataset;
}

async function flush(run: ActiveRun): Promise<void> {
  const delta = run.exp.takeDelta();
  run.lastFlush = performance.now();
  run.record.nets = delta.infos;
  run.record.progress = delta.progress;
  if (run.stream) post({ type: 'metrics', runId: run.record.id, delta });
  await appendPoints(run.record.id, delta.nets);
  await saveRun(run.record);
}

async function checkpoint(run: ActiveRun): Promise<void> {
  const cp = await run.exp.checkpoint();
  await saveCheckpoint(run.record.id, cp);
  run.lastCheckpoint = performance.now();
  run.record.checkpointIteration = run.exp.iteration;
  await saveRun(run.record);
  post({ type: 'checkpoint', runId: run.record.id, iteration: run.exp.iteration });
}

const isBackendFailure = (err: unknown) => err instanceof Error && /device (was )?lost|out of memory|OOM|allocation failed|Array buffer allocation|memory access out of bounds/i.test(err.message);

/** Train until paused, stopped, done or failed; yield to messages between rounds. */
async function loop(run: ActiveRun): Promise<void> {
  if (run.looping) return;
  run.looping = true;
  try {
    while (run.state === 'running') {
      const lost = handle?.lost() ?? injectedFault;
      injectedFault = null;
      if (lost) throw new Error(lost);
      const more = await run.exp.round();
      if (!more) run.state = 'done';
      if (!more || performance.now() - run.lastFlush >= FLUSH_MS) await flush(run);
      if (run.state === 'running' && performance.now() - run.lastCheckpoint >= CHECKPOINT_MS) await checkpoint(run);
      await new Promise((r) => setTimeout(r, 0));
    }
    await flush(run);
    await checkpoint(run);
  } catch (err) {
    run.state = 'failed';
    const message = err instanceof Error ? err.message : String(err);
    run.record.error = message;
    try {
      await flush(run);
      await checkpoint(run);
    } catch {
      // a lost device cannot be read: the points up to the last flush and the last checkpoint are kept
    }
    if (isBackendFailure(err) && handle) {
      post({ type: 'backendFailed', runId: run.record.id, backend: handle.description, message, suggestion: nextBackend(handle.name) });
    } else {
      reportError('training', err);
    }
  } finally {
    run.looping = false;
    run.record.status = run.state;
    await saveRun(run.record).catch(() => undefined);
    post({ type: 'run', runId: run.record.id, state: run.state, iteration: run.exp.iteration, message: run.record.error });
  }
}

async function start(cmd: Extract<Command, { type: 'start' }>): Promise<void> {
  if (active && active.looping) throw new Error('an experiment is already running: pause or stop it first');
  const { config, issues } = validateConfig(cmd.config);
  const errors = issues.filter((i) => i.level === 'error');
  if (errors.length) throw new Error(`invalid experiment: ${errors.map((e) => e.message).join('; ')}`);
  const ds = requireData();
  post({ type: 'run', runId: cmd.runId, state: 'starting' });
  const h = planSchedule(await switchEngine(config.backend), netsOf(config).map((e) => netSpecOf(e, config)));
  active?.exp.dispose();
  const subsets = selectSubsets(ds, config.trainSize, config.testSize, config.split);
  const exp = new Experiment(config, subsets, h.engine);
  exp.start();
  const record: RunRecord = {
    id: cmd.runId,
    name: cmd.name,
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    config,
    status: 'running',
    backend: h.description,
    dataset: `${ds.description}; trained on ${subsets.train.count.toLocaleString('en')}, tested on ${subsets.test.count.toLocaleString('en')}`,
    nets: exp.infos(),
    progress: exp.progress(),
    checkpointIteration: null,
    origin: 'lab',
  };
  await saveRun(record);
  active = { record, exp, state: 'running', stream: cmd.options?.stream ?? true, lastFlush: performance.now(), lastCheckpoint: performance.now(), looping: false };
  // a checkpoint of the initial weights: every run can resume, even one that fails at once
  await checkpoint(active);
  post({ type: 'run', runId: cmd.runId, state: 'running', engine: h.description, iteration: 0 });
  void loop(active);
}

async function resume(cmd: Extract<Command, { type: 'resume' }>): Promise<void> {
  if (active && active.record.id === cmd.runId && active.state === 'paused' && !cmd.backend) {
    active.state = 'running';
    active.record.status = 'running';
    post({ type: 'run', runId: cmd.runId, state: 'running', engine: handle?.description, iteration: active.exp.iteration });
    void loop(active);
    return;
  }
  if (active?.looping) throw new Error('another experiment is running: pause or stop it first');
  const record = await getRun(cmd.runId);
  if (!record) throw new Error(`no saved run ${cmd.runId}`);
  const cp = await loadCheckpoint(cmd.runId);
  if (!cp) throw new Error(`${record.name} has no checkpoint to resume from`);
  const ds = requireData();
  const config = { ...record.config, backend: cmd.backend ?? record.config.backend };
  post({ type: 'run', runId: record.id, state: 'starting' });
  const h = planSchedule(await switchEngine(config.backend), Object.values(cp.nets).map((n) => netSpecOf(n.entry, config)));
  active?.exp.dispose();
  const subsets = selectSubsets(ds, config.trainSize, config.testSize, config.split);
  const exp = new Experiment(config, subsets, h.engine);
  exp.start(cp);
  exp.restoreElapsed(record.progress.elapsedMs);
  // points after the checkpoint would be recomputed identically: drop them, then train on
  const stored = await loadSeries(record.id);
  const series = Object.fromEntries(Object.entries(stored).map(([id, s]) => [id, truncateSeries(s, cp.nets[id]?.iteration ?? 0)]));
  await replaceSeries(record.id, series);
  const infos = exp.infos();
  record.config = config;
  record.backend = h.description;
  record.status = 'running';
  record.error = undefined;
  record.nets = infos;
  active = { record, exp, state: 'running', stream: true, lastFlush: performance.now(), lastCheckpoint: performance.now(), looping: false };
  await saveRun(record);
  post({ type: 'series', runId: record.id, nets: series, infos });
  post({ type: 'run', runId: record.id, state: 'running', engine: h.description, iteration: exp.iteration });
  void loop(active);
}

/** Time the lab's own training step for one case: a warm-up step (shader compilation), then timed steps. */
async function bench(spec: BenchSpec): Promise<BenchResult> {
  if (active?.looping) return { spec, ok: false, reason: 'an experiment is running' };
  let h: EngineHandle;
  try {
    h = await engineFor(spec.backend, report);
  } catch (err) {
    return { spec, ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  const net = cifarNet({ n: spec.n, residual: spec.residual, shortcut: 'A', width: spec.width });
  planSchedule(h, [net], 'ops');
  const rng = new Rng(1, 'bench-batch');
  const x = new Float32Array(spec.batch * 3072);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const labels = Uint8Array.from({ length: spec.batch }, () => rng.int(10));
  const memoryBefore = h.engine.memory();
  let trained: ReturnType<typeof h.engine.createNet> | null = null;
  try {
    h.engine.setBatch({ x, labels, size: spec.batch, imageSize: 32 });
    trained = h.engine.createNet(net, initialState(net, 1));
    const t0 = performance.now();
    await trained.step(0.01);
    const warmupMs = performance.now() - t0;
    const stepMs: number[] = [];
    const start = performance.now();
    while (stepMs.length < spec.reps && performance.now() - start + warmupMs < spec.budgetMs) {
      const t = performance.now();
      await trained.step(0.01);
      stepMs.push(performance.now() - t);
    }
    const memoryAfter = h.engine.memory();
    return { spec, ok: true, engine: h.description, warmupMs, stepMs, memoryBefore, memoryAfter };
  } catch (err) {
    return { spec, ok: false, engine: h.description, reason: err instanceof Error ? err.message : String(err) };
  } finally {
    trained?.dispose();
    if (h.name !== 'lab-cpu') h.engine.dispose();
  }
}

/**
 * The same small net (ResNet-8 with option B, width ×0.25, 8×8 inputs) and batch on the active tfjs
 * backend and on the lab CPU engine: the loss and every parameter's gradient must agree.
 */
async function netCheck(): Promise<Extract<WorkerEvent, { type: 'netCheck' }>> {
  const tfjs = await engineFor(report?.active ?? 'cpu', report);
  const cpu = await engineFor('lab-cpu', report);
  const spec = cifarNet({ n: 1, residual: true, shortcut: 'B', width: 0.25, inputSize: 8 });
  const state = initialState(spec, 3);
  const rng = new Rng(5, 'net-check');
  const batch = { x: Float32Array.from({ length: 4 * 8 * 8 * 3 }, () => rng.normal()), labels: Uint8Array.from({ length: 4 }, () => rng.int(10)), size: 4, imageSize: 8 };
  const results = [];
  for (const h of [tfjs, cpu]) {
    h.engine.setBatch(batch);
    const net = h.engine.createNet(spec, state);
    results.push(await net.gradients());
    net.dispose();
  }
  if (tfjs.name !== 'lab-cpu') tfjs.engine.dispose();
  let maxRelDiff = 0;
  let worst = '';
  for (const p of spec.params) {
    const [a, b] = [results[0].grads[p.name], results[1].grads[p.name]];
    let d = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    if (d / (scale || 1) > maxRelDiff) {
      maxRelDiff = d / (scale || 1);
      worst = p.name;
    }
  }
  return { type: 'netCheck', backend: tfjs.description, loss: [results[0].loss, results[1].loss], maxRelDiff, worst };
}

async function dispatch(cmd: Command): Promise<void> {
  switch (cmd.type) {
    case 'probe':
      report = await probeBackends();
      post({ type: 'backend', report });
      return;
    case 'selftest':
      post({ type: 'selftest', result: await convSelfTest() });
      return;
    case 'loadData':
      try {
        const { dataset: ds, cacheNote } = await loadDataset(progressPoster(), cmd.reload);
        announce(ds, cacheNote);
      } catch (err) {
        if (err instanceof NoServerData) post({ type: 'dataMissing', reason: err.message, guidance: DATA_GUIDANCE });
        else post({ type: 'dataError', message: err instanceof Error ? err.message : String(err) });
      }
      return;
    case 'dropFiles':
      try {
        const { dataset: ds, cacheNote } = await loadDropped(cmd.files);
        announce(ds, cacheNote);
      } catch (err) {
        post({ type: 'dataError', message: err instanceof Error ? err.message : String(err) });
      }
      return;
    case 'start':
      await start(cmd);
      return;
    case 'pause':
      if (active?.state === 'running') active.state = 'paused';
      return;
    case 'stop':
      if (active && (active.state === 'running' || active.state === 'paused')) {
        const wasLooping = active.looping;
        active.state = 'stopped';
        if (!wasLooping) {
          active.record.status = 'stopped';
          await saveRun(active.record);
          post({ type: 'run', runId: active.record.id, state: 'stopped', iteration: active.exp.iteration });
        }
      }
      return;
    case 'resume':
      await resume(cmd);
      return;
    case 'addNet':
      if (!active || active.state === 'done' || active.state === 'stopped' || active.state === 'failed') throw new Error('no experiment to add a net to');
      active.exp.addNet(cmd.entry);
      active.record.nets = active.exp.infos();
      return;
    case 'injectFault':
      injectedFault = cmd.kind === 'device-lost' ? 'the GPU device was lost (simulated)' : 'out of memory (simulated)';
      return;
    case 'netCheck':
      post(await netCheck());
      return;
    case 'bench':
      post({ type: 'benchResult', id: cmd.id, result: await bench(cmd.spec) });
      return;
  }
}

self.addEventListener('message', (e: MessageEvent<Command>) => {
  dispatch(e.data).catch((err) => reportError(e.data.type, err));
});
