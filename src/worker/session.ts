// The run session: the one experiment this worker trains, and every saved run it writes. Start and
// resume share `openExperiment`; the loop trains in rounds, streams metrics to the page, and saves
// points and checkpoints. The page's rename, delete and import of saved runs arrive here too, so
// this file is the only writer of run records (src/storage/runsWrite.ts).
import { checkpointIteration, checkpointProblem } from '../core/checkpoint';
import { checkpointDue } from './checkpointPolicy';
import type { Checkpoint } from '../core/experiment';
import { Experiment, netSpecOf } from '../core/experiment';
import { validateConfig } from '../core/config';
import { netsOf } from '../core/experimentNets';
import { costProblem } from '../core/cost';
import { selectSubsets } from '../core/data/cifar10';
import { truncateSeries } from '../core/metrics';
import { parseRunFile, runFileSizeError, runFileText } from '../core/runFile';
import type { RunRecord } from '../storage/runsDb';
import { getRun, loadCheckpoint, loadSeries } from '../storage/runsDb';
import { appendPoints, deleteRun, recordOfFile, renameRun, replaceSeries, saveCheckpoint, saveRun } from '../storage/runsWrite';
import { LabCpuEngine } from '../core/cpu/engine';
import { engineLabel, nextBackend, planSchedule } from './engines';
import { errorMessage, lab, post, reportError, requireData, switchEngine } from './host';
import type { Command } from './protocol';
import type { LandscapeAsk } from '../core/landscape';
import type { NetIdentity } from '../core/landscape';
import { landscapeOf, landscapeProblem } from '../core/landscape';
import { RESPONSE_IMAGES } from '../core/train';
import { runLockHeld, runLockName } from './protocol';
import { nextTask } from './nextTask';

/**
 * Metrics reach the page at most this often; points are batched in between. Each update costs the
 * page a chart redraw, which on a 2-core machine competes with the training threads: 2.5 per second
 * keeps streaming within a few percent of not streaming (npm run bench -- --stream-cost).
 */
const FLUSH_MS = 400;

interface ActiveRun {
  record: RunRecord;
  exp: Experiment;
  state: 'running' | 'paused' | 'stopped' | 'done' | 'failed';
  stream: boolean;
  lastFlush: number;
  lastCheckpoint: number;
  /** How long the last checkpoint took (ms): checkpoints are spaced by what they cost (checkpointPolicy.ts). */
  checkpointMs: number;
  /** The page asked for a checkpoint (it is being hidden or unloaded): take one after the round in flight. */
  checkpointAsked: boolean;
  /** The iteration of the last checkpoint: an evaluation since then calls for one. */
  checkpointAt: number;
  looping: boolean;
  /** The iteration from which storage was full (points after it are only in the page), or null. */
  storageFullAt: number | null;
}
let active: ActiveRun | null = null;
/** A saved run loaded from its checkpoint to compute its loss landscape, not to train (it keeps its status). */
let measured: { record: RunRecord; exp: Experiment } | null = null;
let injectedFault: string | null = null;
/** Fault injection for the next checkpoint (tests): corrupt its weights, or fail its write midway. */
let checkpointFault: 'nan-checkpoint' | 'write-fault' | null = null;
/** Fault injection for the next save of points (tests): storage is full. */
let storageFault = false;

/** Release the Web Lock on the run this worker owns (see runLockName). */
let releaseLock: (() => void) | null = null;

function releaseRun(): void {
  releaseLock?.();
  releaseLock = null;
}

/** How long to wait for a run's lock: a worker the page just ended may still hold it for a moment. */
const CLAIM_WAIT_MS = 5000;

/** Take the run's Web Lock, waiting briefly; false if another tab still holds it then. (Without Web Locks, true.) */
function claimRun(runId: string): Promise<boolean> {
  if (typeof navigator === 'undefined' || !navigator.locks) return Promise.resolve(true);
  return new Promise((resolve) => {
    navigator.locks
      .request(runLockName(runId), { signal: AbortSignal.timeout(CLAIM_WAIT_MS) }, () => {
        resolve(true);
        return new Promise<void>((release) => {
          releaseLock = release;
        });
      })
      .catch(() => resolve(false));
  });
}

/** Whether another tab's worker owns this run now. */
async function ownedElsewhere(runId: string): Promise<boolean> {
  if (active?.record.id === runId && releaseLock) return false;
  return runLockHeld(runId);
}

const isQuotaError = (err: unknown) => err instanceof DOMException && err.name === 'QuotaExceededError';

/**
 * Stream the points since the last flush to the page and save them. When storage is full, the run
 * trains on: the page holds every point (and exports them), and the message says from where the
 * saved copy stops. Saving is not tried again for this run, so the stored series never has a gap.
 */
async function flush(run: ActiveRun): Promise<void> {
  const delta = run.exp.takeDelta();
  run.lastFlush = performance.now();
  run.record.nets = delta.infos;
  run.record.progress = delta.progress;
  if (run.stream) post({ type: 'metrics', runId: run.record.id, delta });
  if (run.storageFullAt !== null) return;
  try {
    if (storageFault) {
      storageFault = false;
      throw new DOMException('the quota has been exceeded (simulated)', 'QuotaExceededError');
    }
    await appendPoints(run.record.id, delta.nets);
    await saveRun(run.record);
  } catch (err) {
    if (!isQuotaError(err)) throw err;
    run.storageFullAt = Math.min(...Object.values(delta.nets).map((s) => s.train.it[0] ?? Infinity), run.exp.iteration);
    post({ type: 'storageFull', runId: run.record.id, iteration: run.storageFullAt });
  }
}

/**
 * Save a checkpoint, unless it cannot be trusted: weights that are not finite (in a net that has
 * not diverged) are never written, and a failed write leaves the previous checkpoints as they were.
 * Either way the run trains on, and the page hears why the checkpoint was not saved.
 */
async function checkpoint(run: ActiveRun): Promise<void> {
  const t0 = performance.now();
  run.lastCheckpoint = t0;
  run.checkpointAsked = false;
  run.checkpointAt = run.exp.iteration;
  const cp = await run.exp.checkpoint();
  const fault = checkpointFault;
  checkpointFault = null;
  if (fault === 'nan-checkpoint') corrupt(cp);
  const keep = `the last good checkpoint${run.record.checkpointIteration !== null ? ` (iteration ${run.record.checkpointIteration})` : ''} is kept`;
  const problem = checkpointProblem(cp);
  if (problem) {
    post({ type: 'error', during: 'checkpoint', message: `not saved, ${keep}: ${problem}` });
    return;
  }
  try {
    await saveCheckpoint(
      run.record,
      cp,
      fault === 'write-fault'
        ? () => {
            throw new Error('the write failed (simulated)');
          }
        : undefined,
    );
  } catch (err) {
    post({ type: 'error', during: 'checkpoint', message: `not saved, ${keep}: ${errorMessage(err)}` });
    return;
  }
  run.record.checkpointIteration = checkpointIteration(cp);
  run.checkpointMs = performance.now() - t0;
  post({ type: 'checkpoint', runId: run.record.id, iteration: run.record.checkpointIteration });
}

/** Fault injection: one weight of the first net still training becomes NaN, as a faulty read-back would make it. */
function corrupt(cp: Checkpoint): void {
  const net = Object.values(cp.nets).find((n) => n.status !== 'diverged');
  const first = net && Object.values(net.state.params)[0];
  if (first) first[0] = Number.NaN;
}

const isBackendFailure = (err: unknown) =>
  err instanceof Error && /device (was )?lost|out of memory|OOM|allocation failed|Array buffer allocation|memory access out of bounds/i.test(err.message);

/** Train until paused, stopped, done or failed; yield to messages between rounds. */
async function loop(run: ActiveRun): Promise<void> {
  if (run.looping) return;
  run.looping = true;
  // a lost device or context can leave a step waiting forever: the loss ends the round in flight
  // (one listener per loop, not per round, so nothing accumulates over a long run)
  let failRound: (err: Error) => void = () => undefined;
  void lab.handle?.whenLost?.then((m) => failRound(new Error(m)));
  try {
    while (run.state === 'running') {
      const lost = lab.handle?.lost() ?? injectedFault;
      injectedFault = null;
      if (lost) throw new Error(lost);
      const more = await new Promise<boolean>((resolve, reject) => {
        failRound = reject;
        run.exp.round().then(resolve, reject);
      });
      if (!more) run.state = 'done';
      if (!more || performance.now() - run.lastFlush >= FLUSH_MS) await flush(run);
      if (run.state === 'running' && checkpointDue({ ...run, iteration: run.exp.iteration, evalEvery: run.record.config.evalEvery })) await checkpoint(run);
      await nextTask();
    }
    await run.exp.drain();
    await flush(run);
    await checkpoint(run);
  } catch (err) {
    run.state = 'failed';
    // a lost device or context often shows first as some other error from the op that was running
    const lost = lab.handle?.lost() ?? null;
    const message = lost ?? errorMessage(err);
    run.record.error = message;
    try {
      // the points up to the fault are kept; the weights at the moment of a fault are not trusted,
      // so no checkpoint is taken: resume starts from the last good one
      await flush(run);
    } catch {
      // a lost device cannot be read: the points up to the last flush are kept
    }
    if ((lost || isBackendFailure(err)) && lab.handle) {
      post({ type: 'backendFailed', runId: run.record.id, backend: engineLabel(lab.handle), message, suggestion: nextBackend(lab.handle.name) });
    } else {
      reportError('training', err);
    }
  } finally {
    run.looping = false;
    if (run.state !== 'paused') releaseRun();
    run.record.status = run.state;
    await saveRun(run.record).catch(() => undefined);
    post({ type: 'run', runId: run.record.id, state: run.state, iteration: run.exp.iteration, message: run.record.error });
  }
}

/**
 * The engine for a record's config and an experiment on its data subsets, from the checkpoint when there is one. The
 * experiment held before (training or loaded for a landscape) is disposed: the engine may have been replaced. (A
 * landscape in flight is the caller's to cancel first: openExperiment does; the landscape job calls this itself.)
 */
async function buildExperiment(record: RunRecord, cp: Checkpoint | null) {
  const ds = requireData();
  const { config } = record;
  const entries = cp ? Object.values(cp.nets).map((n) => n.entry) : netsOf(config);
  const specs = entries.map((e) => netSpecOf(e, config));
  const h = planSchedule(await switchEngine(config.backend, { specs, batch: config.batchSize }), specs);
  active?.exp.dispose();
  active = null;
  measured?.exp.dispose();
  measured = null;
  const subsets = selectSubsets(ds, config.trainSize, config.testSize, config.split);
  const exp = new Experiment(config, subsets, h.engine);
  exp.start(cp ?? undefined);
  return { exp, h, subsets };
}

/**
 * Start or resume: the engine for the record's config, an experiment on its data subsets (from the
 * checkpoint when there is one), and the session around it. The record is updated, not saved.
 */
async function openExperiment(record: RunRecord, cp: Checkpoint | null, stream: boolean): Promise<ActiveRun> {
  const ds = requireData();
  await cancelLandscape();
  releaseRun();
  if (!(await claimRun(record.id)))
    throw new Error(`“${record.name}” is training in another tab of the lab: continue it there, or here once that tab stops or closes`);
  post({ type: 'run', runId: record.id, state: 'starting' });
  const { exp, h, subsets } = await buildExperiment(record, cp);
  if (cp) exp.restoreElapsed(record.progress.elapsedMs);
  record.dataset ||= `${ds.description}; trained on ${subsets.train.count.toLocaleString('en')}, tested on ${subsets.test.count.toLocaleString('en')}`;
  record.backend = engineLabel(h);
  record.status = 'running';
  record.error = undefined;
  record.nets = exp.infos();
  record.progress = exp.progress();
  const now = performance.now();
  return {
    record,
    exp,
    state: 'running',
    stream,
    lastFlush: now,
    lastCheckpoint: now,
    checkpointMs: 0,
    checkpointAsked: false,
    checkpointAt: exp.iteration,
    looping: false,
    storageFullAt: null,
  };
}

export async function start(cmd: Extract<Command, { type: 'start' }>): Promise<void> {
  if (active?.looping) throw new Error('an experiment is already running: pause or stop it first');
  const { config, issues } = validateConfig(cmd.config);
  const errors = issues.filter((i) => i.level === 'error');
  if (errors.length) throw new Error(`invalid experiment: ${errors.map((e) => e.message).join('; ')}`);
  const tooBig = costProblem(config);
  if (tooBig) throw new Error(tooBig);
  const now = new Date().toISOString();
  const record: RunRecord = {
    id: cmd.runId,
    name: cmd.name,
    createdAt: now,
    updatedAt: now,
    config,
    status: 'running',
    backend: '',
    dataset: '',
    nets: [],
    progress: { iteration: 0, iterations: config.iterations, imagesPerSec: 0, elapsedMs: 0, etaMs: null },
    checkpointIteration: null,
    origin: 'lab',
  };
  const run = await openExperiment(record, null, cmd.options?.stream ?? true);
  active = run;
  // a checkpoint of the initial weights (saved with the record): every run can resume, even one that fails at once
  await checkpoint(run);
  post({ type: 'run', runId: record.id, state: 'running', engine: record.backend, iteration: 0 });
  void loop(run);
}

export async function resume(cmd: Extract<Command, { type: 'resume' }>): Promise<void> {
  if (active && active.record.id === cmd.runId && active.state === 'paused' && !cmd.backend) {
    await cancelLandscape();
    active.state = 'running';
    active.record.status = 'running';
    post({ type: 'run', runId: cmd.runId, state: 'running', engine: lab.handle ? engineLabel(lab.handle) : undefined, iteration: active.exp.iteration });
    void loop(active);
    return;
  }
  if (active?.looping) throw new Error('another experiment is running: pause or stop it first');
  const record = await getRun(cmd.runId);
  if (!record) throw new Error(`no saved run ${cmd.runId}`);
  const cp = await loadCheckpoint(cmd.runId);
  if (!cp) throw new Error(`${record.name} has no checkpoint to resume from`);
  record.config = { ...record.config, backend: cmd.backend ?? record.config.backend };
  const run = await openExperiment(record, cp, true);
  // points after the checkpoint would be recomputed identically: drop them, then train on
  const stored = await loadSeries(record.id);
  const series = Object.fromEntries(Object.entries(stored).map(([id, s]) => [id, truncateSeries(s, cp.nets[id]?.iteration ?? 0)]));
  await replaceSeries(record.id, series);
  active = run;
  await saveRun(record);
  post({ type: 'series', runId: record.id, nets: series, infos: record.nets, iteration: run.exp.iteration });
  post({ type: 'run', runId: record.id, state: 'running', engine: record.backend, iteration: run.exp.iteration });
  void loop(run);
}

export function pause(): void {
  if (active?.state === 'running') active.state = 'paused';
}

/** The page is being hidden or unloaded: checkpoint after the round in flight, so a reload loses little. */
export function checkpointSoon(): void {
  if (active?.state === 'running') active.checkpointAsked = true;
}

export async function stop(runId?: string): Promise<void> {
  if (runId !== undefined && active?.record.id !== runId) {
    // a saved run no worker trains now (left running or paused by a page that is gone): mark it stopped
    if (await ownedElsewhere(runId)) throw new Error('this run is training in another tab: stop it there');
    const record = await getRun(runId);
    if (!record) throw new Error(`no saved run ${runId}`);
    if (record.status === 'running' || record.status === 'paused') {
      record.status = 'stopped';
      await saveRun(record);
    }
    post({ type: 'run', runId, state: record.status, iteration: record.progress.iteration });
    return;
  }
  if (!active || (active.state !== 'running' && active.state !== 'paused')) return;
  const wasLooping = active.looping;
  active.state = 'stopped';
  if (!wasLooping) {
    releaseRun();
    active.record.status = 'stopped';
    await saveRun(active.record);
    post({ type: 'run', runId: active.record.id, state: 'stopped', iteration: active.exp.iteration });
  }
}

export function addNet(cmd: Extract<Command, { type: 'addNet' }>): void {
  if (!active || active.state === 'done' || active.state === 'stopped' || active.state === 'failed') throw new Error('no experiment to add a net to');
  active.exp.addNet(cmd.entry);
  active.record.nets = active.exp.infos();
}

export function injectFault(kind: Extract<Command, { type: 'injectFault' }>['kind']): void {
  if (kind === 'nan-checkpoint' || kind === 'write-fault') checkpointFault = kind;
  else if (kind === 'quota') storageFault = true;
  else if (kind === 'kill-helper') {
    if (!(lab.handle?.engine instanceof LabCpuEngine)) throw new Error('kill-helper needs a run on the lab CPU engine');
    lab.handle.engine.killHelper();
  } else if (kind === 'context-lost') {
    if (!lab.handle?.loseContext) throw new Error('context-lost needs a run on WebGL');
    lab.handle.loseContext();
  } else injectedFault = kind === 'device-lost' ? 'the GPU device was lost (simulated)' : 'out of memory (simulated)';
}

/** Whether an experiment is training now (the diagnostics wait for it). */
export const isTraining = () => active?.looping === true;

// --- saved runs: the page's edits, written here so they cannot race the training loop's saves ------

/** Rename a saved run; the run being trained keeps the new name in its next save. */
export async function rename(runId: string, name: string): Promise<string> {
  const clean = name.trim();
  if (!clean) throw new Error('a run needs a name');
  if (await ownedElsewhere(runId)) throw new Error('this run is training in another tab: rename it there');
  if (active?.record.id === runId) {
    active.record.name = clean;
    await saveRun(active.record);
  } else {
    await renameRun(runId, clean);
  }
  return clean;
}

/** Delete a saved run with its points and checkpoint. The run being trained must be stopped first. */
export async function remove(runId: string): Promise<void> {
  if (await ownedElsewhere(runId)) throw new Error('this run is training in another tab: stop it there first');
  if (active?.record.id === runId) {
    if (active.looping) throw new Error(`“${active.record.name}” is training: stop it before deleting it`);
    await cancelLandscape();
    active.exp.dispose();
    active = null;
    releaseRun();
  }
  if (measured?.record.id === runId) {
    await cancelLandscape();
    measured.exp.dispose();
    measured = null;
  }
  await deleteRun(runId);
}

/** Import a run file (its bytes, moved here from the page): checked whole, then saved as a new run. */
export async function importFile(runId: string, fileName: string, bytes: ArrayBuffer): Promise<string> {
  const tooBig = runFileSizeError(fileName, bytes.byteLength);
  if (tooBig) throw new Error(tooBig);
  const file = parseRunFile(runFileText(fileName, new Uint8Array(bytes)));
  await saveRun(recordOfFile(runId, file));
  await replaceSeries(runId, file.series);
  return file.name;
}

// --- loss landscapes (issue #27): computed on the nets of a run that is not training --------------------------------

/** The landscape in flight: cancelled between points; `finished` settles once its net is back at its weights. */
let landscapeJob: { cancelled: boolean; finished: Promise<void> } | null = null;

/** Cancel the landscape in flight, if any, and wait until it has put its net back (training and loading wait for this). */
export async function cancelLandscape(): Promise<void> {
  const job = landscapeJob;
  if (!job) return;
  job.cancelled = true;
  await job.finished;
}

/** The run whose nets to measure: the one in memory, not training; or a saved one, loaded from its checkpoint. */
async function runToMeasure(runId: string): Promise<{ record: RunRecord; exp: Experiment }> {
  if (active?.record.id === runId) {
    if (active.looping) throw new Error('the run is training: pause it, or let it finish, to compute its loss landscape');
    return active;
  }
  if (measured?.record.id === runId) return measured;
  if (active?.looping) throw new Error('another experiment is training: pause it first, the landscape would slow it down');
  if (await ownedElsewhere(runId)) throw new Error('this run is training in another tab: compute its landscape there');
  const record = await getRun(runId);
  if (!record) throw new Error(`no saved run ${runId}`);
  const cp = await loadCheckpoint(runId);
  if (!cp) throw new Error(`“${record.name}” has no saved weights (a run imported from a file keeps only its points): train it here to see its landscape`);
  releaseRun();
  const { exp } = await buildExperiment(record, cp);
  measured = { record, exp };
  return measured;
}

/**
 * ‖F(x)‖/‖x‖ per block of every net with shortcuts, on the run's first test images (Fig. 7's response images), at the
 * nets' weights now: each engine's own measurement (the step IR's residual taps), whichever engine trained the net.
 */
async function identityRatios(exp: Experiment): Promise<NetIdentity[]> {
  const sample = exp.imageSample(RESPONSE_IMAGES, 'test');
  const out: NetIdentity[] = [];
  for (const info of exp.infos()) {
    const net = exp.net(info.id);
    const r = net && (await net.evaluate(sample));
    if (r?.residualRatios) out.push({ id: info.id, label: info.label, images: r.responseImages ?? sample.size, ratios: r.residualRatios });
  }
  return out;
}

/** Compute the asked landscape, streaming rows to the page; save it with the run. Failures are reported, not thrown. */
export async function landscape(cmd: Extract<Command, { type: 'landscape' }>): Promise<void> {
  const ended = (outcome: 'cancelled' | 'failed', message?: string) => post({ type: 'landscapeEnded', runId: cmd.runId, outcome, message });
  if (landscapeJob) return ended('failed', 'a landscape is being computed already: wait for it, or cancel it');
  let finish = () => undefined as void;
  const job = { cancelled: false, finished: new Promise<void>((r) => (finish = r)) };
  landscapeJob = job;
  try {
    const { record, exp } = await runToMeasure(cmd.runId);
    const ask: LandscapeAsk = { nets: cmd.nets, grid: cmd.grid, span: cmd.span, sample: cmd.sample, path: cmd.path };
    const problem = landscapeProblem(ask, record.config.trainSize);
    if (problem) return ended('failed', problem);
    // one net is evaluated at a time: on the lab CPU engine every thread works on it ('ops'; bench/landscape.ts measures
    // both), and the run's own schedule comes back afterwards
    const engine = lab.handle?.engine instanceof LabCpuEngine ? lab.handle.engine : null;
    const schedule = engine?.schedule;
    engine?.setSchedule('ops');
    const result = await landscapeOf(exp, record.config.seed, ask, {
      onRow: (index, row, loss, err) =>
        post({
          type: 'landscapeRow',
          runId: cmd.runId,
          net: cmd.nets[index],
          index,
          row,
          rows: cmd.grid,
          loss: loss.map((v) => (Number.isFinite(v) ? v : null)),
          err,
        }),
      onPath: (path) => post({ type: 'landscapePath', runId: cmd.runId, path }),
      // a macrotask between points: the worker hears Cancel (and the page's other commands) while it computes
      between: nextTask,
      cancelled: () => job.cancelled,
    }).finally(() => schedule && engine?.setSchedule(schedule));
    if (!result) return ended('cancelled');
    result.identity = await identityRatios(exp);
    record.landscape = result;
    await saveRun(record);
    post({ type: 'landscape', runId: cmd.runId, landscape: result });
  } catch (err) {
    ended('failed', errorMessage(err));
  } finally {
    landscapeJob = null;
    finish();
  }
}
