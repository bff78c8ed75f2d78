// The GPU kit's measurement, run by Deno's built-in WebGPU (run.sh; scripts/gpu-kit.ts bundles it).
// The lab's own engines, unchanged: src/core/gpu on the machine's GPU, src/core/cpu (WebAssembly,
// one thread) as the reference. In order:
//   1. the adapter, its driver and the WebGPU limits the engine asks for;
//   2. the engine contract's agreement checks, GPU against CPU (src/core/testing/agreement.ts);
//   3. throughput of the lab WebGPU engine, beside PyTorch's figures (torch_kit.py, run before this);
//   4. the whole Classroom preset on the GPU: wall time and the verdict;
// then one Markdown table and one JSON file. Exit 1 when an agreement check fails.
//
//   deno run --allow-read --allow-write --allow-env kit.js --kit DIR --out DIR [--short] [--only agreement,throughput,classroom]
import { validateConfig } from '../../src/core/config';
import { netsOf } from '../../src/core/experimentNets';
import type { ExperimentConfig } from '../../src/core/config';
import { LabCpuEngine } from '../../src/core/cpu/engine';
import { relaxedSimdSupported, variantFile } from '../../src/core/cpu/kernels';
import { datasetFromFiles, selectSubsets } from '../../src/core/data/cifar10';
import { Experiment } from '../../src/core/experiment';
import { LabGpuEngine } from '../../src/core/gpu/engine';
import type { NetSeries } from '../../src/core/metrics';
import { appendSeries, emptySeries } from '../../src/core/metrics';
import { cifarNet } from '../../src/core/nets';
import type { NetOptions } from '../../src/core/nets';
import { CLASSROOM } from '../../src/core/presets';
import { GPU_VS_CPU, measureAgreement, worstGap } from '../../src/core/testing/agreement';
import { freshState, randomBatch } from '../../src/core/testing/fixtures';
import { OUTCOME_TEXT, judgeDegradation } from '../../src/core/verdict';
import { AGREEMENT_CASES, THROUGHPUT_CASES, classroomConfig } from './cases';
import type { KitMode, ThroughputCase } from './cases';
import type { KitReport, ThroughputRow, TorchFigures } from './report';
import { reportMarkdown } from './report';

/** The part of Deno's API the kit uses (the kit is bundled for Deno; tsc checks it with these types). */
declare const Deno: {
  args: string[];
  version: { deno: string; v8: string };
  readFile(path: string): Promise<Uint8Array<ArrayBuffer>>;
  readTextFile(path: string): Promise<string>;
  writeTextFile(path: string, text: string): Promise<void>;
  readDir(path: string): AsyncIterable<{ name: string; isFile: boolean }>;
  exit(code: number): never;
};

function arg(name: string): string | undefined {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Deno.args[i + 1] : undefined;
}
const KIT = arg('kit') ?? '.';
const OUT = arg('out') ?? 'out';
const MODE: KitMode = Deno.args.includes('--short') ? 'short' : 'full';
const PARTS = ['agreement', 'throughput', 'classroom'] as const;
/** --only agreement,throughput: run some parts (a rerun of one on a GPU machine); every part by default. */
const ONLY = (arg('only') ?? PARTS.join(',')).split(',');
const log = (s: string) => console.log(s);

async function adapterFacts(): Promise<{ adapter: GPUAdapter; facts: KitReport['adapter'] }> {
  if (!navigator.gpu) throw new Error('this runtime has no WebGPU (navigator.gpu is undefined)');
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('WebGPU found no adapter: is a Vulkan driver installed (run.sh checks the loader and the ICD files)?');
  const i = adapter.info;
  const l = adapter.limits;
  return {
    adapter,
    facts: {
      vendor: i.vendor,
      architecture: i.architecture,
      device: i.device,
      description: i.description,
      fallback: (i as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
      features: [...adapter.features].sort(),
      // the limits the engine relies on: buffer sizes (it asks for the adapter's maximum), its
      // 64-thread workgroups and 16-deep tiles in workgroup memory, and its 1-D dispatch counts
      limits: {
        maxBufferSize: l.maxBufferSize,
        maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
        maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
        maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
        maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      },
    },
  };
}

async function cpuEngine(): Promise<LabCpuEngine> {
  const relaxed = relaxedSimdSupported();
  const module = await WebAssembly.compile(await Deno.readFile(`${KIT}/wasm/${variantFile({ relaxed, shared: false })}`));
  return LabCpuEngine.create({ module, variant: { relaxed, shared: false }, threads: 1, convKernels: 'direct' });
}

async function agreement(): Promise<KitReport['agreement']> {
  const rows: KitReport['agreement'] = [];
  for (const c of AGREEMENT_CASES[MODE]) {
    const [gpu, cpu] = [await LabGpuEngine.create(), await cpuEngine()];
    const t0 = performance.now();
    const gaps = await measureAgreement(gpu, cpu, c.options, { ...GPU_VS_CPU, steps: c.steps });
    const failed = gaps.filter((g) => !(g.value < g.tol));
    const worst = worstGap(gaps);
    rows.push({ name: c.name, steps: c.steps, checks: gaps.length, failed: failed.map((g) => `${g.what}: ${g.value.toExponential(2)} ≥ ${g.tol.toExponential(2)}`), worst: { what: worst.what, ratio: worst.ratio } });
    log(`  ${failed.length ? 'FAIL' : 'ok  '} ${c.name}: ${gaps.length} checks, worst ${worst.what} at ${worst.ratio.toFixed(2)}× its tolerance (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    for (const f of failed) log(`       ${f.what}: ${f.value} is not below ${f.tol}`);
    gpu.dispose();
    cpu.dispose();
  }
  return rows;
}

/** Steps of every net of a case on one batch, as the lab steps them (stepMany: one submit a round), timed until `seconds`. */
async function throughput(c: ThroughputCase, seconds: number): Promise<ThroughputRow> {
  const gpu = await LabGpuEngine.create();
  const nets = c.nets.map((options: NetOptions) => gpu.createNet(cifarNet(options), freshState(options, 1)));
  gpu.setBatch(randomBatch(c.batch, 32, 1));
  const round = () => gpu.stepMany(nets.map((net) => ({ net, lr: 0.01 })));
  const t0 = performance.now();
  await round(); // compiles the pipelines and programs
  const warmupMs = performance.now() - t0;
  await round();
  const ms: number[] = [];
  const start = performance.now();
  while (ms.length < c.minReps || (performance.now() - start < seconds * 1000 && ms.length < 50)) {
    const t = performance.now();
    await round();
    ms.push(performance.now() - t);
  }
  gpu.check();
  const memory = gpu.memory().bytes;
  // where the GPU's time goes: the first net's step, each dispatch timed alone (timestamp queries)
  const profile = await gpu.profileStep(nets[0], 0.01);
  gpu.dispose();
  ms.sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)];
  return {
    name: c.name,
    batch: c.batch,
    width: c.nets[0].width ?? 1,
    nets: c.nets.length,
    reps: ms.length,
    warmupMs,
    roundMs: median,
    imagesPerSec: (c.batch * c.nets.length * 1000) / median,
    gpuBytes: memory,
    profile: profile && { net: nets[0].spec.label, kernels: profile.map((k) => ({ kernel: k.kernel, dispatches: k.dispatches, ms: k.ns / 1e6 })) },
  };
}

async function classroom(config: ExperimentConfig): Promise<KitReport['classroom']> {
  const files = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(`${KIT}/data`)) if (e.isFile && e.name.endsWith('.bin')) files.set(e.name, await Deno.readFile(`${KIT}/data/${e.name}`));
  const dataset = datasetFromFiles(files, 'origin', 'kit');
  const data = selectSubsets(dataset, config.trainSize, config.testSize, config.split);
  const engine = await LabGpuEngine.create();
  const experiment = new Experiment(config, data, engine);
  experiment.start();
  const series: Record<string, NetSeries> = {};
  const collect = () => {
    for (const [id, s] of Object.entries(experiment.takeDelta().nets)) appendSeries((series[id] ??= emptySeries()), s);
  };
  const t0 = performance.now();
  let printed = 0;
  while (await experiment.round()) {
    collect();
    if (experiment.iteration - printed >= Math.max(10, config.iterations / 5)) {
      printed = experiment.iteration;
      log(`  it ${experiment.iteration}/${config.iterations}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
  }
  collect();
  const seconds = (performance.now() - t0) / 1000;
  engine.check();
  const verdict = judgeDegradation({ status: 'done', iterations: config.iterations, nets: experiment.infos(), series });
  experiment.dispose();
  engine.dispose();
  return {
    iterations: config.iterations,
    trainImages: data.train.count,
    testImages: data.test.count,
    seconds,
    outcome: OUTCOME_TEXT[verdict.outcome],
    reason: verdict.reason,
    finals: verdict.finals.map((f) => ({ label: f.label, trainError: f.error })),
    nets: netsOf(config).length,
  };
}

async function readTorch(): Promise<TorchFigures | null> {
  try {
    return JSON.parse(await Deno.readTextFile(`${OUT}/torch.json`)) as TorchFigures;
  } catch {
    return null;
  }
}

async function main(): Promise<number> {
  const started = performance.now();
  for (const p of ONLY) if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only: no part "${p}" (parts: ${PARTS.join(', ')})`);
  log(`Degradation Lab GPU kit (${MODE} mode), Deno ${Deno.version.deno}`);
  const { facts } = await adapterFacts();
  log(`adapter: ${facts.description || facts.vendor} (vendor ${facts.vendor}, ${facts.architecture || 'architecture not given'}${facts.fallback ? ', a software fallback adapter' : ''})`);
  if (facts.fallback && MODE === 'full') log('WARNING: a software adapter (no GPU driver found): its figures check the kit, they are not GPU speed');
  log('1. agreement with the lab CPU engine (the engine contract’s tolerances):');
  const agreed = ONLY.includes('agreement') ? await agreement() : [];
  log('2. throughput of the lab WebGPU engine:');
  const rows: ThroughputRow[] = [];
  for (const c of ONLY.includes('throughput') ? THROUGHPUT_CASES[MODE] : []) {
    const row = await throughput(c, MODE === 'short' ? 1 : 5);
    rows.push(row);
    log(`  ${row.name}, batch ${row.batch}: ${row.imagesPerSec.toFixed(0)} img/s (median of ${row.reps} rounds, ${row.roundMs.toFixed(1)} ms each)`);
  }
  const config = validateConfig(classroomConfig(MODE), CLASSROOM);
  const errors = config.issues.filter((i) => i.level === 'error');
  if (errors.length) throw new Error(errors.map((e) => e.message).join('; '));
  log(`3. the Classroom preset${MODE === 'short' ? ' (short: a few iterations of small nets)' : ''}, ${config.config.iterations} iterations:`);
  const run = ONLY.includes('classroom') ? await classroom(config.config) : null;
  if (run) log(`  ${run.seconds.toFixed(1)} s, ${run.outcome}`);
  const report: KitReport = {
    mode: MODE,
    date: new Date().toISOString(),
    runtime: `Deno ${Deno.version.deno} (V8 ${Deno.version.v8})`,
    adapter: facts,
    agreement: agreed,
    throughput: rows,
    torch: await readTorch(),
    classroom: run,
    seconds: (performance.now() - started) / 1000,
  };
  await Deno.writeTextFile(`${OUT}/results.json`, JSON.stringify(report, null, 2) + '\n');
  const md = reportMarkdown(report);
  await Deno.writeTextFile(`${OUT}/results.md`, md);
  log(`\n${md}`);
  const failed = agreed.filter((a) => a.failed.length > 0);
  if (failed.length) log(`FAILED: ${failed.map((a) => a.name).join(', ')} disagree with the lab CPU engine beyond the contract's tolerance`);
  return failed.length ? 1 : 0;
}

main().then(
  (code) => Deno.exit(code),
  (e: unknown) => {
    console.error(`gpu kit: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exit(2);
  },
);
