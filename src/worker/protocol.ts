// The one typed message protocol between the page and the training worker.
// The page sends Commands; the worker answers with Events. Nothing else crosses the boundary.
import type { BackendReport } from '../core/backend';
import type { ExperimentConfig } from '../core/config';
import type { NetEntry } from '../core/experimentNets';
import type { ChannelStats, DataSource } from '../core/data/cifar10';
import type { MetricsDelta } from '../core/experiment';
import type { NetInfo, NetSeries } from '../core/metrics';
import type { RunStatus } from '../core/runFile';
import type { ConvSelfTest } from '../core/selftest';
import type { EngineName } from '../core/train';
import type { NetPath, RunLandscape } from '../core/landscape';

export interface DatasetSummary {
  source: DataSource;
  description: string;
  trainCount: number;
  testCount: number;
  classNames: string[];
  stats: ChannelStats;
  /** A few images per class for the sample grid: uint8 NHWC [n, 32, 32, 3]. */
  samples: { images: Uint8Array; labels: Uint8Array };
  /** Set when the decoded data could not be cached (e.g. storage quota): the lab trains without it. */
  cacheNote?: string;
}

export interface StartOptions {
  /** Stream metrics to the page (default true); the benchmark turns it off to measure its cost. */
  stream?: boolean;
}

/** One throughput case of the benchmark harness (bench/run.ts). */
export interface BenchSpec {
  backend: EngineName;
  n: number;
  residual: boolean;
  width: number;
  batch: number;
  /** Timed steps after the warm-up step. */
  reps: number;
  /** Stop timing after this long (slow backends report the steps they managed). */
  budgetMs: number;
  /** The lab CPU engine's schedule: 'ops' (the default) splits each kernel across the threads; 'nets' gives each net a thread, as a run of several nets does. */
  schedule?: 'ops' | 'nets';
  /** Copies of the net stepped together (default 1); 'threads': one per thread of the lab CPU engine. A step's time is theirs together. */
  copies?: number | 'threads';
}

export interface BenchResult {
  spec: BenchSpec;
  ok: boolean;
  /** Why the backend could not run the case. */
  reason?: string;
  engine?: string;
  /** The copies of the net each timed step trained. */
  copies?: number;
  warmupMs?: number;
  stepMs?: number[];
  memoryBefore?: { bytes: number; tensors: number };
  memoryAfter?: { bytes: number; tensors: number };
  /** The lab WebGPU engine's queue per timed step: dispatches, submits, and bytes of buffers created (goal 0 after warm-up). */
  gpu?: { dispatchesPerStep: number; submitsPerStep: number; bytesPerStep: number; adapter: string };
}

export type Command =
  | { type: 'probe' }
  | { type: 'selftest' }
  | { type: 'loadData'; reload?: boolean }
  | { type: 'dropFiles'; files: { name: string; bytes: ArrayBuffer }[] }
  | { type: 'start'; runId: string; name: string; config: ExperimentConfig; options?: StartOptions }
  | { type: 'pause' }
  /** The page is being hidden or unloaded (visibilitychange, pagehide): checkpoint after the round in flight. */
  | { type: 'checkpointSoon' }
  /** Stop the run this worker trains; with runId, also a saved run no worker trains (one restored after a reload). */
  | { type: 'stop'; runId?: string }
  /** Resume the run in memory, or a saved one from its last checkpoint (optionally on another backend). */
  | { type: 'resume'; runId: string; backend?: ExperimentConfig['backend'] }
  | { type: 'addNet'; entry: NetEntry }
  /**
   * Edits of saved runs. The worker is the one writer of run records (it trains them), so the page
   * asks it; each answers with a 'savedRun' event carrying the same requestId.
   */
  | { type: 'renameRun'; requestId: number; runId: string; name: string }
  | { type: 'deleteRun'; requestId: number; runId: string }
  /** A run file's bytes (transferred, not copied): parsed and checked in the worker, saved as `runId`. */
  | { type: 'importRun'; requestId: number; runId: string; fileName: string; bytes: ArrayBuffer }
  /**
   * Fault injection (tests, demos): the next training round fails as if the device were lost or out
   * of memory; the next checkpoint reads back a NaN weight, or its write fails midway; a lab CPU
   * helper thread ends ('kill-helper'); the WebGL context is lost for real ('context-lost').
   */
  | { type: 'injectFault'; kind: 'device-lost' | 'out-of-memory' | 'nan-checkpoint' | 'write-fault' | 'kill-helper' | 'context-lost' | 'quota' }
  | { type: 'bench'; id: number; spec: BenchSpec }
  /** Gradients of one small residual net on the active tfjs backend against the lab CPU engine. */
  | { type: 'netCheck' }
  /**
   * The loss landscapes of nets of a run that is not training (issue #27, src/core/landscape.ts): `grid`×`grid` points
   * from -span to span, on the run's first `sample` training images. Rows stream as 'landscapeRow'; the result is
   * saved with the run and sent as 'landscape'. A run not in this worker's memory is loaded from its checkpoint.
   */
  | { type: 'landscape'; runId: string; nets: string[]; grid: number; span: number; sample: number; path: boolean }
  | { type: 'cancelLandscape' };

export type RunState = RunStatus | 'starting';

/**
 * The Web Lock a worker holds while it owns a run (training or paused in memory), so that another
 * tab shows that run read-only instead of resuming it too.
 */
export const runLockName = (runId: string) => `degradation-lab-run:${runId}`;

/** Whether some worker (of any tab) holds this run's lock now; false where Web Locks are missing. */
export async function runLockHeld(runId: string): Promise<boolean> {
  if (typeof navigator === 'undefined' || !navigator.locks) return false;
  const { held = [] } = await navigator.locks.query();
  return held.some((l) => l.name === runLockName(runId));
}

export type WorkerEvent =
  /** The worker's heartbeat counter (shared memory), for the page's watchdog; sent in answer to 'probe'. */
  | { type: 'heartbeat'; counter: Int32Array }
  | { type: 'backend'; report: BackendReport }
  | { type: 'selftest'; result: ConvSelfTest }
  | { type: 'dataProgress'; file: string; loaded: number; total: number | null }
  | { type: 'dataset'; summary: DatasetSummary }
  /** No data: what failed, and the guidance (the same words as the download script). */
  | { type: 'dataMissing'; reason: string; guidance: string[] }
  | { type: 'dataError'; message: string }
  | { type: 'run'; runId: string; state: RunState; engine?: string; iteration?: number; message?: string }
  | { type: 'metrics'; runId: string; delta: MetricsDelta }
  /** Every point of a run, replacing what the page holds (after resuming from a checkpoint). */
  | { type: 'series'; runId: string; nets: Record<string, NetSeries>; infos: NetInfo[]; iteration: number }
  | { type: 'checkpoint'; runId: string; iteration: number }
  /** Storage is full: the run trains on, its points from `iteration` on are only in the page (export them). */
  | { type: 'storageFull'; runId: string; iteration: number }
  /** The backend failed (device lost, out of memory); every point is kept and the run can resume elsewhere. */
  | { type: 'backendFailed'; runId: string; backend: string; message: string; suggestion: ExperimentConfig['backend'] }
  | { type: 'benchResult'; id: number; result: BenchResult }
  /** The answer to a saved-run edit: done (with the run's name after a rename or import), or why not. */
  | { type: 'savedRun'; requestId: number; runId: string; ok: true; name?: string }
  | { type: 'savedRun'; requestId: number; runId: string; ok: false; message: string }
  | { type: 'netCheck'; backend: string; loss: [number, number]; maxRelDiff: number; worst: string }
  /** A landscape's row, as it finishes (`row` of `rows`, of net `net`, the `index`-th of the job's nets); loss null where not finite. */
  | { type: 'landscapeRow'; runId: string; net: string; index: number; row: number; rows: number; loss: (number | null)[]; err: number[] }
  /** A net's path from initialisation, as it finishes (after the surfaces). */
  | { type: 'landscapePath'; runId: string; path: NetPath }
  /** A landscape job ended: the result (saved with the run), or cancelled, or failed with the reason. */
  | { type: 'landscape'; runId: string; landscape: RunLandscape }
  | { type: 'landscapeEnded'; runId: string; outcome: 'cancelled' | 'failed'; message?: string }
  /** Any failure in the worker reaches the page with its cause; the worker never dies silently. */
  | { type: 'error'; during: string; message: string; stack?: string };
