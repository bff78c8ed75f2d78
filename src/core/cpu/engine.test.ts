import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf';
import { cifarNet } from '../nets';
import type { NetOptions, Shortcut } from '../nets';
import { randomBatch } from '../testing/fixtures';
import { TINY, engineContract, freshState, jitter } from '../testing/engineContract';
import { TfjsEngine } from '../tfjs/engine';
import { LabCpuEngine } from './engine';
import { nodeKernels } from './testing/nodeKernels';

const makeEngine = () => LabCpuEngine.create({ ...nodeKernels(), threads: 1 });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

engineContract('lab cpu', makeEngine);

/** Largest |a − b| over all entries, relative to the largest |b|. */
function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return d / (s || 1);
}

describe('lab cpu engine against the tfjs engine', () => {
  const cases: [string, number, boolean, Shortcut][] = [
    ['plain', 1, false, 'A'],
    ['residual A', 2, true, 'A'],
    ['residual B', 1, true, 'B'],
    ['residual C', 2, true, 'C'],
  ];
  it.each(cases)('%s (n=%i): the same loss, gradients, steps and evaluation', async (_name, n, residual, shortcut) => {
    const options: NetOptions = { n, residual, shortcut, width: 0.5, inputSize: 8 };
    const spec = cifarNet(options);
    const state = jitter(freshState(options, 3), 4);
    const batch = randomBatch(6, 8, 21);
    const cpu = await makeEngine();
    const ref = new TfjsEngine('cpu');
    cpu.setBatch(batch);
    ref.setBatch(batch);
    const a = cpu.createNet(spec, state);
    const b = ref.createNet(spec, state);
    const ga = await a.gradients();
    const gb = await b.gradients();
    expect(ga.loss).toBeCloseTo(gb.loss, 5);
    for (const p of spec.params) expect(relDiff(ga.grads[p.name], gb.grads[p.name]), p.name).toBeLessThan(2e-4);
    for (let t = 0; t < 3; t++) {
      const next = randomBatch(6, 8, 30 + t);
      cpu.setBatch(next);
      ref.setBatch(next);
      const [ra, rb] = [await a.step(0.05, true), await b.step(0.05, true)];
      expect(ra.loss).toBeCloseTo(rb.loss, 4);
      expect(ra.errors).toBe(rb.errors);
      ra.gradNorms!.forEach((g, i) => expect(g).toBeCloseTo(rb.gradNorms![i], 3));
    }
    const [sa, sb] = [await a.getState(), await b.getState()];
    for (const k of Object.keys(sb.params)) expect(relDiff(sa.params[k], sb.params[k]), k).toBeLessThan(1e-4);
    for (const k of Object.keys(sb.momentum)) expect(relDiff(sa.momentum[k], sb.momentum[k]), k).toBeLessThan(1e-3);
    for (const k of Object.keys(sb.bnStats)) expect(relDiff(sa.bnStats[k], sb.bnStats[k]), k).toBeLessThan(1e-4);
    const test = randomBatch(13, 8, 77); // not a multiple of the batch: the last chunk is partial
    const [ea, eb] = [await a.evaluate(test), await b.evaluate(test)];
    expect(ea.loss).toBeCloseTo(eb.loss, 4);
    expect(ea.errors).toBe(eb.errors);
    expect(ea.count).toBe(13);
    ea.layerStd.forEach((s, i) => expect(s).toBeCloseTo(eb.layerStd[i], 4));
    cpu.dispose();
    ref.dispose();
  });

  it('trains nets of several depths on one engine, sharing one workspace', async () => {
    const cpu = await makeEngine();
    cpu.setBatch(randomBatch(4, 8, 1));
    const nets = [1, 2, 3].map((n) => cpu.createNet(cifarNet({ n, residual: true, shortcut: 'A', ...TINY }), freshState({ n, residual: true, shortcut: 'A', ...TINY })));
    const losses = [];
    for (const net of nets) losses.push((await net.step(0.1)).loss);
    expect(losses.every(Number.isFinite)).toBe(true);
    const buffers = cpu.memory().tensors;
    nets[2].dispose();
    expect(cpu.memory().tensors).toBe(buffers - 1);
    cpu.dispose();
    expect(cpu.memory().tensors).toBe(0);
  });
});

describe('lab cpu engine with two threads', () => {
  it('gives the same losses and weights as one thread (up to summation order)', async () => {
    const { spawnNodeHelper } = await import('./testing/nodeKernels');
    const options: NetOptions = { n: 2, residual: true, shortcut: 'B', width: 0.5, inputSize: 8 };
    const spec = cifarNet(options);
    const state = freshState(options, 8);
    const one = await makeEngine();
    const two = await LabCpuEngine.create({ ...nodeKernels(true), threads: 2, spawnHelper: spawnNodeHelper });
    const [a, b] = [one.createNet(spec, state), two.createNet(spec, state)];
    for (let t = 0; t < 4; t++) {
      const batch = randomBatch(10, 8, 50 + t);
      one.setBatch(batch);
      two.setBatch(batch);
      const [ra, rb] = [await a.step(0.1), await b.step(0.1)];
      expect(rb.loss).toBeCloseTo(ra.loss, 5);
      expect(rb.errors).toBe(ra.errors);
    }
    const [sa, sb] = [await a.getState(), await b.getState()];
    for (const k of Object.keys(sa.params)) expect(relDiff(sb.params[k], sa.params[k]), k).toBeLessThan(1e-4);
    one.dispose();
    two.dispose();
  });
});

describe('lab cpu engine workspace', () => {
  it('keeps the current batch when an evaluation enlarges the workspace between two nets’ steps', async () => {
    const options: NetOptions = { n: 1, residual: true, shortcut: 'A', ...TINY };
    const spec = cifarNet(options);
    const batch = randomBatch(4, 8, 12);
    const run = async (evaluateBetween: boolean) => {
      const engine = await makeEngine();
      const [a, b] = [engine.createNet(spec, freshState(options, 1)), engine.createNet(spec, freshState(options, 2))];
      engine.setBatch(batch);
      await a.step(0.1);
      if (evaluateBetween) await a.evaluate(randomBatch(50, 8, 13));
      const loss = (await b.step(0.1)).loss;
      engine.dispose();
      return loss;
    };
    expect(await run(true)).toBe(await run(false));
  });
});
