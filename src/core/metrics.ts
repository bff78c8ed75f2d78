// The measurements of a run, per net, as columns (cheap to stream, store, export and chart).
// The x-axis is the iteration, as in the paper.
import type { BlockType, NetFamily, Shortcut } from './nets';
import type { WarmupMode } from './schedule';

interface TrainColumns {
  it: number[];
  loss: number[];
  /** Mini-batch training error, 0..1. */
  err: number[];
  /** Running mean of the mini-batch error over the last RUNNING_WINDOW iterations. */
  runErr: number[];
  lr: number[];
}

interface TestColumns {
  it: number[];
  err: number[];
  /**
   * Mean test loss; null where it is not a finite float32 number: a ResNet of a thousand layers at iteration 0, whose
   * BN layers normalise by their initial running statistics (mean 0, variance 1) while its residual stream grows
   * block by block (docs/thousand-layers.md). Its test error is still measured.
   */
  loss: (number | null)[];
}

/** Per-layer statistics taken at an evaluation: Fig. 7's response std, and weight-gradient norms (none where one is not finite). */
export interface LayerTap {
  it: number;
  /** Fig. 7 (b), the BN readout: BN with the measured batch's own statistics (train.ts EvalResult). */
  layerStd: number[];
  /**
   * Fig. 7 (a): BN with the running averages, as the trained net computes. Absent in runs saved before it, and where
   * a response overflows float32 (a ResNet of a thousand layers at iteration 0: docs/thousand-layers.md).
   */
  layerStdEval?: number[];
  gradNorms: number[];
  /** Test images the responses were measured on (train.ts EvalResult.responseImages). Absent in runs saved before it. */
  images?: number;
  /** Highway nets: each block's mean gate value T. */
  gateMeans?: number[];
  /** Each block with a shortcut: ‖F(x)‖/‖x‖ (train.ts EvalResult). Absent for plain nets and in runs saved before it. */
  residualRatios?: number[];
}

export interface NetSeries {
  train: TrainColumns;
  test: TestColumns;
  taps: LayerTap[];
}

type NetStatusName = 'pending' | 'training' | 'done' | 'diverged';

export interface NetInfo {
  id: string;
  label: string;
  depth: number;
  residual: boolean;
  /** Absent in runs saved before highway nets: then residual says plain or residual. */
  family?: NetFamily;
  shortcut: Shortcut;
  /** Absent in older runs: basic. */
  block?: BlockType;
  /** Absent in older runs: the experiment's one warmup. */
  warmup?: WarmupMode;
  params: number;
  status: NetStatusName;
  divergedAt: number | null;
}

export function emptySeries(): NetSeries {
  return { train: { it: [], loss: [], err: [], runErr: [], lr: [] }, test: { it: [], err: [], loss: [] }, taps: [] };
}

/** Append b's points to a (in place). A loop, not push(...b): spreading 125k+ values throws a RangeError. */
export function appendSeries(a: NetSeries, b: NetSeries): NetSeries {
  const append = <T>(to: T[], from: readonly T[]) => {
    for (let i = 0; i < from.length; i++) to.push(from[i]);
  };
  for (const k of ['it', 'loss', 'err', 'runErr', 'lr'] as const) append(a.train[k], b.train[k]);
  for (const k of ['it', 'err', 'loss'] as const) append(a.test[k], b.test[k]);
  append(a.taps, b.taps);
  return a;
}

/**
 * Points per net in one stored chunk. Storage keeps a run's series as chunks of at most this many
 * points per column, so no single record, structured clone or array grows with the run's length.
 */
export const CHUNK_POINTS = 10_000;

/** Split series into chunks of at most `maxPoints` points per column; appending them in order gives the series back. */
export function chunkSeries(nets: Record<string, NetSeries>, maxPoints = CHUNK_POINTS): Record<string, NetSeries>[] {
  const longest = Math.max(0, ...Object.values(nets).map((s) => Math.max(s.train.it.length, s.test.it.length, s.taps.length)));
  const chunks: Record<string, NetSeries>[] = [];
  for (let from = 0; from < longest || from === 0; from += maxPoints) {
    const to = from + maxPoints;
    const chunk: Record<string, NetSeries> = {};
    for (const [id, s] of Object.entries(nets)) {
      if (from > 0 && from >= s.train.it.length && from >= s.test.it.length && from >= s.taps.length) continue;
      chunk[id] = {
        train: {
          it: s.train.it.slice(from, to),
          loss: s.train.loss.slice(from, to),
          err: s.train.err.slice(from, to),
          runErr: s.train.runErr.slice(from, to),
          lr: s.train.lr.slice(from, to),
        },
        test: { it: s.test.it.slice(from, to), err: s.test.err.slice(from, to), loss: s.test.loss.slice(from, to) },
        taps: s.taps.slice(from, to),
      };
    }
    chunks.push(chunk);
  }
  return chunks;
}

/** The points of a series up to and including iteration `it` (to resume from a checkpoint). */
export function truncateSeries(s: NetSeries, it: number): NetSeries {
  const nTrain = s.train.it.findIndex((x) => x > it);
  const nTest = s.test.it.findIndex((x) => x > it);
  const cut = <T>(arr: T[], n: number) => (n < 0 ? arr.slice() : arr.slice(0, n));
  return {
    train: {
      it: cut(s.train.it, nTrain),
      loss: cut(s.train.loss, nTrain),
      err: cut(s.train.err, nTrain),
      runErr: cut(s.train.runErr, nTrain),
      lr: cut(s.train.lr, nTrain),
    },
    test: { it: cut(s.test.it, nTest), err: cut(s.test.err, nTest), loss: cut(s.test.loss, nTest) },
    taps: s.taps.filter((t) => t.it <= it),
  };
}

/** The value of a column at the last iteration ≤ it (null if none). */
export function valueAt(its: number[], values: number[], it: number): number | null {
  let lo = 0;
  let hi = its.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (its[mid] <= it) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best < 0 ? null : values[best];
}

export interface Progress {
  /** Iterations completed by the slowest net still training. */
  iteration: number;
  iterations: number;
  imagesPerSec: number;
  elapsedMs: number;
  etaMs: number | null;
}

/** A net's family, also for runs saved before the field existed. */
export const familyOf = (n: { residual: boolean; family?: NetFamily }): NetFamily => n.family ?? (n.residual ? 'residual' : 'plain');
