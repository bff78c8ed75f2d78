// What a loss landscape costs (issue #27's goal: plain-56 + ResNet-56 at width ×0.25, 21×21 points, 512 images, ≤ 60 s
// on two CPU cores), on the lab CPU engine as the worker runs it: each point is one evaluation of one net on the sample
// (BN with the running statistics, no Fig. 7 passes). Times the first --rows rows of each net's grid under each schedule
// ('nets': one net per thread, as a run of several nets trains; 'ops': every op split across the threads, as the
// worker switches to for a landscape) and projects the whole pair. Weights are the seed's initial ones (the cost does
// not depend on them; denormals are flushed, src/core/cpu/assembly/bn.ts). --profile: then where an evaluation's time
// goes, kernel by kernel ('ops'; each call timed alone, so the small ones carry their barrier's cost).
//   node --experimental-wasm-relaxed-simd --import tsx bench/landscape.ts [--depth 56] [--width 0.25] [--grid 21] [--sample 512] [--rows 2] [--threads 2] [--profile]
// The flag gives Node the relaxed SIMD (fused multiply-add) that Chromium runs by default: without it the kernels are
// the plain-SIMD build, about a fifth slower than the page's.
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { LabCpuEngine } from '../src/core/cpu/engine';
import { nodeKernels, spawnNodeHelper } from '../src/core/cpu/testing/nodeKernels';
import { filterNormalisedDirection, gridAxis, lossSurface } from '../src/core/landscape';
import { cifarNet } from '../src/core/nets';
import { freshState, randomBatch } from '../src/core/testing/fixtures';
import { buildWasm } from '../scripts/build-wasm';

const { values: a } = parseArgs({
  options: {
    depth: { type: 'string', default: '56' },
    width: { type: 'string', default: '0.25' },
    grid: { type: 'string', default: '21' },
    sample: { type: 'string', default: '512' },
    rows: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    profile: { type: 'boolean', default: false },
  },
});
const n = (Number(a.depth) - 2) / 6;
const grid = Number(a.grid);
const rows = Math.min(grid, Number(a.rows));
const threads = Number(a.threads);
await buildWasm({ quiet: true });
const sample = randomBatch(Number(a.sample), 32, 1);
const axis = gridAxis(grid, 1);

const fma = nodeKernels().variant.relaxed
  ? 'relaxed SIMD (FMA), as Chromium'
  : "SIMD without FMA (add --experimental-wasm-relaxed-simd for the page's kernels)";
console.log(
  `${cpus()[0]?.model ?? 'CPU'} · ${threads} threads · ${fma} · plain-${a.depth} + ResNet-${a.depth} at width ×${a.width} · ${grid}×${grid} points on ${sample.size} images\n`,
);
console.log('| schedule | plain: s a point | ResNet: s a point | the pair, projected |');
console.log('|---|---|---|---|');
const profiles: [string, string][] = [];
for (const schedule of ['nets', 'ops'] as const) {
  const engine = await LabCpuEngine.create({ ...nodeKernels(threads > 1), threads, spawnHelper: spawnNodeHelper, schedule });
  const perPoint: number[] = [];
  for (const family of ['plain', 'residual'] as const) {
    const options = { n, family, shortcut: 'A' as const, width: Number(a.width) };
    const spec = cifarNet(options);
    const base = freshState(options, 1);
    const net = engine.createNet(spec, base);
    const dirs = [filterNormalisedDirection(spec, base.params, 1, 'x'), filterNormalisedDirection(spec, base.params, 1, 'y')] as const;
    await net.evaluate(sample, { responses: false }); // plans the programs
    const t0 = performance.now();
    await lossSurface(net, base, [dirs[0], dirs[1]], sample, axis, axis.slice(0, rows));
    perPoint.push((performance.now() - t0) / 1000 / (rows * grid));
    if (a.profile && schedule === 'ops') profiles.push([spec.label, await profileOf(engine, () => net.evaluate(sample, { responses: false }))]);
    net.dispose();
  }
  const pair = (perPoint[0] + perPoint[1]) * grid * grid;
  console.log(`| ${schedule} | ${perPoint[0].toFixed(3)} | ${perPoint[1].toFixed(3)} | ${pair.toFixed(0)} s |`);
  engine.dispose();
}
for (const [label, table] of profiles) console.log(`\n${label}, one evaluation of ${sample.size} images ('ops', each kernel call timed alone):\n\n${table}`);

/** Each kernel's share of `run` (three times), as a table. */
async function profileOf(engine: LabCpuEngine, run: () => Promise<unknown>): Promise<string> {
  engine.profile = new Map();
  for (let i = 0; i < 3; i++) await run();
  const rows = [...engine.profile].sort((p, q) => q[1].ms - p[1].ms);
  engine.profile = null;
  const total = rows.reduce((s, [, v]) => s + v.ms, 0);
  return [
    '| kernel | ms | share | calls |',
    '|---|---|---|---|',
    ...rows.map(([k, v]) => `| ${k} | ${(v.ms / 3).toFixed(1)} | ${((100 * v.ms) / total).toFixed(0)}% | ${v.calls / 3} |`),
  ].join('\n');
}
