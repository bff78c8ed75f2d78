// Synthetic finished runs for the judges' tests (verdict.test.ts, questions.test.ts): each net's
// training error falls linearly from 0.9 to its final value over the first half, then stays there,
// with optional noise, and the net's id and label follow the lab's conventions.
import type { NetInfo, NetSeries } from '../metrics';
import { emptySeries } from '../metrics';
import { Rng } from '../rng';
import type { JudgedRun } from '../verdict';

export const ITERATIONS = 1000;

export interface NetCurve {
  depth: number;
  residual: boolean;
  shortcut?: 'A' | 'B' | 'C';
  /** Training error at the end of the run (the curve falls linearly to it from 0.9). */
  final: number;
  /** ± uniform noise on every mini-batch error. */
  noise?: number;
  /** Iterations trained (default all). */
  trained?: number;
  diverged?: number;
  /** Override the error of the last iteration alone (a single point past a margin). */
  lastPoint?: number;
  block?: 'basic' | 'bottleneck';
  warmup?: 'off' | 'paper';
  highway?: boolean;
  /** Test error at every 100th iteration (none when absent). */
  test?: number;
  /** A label suffix (a highway net's gate bias). */
  tag?: string;
}

export function series(c: NetCurve, seed: number): NetSeries {
  const s = emptySeries();
  const rng = new Rng(seed, 'verdict-noise');
  const n = c.trained ?? ITERATIONS;
  for (let it = 1; it <= n; it++) {
    const trend = it < ITERATIONS / 2 ? 0.9 - ((0.9 - c.final) * it) / (ITERATIONS / 2) : c.final;
    let err = trend + (c.noise ?? 0) * (2 * rng.next() - 1);
    if (it === ITERATIONS && c.lastPoint !== undefined) err = c.lastPoint;
    s.train.it.push(it);
    s.train.err.push(err);
    s.train.runErr.push(err);
    s.train.loss.push(2 * err);
    s.train.lr.push(0.1);
    if (c.test !== undefined && it % 100 === 0) {
      s.test.it.push(it);
      s.test.err.push(c.test);
      s.test.loss.push(2 * c.test);
    }
  }
  return s;
}

export function run(curves: NetCurve[], status = 'done'): JudgedRun {
  const nets: NetInfo[] = curves.map((c) => {
    const shortcut = c.shortcut ?? 'A';
    const variant = `${c.block === 'bottleneck' ? '-bottleneck' : ''}${c.warmup ? `-warmup-${c.warmup}` : ''}`;
    const id = (c.highway ? `highway-${c.depth}` : c.residual ? `resnet-${c.depth}-${shortcut}` : `plain-${c.depth}`) + variant + (c.tag ? `-${c.tag}` : '');
    const name = c.highway
      ? `Highway-${c.depth}`
      : c.residual
        ? `ResNet-${c.depth}${c.shortcut && c.shortcut !== 'A' ? ` (${c.shortcut})` : ''}`
        : `plain-${c.depth}`;
    return {
      id,
      label: name + (c.block === 'bottleneck' ? ' bottleneck' : '') + (c.warmup ? ` warmup ${c.warmup}` : '') + (c.tag ? ` ${c.tag}` : ''),
      depth: c.depth,
      residual: c.residual,
      family: c.highway ? 'highway' : c.residual ? 'residual' : 'plain',
      block: c.block,
      warmup: c.warmup,
      shortcut,
      params: 1,
      status: c.diverged !== undefined ? 'diverged' : (c.trained ?? ITERATIONS) < ITERATIONS ? 'training' : 'done',
      divergedAt: c.diverged ?? null,
    };
  });
  return { status, iterations: ITERATIONS, nets, series: Object.fromEntries(nets.map((n, i) => [n.id, series(curves[i], i + 1)])) };
}
