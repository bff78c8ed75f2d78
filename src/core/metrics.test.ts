import { describe, expect, it } from 'vitest';
import type { NetSeries } from './metrics';
import { CHUNK_POINTS, appendSeries, chunkSeries, emptySeries, truncateSeries, valueAt } from './metrics';

/** A series with a training point at every iteration 1..n and a test point and tap every `every`. */
function series(n: number, every = 10): NetSeries {
  const s = emptySeries();
  for (let it = 1; it <= n; it++) {
    s.train.it.push(it);
    s.train.loss.push(it / 10);
    s.train.err.push(1 / it);
    s.train.runErr.push(2 / it);
    s.train.lr.push(0.1);
    if (it % every === 0) {
      s.test.it.push(it);
      s.test.err.push(1 / it);
      s.test.loss.push(it);
      s.taps.push({ it, layerStd: [it], gradNorms: [it] });
    }
  }
  return s;
}

describe('series', () => {
  it('truncateSeries keeps every column up to and including the iteration, and copies', () => {
    const s = series(50);
    const t = truncateSeries(s, 25);
    expect(t.train.it).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    for (const k of ['loss', 'err', 'runErr', 'lr'] as const) expect(t.train[k]).toHaveLength(25);
    expect(t.test.it).toEqual([10, 20]);
    expect(t.test.err).toHaveLength(2);
    expect(t.taps.map((x) => x.it)).toEqual([10, 20]);
    t.train.it.push(999);
    expect(s.train.it).toHaveLength(50); // the original is untouched
    expect(truncateSeries(s, 1000).train.it).toHaveLength(50);
    expect(truncateSeries(s, 0).train.it).toEqual([]);
  });

  it('appendSeries joins two stretches into the series they came from', () => {
    const whole = series(40);
    const a = truncateSeries(whole, 17);
    const b = emptySeries();
    for (const k of ['it', 'loss', 'err', 'runErr', 'lr'] as const) b.train[k] = whole.train[k].slice(17);
    for (const k of ['it', 'err'] as const) b.test[k] = whole.test[k].slice(1);
    b.test.loss = whole.test.loss.slice(1);
    b.taps = whole.taps.slice(1);
    expect(appendSeries(a, b)).toEqual(whole);
  });

  it('appendSeries takes a 250k-point stretch at once (a long run resumed or imported)', () => {
    const big = series(250_000, 1000);
    const into = series(10);
    expect(() => appendSeries(into, big)).not.toThrow();
    expect(into.train.it).toHaveLength(250_010);
    expect(into.train.it.at(-1)).toBe(250_000);
    expect(into.test.it).toHaveLength(251);
  });

  it('valueAt finds the value at the last iteration at or before the one asked for', () => {
    const s = series(30);
    expect(valueAt(s.test.it, s.test.err, 25)).toBe(1 / 20);
    expect(valueAt(s.test.it, s.test.err, 30)).toBe(1 / 30);
    expect(valueAt(s.test.it, s.test.err, 9)).toBeNull();
  });
});

describe('chunkSeries', () => {
  it('splits 250k points into bounded chunks that append back to the same series', () => {
    const nets = { long: series(250_000, 1000), short: series(15_000, 10) };
    const chunks = chunkSeries(nets);
    expect(chunks.length).toBe(Math.ceil(250_000 / CHUNK_POINTS));
    for (const c of chunks)
      for (const s of Object.values(c)) expect(Math.max(s.train.it.length, s.test.it.length, s.taps.length)).toBeLessThanOrEqual(CHUNK_POINTS);
    // the short net stops appearing once its points are used up
    expect(chunks.filter((c) => 'short' in c).length).toBe(2);
    const back: Record<string, NetSeries> = {};
    for (const c of chunks) for (const [id, s] of Object.entries(c)) appendSeries((back[id] ??= emptySeries()), s);
    expect(back).toEqual(nets);
  });

  it('keeps a net with no points yet, so a stored run still lists it', () => {
    expect(chunkSeries({ a: emptySeries() })).toEqual([{ a: emptySeries() }]);
  });
});
