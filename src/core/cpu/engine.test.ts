import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf';
import { cifarNet, multiplyAdds } from '../nets';
import type { BlockType, NetFamily, NetOptions, Shortcut } from '../nets';
import { engineContract } from '../testing/engineContract';
import { TINY, freshState, jitter, randomBatch, relDiff } from '../testing/fixtures';
import { expectAgreement } from '../testing/engineAgreement';
import { TfjsEngine } from '../tfjs/engine';
import { LabCpuEngine, chooseSchedule, planLanes } from './engine';
import { nodeKernels } from './testing/nodeKernels';

const makeEngine = () => LabCpuEngine.create({ ...nodeKernels(), threads: 1 });

beforeAll(async () => {
  await tf.setBackend('cpu');
});

engineContract('lab cpu', makeEngine);

describe('lab cpu engine against the tfjs engine', () => {
  const cases: [string, number, NetFamily, Shortcut, BlockType][] = [
    ['plain', 1, 'plain', 'A', 'basic'],
    ['residual A', 2, 'residual', 'A', 'basic'],
    ['residual B', 1, 'residual', 'B', 'basic'],
    ['residual C', 2, 'residual', 'C', 'basic'],
    ['residual A bottleneck', 1, 'residual', 'A', 'bottleneck'],
    ['residual B bottleneck', 1, 'residual', 'B', 'bottleneck'],
    ['highway', 2, 'highway', 'A', 'basic'],
    ['highway bottleneck', 1, 'highway', 'A', 'bottleneck'],
  ];
  it.each(cases)('%s (n=%i): the same loss, gradients, steps and evaluation', async (_name, n, family, shortcut, block) => {
    const cpu = await makeEngine();
    const ref = new TfjsEngine('cpu');
    await expectAgreement(
      cpu,
      ref,
      { n, family, shortcut, block, width: 0.5, inputSize: 8 },
      {
        steps: 3,
        firstBatchSeed: 30,
        loss: 5e-6,
        stepLoss: 5e-5,
        grads: 2e-4,
        params: 1e-4,
        momentum: 1e-3,
        stats: 1e-4,
        gradNorms: { every: true, tol: 5e-4 },
      },
    );
    cpu.dispose();
    ref.dispose();
  });

  it('trains nets of several depths on one engine, sharing one workspace', async () => {
    const cpu = await makeEngine();
    cpu.setBatch(randomBatch(4, 8, 1));
    const nets = [1, 2, 3].map((n) =>
      cpu.createNet(cifarNet({ n, residual: true, shortcut: 'A', ...TINY }), freshState({ n, residual: true, shortcut: 'A', ...TINY })),
    );
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

describe('lab cpu engine: Winograd against direct convolutions', () => {
  // 16×16 inputs: maps of 16, 8 and 4, so every stride-1 3×3 layer runs F(4×4), and the stride-2 layers the direct input
  // gradient. The fixtures must not put a ReLU input within rounding of zero: such a unit's mask flips under any change of
  // summation order (with states seeded 5 and batch 31, shortcut C has one at 1.5e-7, and the gradients below it then
  // differ by 4% between these engines, as they would between any two orders of summation).
  it.each(['A', 'B', 'C'] as const)('shortcut %s: the same loss, gradients and SGD step as the direct kernels, within float rounding', async (shortcut) => {
    const options: NetOptions = { n: 2, residual: true, shortcut, width: 0.5, inputSize: 16 };
    const spec = cifarNet(options);
    const state = jitter(freshState(options, 10), 11);
    const batch = randomBatch(6, 16, 36);
    const engines = [await makeEngine(), await LabCpuEngine.create({ ...nodeKernels(), threads: 1, convKernels: 'direct' })];
    expect(engines.map((e) => e.convKernels)).toEqual(['auto', 'direct']);
    for (const e of engines) e.setBatch(batch);
    const [a, b] = engines.map((e) => e.createNet(spec, state));
    const [ga, gb] = [await a.gradients(), await b.gradients()];
    expect(ga.loss).toBeCloseTo(gb.loss, 5);
    for (const p of spec.params) expect(relDiff(ga.grads[p.name], gb.grads[p.name]), p.name).toBeLessThan(1e-4);
    // one SGD step each, then the weights, and the gradients on another batch
    const [ra, rb] = [await a.step(0.05), await b.step(0.05)];
    expect(ra.loss).toBeCloseTo(rb.loss, 5);
    const [sa, sb] = [await a.getState(), await b.getState()];
    for (const k of Object.keys(sb.params)) expect(relDiff(sa.params[k], sb.params[k]), k).toBeLessThan(1e-4);
    for (const e of engines) e.setBatch(randomBatch(6, 16, 37));
    const [ha, hb] = [await a.gradients(), await b.gradients()];
    expect(ha.loss).toBeCloseTo(hb.loss, 5);
    for (const p of spec.params) expect(relDiff(ha.grads[p.name], hb.grads[p.name]), p.name).toBeLessThan(1e-4);
    for (const e of engines) e.dispose();
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

describe('lab cpu engine, nets on threads (the "nets" schedule)', () => {
  it('trains a net created after every other was disposed on the batch set in between, not on the old one', async () => {
    const options: NetOptions = { n: 1, residual: true, shortcut: 'A', ...TINY };
    const spec = cifarNet(options);
    const used = await makeEngine();
    used.setBatch(randomBatch(4, 8, 1));
    const first = used.createNet(spec, freshState(options));
    await first.gradients();
    first.dispose();
    used.setBatch(randomBatch(4, 8, 2));
    const fresh = await makeEngine();
    fresh.setBatch(randomBatch(4, 8, 2));
    const [a, b] = [await used.createNet(spec, freshState(options)).gradients(), await fresh.createNet(spec, freshState(options)).gradients()];
    expect(a.loss).toBe(b.loss);
    used.dispose();
    fresh.dispose();
  });

  it('plans lanes longest-first and reports the imbalance', () => {
    expect(planLanes([56, 56, 20, 20, 8, 8], 2)).toEqual({ lane: [0, 1, 0, 1, 0, 1], imbalance: 1 });
    const uneven = planLanes([100, 10, 10], 2);
    expect(uneven.lane).toEqual([0, 1, 1]);
    expect(uneven.imbalance).toBeCloseTo(100 / 60, 10);
  });

  it('chooses "nets" for several balanced nets and "ops" for one big net or too few nets', () => {
    const spec = (n: number, residual: boolean) => cifarNet({ n, residual, shortcut: 'A', width: 0.25 });
    const classroom = [1, 3, 9].flatMap((n) => [spec(n, false), spec(n, true)]);
    expect(chooseSchedule(classroom, 2)).toBe('nets');
    expect(chooseSchedule([spec(18, true)], 2)).toBe('ops');
    expect(chooseSchedule([spec(9, true), spec(1, true)], 2)).toBe('ops'); // 56 vs 8 layers: one lane would idle
    expect(chooseSchedule(classroom, 1)).toBe('ops');
    // a thousand layers: 'ops' though the four nets balance on two lanes (each 1202 beside a 110)
    const thousand = [18, 200].flatMap((n) => [spec(n, false), spec(n, true)]);
    expect(planLanes(thousand.map(multiplyAdds), 2).imbalance).toBeLessThan(1.2);
    expect(chooseSchedule(thousand, 2)).toBe('ops');
  });

  it('gives bit-identical losses and weights with 1, 2 and 3 threads, and matches the one-thread "ops" engine', async () => {
    const { spawnNodeHelper } = await import('./testing/nodeKernels');
    const nets: NetOptions[] = [
      { n: 1, residual: false, shortcut: 'A', width: 0.5, inputSize: 8 },
      { n: 2, residual: true, shortcut: 'A', width: 0.5, inputSize: 8 },
      { n: 1, residual: true, shortcut: 'B', width: 0.5, inputSize: 8 },
      { n: 2, residual: true, shortcut: 'C', width: 0.5, inputSize: 8 },
      { n: 3, residual: false, shortcut: 'A', width: 0.5, inputSize: 8 },
    ];
    const trace = async (engine: LabCpuEngine) => {
      const created = nets.map((o, i) => engine.createNet(cifarNet(o), freshState(o, 40 + i)));
      const losses: number[][] = [];
      for (let t = 0; t < 4; t++) {
        engine.setBatch(randomBatch(10, 8, 60 + t));
        const results = await engine.stepMany(created.map((net, i) => ({ net, lr: 0.05 + 0.01 * i, withGradNorms: t === 3 })));
        losses.push(results.flatMap((r) => [r.loss, r.errors, ...(r.gradNorms ?? [])]));
      }
      const evals = await Promise.all(created.map((n) => n.evaluate(randomBatch(13, 8, 99))));
      const states = await Promise.all(created.map((n) => n.getState()));
      engine.dispose();
      return { losses, evals, states };
    };
    const reference = await trace(await LabCpuEngine.create({ ...nodeKernels(), threads: 1 }));
    for (const threads of [2, 3]) {
      const engine = await LabCpuEngine.create({ ...nodeKernels(true), threads, spawnHelper: spawnNodeHelper, schedule: 'nets' });
      const got = await trace(engine);
      expect(got.losses, `${threads} threads`).toEqual(reference.losses);
      expect(got.evals, `${threads} threads`).toEqual(reference.evals);
      got.states.forEach((s, i) => {
        for (const k of Object.keys(s.params)) expect(s.params[k], `${threads} threads, net ${i}, ${k}`).toEqual(reference.states[i].params[k]);
        for (const k of Object.keys(s.bnStats)) expect(s.bnStats[k]).toEqual(reference.states[i].bnStats[k]);
      });
    }
  });

  it('moves a net added later to a lane and keeps the others exact', async () => {
    const { spawnNodeHelper } = await import('./testing/nodeKernels');
    const o: NetOptions = { n: 1, residual: true, shortcut: 'A', ...TINY };
    const run = async (engine: LabCpuEngine) => {
      const a = engine.createNet(cifarNet(o), freshState(o, 1));
      engine.setBatch(randomBatch(4, 8, 5));
      const first = (await engine.stepMany([{ net: a, lr: 0.1 }]))[0].loss;
      const b = engine.createNet(cifarNet({ ...o, n: 2 }), freshState({ ...o, n: 2 }, 2));
      engine.setBatch(randomBatch(4, 8, 6));
      const next = (
        await engine.stepMany([
          { net: a, lr: 0.1 },
          { net: b, lr: 0.1 },
        ])
      ).map((r) => r.loss);
      engine.dispose();
      return [first, ...next];
    };
    const one = await run(await LabCpuEngine.create({ ...nodeKernels(), threads: 1 }));
    const two = await run(await LabCpuEngine.create({ ...nodeKernels(true), threads: 2, spawnHelper: spawnNodeHelper, schedule: 'nets' }));
    expect(two).toEqual(one);
  });
});
