import { describe, expect, it } from 'vitest';
import { LESSON_STEPS, PROMPT_EVERY, hidesResidual, plainHalfClear, predictDepths, promptIndex } from './lesson';
import type { NetSeries } from './metrics';
import { emptySeries } from './metrics';
import type { NetCurve } from './testing/judgedRuns';
import { run } from './testing/judgedRuns';

/** The stream as the page sees it after `k` iterations: every series cut there. */
function upTo(series: Record<string, NetSeries>, k: number): Record<string, NetSeries> {
  const out: Record<string, NetSeries> = {};
  for (const [id, s] of Object.entries(series)) {
    const cut = emptySeries();
    const n = s.train.it.findIndex((it) => it > k);
    const end = n < 0 ? s.train.it.length : n;
    for (const key of ['it', 'loss', 'err', 'runErr', 'lr'] as const) cut.train[key] = s.train[key].slice(0, end);
    out[id] = cut;
  }
  return out;
}

const classroomLike: NetCurve[] = [
  { depth: 8, residual: false, final: 0.4, noise: 0.05 },
  { depth: 20, residual: false, final: 0.5, noise: 0.05 },
  { depth: 56, residual: false, final: 0.87, noise: 0.05 },
  { depth: 8, residual: true, final: 0.36, noise: 0.05 },
  { depth: 20, residual: true, final: 0.12, noise: 0.05 },
  { depth: 56, residual: true, final: 0.1, noise: 0.05 },
];

describe('the lesson', () => {
  it('has its steps in order, and hides the residual half until it is revealed', () => {
    expect(LESSON_STEPS).toEqual(['predict', 'watch-plain', 'watch-residual', 'explain', 'try']);
    expect(LESSON_STEPS.map(hidesResidual)).toEqual([true, true, false, false, false]);
    expect(hidesResidual(null)).toBe(false);
  });

  it('reveals the residual half once the plain half is clear by the verdict’s rules on the live stream, not before, and never before 100 iterations', () => {
    const r = run(classroomLike);
    const clearAt: number[] = [];
    for (let k = 10; k <= 1000; k += 10) if (plainHalfClear(r.nets, upTo(r.series, k)).clear) clearAt.push(k);
    expect(clearAt.length).toBeGreaterThan(0);
    const first = clearAt[0];
    // the curves fall linearly from 0.9 over 500 iterations: plain-8 must have fallen far enough below plain-56
    expect(first).toBeGreaterThanOrEqual(100);
    expect(first).toBeLessThan(600);
    // once clear on this stream, it stays clear
    expect(clearAt).toEqual(Array.from({ length: clearAt.length }, (_, i) => first + 10 * i));
    const at = plainHalfClear(r.nets, upTo(r.series, 1000));
    expect(at).toMatchObject({ clear: true, at: 1000, deep: { label: 'plain-56' }, shallow: { label: 'plain-8' } });
    expect(at.deep!.error - at.shallow!.error).toBeGreaterThan(0.4);
  });

  it('is never clear when the plain nets do not degrade, or a run has one plain depth', () => {
    const flat = run(classroomLike.map((c) => ({ ...c, final: 0.4 })));
    for (let k = 100; k <= 1000; k += 100) expect(plainHalfClear(flat.nets, upTo(flat.series, k)).clear).toBe(false);
    const one = run([
      { depth: 56, residual: false, final: 0.9 },
      { depth: 56, residual: true, final: 0.1 },
    ]);
    expect(plainHalfClear(one.nets, one.series).clear).toBe(false);
    expect(predictDepths(one.nets)).toBeNull();
    expect(predictDepths(run(classroomLike).nets)).toEqual([8, 56]);
  });

  it('moves the projector to the next talking point with the run’s progress, every PROMPT_EVERY iterations, and round again', () => {
    const shown = [0, PROMPT_EVERY - 1, PROMPT_EVERY, 2 * PROMPT_EVERY, 3 * PROMPT_EVERY, 3 * PROMPT_EVERY + 1].map((it) => promptIndex(it, 3));
    expect(shown).toEqual([0, 0, 1, 2, 0, 0]);
    expect(promptIndex(-5, 3)).toBe(0);
    expect(promptIndex(10_000, 0)).toBe(0);
  });
});
