// Direct against Winograd F(2×2, 3×3) and F(4×4, 3×3) kernels of the lab CPU engine, per layer shape and pass, one
// thread, in Node (the browser's kernels):
//   node --experimental-wasm-relaxed-simd --import tsx bench/winograd.ts [--batch 64] [--reps 5]
// Prints ms per call (median) of each and the best speed-up; program.ts's `winograd` rule comes from this table.
import { parseArgs } from 'node:util';
import { Rng } from '../src/core/rng';
import { Heap } from '../src/core/cpu/heap';
import { KernelInstance } from '../src/core/cpu/kernels';
import { kernelCall } from '../src/core/cpu/kernelArgs';
import type { Call } from '../src/core/cpu/kernelArgs';
import { winograd, winoScratchBytes } from '../src/core/cpu/program';
import { nodeKernels } from '../src/core/cpu/testing/nodeKernels';
import { buildWasm } from '../scripts/build-wasm';

const { values: a } = parseArgs({ options: { batch: { type: 'string', default: '64' }, reps: { type: 'string', default: '5' } } });
await buildWasm({ quiet: true });
const { module, variant } = nodeKernels();
const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536 });
const kernels = await KernelInstance.create(module, memory);
const heap = new Heap(memory);
const rng = new Rng(1, 'bench-winograd');
const random = (n: number) => {
  const at = heap.alloc(4 * n);
  const v = new Float32Array(memory.buffer, at, n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return at;
};
const N = Number(a.batch);
const reps = Number(a.reps);
/** Median ms of each call list, the lists run in turn (so a busy neighbour slows all alike). */
const timeAll = (lists: Call[][]) => {
  const ts: number[][] = lists.map(() => []);
  for (let r = 0; r <= reps; r++) {
    lists.forEach((calls, v) => {
      const t0 = performance.now();
      for (const c of calls) kernels.call(c, 0, 1);
      if (r > 0) ts[v].push(performance.now() - t0); // the first round warms up
    });
  }
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
  return ts.map(median);
};

console.log(
  `Direct vs Winograd F(2×2,3×3) and F(4×4,3×3), batch ${N}, 1 thread, ${variant.relaxed ? 'relaxed SIMD (FMA)' : 'SIMD'}; ms per call, median of ${reps}, the kernels taking turns\n`,
);
console.log('| map | C → K | pass | direct ms | F(2×2) ms | F(4×4) ms | best speed-up | rule picks |');
console.log('|---|---|---|---|---|---|---|---|');
for (const [H, C] of [
  [32, 4],
  [16, 8],
  [8, 16],
  [32, 8],
  [16, 16],
  [8, 32],
  [32, 16],
  [16, 32],
  [8, 64],
] as const) {
  const K = C;
  const P = H + 2;
  const sstride = winoScratchBytes(C, K);
  const xp = random(N * P * P * C);
  const w = random(9 * C * K);
  const y = random(N * H * H * K);
  const U = random(36 * C * K);
  const scratch = random(sstride / 4);
  const dU = random(36 * C * K);
  const dw = random(9 * C * K);
  const rows: ['forward' | 'filter', Call[][]][] = [
    [
      'forward',
      [
        [kernelCall('conv_fwd', { xp, Hp: P, Wp: P, C, w, k: 3, s: 1, y, N, Ho: H, Wo: H, K, acc: 0 })],
        [
          kernelCall('wino_weights', { w, C, K, flip: 0, U }),
          kernelCall('wino_fwd', { xp, Hp: P, Wp: P, C, U, y, N, Ho: H, Wo: H, K, acc: 0, scratch, sstride }),
        ],
        [
          kernelCall('wino4_weights', { w, C, K, flip: 0, U, scratch, sstride }),
          kernelCall('wino4_fwd', { xp, Hp: P, Wp: P, C, U, y, N, Ho: H, Wo: H, K, acc: 0, scratch, sstride }),
        ],
      ],
    ],
    [
      'filter',
      [
        [kernelCall('conv_bwd_filter', { xp, Hp: P, Wp: P, C, dy: y, N, Ho: H, Wo: H, K, k: 3, s: 1, dw })],
        [
          kernelCall('wino_bwd_filter', { xp, Hp: P, Wp: P, C, dy: y, N, Ho: H, Wo: H, K, dU, scratch, sstride }),
          kernelCall('wino_filter_finish', { dU, parts: 1, C, K, dw }),
        ],
        [
          kernelCall('wino4_bwd_filter', { xp, Hp: P, Wp: P, C, dy: y, N, Ho: H, Wo: H, K, dU, scratch, sstride }),
          kernelCall('wino4_filter_finish', { dU, parts: 1, C, K, dw, scratch, sstride }),
        ],
      ],
    ],
  ];
  for (const [pass, lists] of rows) {
    const [d, w2, w4] = timeAll(lists);
    const pick = winograd(pass, C, K, H);
    const picked = pick === 'F4' ? w4 : pick === 'F2' ? w2 : d;
    console.log(
      `| ${H}×${H} | ${C} → ${K} | ${pass === 'forward' ? 'forward' : 'weight gradient'} | ${d.toFixed(2)} | ${w2.toFixed(2)} | ${w4.toFixed(2)} | ${(d / Math.min(w2, w4, d)).toFixed(2)}× | ${pick ?? 'direct'} (${(d / picked).toFixed(2)}×) |`,
    );
  }
  for (const p of [xp, w, y, U, scratch, dU, dw]) heap.release(p);
}
