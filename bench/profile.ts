// Per-op profile of one training step of the lab CPU engine (the same kernels the browser runs),
// in Node with worker threads:  npx tsx bench/profile.ts [--net resnet-20] [--batch 128] [--threads 2] [--steps 3] [--width 1] [--kernels auto|direct]
// Relaxed SIMD (fused multiply-add) needs: node --experimental-wasm-relaxed-simd --import tsx bench/profile.ts
import { parseArgs } from 'node:util';
import { LabCpuEngine } from '../src/core/cpu/engine';
import { nodeKernels, spawnNodeHelper } from '../src/core/cpu/testing/nodeKernels';
import { cifarNet } from '../src/core/nets';
import { Rng } from '../src/core/rng';
import { initialState } from '../src/core/train';
import { buildWasm } from '../scripts/build-wasm';

const { values: a } = parseArgs({
  options: {
    net: { type: 'string', default: 'resnet-20' },
    batch: { type: 'string', default: '128' },
    threads: { type: 'string', default: '2' },
    steps: { type: 'string', default: '3' },
    width: { type: 'string', default: '1' },
    kernels: { type: 'string', default: 'auto' },
  },
});
const m = /^(plain|resnet)-(\d+)$/.exec(a.net!);
if (!m) throw new Error('--net plain-<6n+2> or resnet-<6n+2>');
await buildWasm({ quiet: true });
const threads = Number(a.threads);
const batch = Number(a.batch);
const engine = await LabCpuEngine.create({
  ...nodeKernels(threads > 1),
  threads,
  spawnHelper: spawnNodeHelper,
  convKernels: a.kernels === 'direct' ? 'direct' : 'auto',
});
const spec = cifarNet({ n: (Number(m[2]) - 2) / 6, residual: m[1] === 'resnet', shortcut: 'A', width: Number(a.width) });
const net = engine.createNet(spec, initialState(spec, 1));
const rng = new Rng(1, 'profile');
const x = Float32Array.from({ length: batch * 3072 }, () => rng.normal());
engine.setBatch({ x, labels: Uint8Array.from({ length: batch }, () => rng.int(10)), size: batch, imageSize: 32 });
await net.step(0.01); // warm-up
const steps = Number(a.steps);
const t0 = performance.now();
for (let i = 0; i < steps; i++) await net.step(0.01);
const plainMs = (performance.now() - t0) / steps;
engine.profile = new Map();
for (let i = 0; i < steps; i++) await net.step(0.01);
const rows = [...engine.profile].sort((p, q) => q[1].ms - p[1].ms);
const total = rows.reduce((s, r) => s + r[1].ms, 0) / steps;
console.log(
  `${spec.label}, batch ${batch}, ${threads} thread(s), ${engine.variant.relaxed ? 'relaxed SIMD (FMA)' : 'SIMD'}, ${engine.convKernels} convolutions: ${plainMs.toFixed(1)} ms/step = ${((batch * 1000) / plainMs).toFixed(0)} img/s`,
);
console.log(`(profiled: each kernel call timed on its own, ${total.toFixed(1)} ms/step)\n`);
console.log('| kernel | ms/step | share | calls/step |');
console.log('|---|---|---|---|');
for (const [k, v] of rows) console.log(`| ${k} | ${(v.ms / steps).toFixed(1)} | ${((100 * v.ms) / steps / total).toFixed(1)}% | ${v.calls / steps} |`);
engine.dispose();
process.exit(0);
