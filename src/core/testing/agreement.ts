// How far two engines training the same net apart: every quantity the engine contract compares
// (loss, gradients, SGD steps, running statistics, evaluation, gate means), each as a gap beside its
// tolerance. No test runner: Vitest asserts the gaps (./engineAgreement.ts), the GPU kit prints them.
import { cifarNet } from '../nets';
import type { NetOptions } from '../nets';
import type { Engine } from '../train';
import { freshState, jitter, randomBatch, relDiff } from './fixtures';

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

/** One comparison: it passes when value < tol (a count that must be equal has tol 0.5). */
interface Gap {
  what: string;
  value: number;
  tol: number;
}

/** Evaluation losses and response std compare to 4 decimals (Vitest's toBeCloseTo(x, 4)). */
const CLOSE_4 = 5e-5;
const EQUAL = 0.5;

/** Train the same net on engines `a` and `b` (the reference) side by side and measure every gap. */
export async function measureAgreement(a: Engine, b: Engine, options: NetOptions, t: Agreement): Promise<Gap[]> {
  const gaps: Gap[] = [];
  const gap = (what: string, value: number, tol: number) => gaps.push({ what, value, tol });
  const spec = cifarNet(options);
  const state = jitter(freshState(options, 3), 4);
  const size = options.inputSize ?? 8;
  const batch = randomBatch(6, size, 21);
  a.setBatch(batch);
  b.setBatch(batch);
  const na = a.createNet(spec, state);
  const nb = b.createNet(spec, state);
  const [ga, gb] = [await na.gradients(), await nb.gradients()];
  gap('loss', Math.abs(ga.loss - gb.loss), t.loss);
  for (const p of spec.params) gap(`gradient ${p.name}`, relDiff(ga.grads[p.name], gb.grads[p.name]), t.grads);
  for (let s = 0; s < t.steps; s++) {
    const next = randomBatch(6, size, t.firstBatchSeed + s);
    a.setBatch(next);
    b.setBatch(next);
    const norms = t.gradNorms.every || s === t.steps - 1;
    const [ra, rb] = [await na.step(0.05, norms), await nb.step(0.05, norms)];
    gap(`step ${s} loss`, Math.abs(ra.loss - rb.loss), t.stepLoss);
    gap(`step ${s} errors`, Math.abs(ra.errors - rb.errors), EQUAL);
    if (norms) {
      ra.gradNorms!.forEach((g, i) => {
        const ref = rb.gradNorms![i];
        gap(`step ${s} gradient norm ${i}`, Math.abs(g - ref), t.gradNorms.tol * ref + 1e-6);
      });
    }
  }
  const [sa, sb] = [await na.getState(), await nb.getState()];
  for (const k of Object.keys(sb.params)) gap(`parameter ${k}`, relDiff(sa.params[k], sb.params[k]), t.params);
  for (const k of Object.keys(sb.momentum)) gap(`momentum ${k}`, relDiff(sa.momentum[k], sb.momentum[k]), t.momentum);
  for (const k of Object.keys(sb.bnStats)) gap(`running statistic ${k}`, relDiff(sa.bnStats[k], sb.bnStats[k]), t.stats);
  const test = randomBatch(13, size, 77); // not a multiple of the batch: the last chunk is partial
  const [ea, eb] = [await na.evaluate(test), await nb.evaluate(test)];
  gap('evaluation loss', Math.abs(ea.loss - eb.loss), CLOSE_4);
  gap('evaluation errors', Math.abs(ea.errors - eb.errors), EQUAL);
  gap('evaluation count', Math.abs(ea.count - 13), EQUAL);
  ea.layerStd.forEach((s, i) => gap(`response std ${i}`, Math.abs(s - eb.layerStd[i]), CLOSE_4));
  // BN in evaluation mode can blow a response up (running averages that lag): relative to its size
  ea.layerStdEval.forEach((s, i) =>
    gap(`response std, BN running averages ${i}`, Math.abs(s - eb.layerStdEval[i]), CLOSE_4 * Math.max(1, Math.abs(eb.layerStdEval[i]))),
  );
  gap('gate count', Math.abs((ea.gateMeans?.length ?? -1) - (eb.gateMeans?.length ?? -1)), EQUAL);
  ea.gateMeans?.forEach((m, i) => gap(`gate mean ${i}`, Math.abs(m - eb.gateMeans![i]), CLOSE_4));
  gap('‖F(x)‖/‖x‖ count', Math.abs((ea.residualRatios?.length ?? -1) - (eb.residualRatios?.length ?? -1)), EQUAL);
  ea.residualRatios?.forEach((r, i) => gap(`‖F(x)‖/‖x‖ ${i}`, Math.abs(r - eb.residualRatios![i]), CLOSE_4 * Math.max(1, eb.residualRatios![i])));
  return gaps;
}

/** The gap furthest over (or nearest to) its tolerance, as value ÷ tolerance: < 1 passes. */
export function worstGap(gaps: readonly Gap[]): Gap & { ratio: number } {
  let worst: Gap & { ratio: number } = { what: 'none', value: 0, tol: 1, ratio: 0 };
  for (const g of gaps) {
    const ratio = Number.isNaN(g.value) ? Infinity : g.value / g.tol;
    if (ratio >= worst.ratio) worst = { ...g, ratio };
  }
  return worst;
}

/**
 * The lab WebGPU engine against the lab CPU engine (direct convolutions, one thread): the tolerances
 * of src/core/gpu/engine.gpu.test.ts, which the GPU kit applies on a real GPU too. Float sums in
 * another order, nothing more: see that test for the measurements behind each.
 */
export const GPU_VS_CPU: Omit<Agreement, 'steps'> = {
  firstBatchSeed: 50,
  loss: 3e-5,
  stepLoss: 2e-4,
  grads: 1e-4,
  params: 1e-4,
  momentum: 1e-3,
  stats: 1e-4,
  gradNorms: { every: false, tol: 1e-3 },
};
