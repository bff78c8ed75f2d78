// npm run bench: training throughput of the lab's own step in the worker, per backend, in headless
// Chromium on the production build; optionally beside PyTorch (--vs-torch) and the time to see the
// degradation effect on real data (--degradation). Prints figures; it never fails on speed.
//
//   npm run bench -- [--backends lab-cpu,lab-webgpu,webgpu,webgl,cpu,wasm] [--cases plain-20,resnet-20,plain-56,resnet-56]
//                    [--batch-size 32,128] [--reps 5] [--budget 60] [--width 1] [--json out.json]
//                    [--vs-torch] [--torch-device cpu|cuda|auto] [--degradation] [--preset classroom]
//                    [--stream-cost] [--main-thread]
//                    [--experiment classroom [--iterations 50] [--vs-torch]]: a whole preset's nets, N iterations,
//                    in the lab and (--vs-torch) the same nets and batches in PyTorch, wall times and their ratio
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Option } from 'commander';
import type { Page } from '@playwright/test';
import { realDataDir } from '../src/node/realData';
import type { NetInfo, NetSeries, Progress } from '../src/core/metrics';
import { OUTCOME_TEXT, judgeDegradation } from '../src/core/verdict';
import { netsOf } from '../src/core/experimentNets';
import { cifarNet, multiplyAdds } from '../src/core/nets';
import { presetById, presetList } from '../src/core/presets';
import { cliMain, newCommand } from '../scripts/cli';
import type { LabAutomation } from '../src/ui/automation';
import type { BenchResult, BenchSpec } from '../src/worker/protocol';
import { ROOT, openLab } from '../scripts/labBrowser';

// One vocabulary with the page's URL and the runner: --width, --iterations and --batch-size are the
// settings' names (scripts/cli.ts); --batch is still read. --help lists every option and its default.
const cmd = newCommand(
  'bench',
  "Training throughput of the lab's own step in the worker, per backend, in headless Chromium on the production build. Prints figures; never fails on speed.",
)
  .option('--backends <list>', 'engines to time, comma-separated', 'lab-cpu,lab-webgpu,webgpu,webgl,cpu,wasm')
  .option('--cases <list>', 'nets to time: plain-<6n+2> or resnet-<6n+2>, comma-separated', 'plain-20,resnet-20,plain-56,resnet-56')
  .option('--batch-size <list>', 'images per mini-batch, comma-separated (also read: --batch)', '32,128')
  .addOption(new Option('--batch <list>').hideHelp())
  .option('--reps <n>', 'timed steps per case', '5')
  .option('--budget <s>', 'seconds at most per case', '60')
  .option('--width <x>', 'width multiplier of the 16/32/64 filters', '1')
  .option('--json <file>', 'also write the figures as JSON')
  .option('--vs-torch', 'the same nets and batches in PyTorch, beside the lab')
  .option('--torch-device <d>', 'cpu, cuda or auto', 'auto')
  .option('--degradation', 'time a preset on real CIFAR-10 to its verdict')
  .option('--preset <id>', `the preset --degradation runs: ${presetList()}`, 'classroom')
  .option('--stream-cost', 'the cost of streaming metrics to the page')
  .option('--data-load', 'the time to load and decode the data')
  .option('--main-thread', "the page's responsiveness while training (long tasks)")
  .option('--experiment <id>', `a whole preset's nets for --iterations (${presetList()})`)
  .option('--iterations <n>', 'iterations for --experiment', '50')
  .option('--seconds <s>', 'seconds of training for --main-thread', '20')
  .option('--python <path>', 'the Python with PyTorch', '/usr/bin/python3');
const { opts } = cliMain('bench', cmd, process.argv.slice(2));
const str = (k: string) => opts[k] as string;
const args = {
  backends: str('backends'),
  cases: str('cases'),
  batch: (opts.batch as string | undefined) ?? str('batchSize'),
  reps: str('reps'),
  budget: str('budget'),
  width: str('width'),
  json: opts.json as string | undefined,
  'vs-torch': opts.vsTorch === true,
  'torch-device': str('torchDevice'),
  degradation: opts.degradation === true,
  preset: str('preset'),
  'stream-cost': opts.streamCost === true,
  'data-load': opts.dataLoad === true,
  'main-thread': opts.mainThread === true,
  experiment: opts.experiment as string | undefined,
  iterations: str('iterations'),
  seconds: str('seconds'),
  python: str('python'),
};

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};
const fmt = (x: number | undefined, d = 0) => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));

function parseCase(name: string): { n: number; residual: boolean; label: string } {
  const m = /^(plain|resnet)-(\d+)$/.exec(name);
  if (!m || (Number(m[2]) - 2) % 6 !== 0) throw new Error(`--cases: "${name}" is not plain-<6n+2> or resnet-<6n+2>`);
  return { n: (Number(m[2]) - 2) / 6, residual: m[1] === 'resnet', label: m[1] === 'resnet' ? `ResNet-${m[2]}` : `plain-${m[2]}` };
}

interface TorchResult {
  ok: boolean;
  device?: string;
  imagesPerSec?: { median: number; min: number; max: number };
  warmupMs?: number;
  reason?: string;
}

function torchAvailable(python: string): string | null {
  const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__, torch.cuda.is_available())'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function runTorch(
  python: string,
  c: { n: number; residual: boolean },
  batch: number,
  reps: number,
  budget: number,
  width: number,
  device: string,
): TorchResult {
  const argv = [
    join(ROOT, 'bench/reference/torch_resnet.py'),
    '--n',
    String(c.n),
    '--batch',
    String(batch),
    '--reps',
    String(reps),
    '--budget',
    String(budget),
    '--width',
    String(width),
    '--device',
    device,
  ];
  if (!c.residual) argv.push('--plain');
  try {
    return JSON.parse(
      execFileSync(python, argv, { encoding: 'utf8', timeout: (budget + 120) * 1000 })
        .trim()
        .split('\n')
        .pop()!,
    ) as TorchResult;
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message.split('\n')[0] : String(err) };
  }
}

async function machine(page: Page, browserVersion: string) {
  const backend = await page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.state().backend);
  const adapter = await page
    .getByTestId('backend-adapter')
    .textContent()
    .catch(() => null);
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    browser: `Chromium ${browserVersion}`,
    tfjsBackend: backend,
    adapter,
    node: process.version,
    date: new Date().toISOString(),
  };
}

async function throughput(page: Page, out: Record<string, unknown>) {
  const backends = args.backends!.split(',').map((b) => b.trim()) as BenchSpec['backend'][];
  const cases = args.cases!.split(',').map((c) => parseCase(c.trim()));
  const batches = args.batch!.split(',').map(Number);
  const reps = Number(args.reps);
  const budgetMs = Number(args.budget) * 1000;
  const width = Number(args.width);
  const torch = args['vs-torch'] ? torchAvailable(args.python!) : null;
  if (args['vs-torch'] && !torch)
    console.log(`PyTorch is absent (${args.python} cannot import torch): install it with \`apt-get install -y python3-torch\`. Running the lab alone.\n`);
  const torchDevices = !torch ? [] : args['torch-device'] === 'auto' ? (torch.endsWith('True') ? ['cpu', 'cuda'] : ['cpu']) : [args['torch-device']!];
  const rows: Record<string, unknown>[] = [];
  const failed = new Map<string, string>();
  const tooSlow = new Map<string, string>();
  console.log('| backend | net | batch | img/s median (min–max) | warm-up s | timed steps | memory before → after | vs PyTorch |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const c of cases) {
    for (const batch of batches) {
      for (const backend of backends) {
        if (failed.has(backend)) continue;
        const spec: BenchSpec = { backend, n: c.n, residual: c.residual, width, batch, reps, budgetMs };
        const slow = tooSlow.get(backend);
        if (slow) {
          console.log(`| ${backend} | ${c.label} | ${batch} | skipped: ${slow} | | | | |`);
          rows.push({ backend, net: c.label, batch, ok: false, reason: `skipped: ${slow}` });
          continue;
        }
        const r: BenchResult = await page.evaluate((s) => (window as unknown as { labAutomation: LabAutomation }).labAutomation.bench(s), spec);
        if (!r.ok) {
          failed.set(backend, r.reason ?? 'unknown');
          console.log(`| ${backend} | ${c.label} | ${batch} | failed: ${r.reason} | | | | |`);
          rows.push({ backend, net: c.label, batch, ok: false, reason: r.reason });
          continue;
        }
        if (r.warmupMs! > budgetMs)
          tooSlow.set(
            backend,
            `the warm-up step of ${c.label} at batch ${batch} alone took ${(r.warmupMs! / 1000).toFixed(0)} s, over the ${args.budget} s budget`,
          );
        const ips = stats((r.stepMs!.length ? r.stepMs! : [r.warmupMs!]).map((ms) => (batch * 1000) / ms));
        const torchRuns =
          backend === backends[backends.length - 1] || backends.length === 1
            ? torchDevices.map((d) => ({ device: d, ...runTorch(args.python!, c, batch, reps, Number(args.budget), width, d) }))
            : [];
        const ratio = torchRuns
          .filter((t) => t.ok)
          .map((t) => `${(ips.median / t.imagesPerSec!.median).toFixed(2)}× of ${t.device} ${fmt(t.imagesPerSec!.median)} img/s`)
          .join('; ');
        const mem = `${(r.memoryBefore!.bytes / 2 ** 20).toFixed(0)} MB/${r.memoryBefore!.tensors} → ${(r.memoryAfter!.bytes / 2 ** 20).toFixed(0)} MB/${r.memoryAfter!.tensors}`;
        console.log(
          `| ${backend} | ${c.label} | ${batch} | ${fmt(ips.median, 1)} (${fmt(ips.min, 1)}–${fmt(ips.max, 1)}) | ${fmt(r.warmupMs! / 1000, 2)} | ${r.stepMs!.length} | ${mem} | ${ratio || (torchDevices.length ? 'torch failed' : '')} |`,
        );
        rows.push({
          backend,
          engine: r.engine,
          net: c.label,
          batch,
          width,
          imagesPerSec: ips,
          warmupMs: r.warmupMs,
          stepMs: r.stepMs,
          memoryBefore: r.memoryBefore,
          memoryAfter: r.memoryAfter,
          torch: torchRuns,
          gpu: r.gpu,
          macsPerImage: macsOf(c, width),
        });
      }
    }
  }
  for (const [b, why] of failed) console.log(`\n${b}: not measured: ${why}`);
  gpuQueueTable(rows);
  out.throughput = rows;
  out.torch = torch;
}

/** Multiply-adds of one forward pass per image (../src/core/nets.ts). */
function macsOf(c: { n: number; residual: boolean }, width: number): number {
  return multiplyAdds(cifarNet({ n: c.n, residual: c.residual, shortcut: 'A', width }));
}

/**
 * The lab WebGPU engine's rows again: its GPU queue per step (dispatches, submits, bytes of buffers
 * created: 0 after warm-up is the goal), the arithmetic rate that implies (a training step is about
 * 3 forward passes of multiply-adds, 2 FLOPs each), and its speed over tfjs WebGPU on the same
 * adapter and case.
 */
function gpuQueueTable(rows: Record<string, unknown>[]): void {
  type Row = { backend: string; net: string; batch: number; imagesPerSec?: { median: number }; gpu?: BenchResult['gpu']; macsPerImage?: number };
  const all = rows as Row[];
  const lab = all.filter((r) => r.backend === 'lab-webgpu' && r.gpu);
  if (!lab.length) return;
  console.log('\nLab WebGPU engine, per training step:');
  console.log('| net | batch | adapter | img/s | dispatches | submits | bytes created | GFLOP/s | vs tfjs webgpu |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of lab) {
    const ips = r.imagesPerSec!.median;
    const tfjs = all.find((t) => t.backend === 'webgpu' && t.net === r.net && t.batch === r.batch && t.imagesPerSec);
    const ratio = tfjs ? `${(ips / tfjs.imagesPerSec!.median).toFixed(1)}× (${fmt(tfjs.imagesPerSec!.median, 2)} img/s)` : 'not measured';
    const gflops = (ips * 6 * (r.macsPerImage ?? 0)) / 1e9;
    console.log(
      `| ${r.net} | ${r.batch} | ${r.gpu!.adapter} | ${fmt(ips, 1)} | ${fmt(r.gpu!.dispatchesPerStep)} | ${fmt(r.gpu!.submitsPerStep, 1)} | ${fmt(r.gpu!.bytesPerStep)} | ${fmt(gflops, 2)} | ${ratio} |`,
    );
  }
}

async function waitForData(page: Page) {
  await page.waitForFunction(
    () => {
      const s = (window as unknown as { labAutomation: LabAutomation }).labAutomation.state();
      return s.data === 'ready' || s.data === 'missing' || s.data === 'error';
    },
    null,
    { timeout: 300_000 },
  );
}

/** Run a preset as a user would (Start in the page) and time it, reporting progress. */
async function runPreset(
  page: Page,
  label: string,
): Promise<{ wallMs: number; series: Record<string, NetSeries>; nets: NetInfo[]; progress: Progress; status: string; iterations: number }> {
  await waitForData(page);
  const t0 = Date.now();
  await page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.start());
  let last = 0;
  for (;;) {
    await page.waitForTimeout(1000);
    const s = await page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.state());
    const p = s.run?.progress as Progress | null;
    if (p && Date.now() - last > 15_000) {
      last = Date.now();
      console.log(`  ${label}: iteration ${p.iteration}/${p.iterations}, ${p.imagesPerSec.toFixed(0)} img/s, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    if (s.run && (s.run.state === 'done' || s.run.state === 'failed' || s.run.state === 'stopped')) break;
  }
  const wallMs = Date.now() - t0;
  const file = await page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.runFile());
  if (!file) throw new Error('the run left no record');
  return { wallMs, series: file.series, nets: file.nets, progress: file.progress, status: file.status, iterations: file.config.iterations };
}

/** Start a config in the page (metrics streaming on or off), wait until the run ends, and return its run file. */
async function runToEnd(page: Page, config: Record<string, unknown>, stream: boolean) {
  await page.evaluate(([c, st]) => (window as unknown as { labAutomation: LabAutomation }).labAutomation.startWith(c as never, st as boolean), [
    config,
    stream,
  ] as const);
  await page.waitForFunction(
    () => ['done', 'failed', 'stopped'].includes((window as unknown as { labAutomation: LabAutomation }).labAutomation.state().run?.state ?? ''),
    null,
    { timeout: 3_600_000, polling: 500 },
  );
  return page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.runFile());
}

async function degradation(page: Page, out: Record<string, unknown>) {
  const r = await runPreset(page, args.preset!);
  const v = judgeDegradation({ status: r.status, iterations: r.iterations, nets: r.nets, series: r.series });
  console.log(`\n${args.preset} preset on real CIFAR-10: wall time ${(r.wallMs / 1000).toFixed(0)} s for ${r.progress.iterations} iterations`);
  console.log(`Verdict: ${OUTCOME_TEXT[v.outcome]} — ${v.reason}`);
  console.log(`\n| net | training error, iterations ${v.window[0] + 1}–${v.window[1]} % | final test error % |`);
  console.log('|---|---|---|');
  for (const f of v.finals) console.log(`| ${f.label} | ${fmt(100 * (f.error ?? NaN), 1)} | ${fmt(100 * (r.series[f.id].test.err.at(-1) ?? NaN), 1)} |`);
  out.degradation = {
    preset: args.preset,
    wallMs: r.wallMs,
    outcome: v.outcome,
    reason: v.reason,
    finals: v.finals.map((f) => ({ net: f.label, train: f.error, test: r.series[f.id].test.err.at(-1) })),
  };
}

/**
 * A whole preset, as users run it: all its nets, --iterations N, in the lab (the page's worker,
 * the engine and schedule `auto` picks), timed by the run's own training clock; with --vs-torch,
 * the same nets at the same batch size and width in PyTorch (bench/reference/torch_resnet.py, N
 * timed steps each), summed. Prints both wall times and the lab's speed relative to PyTorch.
 */
async function experimentBench(page: Page, out: Record<string, unknown>) {
  const preset = presetById(args.experiment!);
  if (!preset) throw new Error(`--experiment: "${args.experiment}" is not a preset`);
  const n = Number(args.iterations);
  const config = { ...preset.config, iterations: n, evalEvery: n };
  await waitForData(page);
  const file = await runToEnd(page, config, true);
  if (!file || file.status !== 'done') throw new Error(`the lab run did not finish: ${file?.status}`);
  const labS = file.progress.elapsedMs / 1000;
  const nets = netsOf(config);
  const images = nets.length * n * config.batchSize;
  console.log(
    `Lab (${file.backend}): ${nets.length} nets × ${n} iterations × batch ${config.batchSize} in ${labS.toFixed(1)} s = ${(images / labS).toFixed(0)} img/s`,
  );
  const row: Record<string, unknown> = { preset: preset.id, iterations: n, nets: nets.map((e) => e.id), engine: file.backend, labSeconds: labS };
  if (args['vs-torch']) {
    const version = torchAvailable(args.python!);
    if (!version) {
      console.log('PyTorch: not available (apt-get install -y python3-torch)');
    } else {
      let torchS = 0;
      for (const e of nets) {
        const r = runTorch(args.python!, { n: (e.depth - 2) / 6, residual: e.residual }, config.batchSize, n, 3600, config.width, 'cpu');
        if (!r.ok || !r.imagesPerSec) throw new Error(`PyTorch failed on ${e.id}: ${r.reason}`);
        const s = (n * config.batchSize) / r.imagesPerSec.median;
        torchS += s;
        console.log(`  PyTorch ${version.split(' ')[0]}: ${e.id} ${r.imagesPerSec.median.toFixed(0)} img/s → ${s.toFixed(1)} s`);
      }
      console.log(`PyTorch (CPU): the same nets and batches in ${torchS.toFixed(1)} s. Lab speed ÷ PyTorch speed = ${(torchS / labS).toFixed(2)}×`);
      Object.assign(row, { torchSeconds: torchS, ratio: torchS / labS, torch: version });
    }
  }
  out.experiment = row;
}

/**
 * The page's responsiveness while a preset trains: every main-thread task over 50 ms (the browser's
 * "long task") during --seconds of streaming, once the charts hold points. The goal is none over 100 ms.
 */
async function mainThread(page: Page, out: Record<string, unknown>) {
  await waitForData(page);
  await page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.start());
  await page.waitForFunction(() => Number(document.querySelector('[data-chart="curves"] .chart-panel')?.getAttribute('data-points') ?? 0) > 0, null, {
    timeout: 600_000,
    polling: 200,
  });
  await page.evaluate(() => {
    const w = window as unknown as { __tasks: number[] };
    w.__tasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__tasks.push(Math.round(e.duration));
    }).observe({ type: 'longtask', buffered: false });
  });
  const seconds = Number(args.seconds);
  await page.waitForTimeout(seconds * 1000);
  const tasks = await page.evaluate(() => (window as unknown as { __tasks: number[] }).__tasks);
  const state = await page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.state());
  await page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.stop());
  const longest = Math.max(0, ...tasks);
  console.log(
    `Main thread during ${seconds} s of the ${args.preset} preset (from iteration ${(state.run?.progress as Progress | null)?.iteration ?? '?'}): longest task ${longest} ms; ${tasks.length} tasks over 50 ms; ${tasks.filter((d) => d > 100).length} over 100 ms (goal: none)`,
  );
  console.log(`All tasks over 50 ms (ms): ${tasks.join(', ') || 'none'}`);
  out.mainThread = { preset: args.preset, seconds, longest, over50: tasks.length, over100: tasks.filter((d) => d > 100).length, tasks };
}

/**
 * Images/s of a 4-net experiment (plain and residual at n=1 and n=3, width 1, batch 32) with
 * metrics streaming to the page on and off, alternated twice so machine noise cancels.
 */
async function streamCost(page: Page, out: Record<string, unknown>) {
  await waitForData(page);
  const config = {
    depths: [8, 20],
    families: 'both',
    shortcuts: ['A'],
    width: 1,
    batchSize: 32,
    iterations: 60,
    evalEvery: 20,
    testSize: 200,
    trainSize: 10_000,
    augment: true,
    backend: 'auto',
  };
  const rows: { stream: boolean; imagesPerSec: number }[] = [];
  for (const stream of [true, false, true, false]) {
    const file = await runToEnd(page, config, stream);
    const images = file!.nets.length * config.iterations * config.batchSize;
    const ips = images / (file!.progress.elapsedMs / 1000);
    rows.push({ stream, imagesPerSec: ips });
    console.log(`  streaming ${stream ? 'on ' : 'off'}: ${ips.toFixed(1)} img/s (4 nets × ${config.iterations} iterations × batch ${config.batchSize})`);
  }
  const mean = (on: boolean) => rows.filter((r) => r.stream === on).reduce((s, r) => s + r.imagesPerSec, 0) / 2;
  console.log(`
Metrics streaming on: ${mean(true).toFixed(1)} img/s; off: ${mean(false).toFixed(1)} img/s; on/off = ${(mean(true) / mean(false)).toFixed(3)}`);
  out.streamCost = { rows, on: mean(true), off: mean(false) };
}

/** Time from opening the page to a loaded dataset: cold (from the server) and after a reload (from the cache). */
async function dataLoad(page: Page, out: Record<string, unknown>) {
  const timeLoad = async (reload: boolean) => {
    if (reload) await page.reload();
    await page.waitForFunction(() => (window as unknown as { labAutomation?: LabAutomation }).labAutomation?.state().data === 'ready', null, {
      timeout: 300_000,
      polling: 50,
    });
    const s = await page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.state());
    return { ms: s.dataReadyMs ?? NaN, source: s.dataSource };
  };
  // openLab already navigated: the first load is under way
  const cold = await timeLoad(false);
  const warm = await timeLoad(true);
  const count = await page.getByTestId('data-count').textContent();
  console.log(
    `Data load (${count}), from navigation start to a loaded dataset: cold ${(cold.ms / 1000).toFixed(2)} s (source: ${cold.source}); after a reload ${(warm.ms / 1000).toFixed(2)} s (source: ${warm.source})`,
  );
  out.dataLoad = { cold, warm, count };
}

async function main() {
  const needsData = args.degradation || args['stream-cost'] || args['data-load'] || args['main-thread'] || Boolean(args.experiment);
  const dataDir = needsData ? realDataDir() : null;
  if (needsData && !dataDir)
    throw new Error('--degradation, --stream-cost and --data-load need real CIFAR-10: set CIFAR10_DIR to a folder with data_batch_1.bin and test_batch.bin');
  const query = args.degradation || args['main-thread'] ? `preset=${args.preset}` : '';
  // the lab's own server serves the data when the build has it (npm run fetch-data); else the harness does
  const session = await openLab({
    query,
    dataDir: existsSync(join(ROOT, 'dist/data/cifar-10-batches-bin/manifest.json')) ? null : dataDir,
    log: (l) => console.log(l),
  });
  const out: Record<string, unknown> = {};
  try {
    out.machine = await machine(session.page, session.browserVersion);
    console.log(`Machine: ${JSON.stringify(out.machine)}\n`);
    if (args['data-load']) await dataLoad(session.page, out);
    if (!args.degradation && !args['stream-cost'] && !args['data-load'] && !args['main-thread'] && !args.experiment) await throughput(session.page, out);
    if (args.experiment) await experimentBench(session.page, out);
    if (args['main-thread']) await mainThread(session.page, out);
    if (args.degradation) await degradation(session.page, out);
    if (args['stream-cost']) await streamCost(session.page, out);
  } finally {
    await session.close();
  }
  const file = args.json ?? join(ROOT, 'bench/results', `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`\nJSON: ${file}`);
}

await main();
