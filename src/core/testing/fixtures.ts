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

/** The nets whose gradients the engine contract checks (./engineContract.ts), and whose bits the CPU engine keeps (../cpu/bitIdentity.test.ts): every family, shortcut and block type. */
export const GRADIENT_CASES: [string, NetOptions][] = [
  ['plain', { n: 1, family: 'plain', shortcut: 'A' }],
  ['residual A', { n: 1, family: 'residual', shortcut: 'A' }],
  ['residual B', { n: 1, family: 'residual', shortcut: 'B' }],
  ['residual C', { n: 1, family: 'residual', shortcut: 'C' }],
  // bottlenecks: option A pads channels at stride 1 (16 → 64) and at stride 2; B projects there.
  // At width ×0.5: at ×0.25 the 1×1 convs reduce to 4 channels whose BN (over 32 values in stage 3)
  // curves so sharply that float32 finite differences miss by 2–3× the tolerance in both engines
  // alike (measured: worst error / tolerance 3.4 at ×0.25, 0.5 at ×0.5; 1.0 with 16×16 images).
  ['plain bottleneck', { n: 1, family: 'plain', shortcut: 'A', block: 'bottleneck', width: 0.5 }],
  ['residual A bottleneck', { n: 1, family: 'residual', shortcut: 'A', block: 'bottleneck', width: 0.5 }],
  ['residual B bottleneck', { n: 1, family: 'residual', shortcut: 'B', block: 'bottleneck', width: 0.5 }],
  // highway: through the gate (identity carry in s1.b0, projected carry where the shape changes)
  ['highway', { n: 1, family: 'highway', shortcut: 'A' }],
  ['highway bottleneck', { n: 1, family: 'highway', shortcut: 'A', block: 'bottleneck' }],
];
