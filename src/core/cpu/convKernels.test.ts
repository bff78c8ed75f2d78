// Winograd F(2×2, 3×3) kernels against the direct kernels, on random data: forward, input gradient
// and weight gradient, one thread and several (the threads' shares of the work, run one after the
// other), across the channel counts and map sizes of the lab's nets. Issue #13 asks for a relative
// error within 1e-4.
import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { relDiff } from '../testing/fixtures';
import { Heap } from './heap';
import { KernelInstance } from './kernels';
import { kernelCall } from './kernelArgs';
import type { Call } from './kernelArgs';
import { winoScratchBytes } from './program';
import { nodeKernels } from './testing/nodeKernels';

async function setup() {
  const { module } = nodeKernels();
  const memory = new WebAssembly.Memory({ initial: 16, maximum: 4096 });
  const kernels = await KernelInstance.create(module, memory);
  const heap = new Heap(memory);
  const rng = new Rng(7, 'winograd');
  const put = (xs: Float32Array) => {
    const at = heap.alloc(4 * xs.length);
    new Float32Array(memory.buffer, at, xs.length).set(xs);
    return at;
  };
  const random = (n: number) => put(Float32Array.from({ length: n }, () => rng.normal()));
  const zeros = (n: number) => put(new Float32Array(n));
  const read = (at: number, n: number) => new Float32Array(memory.buffer, at, n).slice();
  const write = (at: number, xs: Float32Array) => new Float32Array(memory.buffer, at, xs.length).set(xs);
  /** Run a call as every thread of nth in turn (what the engine does at once, then a barrier). */
  const run = (c: Call, nth = 1) => {
    for (let tid = 0; tid < nth; tid++) kernels.call(c, tid, nth);
  };
  return { memory, heap, random, zeros, read, write, run, exports: new WebAssembly.Instance(module, { env: { memory } }).exports };
}

// [N, H (= W), C, K]: the lab's stage shapes at widths ×0.25 and ×1, odd tile counts, a tail of 4 channels
const SHAPES: [number, number, number, number][] = [
  [3, 32, 4, 4],
  [2, 16, 8, 8],
  [5, 8, 16, 16],
  [2, 32, 16, 16],
  [2, 16, 32, 32],
  [3, 8, 64, 64],
  [1, 12, 12, 20],
  [7, 4, 4, 8],
];

/** The two Winograd variants: their kernels, and the map sizes they take (F(4×4) needs multiples of 4). */
const VARIANTS = [
  { name: 'F(2×2, 3×3)', weights: 'wino_weights', fwd: 'wino_fwd', bwd: 'wino_bwd_filter', finish: 'wino_filter_finish', xi: 16, withScratch: false },
  { name: 'F(4×4, 3×3)', weights: 'wino4_weights', fwd: 'wino4_fwd', bwd: 'wino4_bwd_filter', finish: 'wino4_filter_finish', xi: 36, withScratch: true },
] as const;

describe('the Winograd scratch', () => {
  it('the scratch the program plans is at least what each kernel variant uses', async () => {
    const { exports } = await setup();
    const f2 = exports.wino_scratch_bytes as (C: number, K: number) => number;
    const f4 = exports.wino4_scratch_bytes as (C: number, K: number) => number;
    for (const [C, K] of [
      [4, 4],
      [16, 64],
      [64, 64],
      [8, 32],
    ])
      expect(winoScratchBytes(C, K)).toBe(Math.max(f2(C, K), f4(C, K)));
  });
});

for (const v of VARIANTS) {
  describe(`Winograd ${v.name} kernels match the direct ones`, () => {
    for (const nth of [1, 2, 3]) {
      it.each(SHAPES)(`N=%i, %i², C=%i → K=%i, ${nth} thread(s): forward, input gradient, weight gradient within 1e-4`, async (N, H, C, K) => {
        const { random, zeros, read, run } = await setup();
        const P = H + 2;
        const xp = zeros(N * P * P * C);
        const x = random(N * H * H * C);
        run(kernelCall('dilate_pad', { x, N, H, W: H, C, s: 1, pad: 1, dst: xp }));
        const w = random(9 * C * K);
        const sstride = winoScratchBytes(C, K);
        const scratch = zeros((nth * sstride) / 4);
        const U = zeros(v.xi * C * K);
        /** The Winograd convolution of a padded input with w (transposed: K → C channels, the input gradient), into out (added when acc). */
        const winograd = (input: number, transpose: 0 | 1, out: number, acc: 0 | 1) => {
          const [from, to] = transpose ? [K, C] : [C, K];
          run(v.withScratch ? [v.weights, w, C, K, transpose, U, scratch, sstride] : [v.weights, w, C, K, transpose, U], nth);
          run([v.fwd, input, P, P, from, U, out, N, H, H, to, acc, scratch, sstride], nth);
        };
        // forward
        const yDirect = zeros(N * H * H * K);
        const yWino = zeros(N * H * H * K);
        run(kernelCall('conv_fwd', { xp, Hp: P, Wp: P, C, w, k: 3, s: 1, y: yDirect, N, Ho: H, Wo: H, K, acc: 0 }), nth);
        winograd(xp, 0, yWino, 0);
        expect(relDiff(read(yWino, N * H * H * K), read(yDirect, N * H * H * K))).toBeLessThan(1e-4);
        // accumulate: y += conv again doubles it
        winograd(xp, 0, yWino, 1);
        const twice = read(yDirect, N * H * H * K).map((y) => 2 * y);
        expect(relDiff(read(yWino, N * H * H * K), twice)).toBeLessThan(1e-4);
        // input gradient: the flipped, transposed kernel over the padded output gradient
        const dy = random(N * H * H * K);
        const dyp = zeros(N * P * P * K);
        run(kernelCall('dilate_pad', { x: dy, N, H, W: H, C: K, s: 1, pad: 1, dst: dyp }));
        const flip = zeros(9 * C * K);
        run(kernelCall('flip_weights', { w, k: 3, C, K, wt: flip }));
        const dxDirect = zeros(N * H * H * C);
        const dxWino = zeros(N * H * H * C);
        run(kernelCall('conv_fwd', { xp: dyp, Hp: P, Wp: P, C: K, w: flip, k: 3, s: 1, y: dxDirect, N, Ho: H, Wo: H, K: C, acc: 0 }), nth);
        winograd(dyp, 1, dxWino, 0);
        expect(relDiff(read(dxWino, N * H * H * C), read(dxDirect, N * H * H * C))).toBeLessThan(1e-4);
        // weight gradient
        const dwDirect = zeros(9 * C * K);
        const dwWino = random(9 * C * K); // overwritten, not added to
        const dU = zeros(nth * v.xi * C * K);
        run(kernelCall('conv_bwd_filter', { xp, Hp: P, Wp: P, C, dy, N, Ho: H, Wo: H, K, k: 3, s: 1, dw: dwDirect }), nth);
        run([v.bwd, xp, P, P, C, dy, N, H, H, K, dU, scratch, sstride], nth);
        run(v.withScratch ? [v.finish, dU, nth, C, K, dwWino, scratch, sstride] : [v.finish, dU, nth, C, K, dwWino], nth);
        expect(relDiff(read(dwWino, 9 * C * K), read(dwDirect, 9 * C * K))).toBeLessThan(1e-4);
      });
    }
  });
}

describe('the direct input gradient of a stride-2 convolution matches the zero-spread one', () => {
  // [N, output size, K (output channels), C (input channels), k]
  const cases: [number, number, number, number, number][] = [
    [3, 16, 8, 4, 3],
    [2, 8, 16, 8, 3],
    [2, 4, 64, 32, 3],
    [5, 1, 12, 20, 3],
    [2, 3, 8, 4, 3],
    [3, 8, 16, 8, 1],
    [2, 5, 8, 12, 1],
  ];
  for (const nth of [1, 2]) {
    for (const acc of [0, 1]) {
      it.each(cases)(`N=%i, %i² output, K=%i → C=%i, %i×%i… ${nth} thread(s), ${acc ? 'added to' : 'written over'} dx`, async (N, Ho, K, C, k) => {
        const { random, zeros, read, write, run } = await setup();
        const H = 2 * Ho;
        const pad = k === 3 ? 1 : 0;
        const w = random(k * k * C * K);
        const dy = random(N * Ho * Ho * K);
        const flip = zeros(k * k * C * K);
        run(kernelCall('flip_weights', { w, k, C, K, wt: flip }));
        // reference: spread dy by 2, pad, stride-1 conv with the flipped kernel
        const P = 2 * Ho + 2 * pad;
        const spread = zeros(N * P * P * K);
        run(kernelCall('dilate_pad', { x: dy, N, H: Ho, W: Ho, C: K, s: 2, pad, dst: spread }));
        const start = Float32Array.from({ length: N * H * H * C }, (_, i) => ((i * 7919) % 13) / 13 - 0.5);
        const dxRef = zeros(N * H * H * C);
        write(dxRef, start);
        run(kernelCall('conv_fwd', { xp: spread, Hp: P, Wp: P, C: K, w: flip, k, s: 1, y: dxRef, N, Ho: H, Wo: H, K: C, acc }), nth);
        const dyp = zeros(N * (Ho + 2) * (Ho + 2) * K);
        run(kernelCall('dilate_pad', { x: dy, N, H: Ho, W: Ho, C: K, s: 1, pad: 1, dst: dyp }));
        const dx = zeros(N * H * H * C);
        write(dx, start);
        run(kernelCall('conv_bwd_data_s2', { dyp, Hp: Ho + 2, Wp: Ho + 2, K, wt: flip, k, C, dx, N, H, W: H, acc }), nth);
        expect(relDiff(read(dx, N * H * H * C), read(dxRef, N * H * H * C))).toBeLessThan(1e-6);
      });
    }
  }
});

describe('bn_apply', () => {
  it('writes 0 for outputs below 2⁻¹⁰⁰ in magnitude (subnormal floats run ~100× slower in WebAssembly on x86), and passes NaN, ±∞ and every other value unchanged', async () => {
    const { zeros, read, write, run } = await setup();
    const C = 4;
    const z = Float32Array.from([1.5, -2, 1e-31, -1e-31, 1e-40, 2 ** -99, Number.NaN, Number.POSITIVE_INFINITY]);
    const M = z.length / C;
    const [za, scale, shift, y] = [zeros(z.length), zeros(C), zeros(C), zeros(z.length)];
    write(za, z);
    write(scale, Float32Array.from([1, 1, 1, 1]));
    run(kernelCall('bn_apply', { z: za, M, C, scale, shift, res: 0, relu: 0, y }));
    const out = read(y, z.length);
    expect([...out.slice(0, 2), ...out.slice(5, 6)]).toEqual([1.5, -2, 2 ** -99]);
    expect([...out.slice(2, 5)].map(Math.abs)).toEqual([0, 0, 0]);
    expect(Number.isNaN(out[6])).toBe(true);
    expect(out[7]).toBe(Number.POSITIVE_INFINITY);
  });
});
