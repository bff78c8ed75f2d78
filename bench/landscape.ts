// What a loss landscape costs (issue #27's goal: plain-56 + ResNet-56 at width ×0.25, 21×21 points, 512 images, ≤ 60 s
// on two CPU cores), on the lab CPU engine as the worker runs it: each point is one evaluation of one net on the sample
// (BN with the running statistics, no Fig. 7 passes). Times the first --rows rows of each net's grid under each schedule
// ('nets': one net per thread, as a run of several nets trains; 'ops': every op split across the threads, as the
// worker switches to for a landscape) and projects the whole pair. Weights are the seed's initial ones (the cost does
// not depend on them; denormals are flushed, src/core/cpu/assembly/bn.ts).
//   npx tsx bench/landscape.ts [--depth 56] [--width 0.25] [--grid 21] [--sample 512] [--rows 2] [--threads 2]
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
  },
});
const n = (Number(a.depth) - 2) / 6;
const grid = Number(a.grid);
const rows = Math.min(grid, Number(a.rows));
const threads = Number(a.threads);
await buildWasm({ quiet: true });
const sample = randomBatch(Number(a.sample), 32, 1);
const axis = gridAxis(grid, 1);

console.log(
  `${cpus()[0]?.model ?? 'CPU'} · ${threads} threads · plain-${a.depth} + ResNet-${a.depth} at width ×${a.width} · ${grid}×${grid} points on ${sample.size} images\n`,
);
console.log('| schedule | plain: s a point | ResNet: s a point | the pair, projected |');
console.log('|---|---|---|---|');
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
  }
  const pair = (perPoint[0] + perPoint[1]) * grid * grid;
  console.log(`| ${schedule} | ${perPoint[0].toFixed(3)} | ${perPoint[1].toFixed(3)} | ${pair.toFixed(0)} s |`);
  engine.dispose();
}
