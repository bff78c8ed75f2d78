// Train one experiment in Node, top to bottom, with the lab CPU engine: the same Experiment, batches
// and kernels the page uses, without a browser. Used to tune presets (`docs/classroom-tuning.md`).
//
//   npx tsx scripts/train-node.ts --preset classroom --seeds 1,2,3
//   npx tsx scripts/train-node.ts --preset classroom --config '{"iterations":800}' --from 5000
//
// --data DIR      folder of CIFAR-10 .bin files (default $CIFAR10_DIR or ../shared/cifar10)
// --from N        skip the first N training images (e.g. 5000: the second half of data_batch_1)
// --config JSON   fields that override the preset, checked by validateConfig
// --seeds LIST    one run per seed; prints one row per seed and the verdict of each
// --threads N     threads of the lab CPU engine (default 2)
// --schedule S    'ops' or 'nets' (default: the engine's rule, chooseSchedule)
// --every N       a progress line every N iterations (default 100)
// --landscape IDS after training, the 2-D loss landscape of these nets (ids or labels: plain-56,ResNet-56), filter-
//                 normalised directions of the run's seed (src/core/landscape.ts): prints each surface's step ratio
//                 and its time; --grid N (21) points per axis, --span S (1), --sample N (512) training images,
//                 --landscape-out FILE writes the surfaces as JSON ({seed} in it: the seed)
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { validateConfig } from '../src/core/config';
import { netsOf } from '../src/core/experimentNets';
import type { ExperimentConfig } from '../src/core/config';
import { LabCpuEngine, chooseSchedule } from '../src/core/cpu/engine';
import type { Schedule } from '../src/core/cpu/engine';
import { nodeKernels, spawnNodeHelper } from '../src/core/cpu/testing/nodeKernels';
import { IMAGE_BYTES, datasetFromFiles, selectSubsets } from '../src/core/data/cifar10';
import { Experiment, netSpecOf } from '../src/core/experiment';
import { landscapeOf, lossGrid, stepRatio } from '../src/core/landscape';
import type { NetSeries } from '../src/core/metrics';
import { appendSeries, emptySeries } from '../src/core/metrics';
import { presetById } from '../src/core/presets';
import { OUTCOME_TEXT, judgeDegradation, judgeTestStory } from '../src/core/verdict';
import { realDataDir } from '../src/node/realData';

const { values: args } = parseArgs({
  options: {
    preset: { type: 'string', default: 'classroom' },
    config: { type: 'string', default: '{}' },
    data: { type: 'string' },
    from: { type: 'string', default: '0' },
    seeds: { type: 'string' },
    threads: { type: 'string', default: '2' },
    schedule: { type: 'string' },
    every: { type: 'string', default: '100' },
    landscape: { type: 'string' },
    grid: { type: 'string', default: '21' },
    span: { type: 'string', default: '1' },
    sample: { type: 'string', default: '512' },
    'landscape-out': { type: 'string' },
  },
});

// 1. The data: every .bin file of the folder, optionally without the first `from` training images.
const dir =
  args.data ??
  realDataDir() ??
  (() => {
    throw new Error('no CIFAR-10 folder: pass --data or set CIFAR10_DIR');
  })();
const files = new Map(
  readdirSync(dir)
    .filter((f) => /\.(bin|txt)$/.test(f))
    .map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]),
);
const dataset = datasetFromFiles(files, 'origin', dir);
const from = Number(args.from);

// 2. The config: a preset, then the overrides.
const preset =
  presetById(args.preset!)?.config ??
  (() => {
    throw new Error(`no preset ${args.preset}`);
  })();
const checked = validateConfig(JSON.parse(args.config!), preset);
const errors = checked.issues.filter((i) => i.level === 'error');
if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
const seeds = args.seeds ? args.seeds.split(',').map(Number) : [checked.config.seed];

async function train(config: ExperimentConfig) {
  const rest = { images: dataset.train.images.subarray(from * IMAGE_BYTES), labels: dataset.train.labels.subarray(from), count: dataset.train.count - from };
  const { train, test } = selectSubsets({ ...dataset, train: rest }, config.trainSize, config.testSize, config.split);
  const threads = Number(args.threads);
  const schedule =
    (args.schedule as Schedule | undefined) ??
    chooseSchedule(
      netsOf(config).map((e) => netSpecOf(e, config)),
      threads,
    );
  const engine = await LabCpuEngine.create({ ...nodeKernels(threads > 1), threads, spawnHelper: spawnNodeHelper, schedule });
  const experiment = new Experiment(config, { train, test }, engine);
  experiment.start();
  // 3. The loop: one round steps every net once on the same batch; collect what it recorded.
  const series: Record<string, NetSeries> = {};
  const t0 = performance.now();
  let printed = 0;
  const collect = () => {
    for (const [id, s] of Object.entries(experiment.takeDelta().nets)) appendSeries((series[id] ??= emptySeries()), s);
  };
  while (await experiment.round()) {
    collect();
    if (experiment.iteration - printed >= Number(args.every)) {
      printed = experiment.iteration;
      const row = experiment
        .infos()
        .map((n) => `${n.label} ${(100 * series[n.id].train.runErr.at(-1)!).toFixed(1)}`)
        .join(' · ');
      console.error(`  seed ${config.seed} it ${experiment.iteration} ${((performance.now() - t0) / 1000).toFixed(0)} s · ${row}`);
    }
  }
  collect();
  const seconds = (performance.now() - t0) / 1000;
  const verdict = judgeDegradation({ status: 'done', iterations: config.iterations, nets: experiment.infos(), series });
  // the fourth line: the last test errors, and whether they tell the same story (judgeTestStory)
  const story = judgeTestStory({ status: 'done', iterations: config.iterations, nets: experiment.infos(), series }, config.trainSize);
  console.error(
    `  seed ${config.seed} test · ${experiment
      .infos()
      .map((n) => `${n.label} ${series[n.id].test.err.length ? (100 * series[n.id].test.err.at(-1)!).toFixed(1) : '–'}`)
      .join(' · ')} · test tells the same story: ${
      story
        ? story.outcome === 'both'
          ? 'yes'
          : `no (${story.checks
              .filter((c) => !c.holds)
              .map((c) => c.detail)
              .join('; ')})`
        : 'not asked'
    }`,
  );
  if (args.landscape) await landscapes(experiment, config.seed);
  experiment.dispose();
  engine.dispose();
  return { seconds, verdict };
}

/** The landscapes of the --landscape nets, on the engine that trained them, one after the other (src/core/landscape.ts landscapeOf, as the page). */
async function landscapes(experiment: Experiment, seed: number) {
  const ask = { nets: args.landscape!.split(',').map((x) => x.trim()), grid: Number(args.grid), span: Number(args.span), sample: Number(args.sample) };
  const l = (await landscapeOf(experiment, seed, ask))!;
  for (const n of l.nets) {
    const loss = lossGrid(n);
    const finite = loss.flat().filter(Number.isFinite);
    const c = Math.floor(l.grid / 2);
    console.error(
      `  seed ${seed} landscape ${n.label}: step ratio ${stepRatio(loss).toFixed(2)} · loss at the centre ${loss[c][c].toFixed(3)}, ${Math.min(...finite).toFixed(3)}–${Math.max(...finite).toFixed(3)} on the grid · ${l.grid}×${l.grid} points on ${l.sample} images in ${n.seconds.toFixed(1)} s`,
    );
  }
  if (args['landscape-out']) writeFileSync(args['landscape-out'].replace('{seed}', String(seed)), JSON.stringify(l));
}

// 4. One row per seed: each net's mean training error over the last 10% of the run, and the verdict.
const rows: string[] = [];
for (const seed of seeds) {
  const { seconds, verdict } = await train({ ...checked.config, seed });
  if (rows.length === 0)
    rows.push(
      `| seed | ${verdict.finals.map((f) => f.label).join(' | ')} | verdict | wall time |`,
      `|---|${verdict.finals.map(() => '---|').join('')}---|---|`,
    );
  rows.push(
    `| ${seed} | ${verdict.finals.map((f) => (f.error === null ? '–' : `${(100 * f.error).toFixed(1)}%`)).join(' | ')} | ${OUTCOME_TEXT[verdict.outcome]} | ${seconds.toFixed(0)} s |`,
  );
  console.error(`seed ${seed}: ${OUTCOME_TEXT[verdict.outcome]} — ${verdict.reason}`);
}
console.log(`config ${JSON.stringify(args.config)} from image ${from}, ${dir}\n${rows.join('\n')}`);
process.exit(0);
