// The lab WebGPU engine, in Chromium on WebGPU (SwiftShader where there is no GPU, as in CI): the
// engine contract, agreement with the lab CPU engine (the same maths in WebAssembly), resuming a
// run taken on the CPU engine, and no buffer created per step after warm-up.
import { describe, expect, it } from 'vitest';
import { cifarNet } from '../nets';
import type { BlockType, NetFamily, NetOptions, Shortcut } from '../nets';
import { engineContract } from '../testing/engineContract';
import { TINY, freshState, randomBatch } from '../testing/fixtures';
import { expectAgreement } from '../testing/engineAgreement';
import { GPU_VS_CPU } from '../testing/agreement';
import { LabCpuEngine } from '../cpu/engine';
import { relaxedSimdSupported } from '../cpu/kernels';
import relaxed from '../cpu/build/kernels-relaxed.wasm?url';
import simd from '../cpu/build/kernels-simd.wasm?url';
import { LabGpuEngine } from './engine';
import { KERNEL_NAMES } from './kernels';

engineContract('lab WebGPU engine', () => LabGpuEngine.create());

/** The lab CPU engine in this page: one thread, the direct convolutions (the closest float sums to the GPU's). */
async function cpuEngine(): Promise<LabCpuEngine> {
  const relax = relaxedSimdSupported();
  const module = await WebAssembly.compileStreaming(fetch(relax ? relaxed : simd));
  return LabCpuEngine.create({ module, variant: { relaxed: relax, shared: false }, threads: 1, convKernels: 'direct' });
}

describe('lab WebGPU engine against the lab CPU engine', () => {
  // Bottlenecks over 3 steps: their 4-channel 1×1 layers put more pre-activations near a ReLU's
  // kink, and over 10 steps one crossed (measured: plain, evaluation loss 8e-5 apart; B, a gradient
  // norm 1.7% apart at the 10th step, after every gap before it was summation order).
  const cases: [string, number, NetFamily, Shortcut, BlockType, number][] = [
    ['plain', 1, 'plain', 'A', 'basic', 10],
    ['residual A', 2, 'residual', 'A', 'basic', 10],
    ['residual B', 1, 'residual', 'B', 'basic', 10],
    ['residual C', 2, 'residual', 'C', 'basic', 10],
    ['plain bottleneck', 1, 'plain', 'A', 'bottleneck', 3],
    ['residual A bottleneck', 1, 'residual', 'A', 'bottleneck', 3],
    ['residual B bottleneck', 1, 'residual', 'B', 'bottleneck', 3],
    ['highway', 2, 'highway', 'A', 'basic', 3],
    ['highway bottleneck', 1, 'highway', 'A', 'bottleneck', 3],
  ];
  it.each(cases)(
    '%s (n=%i): the same loss, gradients, SGD steps (10; bottlenecks and highway 3), evaluation and gate means',
    async (_name, n, family, shortcut, block, steps) => {
      const [gpu, cpu] = [await LabGpuEngine.create(), await cpuEngine()];
      // The weights drift apart by about 1e-7 a step (summation order) until a pre-activation near 0
      // lands on the other side of a ReLU in one engine (stage 3 here is 2×2 maps of 6 images, so BN
      // sees 24 values per channel and one flip moves a whole channel's gradient). Measured: with
      // batches 30–39 residual C crossed one at the 10th step (weights 2.5e-4 apart after 2e-6 at
      // the 9th), with batches 40–49 also at the 10th (gradients 0.5 apart after 4e-5). The batches
      // here (seeds 50–59) cross none in any case, so every gap below is summation order.
      await expectAgreement(gpu, cpu, { n, family, shortcut, block, width: 0.5, inputSize: 8 }, { ...GPU_VS_CPU, steps });
      gpu.dispose();
      cpu.dispose();
    },
  );

  it('resumes a run from a checkpoint taken on the CPU engine, and the CPU engine resumes one taken on it', async () => {
    const options: NetOptions = { n: 1, residual: true, shortcut: 'B', ...TINY };
    const spec = cifarNet(options);
    const [gpu, cpu] = [await LabGpuEngine.create(), await cpuEngine()];
    const b = cpu.createNet(spec, freshState(options, 8));
    for (let t = 0; t < 5; t++) {
      cpu.setBatch(randomBatch(8, TINY.inputSize, t));
      await b.step(0.1);
    }
    const saved = await b.getState();
    const a = gpu.createNet(spec, saved);
    const back = await a.getState();
    for (const k of Object.keys(saved.params)) expect(back.params[k]).toEqual(saved.params[k]);
    for (const k of Object.keys(saved.momentum)) expect(back.momentum[k]).toEqual(saved.momentum[k]);
    for (const k of Object.keys(saved.bnStats)) expect(back.bnStats[k]).toEqual(saved.bnStats[k]);
    for (let t = 5; t < 8; t++) {
      const batch = randomBatch(8, TINY.inputSize, t);
      gpu.setBatch(batch);
      cpu.setBatch(batch);
      const [ra, rb] = [await a.step(0.1), await b.step(0.1)];
      expect(Math.abs(ra.loss - rb.loss), `step ${t}`).toBeLessThan(1e-4 * Math.abs(rb.loss));
    }
    const c = cpu.createNet(spec, await a.getState());
    expect((await c.gradients()).loss).toBeCloseTo((await a.gradients()).loss, 4);
    gpu.dispose();
    cpu.dispose();
  });
});

describe('lab WebGPU engine: the GPU queue', () => {
  it('compiles every kernel without a validation error (programs compile only the ones they use)', async () => {
    const gpu = await LabGpuEngine.create();
    gpu.device.pushErrorScope('validation');
    for (const name of KERNEL_NAMES) gpu.pipeline(name);
    const error = await gpu.device.popErrorScope();
    expect(error?.message ?? null).toBeNull();
    expect(KERNEL_NAMES.length).toBeGreaterThan(20);
    gpu.dispose();
  });

  it('creates no buffer after warm-up, and runs each step of several nets as one submit', async () => {
    const gpu = await LabGpuEngine.create();
    const nets = [false, true].map((residual) => {
      const options: NetOptions = { n: 1, residual, shortcut: 'A', ...TINY };
      return gpu.createNet(cifarNet(options), freshState(options, 1));
    });
    const test = randomBatch(12, TINY.inputSize, 50);
    const round = async (t: number) => {
      gpu.setBatch(randomBatch(8, TINY.inputSize, t));
      await gpu.stepMany(nets.map((net) => ({ net, lr: 0.1, withGradNorms: t % 3 === 0 })));
      if (t % 3 === 0) for (const net of nets) await net.evaluate(test);
    };
    for (let t = 0; t < 4; t++) await round(t); // warm-up: programs compiled, workspace grown
    const before = { ...gpu.counters };
    const memory = gpu.memory();
    for (let t = 4; t < 16; t++) await round(t);
    expect(gpu.counters.bytesAllocated - before.bytesAllocated).toBe(0);
    expect(gpu.counters.buffersCreated - before.buffersCreated).toBe(0);
    expect(gpu.memory()).toEqual(memory);
    // 12 rounds: one submit per training step of both nets; per evaluation, one for its chunk, one for
    // its reads, and one for Fig. 7 (a)'s responses with BN's running averages (the 'eval-responses' pass)
    const evaluations = [6, 9, 12, 15].length * nets.length;
    expect(gpu.counters.submits - before.submits).toBe(12 + evaluations * 3);
    gpu.dispose();
  });

  it('gives paired nets the same initial weights wherever the shapes match', async () => {
    const gpu = await LabGpuEngine.create();
    const make = (residual: boolean) => {
      const options: NetOptions = { n: 1, residual, shortcut: 'B', ...TINY };
      return gpu.createNet(cifarNet(options), freshState(options, 12));
    };
    const [plain, resnet] = [await make(false).getState(), await make(true).getState()];
    const shared = Object.keys(plain.params).filter((k) => k in resnet.params);
    expect(shared.length).toBe(Object.keys(plain.params).length);
    for (const k of shared) expect(resnet.params[k]).toEqual(plain.params[k]);
    expect(Object.keys(resnet.params).some((k) => k.includes('.proj'))).toBe(true);
    gpu.dispose();
  });
});
