// The contract every engine meets, run by each engine's test file: gradients that agree with
// finite differences, reproducible losses, BN modes, no leaks, divergence without exceptions.
import { describe, expect, it } from 'vitest';
import { cifarNet, sizeOf } from '../nets';
import type { NetOptions } from '../nets';
import { Rng } from '../rng';
import type { Engine, EngineNet, NetState } from '../train';
import type { ScheduleConfig } from '../schedule';
import { NetTrainer } from '../train';
import { bnReadout } from '../fig7';
import { GRADIENT_CASES, TINY, cloneTensors, freshState, jitter, randomBatch } from './fixtures';

/**
 * Check every parameter tensor's gradient against a central finite difference along a random
 * direction d within that tensor: (L(w+εd) − L(w−εd)) / 2ε ≈ ⟨∂L/∂w, d⟩.
 */
async function directionalGradientCheck(net: EngineNet, state: NetState, eps = 1e-3): Promise<{ name: string; analytic: number; numeric: number }[]> {
  net.setState(state);
  const { grads } = await net.gradients();
  const rows: { name: string; analytic: number; numeric: number }[] = [];
  for (const p of net.spec.params) {
    const rng = new Rng(7, `dir:${p.name}`);
    const d = new Float32Array(sizeOf(p.shape));
    let norm = 0;
    for (let i = 0; i < d.length; i++) {
      d[i] = rng.normal();
      norm += d[i] * d[i];
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < d.length; i++) d[i] /= norm;
    let analytic = 0;
    for (let i = 0; i < d.length; i++) analytic += grads[p.name][i] * d[i];
    const lossAt = async (sign: number) => {
      const params = cloneTensors(state.params);
      const w = params[p.name];
      for (let i = 0; i < w.length; i++) w[i] += sign * eps * d[i];
      net.setState({ ...state, params });
      return net.loss();
    };
    const numeric = ((await lossAt(1)) - (await lossAt(-1))) / (2 * eps);
    rows.push({ name: p.name, analytic, numeric });
  }
  net.setState(state);
  return rows;
}

function expectGradientsMatch(rows: { name: string; analytic: number; numeric: number }[]): void {
  const scale = Math.max(...rows.map((r) => Math.abs(r.analytic)));
  expect(scale).toBeGreaterThan(1e-3); // the check is not vacuous
  for (const r of rows) {
    // Float32 finite differences across ReLU kinks: at ε = 1e-3 they agree with the analytic
    // gradient to a few percent (measured: the gap shrinks as ε does, to the float32 noise floor).
    // A real bug (a missing BN term, a flipped kernel) is off by tens of percent or in sign.
    const tol = 0.05 * Math.abs(r.analytic) + 0.015 * scale;
    expect(Math.abs(r.analytic - r.numeric), `${r.name}: analytic ${r.analytic} vs numeric ${r.numeric}`).toBeLessThanOrEqual(tol);
  }
}

/** A freshly initialised net on the engine, with its trainer (epochs of 10 iterations). */
function trainerFor(engine: Engine, options: NetOptions, schedule: Omit<ScheduleConfig, 'iterationsPerEpoch'>, seed = 1): NetTrainer {
  return new NetTrainer(engine.createNet(cifarNet(options), freshState(options, seed)), { ...schedule, iterationsPerEpoch: 10 });
}

/** The engine-independent contract, for engines made by `makeEngine`: every engine checks every gradient case by finite differences. */
export function engineContract(label: string, makeEngine: () => Promise<Engine> | Engine): void {
  describe(`${label}: engine contract`, () => {
    it.each(GRADIENT_CASES)('gradients of the %s net agree with finite differences', async (_name, net) => {
      const engine = await makeEngine();
      const options = { ...TINY, ...net };
      engine.setBatch(randomBatch(8, TINY.inputSize, 3));
      const state = jitter(freshState(options, 5), 11);
      const engineNet = engine.createNet(cifarNet(options), state);
      expectGradientsMatch(await directionalGradientCheck(engineNet, state));
      engine.dispose();
    });

    it('computes the training loss alone, as the gradient computation does, changing nothing', async () => {
      const engine = await makeEngine();
      const options = { n: 1, residual: true, shortcut: 'B' as const, ...TINY };
      engine.setBatch(randomBatch(8, TINY.inputSize, 9));
      const state = jitter(freshState(options, 3), 4);
      const net = engine.createNet(cifarNet(options), state);
      const loss = await net.loss();
      const { loss: withGradient } = await net.gradients();
      expect(Math.abs(loss - withGradient)).toBeLessThan(1e-5 * Math.abs(withGradient));
      // nothing learned, the running averages untouched, and the same loss again
      const after = await net.getState();
      for (const k of Object.keys(state.bnStats)) expect(after.bnStats[k], k).toEqual(state.bnStats[k]);
      for (const k of Object.keys(state.params)) expect(after.params[k], k).toEqual(state.params[k]);
      expect(await net.loss()).toBe(loss);
      engine.dispose();
    });

    it('reports each highway gate’s mean value with the layer responses: σ(−2) ≈ 0.12 at initialisation', async () => {
      const engine = await makeEngine();
      const options = { n: 1, family: 'highway' as const, shortcut: 'A' as const, ...TINY };
      const batch = randomBatch(8, TINY.inputSize, 4);
      engine.setBatch(batch);
      const net = engine.createNet(cifarNet(options), freshState(options, 1));
      const { gateMeans } = await net.evaluate(batch);
      expect(gateMeans?.length).toBe(3);
      // spread around σ(−2) = 0.119 by the He-initialised gate weights, always inside (0, 0.5)
      for (const m of gateMeans!) expect(m).toBeGreaterThan(0.03);
      for (const m of gateMeans!) expect(m).toBeLessThan(0.35);
      const residual = engine.createNet(cifarNet({ ...options, family: 'residual' }), freshState({ ...options, family: 'residual' }, 1));
      expect((await residual.evaluate(batch)).gateMeans).toBeUndefined();
      engine.dispose();
    });

    it('gives the same first 5 losses for the same seed, and different ones for another seed', async () => {
      const run = async (seed: number) => {
        const engine = await makeEngine();
        const options = { n: 1, residual: true, shortcut: 'A' as const, ...TINY };
        const trainer = trainerFor(engine, options, { lr: 0.1, iterations: 100, warmup: 'off' }, seed);
        const losses: number[] = [];
        for (let t = 0; t < 5; t++) {
          engine.setBatch(randomBatch(8, TINY.inputSize, 100 + t));
          losses.push((await trainer.step())!.loss);
        }
        engine.dispose();
        return losses;
      };
      const a = await run(1);
      expect(await run(1)).toEqual(a);
      expect(await run(2)).not.toEqual(a);
      expect(new Set(a).size).toBe(5); // the net is actually training
    });

    it('uses batch statistics in training and running averages in evaluation, and updates the averages', async () => {
      const engine = await makeEngine();
      const options = { n: 1, residual: true, shortcut: 'A' as const, ...TINY };
      const batch = randomBatch(8, TINY.inputSize, 9);
      // Shift the images so batch statistics are far from the initial running mean 0 / variance 1.
      const shifted = { ...batch, x: batch.x.map((v) => 3 * v + 2) };
      engine.setBatch(shifted);
      const net = engine.createNet(cifarNet(options), freshState(options, 1));
      const before = await net.getState();
      const trainLoss = (await net.gradients()).loss;
      const evalLoss = (await net.evaluate(shifted)).loss;
      expect(Math.abs(trainLoss - evalLoss)).toBeGreaterThan(1e-3);
      await net.step(0); // lr 0: weights stay, running averages move
      const after = await net.getState();
      const m0 = before.bnStats['stem.conv.bn.mean'];
      const m1 = after.bnStats['stem.conv.bn.mean'];
      expect(Array.from(m0)).toEqual(new Array(m0.length).fill(0));
      expect(m1.some((v) => Math.abs(v) > 1e-3)).toBe(true);
      expect(after.params['stem.conv']).toEqual(before.params['stem.conv']);
      engine.dispose();
    });

    it('measures layer responses (Fig. 7) with the batch’s own BN statistics, leaving the running averages alone', async () => {
      const engine = await makeEngine();
      const options = { n: 1, residual: true, shortcut: 'B' as const, ...TINY };
      const batch = randomBatch(8, TINY.inputSize, 4);
      // far from the fresh running averages (mean 0, variance 1): eval-mode BN would give stds of about 3
      const shifted = { ...batch, x: batch.x.map((v) => 3 * v + 2) };
      engine.setBatch(shifted);
      const net = engine.createNet(cifarNet(options), freshState(options, 1));
      const before = await net.getState();
      const { layerStd, responseImages } = await net.evaluate(shifted);
      // γ = 1 and β = 0: a batch-normalised response has std 1 in every layer
      expect(layerStd.length).toBe(cifarNet(options).layers3x3.length);
      for (const s of layerStd) expect(s).toBeCloseTo(1, 2);
      expect((await net.getState()).bnStats).toEqual(before.bnStats);
      // on how many images: all 8 here; the first 128 of a larger batch (the captions name the count)
      expect(responseImages).toBe(8);
      expect((await net.evaluate(randomBatch(130, TINY.inputSize, 5))).responseImages).toBe(128);
      engine.dispose();
    });

    it('measures Fig. 7 both ways: (b) the BN readout √(mean γ² + var β), and (a) the responses with the running averages', async () => {
      const engine = await makeEngine();
      const options = { n: 1, residual: true, shortcut: 'B' as const, ...TINY };
      const spec = cifarNet(options);
      const batch = randomBatch(8, TINY.inputSize, 4);
      const shifted = { ...batch, x: batch.x.map((v) => 3 * v + 2) };
      engine.setBatch(shifted);
      const state = jitter(freshState(options, 1), 5); // γ and β away from 1 and 0
      const net = engine.createNet(spec, state);
      const { layerStd, layerStdEval } = await net.evaluate(shifted);
      const readout = bnReadout(spec, state.params);
      // (b) is the closed form: the images enter only through ε (v/(v + ε) of each channel's variance)
      layerStd.forEach((s, i) => expect(Math.abs(s - readout[i]), `layer ${i}`).toBeLessThan(2e-3 * readout[i] + 1e-4));
      // (a) is a measurement: with fresh running averages (mean 0, variance 1) the shifted images come out far
      // from the readout in the stem (its input has std 3 and mean 2), and every value is finite
      expect(layerStdEval.length).toBe(spec.layers3x3.length);
      for (const s of layerStdEval) expect(Number.isFinite(s) && s > 0).toBe(true);
      expect(Math.abs(layerStdEval[0] - layerStd[0])).toBeGreaterThan(0.5);
      engine.dispose();
    });

    it('measures how close each block stays to the identity, ‖F(x)‖/‖x‖: none for a plain net, 0 with a branch switched off, 2× with its last BN doubled', async () => {
      const engine = await makeEngine();
      const batch = randomBatch(8, TINY.inputSize, 6);
      engine.setBatch(batch);
      const ratios = async (options: NetOptions, edit: (state: NetState, spec: ReturnType<typeof cifarNet>) => void = () => {}) => {
        const spec = cifarNet(options);
        const state = jitter(freshState(options, 2), 7);
        edit(state, spec);
        return (await engine.createNet(spec, state).evaluate(batch)).residualRatios;
      };
      const resnet: NetOptions = { n: 1, residual: true, shortcut: 'B', ...TINY };
      const base = await ratios(resnet);
      expect(base?.length).toBe(3);
      for (const r of base!) expect(Number.isFinite(r) && r > 0).toBe(true);
      const lastBn = (spec: ReturnType<typeof cifarNet>) => spec.blocks.map((b) => `${b.branch[b.branch.length - 1].name}.bn`);
      const scaled = (k: number) => (state: NetState, spec: ReturnType<typeof cifarNet>) => {
        for (const bn of lastBn(spec)) for (const p of ['gamma', 'beta']) state.params[`${bn}.${p}`] = state.params[`${bn}.${p}`].map((v) => k * v);
      };
      // F = BN(z) of the branch's last conv: zero with γ = β = 0, doubled with both doubled (x, the block's input, is
      // unchanged in the first block only: the later blocks' inputs change with F, so only the first is exactly 2×)
      expect(await ratios(resnet, scaled(0))).toEqual([0, 0, 0]);
      const doubled = await ratios(resnet, scaled(2));
      expect(Math.abs(doubled![0] / base![0] - 2)).toBeLessThan(1e-4);
      expect(await ratios({ ...resnet, family: 'plain' })).toBeUndefined();
      expect((await ratios({ n: 1, family: 'highway', shortcut: 'A', ...TINY }))?.length).toBe(3);
      engine.dispose();
    });

    it('holds the same number of live tensors after step 5 and after step 50', async () => {
      const engine = await makeEngine();
      const options = { n: 1, residual: true, shortcut: 'B' as const, ...TINY };
      const trainer = trainerFor(engine, options, { lr: 0.1, iterations: 50, warmup: 'paper' });
      let at5 = -1;
      for (let t = 1; t <= 50; t++) {
        engine.setBatch(randomBatch(8, TINY.inputSize, t));
        await trainer.step(t % 10 === 0);
        if (t % 10 === 0) await trainer.net.evaluate(randomBatch(16, TINY.inputSize, 99));
        if (t === 5) at5 = engine.memory().tensors;
      }
      expect(at5).toBeGreaterThan(0);
      expect(engine.memory().tensors).toBe(at5);
      engine.dispose();
    });

    it('marks a net diverged at an absurd learning rate instead of throwing', async () => {
      const engine = await makeEngine();
      const options = { n: 1, residual: false, shortcut: 'A' as const, ...TINY };
      const trainer = trainerFor(engine, options, { lr: 1e4, iterations: 100, warmup: 'off' });
      for (let t = 0; t < 30 && trainer.status === 'training'; t++) {
        engine.setBatch(randomBatch(8, TINY.inputSize, t));
        await trainer.step();
      }
      expect(trainer.status).toBe('diverged');
      expect(trainer.divergedAt).not.toBeNull();
      expect(await trainer.step()).toBeNull();
      engine.dispose();
    });
  });
}
