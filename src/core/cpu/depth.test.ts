// Nets of a thousand layers on the lab CPU engine (issue #28): the forward pass at initialisation stays finite at
// 1,202 layers, plain and residual; the first step's gradients of a 302-layer ResNet agree with tfjs autodiff; and
// what a plain net's gradients do at that depth, which is why the Thousand layers preset's plain net diverges.
// 8×8 inputs keep 1,202 layers within a second or two (the maps are 8, 4 and 2: every layer and shortcut still runs).
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf';
import { cifarNet } from '../nets';
import type { NetOptions } from '../nets';
import { freshState, randomBatch, relDiff } from '../testing/fixtures';
import { TfjsEngine } from '../tfjs/engine';
import { LabCpuEngine } from './engine';
import { nodeKernels } from './testing/nodeKernels';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const deep = (n: number, family: 'plain' | 'residual'): NetOptions => ({ n, family, shortcut: 'A', width: 0.25, inputSize: 8 });

/** Largest |gradient| and the count of gradients that are not finite. */
function gradientRange(grads: Record<string, Float32Array>): { largest: number; nonFinite: number } {
  let largest = 0;
  let nonFinite = 0;
  for (const g of Object.values(grads))
    for (const x of g) {
      if (Number.isFinite(x)) largest = Math.max(largest, Math.abs(x));
      else nonFinite++;
    }
  return { largest, nonFinite };
}

describe('a thousand layers on the lab CPU engine', () => {
  it('1,202 layers at initialisation: the training forward pass is finite for plain and residual nets; the ResNet’s gradients are finite, the plain net’s overflow', async () => {
    const engine = await LabCpuEngine.create({ ...nodeKernels(), threads: 1 });
    engine.setBatch(randomBatch(4, 8, 5));
    const results: Record<string, { loss: number; largest: number; nonFinite: number }> = {};
    for (const family of ['plain', 'residual'] as const) {
      const options = deep(200, family);
      const spec = cifarNet(options);
      expect(spec.layers3x3.length + 1).toBe(1202); // 6n+2: 1,200 3×3 layers, the stem among them, and the FC layer
      const net = engine.createNet(spec, freshState(options, 1));
      const { loss, grads } = await net.gradients();
      results[family] = { loss, ...gradientRange(grads) };
      // the test at iteration 0 counts errors whatever its loss does (ResNet-1202's overflows: BN's running statistics are not yet estimates)
      const test = await net.evaluate(randomBatch(6, 8, 6));
      expect(test.count).toBe(6);
      expect(test.errors).toBeGreaterThanOrEqual(0);
      expect(test.errors).toBeLessThanOrEqual(6);
      net.dispose();
    }
    expect(Number.isFinite(results.plain.loss)).toBe(true);
    expect(Number.isFinite(results.residual.loss)).toBe(true);
    expect(results.residual.nonFinite).toBe(0);
    // the plain net's gradients grow about 1.19× per layer back from the loss: past float32's 3.4e38 long before the stem
    expect(results.plain.nonFinite).toBeGreaterThan(0);
    engine.dispose();
  });

  it('302 layers: the first step agrees with tfjs autodiff as closely as a millionth change of the input moves the net itself; the plain net’s gradient is chaotic', async () => {
    const cpu = await LabCpuEngine.create({ ...nodeKernels(), threads: 1 });
    const ref = new TfjsEngine('cpu');
    const batch = randomBatch(6, 8, 21);
    const nudged = { ...batch, x: batch.x.map((v) => v * (1 + 1e-6)) };
    const found: Record<string, { engines: number; nudge: number; enginesMedian: number; nudgeMedian: number; norms: number[]; stemOverLast: number[] }> = {};
    for (const family of ['residual', 'plain'] as const) {
      const options = deep(50, family);
      const spec = cifarNet(options);
      const state = freshState(options, 2);
      const gradientsOn = async (engine: LabCpuEngine | TfjsEngine, images: typeof batch) => {
        engine.setBatch(images);
        const net = engine.createNet(spec, state);
        const g = await net.gradients();
        net.dispose();
        return g;
      };
      const [lab, tfjs, labNudged] = [await gradientsOn(cpu, batch), await gradientsOn(ref, batch), await gradientsOn(cpu, nudged)];
      // the ResNet's loss agrees to 4 digits; plain-302's forward pass is itself sensitive: within a few hundredths
      expect(Math.abs(lab.loss - tfjs.loss), `${family}-302 loss`).toBeLessThan(family === 'residual' ? 5e-4 : 0.05);
      for (const g of [lab, tfjs]) expect(gradientRange(g.grads).nonFinite, family).toBe(0);
      const median = (a: Record<string, Float32Array>, b: Record<string, Float32Array>) => {
        const d = spec.params.map((p) => relDiff(a[p.name], b[p.name])).sort((x, y) => x - y);
        return d[Math.floor(d.length / 2)];
      };
      const norm = (x: Float32Array) => Math.hypot(...x);
      found[family] = {
        engines: cosine(lab.grads, tfjs.grads),
        nudge: cosine(lab.grads, labNudged.grads),
        enginesMedian: median(lab.grads, tfjs.grads),
        nudgeMedian: median(lab.grads, labNudged.grads),
        norms: [globalNorm(lab.grads), globalNorm(tfjs.grads)],
        stemOverLast: [lab, tfjs].map((g) => norm(g.grads['stem.conv']) / norm(g.grads['s3.b49.conv2'])),
      };
    }
    // ResNet-302: one direction in both engines (cosine 0.9999), one size (within 2%); and parameter by parameter the
    // engines differ no more than three times what a change of one part in a million in the input does to the lab engine
    // (at this depth a few units sit within rounding of a ReLU's kink, so no tighter bound holds for any two summation orders)
    const r = found.residual;
    expect(r.engines).toBeGreaterThan(0.9999);
    expect(Math.abs(r.norms[0] / r.norms[1] - 1)).toBeLessThan(0.02);
    expect(r.enginesMedian).toBeLessThan(3 * r.nudgeMedian);
    // plain-302: both engines see the explosion (the stem's gradient a million times the last layer's), still finite here;
    // and its gradient is chaotic: a millionth change of the input turns it far, where the ResNet's hardly moves
    const p = found.plain;
    for (const ratio of p.stemOverLast) expect(ratio).toBeGreaterThan(1e6);
    expect(p.nudge).toBeLessThan(0.9);
    expect(r.nudge).toBeGreaterThan(0.9999);
    cpu.dispose();
    ref.dispose();
  }, 120_000);
});

/** The cosine of the angle between two gradients, every parameter together. */
function cosine(a: Record<string, Float32Array>, b: Record<string, Float32Array>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (const k of Object.keys(a))
    for (let i = 0; i < a[k].length; i++) {
      ab += a[k][i] * b[k][i];
      aa += a[k][i] * a[k][i];
      bb += b[k][i] * b[k][i];
    }
  return ab / Math.sqrt(aa * bb);
}

/** The norm of a gradient, every parameter together. */
const globalNorm = (g: Record<string, Float32Array>) => Math.sqrt(Object.values(g).reduce((s, x) => s + x.reduce((t, v) => t + v * v, 0), 0));
