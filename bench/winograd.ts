// Direct against Winograd F(2×2, 3×3) kernels of the lab CPU engine, per layer shape and pass, one
// thread, in Node (the browser's kernels):
//   node --experimental-wasm-relaxed-simd --import tsx bench/winograd.ts [--batch 64] [--reps 5]
// Prints ms per call (median) and the speed-up; program.ts's `winogradPays` rule comes from this table.
import { parseArgs } from 'node:util';
import { Rng } from '../src/core/rng';
import { Heap } from '../src/core/cpu/heap';
import { KernelInstance } from '../src/core/cpu/kernels';
import type { Call } from '../src/core/cpu/kernels';
import { winogradPays, winoScratchBytes } from '../src/core/cpu/program';
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
/** Median ms of each call list, the two run alternately (so a busy neighbour slows both alike). */
const timeBoth = (a: Call[], b: Call[]) => {
  const ts: [number[], number[]] = [[], []];
  for (let r = 0; r <= reps; r++) {
    [a, b].forEach((calls, v) => {
      const t0 = performance.now();
      for (const c of calls) kernels.call(c, 0, 1);
      if (r > 0) ts[v].push(performance.now() - t0); // the first round warms up
    });
  }
  const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)];
  return ts.map(median) as [number, number];
};

console.log(`Direct vs Winograd F(2×2,3×3), batch ${N}, 1 thread, ${variant.relaxed ? 'relaxed SIMD (FMA)' : 'SIMD'}; ms per call, median of ${reps}, the two kernels alternating\n`);
console.log('| map | C → K | pass | direct ms | Winograd ms | speed-up | rule picks |');
console.log('|---|---|---|---|---|---|---|');
for (const [H, C] of [[32, 4], [16, 8], [8, 16], [32, 8], [16, 16], [8, 32], [32, 16], [16, 32], [8, 64]] as const) {
  const K = C;
  const P = H + 2;
  const xp = random(N * P * P * C);
  const w = random(9 * C * K);
  const y = random(N * H * H * K);
  const U = random(16 * C * K);
  const scratch = random(winoScratchBytes(C, K) / 4);
  const dU = random(16 * C * K);
  const dw = random(9 * C * K);
  const rows: [string, Call[], Call[]][] = [
    ['forward', [['conv_fwd', xp, P, P, C, w, 3, 1, y, N, H, H, K, 0]], [['wino_weights', w, C, K, 0, U], ['wino_fwd', xp, P, P, C, U, y, N, H, H, K, 0, scratch, winoScratchBytes(C, K)]]],
    ['weight gradient', [['conv_bwd_filter', xp, P, P, C, y, N, H, H, K, 3, 1, dw]], [['wino_bwd_filter', xp, P, P, C, y, N, H, H, K, dU, scratch, winoScratchBytes(C, K)], ['wino_filter_finish', dU, 1, C, K, dw]]],
  ];
  for (const [pass, direct, wino] of rows) {
    const [d, wt] = timeBoth(direct, wino);
    const pick = winogradPays(pass === 'forward' ? 'forward' : 'filter', C, K, H);
    console.log(`| ${H}×${H} | ${C} → ${K} | ${pass} | ${d.toFixed(2)} | ${wt.toFixed(2)} | ${(d / wt).toFixed(2)}× | ${pick ? 'Winograd' : 'direct'} |`);
  }
  for (const p of [xp, w, y, U, scratch, dU, dw]) heap.release(p);
}
