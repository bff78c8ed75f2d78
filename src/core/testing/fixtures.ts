// Small, seeded inputs for unit tests.
import { Rng } from '../rng';
import type { ImageBatch } from '../train';

/** A batch of standard-normal "images" with labels 0..9. */
export function randomBatch(size: number, imageSize: number, seed = 1): ImageBatch {
  const rng = new Rng(seed, 'test-batch');
  const x = new Float32Array(size * imageSize * imageSize * 3);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const labels = new Uint8Array(size);
  for (let i = 0; i < size; i++) labels[i] = rng.int(10);
  return { x, labels, size, imageSize };
}

/** Largest |a − b| over all entries, relative to the largest |b| (the tests' measure of float agreement). */
export function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / (s || 1);
}
