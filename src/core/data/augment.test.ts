import { describe, expect, it } from 'vitest';
import { BatchSequence, PAD, augmentDraws, inputStats, makeBatch } from './augment';
import type { LabeledImages } from './cifar10';
import { IMAGE_BYTES, SIDE } from './cifar10';

/** n images whose pixel (y, x, c) is f(i, y, x, c). */
function images(n: number, f: (i: number, y: number, x: number, c: number) => number): LabeledImages {
  const bytes = new Uint8Array(n * IMAGE_BYTES);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) for (let c = 0; c < 3; c++) bytes[i * IMAGE_BYTES + (y * SIDE + x) * 3 + c] = f(i, y, x, c);
  return { images: bytes, labels: Uint8Array.from({ length: n }, (_, i) => i % 10), count: n };
}

describe('inputStats and makeBatch: the paper’s per-pixel mean', () => {
  const set = images(4, (i, y, x, c) => (10 * i + y + 2 * x + 50 * c) % 256);

  it('takes the mean of every pixel and channel over the images given, and the channel std', () => {
    const s = inputStats(set);
    expect(s.pixelMean).toHaveLength(IMAGE_BYTES);
    // pixel (3, 5), channel 1: (10i + 3 + 10 + 50) for i = 0..3 → mean 78
    expect(s.pixelMean[(3 * SIDE + 5) * 3 + 1]).toBeCloseTo(78, 5);
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < 4; i++)
      for (let p = 0; p < SIDE * SIDE; p++) {
        const v = set.images[i * IMAGE_BYTES + p * 3 + 2];
        sum += v;
        sq += v * v;
      }
    const n = 4 * SIDE * SIDE;
    expect(s.std[2]).toBeCloseTo(Math.sqrt(sq / n - (sum / n) ** 2), 4);
  });

  it('makes every pixel of the training images average to zero without augmentation', () => {
    const batch = makeBatch(set, [0, 1, 2, 3], inputStats(set), null);
    for (const p of [0, 100, 1500, 3071]) {
      let m = 0;
      for (let i = 0; i < 4; i++) m += batch.x[i * IMAGE_BYTES + p];
      expect(Math.abs(m / 4)).toBeLessThan(1e-5);
    }
  });

  it('pads the random crop with zeros after normalisation (the mean), and crops within the padding', () => {
    const stats = inputStats(set);
    const draws = augmentDraws(7, 3, 4);
    for (const arr of [draws.dx, draws.dy]) for (const v of arr) expect(v).toBeLessThanOrEqual(2 * PAD);
    const batch = makeBatch(set, [0, 1, 2, 3], stats, { seed: 7, iteration: 3 });
    for (let i = 0; i < 4; i++) {
      const oy = draws.dy[i] - PAD;
      const ox = draws.dx[i] - PAD;
      for (const [y, x] of [
        [0, 0],
        [31, 31],
        [0, 31],
        [16, 16],
      ]) {
        const sy = y + oy;
        const sx = (draws.flip[i] ? SIDE - 1 - x : x) + ox;
        const inside = sy >= 0 && sy < SIDE && sx >= 0 && sx < SIDE;
        const got = batch.x[i * IMAGE_BYTES + (y * SIDE + x) * 3];
        const want = inside ? (set.images[i * IMAGE_BYTES + (sy * SIDE + sx) * 3] - stats.pixelMean[(sy * SIDE + sx) * 3]) / stats.std[0] : 0;
        expect(got).toBeCloseTo(want, 5);
      }
    }
  });

  it('draws crops and flips as a pure function of (seed, iteration)', () => {
    expect(augmentDraws(7, 3, 64)).toEqual(augmentDraws(7, 3, 64));
    expect(augmentDraws(7, 4, 64)).not.toEqual(augmentDraws(7, 3, 64));
    expect(augmentDraws(8, 3, 64)).not.toEqual(augmentDraws(7, 3, 64));
    const flips = augmentDraws(1, 0, 2000).flip.reduce((s, f) => s + f, 0);
    expect(flips).toBeGreaterThan(900);
    expect(flips).toBeLessThan(1100);
    const a = new BatchSequence(5, 100, 10);
    const b = new BatchSequence(5, 100, 10);
    expect([...b.indices(23)]).toEqual([...a.indices(23)]);
    expect(new Set([...Array(10).keys()].flatMap((t) => [...a.indices(t)])).size).toBe(100); // one epoch: every image once
  });
});
