import { readFileSync } from 'node:fs';
import { LabCpuEngine } from '../src/core/cpu/engine';
import { nodeKernels, spawnNodeHelper } from '../src/core/cpu/testing/nodeKernels';
import { datasetFromFiles, selectSubsets } from '../src/core/data/cifar10';
import { Experiment } from '../src/core/experiment';
import { effectVisibleAt } from '../src/core/metrics';
import type { NetSeries } from '../src/core/metrics';
import { appendSeries, emptySeries } from '../src/core/metrics';
import { CLASSROOM } from '../src/core/presets';
import type { ExperimentConfig } from '../src/core/config';
const dir = '/work/shared/cifar10';
const files = new Map(['data_batch_1.bin', 'test_batch.bin', 'batches.meta.txt'].map((f) => [f, new Uint8Array(readFileSync(`${dir}/${f}`))]));
const ds = datasetFromFiles(files, 'origin', 'real');
const overrides = JSON.parse(process.argv[2] ?? '{}') as Partial<ExperimentConfig>;
const config: ExperimentConfig = { ...CLASSROOM, ...overrides };
const engine = await LabCpuEngine.create({ ...nodeKernels(true), threads: 2, spawnHelper: spawnNodeHelper });
const sub = selectSubsets(ds, config.trainSize, config.testSize, config.split);
const exp = new Experiment(config, { ...sub, stats: ds.stats }, engine);
exp.start();
const series: Record<string, NetSeries> = {};
const t0 = Date.now();
let lastPrint = 0;
while (await exp.round()) {
  const d = exp.takeDelta();
  for (const [id, s] of Object.entries(d.nets)) appendSeries((series[id] ??= emptySeries()), s);
  if (exp.iteration - lastPrint >= 25) {
    lastPrint = exp.iteration;
    const row = exp.infos().map((i) => `${i.id}=${(100 * series[i.id].train.runErr.at(-1)!).toFixed(1)}`).join(' ');
    const eff = effectVisibleAt(exp.infos().map((i) => ({ depth: i.depth, residual: i.residual, series: series[i.id] })));
    console.log(`it ${exp.iteration} t=${((Date.now() - t0) / 1000).toFixed(0)}s ${row} effect@${eff.iteration}`);
  }
}
const d = exp.takeDelta();
for (const [id, s] of Object.entries(d.nets)) appendSeries((series[id] ??= emptySeries()), s);
const eff = effectVisibleAt(exp.infos().map((i) => ({ depth: i.depth, residual: i.residual, series: series[i.id] })));
console.log(JSON.stringify(overrides), 'done', ((Date.now() - t0) / 1000).toFixed(0), 's; effect at', eff, exp.infos().map((i) => `${i.id}: train ${(100 * series[i.id].train.runErr.at(-1)!).toFixed(1)} test ${(100 * series[i.id].test.err.at(-1)!).toFixed(1)}`).join('; '));
process.exit(0);
