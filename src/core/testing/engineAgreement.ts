// Two engines, one net: the same loss and gradients, the same SGD steps, the same evaluation, within
// the float tolerances a test gives. Used by the lab CPU engine's test (against tfjs) and the lab
// WebGPU engine's (against the lab CPU engine).
import { expect } from 'vitest';
import { cifarNet } from '../nets';
import type { NetOptions } from '../nets';
import type { Engine } from '../train';
import { randomBatch, relDiff } from './fixtures';
import { freshState, jitter } from './engineContract';

export interface Agreement {
  /** SGD steps at lr 0.05, on 6-image batches of seed firstBatchSeed + t. */
  steps: number;
  firstBatchSeed: number;
  /** Largest |Δ| of the first loss, and of each step's loss. */
  loss: number;
  stepLoss: number;
  /** Largest relDiff (./fixtures.ts) of each gradient, parameter, momentum and running statistic after the steps. */
  grads: number;
  params: number;
  momentum: number;
  stats: number;
  /** Gradient norms: compared at every step, or at the last only; relative tolerance. */
  gradNorms: { every: boolean; tol: number };
}

/** Train the same net on engines `a` and `b` (the reference) side by side and compare everything. */
export async function expectAgreement(a: Engine, b: Engine, options: NetOptions, t: Agreement): Promise<void> {
  const spec = cifarNet(options);
  const state = jitter(freshState(options, 3), 4);
  const batch = randomBatch(6, options.inputSize ?? 8, 21);
  a.setBatch(batch);
  b.setBatch(batch);
  const na = a.createNet(spec, state);
  const nb = b.createNet(spec, state);
  const [ga, gb] = [await na.gradients(), await nb.gradients()];
  expect(Math.abs(ga.loss - gb.loss)).toBeLessThan(t.loss);
  for (const p of spec.params) expect(relDiff(ga.grads[p.name], gb.grads[p.name]), p.name).toBeLessThan(t.grads);
  for (let s = 0; s < t.steps; s++) {
    const next = randomBatch(6, options.inputSize ?? 8, t.firstBatchSeed + s);
    a.setBatch(next);
    b.setBatch(next);
    const norms = t.gradNorms.every || s === t.steps - 1;
    const [ra, rb] = [await na.step(0.05, norms), await nb.step(0.05, norms)];
    expect(Math.abs(ra.loss - rb.loss), `step ${s}`).toBeLessThan(t.stepLoss);
    expect(ra.errors).toBe(rb.errors);
    if (norms) ra.gradNorms!.forEach((g, i) => expect(Math.abs(g - rb.gradNorms![i])).toBeLessThan(t.gradNorms.tol * rb.gradNorms![i] + 1e-6));
  }
  const [sa, sb] = [await na.getState(), await nb.getState()];
  for (const k of Object.keys(sb.params)) expect(relDiff(sa.params[k], sb.params[k]), k).toBeLessThan(t.params);
  for (const k of Object.keys(sb.momentum)) expect(relDiff(sa.momentum[k], sb.momentum[k]), k).toBeLessThan(t.momentum);
  for (const k of Object.keys(sb.bnStats)) expect(relDiff(sa.bnStats[k], sb.bnStats[k]), k).toBeLessThan(t.stats);
  const test = randomBatch(13, options.inputSize ?? 8, 77); // not a multiple of the batch: the last chunk is partial
  const [ea, eb] = [await na.evaluate(test), await nb.evaluate(test)];
  expect(ea.loss).toBeCloseTo(eb.loss, 4);
  expect(ea.errors).toBe(eb.errors);
  expect(ea.count).toBe(13);
  ea.layerStd.forEach((s, i) => expect(s).toBeCloseTo(eb.layerStd[i], 4));
  expect(ea.gateMeans?.length).toBe(eb.gateMeans?.length);
  ea.gateMeans?.forEach((m, i) => expect(m).toBeCloseTo(eb.gateMeans![i], 4));
}
