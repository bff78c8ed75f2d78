// Small, seeded inputs for engine checks: unit tests, and the GPU kit (no test runner there).
import { cifarNet } from '../nets';
import type { NetOptions, Tensors } from '../nets';
import { Rng } from '../rng';
import type { ImageBatch, NetState } from '../train';
import { initialState } from '../train';

export const TINY = { width: 0.25, inputSize: 8 } as const;

export function freshState(options: NetOptions, seed = 1): NetState {
  return initialState(cifarNet(options), seed);
}

export function cloneTensors(t: Tensors): Tensors {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, new Float32Array(v)]));
}

/** Perturb the state's BN γ/β away from 1/0 so every gradient path is exercised. */
export function jitter(state: NetState, seed: number): NetState {
  const rng = new Rng(seed, 'jitter');
  const params = cloneTensors(state.params);
  for (const [k, v] of Object.entries(params)) {
    if (k.endsWith('.gamma') || k.endsWith('.beta') || k === 'fc.bias') for (let i = 0; i < v.length; i++) v[i] += 0.3 * rng.normal();
  }
  return { ...state, params };
}

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
