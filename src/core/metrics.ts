// The measurements of a run, per net, as columns (cheap to stream, store, export and chart).
// The x-axis is the iteration, as in the paper.
import type { Shortcut } from './nets';

export interface TrainColumns {
  it: number[];
  loss: number[];
  /** Mini-batch training error, 0..1. */
  err: number[];
  /** Running mean of the mini-batch error over the last RUNNING_WINDOW iterations. */
  runErr: number[];
  lr: number[];
}

export interface TestColumns {
  it: number[];
  err: number[];
  loss: number[];
}

/** Per-layer statistics taken at an evaluation: Fig. 7's response std, and weight-gradient norms. */
export interface LayerTap {
  it: number;
  layerStd: number[];
  gradNorms: number[];
}

export interface NetSeries {
  train: TrainColumns;
  test: TestColumns;
  taps: LayerTap[];
}

export type NetStatusName = 'pending' | 'training' | 'done' | 'diverged';

export interface NetInfo {
  id: string;
  label: string;
  depth: number;
  residual: boolean;
  shortcut: Shortcut;
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

/** The points of a series up to and including iteration `it` (to resume from a checkpoint). */
export function truncateSeries(s: NetSeries, it: number): NetSeries {
  const nTrain = s.train.it.findIndex((x) => x > it);
  const nTest = s.test.it.findIndex((x) => x > it);
  const cut = <T>(arr: T[], n: number) => (n < 0 ? arr.slice() : arr.slice(0, n));
  return {
    train: { it: cut(s.train.it, nTrain), loss: cut(s.train.loss, nTrain), err: cut(s.train.err, nTrain), runErr: cut(s.train.runErr, nTrain), lr: cut(s.train.lr, nTrain) },
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
