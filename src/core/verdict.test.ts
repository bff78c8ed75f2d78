import { describe, expect, it } from 'vitest';
import type { NetInfo, NetSeries } from './metrics';
import { emptySeries } from './metrics';
import { Rng } from './rng';
import type { JudgedRun } from './verdict';
import { judgeDegradation } from './verdict';

const ITERATIONS = 1000;

interface NetCurve {
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
}

function series(c: NetCurve, seed: number): NetSeries {
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
  }
  return s;
}

function run(curves: NetCurve[], status = 'done'): JudgedRun {
  const nets: NetInfo[] = curves.map((c) => {
    const shortcut = c.shortcut ?? 'A';
    const id = c.residual ? `resnet-${c.depth}-${shortcut}` : `plain-${c.depth}`;
    return {
      id,
      label: c.residual ? `ResNet-${c.depth}${c.shortcut && c.shortcut !== 'A' ? ` (${c.shortcut})` : ''}` : `plain-${c.depth}`,
      depth: c.depth,
      residual: c.residual,
      shortcut,
      params: 1,
      status: c.diverged !== undefined ? 'diverged' : (c.trained ?? ITERATIONS) < ITERATIONS ? 'training' : 'done',
      divergedAt: c.diverged ?? null,
    };
  });
  return { status, iterations: ITERATIONS, nets, series: Object.fromEntries(nets.map((n, i) => [n.id, series(curves[i], i + 1)])) };
}

const plain = (e8: number, e20: number, e56: number): NetCurve[] => [
  { depth: 8, residual: false, final: e8 },
  { depth: 20, residual: false, final: e20 },
  { depth: 56, residual: false, final: e56 },
];
const resnet = (e8: number, e20: number, e56: number, shortcut: 'A' | 'B' | 'C' = 'A'): NetCurve[] => [
  { depth: 8, residual: true, shortcut, final: e8 },
  { depth: 20, residual: true, shortcut, final: e20 },
  { depth: 56, residual: true, shortcut, final: e56 },
];

describe('judgeDegradation', () => {
  it('says "both halves" for Fig. 6: deeper plain worse, deeper ResNet better, and gives the numbers', () => {
    const v = judgeDegradation(run([...plain(0.38, 0.47, 0.75), ...resnet(0.33, 0.14, 0.15)]));
    expect(v.outcome).toBe('both');
    expect(v.window).toEqual([900, 1000]);
    expect(v.finals.find((f) => f.id === 'plain-56')!.error).toBeCloseTo(0.75, 10);
    expect(v.reason).toContain('plain-56 75.0% is 37.0 points above plain-8 38.0%');
    expect(v.reason).toContain('ResNet-56 15.0% is 60.0 points below plain-56 75.0%');
  });

  it('says "only the plain half" when the deeper ResNet is worse too (the old Classroom preset)', () => {
    const v = judgeDegradation(run([...plain(0.568, 0.636, 0.824), ...resnet(0.574, 0.542, 0.708)]));
    expect(v.outcome).toBe('plain-only');
    expect(v.reason).toMatch(/ResNet-56 70\.8% is 13\.4 points above ResNet-8 57\.4%/);
    expect(v.checks.find((c) => c.rule === 'residual-fixes')!.holds).toBe(false); // 11.6 points < 20
  });

  it('says "not shown" when the plain nets do not degrade by 10 points', () => {
    const v = judgeDegradation(run([...plain(0.5, 0.55, 0.58), ...resnet(0.4, 0.3, 0.2)]));
    expect(v.outcome).toBe('not-shown');
    expect(v.reason).toContain('the plain nets do not degrade');
  });

  it('refuses a deeper plain net that is more than 1 point better than a shallower one', () => {
    const v = judgeDegradation(run([...plain(0.4, 0.38, 0.7), ...resnet(0.35, 0.15, 0.15)]));
    expect(v.outcome).toBe('not-shown');
    expect(v.reason).toContain('plain-20 38.0% is below plain-8 40.0%');
  });

  it('allows a deeper ResNet up to 2 points above a shallower one, not more', () => {
    expect(judgeDegradation(run([...plain(0.38, 0.47, 0.75), ...resnet(0.33, 0.14, 0.159)])).outcome).toBe('both');
    const v = judgeDegradation(run([...plain(0.38, 0.47, 0.75), ...resnet(0.33, 0.14, 0.17)]));
    expect(v.outcome).toBe('plain-only');
    expect(v.reason).toContain('ResNet-56 17.0% is 3.0 points above ResNet-20 14.0%');
  });

  it('says "not shown" for a diverged net, naming it and the iteration', () => {
    const curves = [...plain(0.38, 0.47, 0.75), ...resnet(0.33, 0.14, 0.15)];
    curves[5] = { ...curves[5], diverged: 312, trained: 312 };
    const v = judgeDegradation(run(curves));
    expect(v.outcome).toBe('not-shown');
    expect(v.reason).toBe('ResNet-56 diverged at iteration 312');
  });

  it('says "not shown" for a stopped or unfinished run, even with Fig. 6-like numbers so far', () => {
    const good = [...plain(0.38, 0.47, 0.75), ...resnet(0.33, 0.14, 0.15)];
    expect(judgeDegradation(run(good, 'stopped')).outcome).toBe('not-shown');
    expect(judgeDegradation(run(good, 'stopped')).reason).toContain('stopped');
    expect(judgeDegradation(run(good, 'paused')).reason).toContain('not finished');
    const short = good.map((c) => (c.depth === 56 && !c.residual ? { ...c, trained: 950 } : c));
    const v = judgeDegradation(run(short, 'done'));
    expect(v.outcome).toBe('not-shown');
    expect(v.reason).toBe('plain-56 did not train all 1000 iterations');
  });

  it('judges the mean of the last 10%, so noise around a margin does not flip it and one point does not count', () => {
    // plain-56 − plain-8 is 11.5 points on average, with ±5-point noise on every batch (so many single
    // batches are below the 10-point margin): shown, whatever the noise seed
    for (let k = 0; k < 5; k++) {
      const curves = [...plain(0.4, 0.45, 0.515), ...resnet(0.3, 0.2, 0.19)].map((c) => ({ ...c, noise: 0.05 }));
      const r = run(curves);
      for (const [i, id] of Object.keys(r.series).entries()) r.series[id] = series(curves[i], 100 * k + i);
      expect(judgeDegradation(r).outcome).toBe('both');
    }
    // 8.5 points on average: not shown, even though many single batches are past 10 points
    for (let k = 0; k < 5; k++) {
      const curves = [...plain(0.4, 0.45, 0.485), ...resnet(0.3, 0.2, 0.19)].map((c) => ({ ...c, noise: 0.05 }));
      const r = run(curves);
      for (const [i, id] of Object.keys(r.series).entries()) r.series[id] = series(curves[i], 100 * k + i);
      const deep = r.series['plain-56'].train.err.slice(900);
      const shallow = r.series['plain-8'].train.err.slice(900);
      expect(deep.filter((e, i) => e - shallow[i] >= 0.1).length).toBeGreaterThan(5);
      expect(judgeDegradation(r).outcome).toBe('not-shown');
    }
    // the final point alone far past every margin does not make a verdict
    const spike = [...plain(0.4, 0.45, 0.45), ...resnet(0.4, 0.4, 0.4)];
    spike[2] = { ...spike[2], lastPoint: 0.95 };
    expect(judgeDegradation(run(spike)).outcome).toBe('not-shown');
  });

  it('judges each shortcut option, and names the one that fails', () => {
    const v = judgeDegradation(run([...plain(0.38, 0.47, 0.75), ...resnet(0.33, 0.14, 0.15, 'A'), ...resnet(0.33, 0.3, 0.45, 'B')]));
    expect(v.outcome).toBe('plain-only');
    expect(v.checks.filter((c) => c.shortcut === 'A').every((c) => c.holds)).toBe(true);
    expect(v.reason).toContain('[B] ResNet-56 (B) 45.0% is 12.0 points above ResNet-8 (B) 33.0%');
    expect(judgeDegradation(run([...plain(0.38, 0.47, 0.75), ...resnet(0.33, 0.14, 0.15, 'A'), ...resnet(0.3, 0.12, 0.12, 'B')])).outcome).toBe('both');
  });
});
