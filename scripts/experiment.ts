// npm run experiment: run a lab experiment headless, with the lab's own worker code in Chromium,
// and write what the page shows: run.json, metrics.csv, the paper-style charts (PNG 2× and SVG)
// and summary.md with a verdict.
//
//   npm run experiment -- --preset classroom --data <dir of .bin files> --out <dir>
//   npm run experiment -- --config run.json --out <dir>          (a config, or a run the lab exported)
//   npm run experiment -- --link 'http://localhost:5173/?depths=20,56&…' --out <dir>
//   Every setting is a flag named as in the page's URL (a share link's settings run unchanged):
//   --depths 20,56 --families plain,residual,highway --shortcuts A,B --blocks basic,bottleneck
//   --warmup off,paper --gate-bias -2 --lr 0.1 --batch-size 128 --iterations 2000 --train-size 10000
//   --test-size 1000 --split test --augment on --width 1 --eval-every 100 --seed 1 --backend auto
//   (older names still read: --iters, --train, --test, --aug, --eval, --batch, --gatebias, …);
//   npm run experiment -- --help lists every flag with its range and default
//   --seeds 1,2,3: one run per seed (each in <out>/seed-N), and one summary.md with a row per seed
//   --expect-degradation=both: exit 1 unless every seed shows both halves of Fig. 6;
//   --expect-degradation=plain: exit 1 unless every seed shows at least the plain half
//   --expect-as-paper: exit 1 unless every seed answers each of the run's own questions (src/core/questions.ts) as the
//   paper did (the Thousand layers preset: plain-1202 at chance, ResNet-1202 at least 30 points below it)
//   --landscape plain-56,resnet-56: after training, those nets' 2-D loss landscapes (src/core/landscape.ts; --landscape-grid
//   N, --landscape-sample N) as landscape.json, landscape.png/.svg, landscape-path.png/.svg (every net's path from initialisation) and
//   landscape-identity.png/.svg (‖F(x)‖/‖x‖ per block); --expect-smoother: exit 1 unless, in every seed,
//   the residual surface is the smoother (the smaller step ratio: docs/landscape.md)
//   --export-torch DIR: write the experiment as a PyTorch job instead (script, config.json, README.md;
//   README "Full scale"), to train at full scale on a GPU and import the run file it writes
//   --charts-of RUN.json [RUN.json …]: no training: import each finished run into the page and write its
//   charts (PNG 2× and SVG) beside it, with the captions the page computes now
// The verdict is src/core/verdict.ts, the same judge as the page's summary.
// Ctrl-C stops the run cleanly and writes what was recorded.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import type { ExperimentConfig } from '../src/core/config';
import { configToQuery, validateConfig } from '../src/core/config';
import { realDataDir } from '../src/node/realData';
import type { Progress } from '../src/core/metrics';
import { TORCH_SCRIPT_NAME, torchExport } from '../src/core/torchExport';
import type { RunFile } from '../src/core/runFile';
import type { LabAutomation } from '../src/ui/automation';
import type { Verdict } from '../src/core/verdict';
import { OUTCOME_TEXT, VERDICT_RULES, finalErrors, judgeDegradation, judgeTestStory } from '../src/core/verdict';
import { QUESTION_OUTCOME_TEXT, QUESTION_TEXT, comparisonText, judgeQuestions, showsFig6 } from '../src/core/questions';
import { openLab } from './labBrowser';
import type { RunLandscape } from '../src/core/landscape';
import { lossGrid, smoother, stepRatio } from '../src/core/landscape';
import { CliError, cliMain } from './cli';
import { configFromCli, experimentCommand } from './experimentCli';

const { opts, args: positionals } = cliMain('experiment', experimentCommand(), process.argv.slice(2));
/** The runner's own options (commander's names: camel case); the settings are read by buildConfig. */
const args = opts as {
  preset?: string;
  data?: string;
  out?: string;
  seeds?: string;
  quiet?: boolean;
  exportTorch?: string;
  chartsOf?: boolean;
  expectDegradation?: 'both' | 'plain';
  expectAsPaper?: boolean;
  landscape?: string;
  landscapeGrid?: string;
  landscapeSample?: string;
  expectSmoother?: boolean;
};

function fail(message: string, code = 2): never {
  console.error(`experiment: ${message}`);
  process.exit(code);
}

/** The config: a preset, a file or a link as the base, then every setting given as a flag (scripts/experimentCli.ts). */
export function buildConfig(): ExperimentConfig {
  try {
    const { config, notes } = configFromCli(opts, (path) => readFileSync(path, 'utf8'));
    for (const n of notes) console.error(`experiment: note: ${n}`);
    return config;
  } catch (err) {
    if (err instanceof CliError) fail(err.message);
    throw err;
  }
}

const state = (page: Page) => page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.state());
const fmtTime = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? '–' : `${Math.floor(ms / 60000)}:${String(Math.round((ms % 60000) / 1000)).padStart(2, '0')}`;

function metricsCsv(run: RunFile): string {
  const lines = ['net,label,iteration,loss,train_error,running_train_error,lr,test_error,test_loss'];
  for (const n of run.nets) {
    const s = run.series[n.id];
    const test = new Map(s.test.it.map((it, i) => [it, i]));
    const its = [...new Set([...s.train.it, ...s.test.it])].sort((a, b) => a - b);
    const train = new Map(s.train.it.map((it, i) => [it, i]));
    for (const it of its) {
      const i = train.get(it);
      const j = test.get(it);
      lines.push(
        [
          n.id,
          n.label,
          it,
          i !== undefined ? s.train.loss[i] : '',
          i !== undefined ? s.train.err[i] : '',
          i !== undefined ? s.train.runErr[i] : '',
          i !== undefined ? s.train.lr[i] : '',
          j !== undefined ? s.test.err[j] : '',
          j !== undefined ? s.test.loss[j] : '',
        ].join(','),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

function verdictOf(run: RunFile): Verdict {
  return judgeDegradation({ status: run.status, iterations: run.config.iterations, nets: run.nets, series: run.series });
}

/** The run's own questions, judged (src/core/questions.ts). */
const judgedQuestions = (run: RunFile) => judgeQuestions({ status: run.status, iterations: run.config.iterations, nets: run.nets, series: run.series });

/** The run's own questions, a line each with its comparisons. */
function questionLines(run: RunFile): string[] {
  const label = (id: string) => run.nets.find((n) => n.id === id)?.label ?? id;
  return judgedQuestions(run).map(
    (q) =>
      `**${QUESTION_TEXT[q.kind]} ${QUESTION_OUTCOME_TEXT[q.outcome]}**${q.comparisons.length ? ` — ${q.comparisons.map((c) => `${c.holds ? '✓' : '✗'} ${comparisonText(c, label)}`).join('; ')}` : ''}.`,
  );
}

/** The verdict's fourth line: does test error tell the same story (judgeTestStory)? */
function testStoryLine(run: RunFile): string[] {
  const story = judgeTestStory({ status: run.status, iterations: run.config.iterations, nets: run.nets, series: run.series }, run.config.trainSize);
  if (!story) return [];
  if (story.outcome === 'both') return ["**Test error tells the same story** (the same rules, on each net's test error).", ''];
  const failed = story.checks.filter((c) => !c.holds).map((c) => c.detail);
  const why = story.memorised ? ` ${run.config.trainSize.toLocaleString('en')} training images are memorised: test error says little about depth here.` : '';
  return [`**Test error does not tell the same story** — ${failed.join('; ')}.${why}`, ''];
}

/** summary.md of one run: the verdict with its reason, then a row per net. */
function summaryMd(run: RunFile, wallMs: number): string {
  const verdict = verdictOf(run);
  const questions = questionLines(run);
  const finals = new Map(finalErrors({ iterations: run.config.iterations, nets: run.nets, series: run.series }).map((f) => [f.id, f.error]));
  const rows = run.nets.map((n) => {
    const s = run.series[n.id];
    return `| ${n.label} | ${n.params.toLocaleString('en')} | ${pct(finals.get(n.id))} | ${pct(s.test.err.at(-1))} | ${n.status}${n.divergedAt !== null ? ` at ${n.divergedAt}` : ''} |`;
  });
  return [
    `# ${run.name}`,
    '',
    ...(showsFig6(run.nets, judgedQuestions(run)) ? [`**Verdict: ${OUTCOME_TEXT[verdict.outcome]}** — ${verdict.reason}.`, ''] : []),
    ...testStoryLine(run),
    ...questions.flatMap((l) => [l, '']),
    `- Engine: ${run.backend}`,
    `- Data: ${run.dataset}`,
    `- Iterations: ${run.progress.iteration} of ${run.progress.iterations}; wall time ${(wallMs / 1000).toFixed(0)} s; ${run.progress.imagesPerSec.toFixed(0)} images/s at the end`,
    `- Judged on the mean mini-batch training error over iterations ${verdict.window[0] + 1}–${verdict.window[1]} (the last ${100 * VERDICT_RULES.window}%)`,
    `- Config: \`${configToQuery(run.config)}\``,
    '',
    `| net | parameters | training error, last ${100 * VERDICT_RULES.window}% | final test error | status |`,
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** The summary of several seeds: one row per seed with every net's error, the verdict and the wall time. */
function seedsMd(results: { seed: number; run: RunFile; wallMs: number }[]): string {
  const finalsOf = (run: RunFile) => finalErrors({ iterations: run.config.iterations, nets: run.nets, series: run.series });
  const labels = finalsOf(results[0].run).map((f) => f.label);
  // Fig. 6's verdict where the run asks it, else the answers to its own questions (src/core/questions.ts)
  const fig6 = showsFig6(results[0].run.nets, judgedQuestions(results[0].run));
  const lines = [
    `# ${results[0].run.name}: seeds ${results.map((r) => r.seed).join(', ')}`,
    '',
    `Mean mini-batch training error over the last ${100 * VERDICT_RULES.window}% of iterations, and the verdict of each seed`,
    `(src/core/verdict.ts, docs/verdict.md; each block type and warmup variant judged on its own; margins as fractions of the scale s, the shallowest plain net's error, at least ${100 * VERDICT_RULES.scaleFloor}%:`,
    `plain degrades — deepest plain ≥ ${VERDICT_RULES.plainGap}·s above the shallowest, no deeper plain net more than ${VERDICT_RULES.plainSlack}·s below a shallower one;`,
    `residual does not — deepest ResNet at or below the shallowest, no deeper ResNet more than ${VERDICT_RULES.residualSlack}·s above a shallower one;`,
    `and the ResNet of the deepest plain net's depth ≥ ${VERDICT_RULES.fixGap}·s below it).`,
    '',
    `| seed | ${labels.join(' | ')} | ${fig6 ? 'verdict' : 'answer'} | wall time |`,
    `|---|${labels.map(() => '---|').join('')}---|---|`,
  ];
  for (const r of results) {
    const v = verdictOf(r.run);
    const answer = fig6
      ? OUTCOME_TEXT[v.outcome]
      : judgedQuestions(r.run)
          .map((q) => QUESTION_OUTCOME_TEXT[q.outcome])
          .join('; ');
    lines.push(
      `| ${r.seed} | ${finalsOf(r.run)
        .map((f) => pct(f.error))
        .join(' | ')} | ${answer} | ${(r.wallMs / 1000).toFixed(0)} s |`,
    );
  }
  lines.push(
    '',
    `- Engine: ${results[0].run.backend}`,
    `- Data: ${results[0].run.dataset}`,
    `- Config (seed aside): \`${configToQuery(results[0].run.config)}\``,
    '',
  );
  for (const r of results) lines.push(`- Seed ${r.seed}: ${verdictOf(r.run).reason}.`);
  for (const r of results) for (const q of questionLines(r.run)) lines.push(`- Seed ${r.seed}: ${q}`);
  lines.push('');
  return lines.join('\n');
}

let interrupted = false;

/** One run of one config in the page: writes run.json, metrics.csv, the charts and summary.md into `out`. */
async function runOnce(config: ExperimentConfig, dataDir: string, out: string): Promise<{ run: RunFile; wallMs: number; landscape?: RunLandscape }> {
  mkdirSync(out, { recursive: true });
  const session = await openLab({ query: configToQuery(config), dataDir, log: (l) => console.error(l) });
  const { page } = session;
  process.once('SIGINT', () => {
    interrupted = true;
    console.error('\nexperiment: stopping (Ctrl-C) — keeping what was recorded…');
    void page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.stop()).catch(() => undefined);
  });
  try {
    await page.waitForFunction(
      () => ['ready', 'missing', 'error'].includes((window as unknown as { labAutomation: LabAutomation }).labAutomation.state().data),
      null,
      { timeout: 300_000 },
    );
    const s0 = await state(page);
    if (s0.data !== 'ready') fail(`the lab could not load the data in ${dataDir} (${s0.data})`, 3);
    const t0 = Date.now();
    await page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.start());
    let lastPrint = 0;
    for (;;) {
      await page.waitForTimeout(500);
      const s = await state(page);
      const run = s.run;
      if (!run) continue;
      const p = run.progress as Progress | null;
      if (p && !args.quiet && Date.now() - lastPrint > (process.stderr.isTTY ? 1000 : 10_000)) {
        lastPrint = Date.now();
        const errs = Object.entries(run.runningError)
          .map(([label, e]) => `${label} ${e === null ? '–' : `${(100 * e).toFixed(1)}%`}`)
          .join(' · ');
        const line = `it ${p.iteration}/${p.iterations} · ${p.imagesPerSec.toFixed(0)} img/s · ETA ${fmtTime(p.etaMs)} · ${errs}`;
        if (process.stderr.isTTY) process.stderr.write(`\r${line.slice(0, (process.stderr.columns || 160) - 1).padEnd((process.stderr.columns || 160) - 1)}`);
        else console.error(line);
      }
      if (['done', 'stopped', 'failed'].includes(run.state)) {
        if (process.stderr.isTTY) process.stderr.write('\n');
        if (run.state === 'failed') console.error(`experiment: the run failed: ${run.message ?? 'unknown error'}`);
        break;
      }
    }
    const wallMs = Date.now() - t0;
    const run = await page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.runFile());
    if (!run) fail('the run left no record', 3);
    writeFileSync(join(out, 'run.json'), JSON.stringify(run));
    writeFileSync(join(out, 'metrics.csv'), metricsCsv(run));
    const charts = await writeCharts(page, out);
    const text = summaryMd(run, wallMs);
    writeFileSync(join(out, 'summary.md'), text);
    console.log(text);
    console.log(`Wrote run.json, metrics.csv, summary.md and ${charts.length} charts (PNG 2× and SVG) to ${out}`);
    const landscape = args.landscape ? await writeLandscape(page, out, args.landscape.split(',')) : undefined;
    return { run, wallMs, landscape };
  } finally {
    await session.close();
  }
}

/** The page's four paper-style charts as PNG (2×) and SVG, and charts.json listing them, into `out`. */
async function writeCharts(page: Page, out: string): Promise<{ file: string; width: number; height: number }[]> {
  const charts: { file: string; width: number; height: number }[] = [];
  await page.waitForTimeout(500); // let the charts draw the last points
  for (const id of ['curves', 'summary', 'layer-std', 'grad-norm']) {
    const svg = await page.evaluate((c) => (window as unknown as { labAutomation: LabAutomation }).labAutomation.exportChart(c, 'svg'), id);
    const png = await page.evaluate((c) => (window as unknown as { labAutomation: LabAutomation }).labAutomation.exportChart(c, 'png'), id);
    writeFileSync(join(out, `${id}.svg`), svg);
    writeFileSync(join(out, `${id}.png`), Buffer.from(png, 'base64'));
    const m = /width="(\d+)" height="(\d+)"/.exec(svg)!;
    charts.push({ file: `${id}.png`, width: 2 * Number(m[1]), height: 2 * Number(m[2]) });
  }
  writeFileSync(join(out, 'charts.json'), `${JSON.stringify(charts, null, 2)}\n`);
  return charts;
}

/** --landscape: the nets' loss landscapes and every net's path from initialisation, computed in the page (as its button does), written as landscape.json and the two panels as PNG 2× and SVG. */
async function writeLandscape(page: Page, out: string, nets: string[]): Promise<RunLandscape> {
  const ask = {
    ...(args.landscapeGrid ? { grid: Number(args.landscapeGrid) } : {}),
    ...(args.landscapeSample ? { sample: Number(args.landscapeSample) } : {}),
  };
  const t0 = Date.now();
  const landscape = await page
    .evaluate(([n, a]) => (window as unknown as { labAutomation: LabAutomation }).labAutomation.landscape(n, a), [nets.map((x) => x.trim()), ask] as const)
    .catch((err: unknown) => fail(`--landscape: ${err instanceof Error ? err.message.replace(/^.*Error: /s, '') : String(err)}`, 3));
  writeFileSync(join(out, 'landscape.json'), JSON.stringify(landscape));
  await page.waitForTimeout(300); // let the panel draw its last row
  // the path and ‖F(x)‖/‖x‖ cards are drawn only where they have data (a run without shortcuts has no ‖F(x)‖/‖x‖)
  const drawn = await page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.charts());
  for (const id of ['landscape', 'landscape-path', 'landscape-identity'].filter((c) => drawn.includes(c))) {
    const svg = await page.evaluate((c) => (window as unknown as { labAutomation: LabAutomation }).labAutomation.exportChart(c, 'svg'), id);
    const png = await page.evaluate((c) => (window as unknown as { labAutomation: LabAutomation }).labAutomation.exportChart(c, 'png'), id);
    writeFileSync(join(out, `${id}.svg`), svg);
    writeFileSync(join(out, `${id}.png`), Buffer.from(png, 'base64'));
  }
  for (const n of landscape.nets)
    console.log(
      `landscape ${n.label}: step ratio ${stepRatio(lossGrid(n)).toFixed(2)} · ${landscape.grid}×${landscape.grid} points on ${landscape.sample} images in ${n.seconds.toFixed(0)} s`,
    );
  console.log(
    `Wrote landscape.json and the landscape, landscape-path and landscape-identity charts (PNG 2× and SVG) to ${out} (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
  );
  return landscape;
}

/** Whether a landscape shows the residual surface the smoother: its plain and residual nets' step ratios (null without both). */
function smootherOf(run: RunFile, l: RunLandscape | undefined): ReturnType<typeof smoother> | null {
  const fam = (f: string) => l?.nets.find((n) => run.nets.some((i) => i.id === n.id && (i.family ?? (i.residual ? 'residual' : 'plain')) === f));
  const plain = fam('plain');
  const res = fam('residual');
  return plain && res ? smoother(plain, res) : null;
}

/** --charts-of: redraw the charts of finished runs (after a caption or chart change), without training. */
async function chartsOf(files: string[]): Promise<void> {
  const session = await openLab({ log: (l) => console.error(l) });
  try {
    for (const file of files) {
      await session.page.getByTestId('import-run-input').setInputFiles(resolve(file));
      await session.page.waitForFunction(
        () => ['done', 'stopped', 'failed'].includes((window as unknown as { labAutomation: LabAutomation }).labAutomation.state().run?.state ?? ''),
        null,
        { timeout: 60_000 },
      );
      const charts = await writeCharts(session.page, dirname(resolve(file)));
      console.log(`${file}: wrote ${charts.map((c) => c.file).join(', ')} (and SVG)`);
    }
  } finally {
    await session.close();
  }
}

/** --export-torch DIR: the experiment as a PyTorch job (src/core/torchExport.ts), instead of running it here. */
function exportTorch(config: ExperimentConfig, dir: string): void {
  const script = readFileSync(new URL('../bench/reference/lab_train.py', import.meta.url), 'utf8');
  const { files } = torchExport(config, script, args.preset ? `The ${args.preset} preset` : 'A lab experiment');
  mkdirSync(dir, { recursive: true });
  for (const f of files) writeFileSync(join(dir, f.name), f.text);
  console.log(
    `wrote ${files.map((f) => join(dir, f.name)).join(', ')}\nrun: cd ${dir} && python3 ${TORCH_SCRIPT_NAME} --config config.json --data <CIFAR-10 binary folder>`,
  );
}

async function main() {
  if (args.chartsOf) return chartsOf(positionals.length ? positionals : fail('--charts-of needs run files: --charts-of seed-1/run.json …'));
  if (positionals.length) fail(`unexpected argument ${positionals[0]} (run files go after --charts-of)`);
  const config = buildConfig();
  if (args.exportTorch) return exportTorch(config, resolve(args.exportTorch));
  const out = resolve(args.out ?? fail('--out <dir> is required'));
  const dataDir = args.data ? resolve(args.data) : realDataDir();
  if (!dataDir) fail('no data: pass --data <folder of CIFAR-10 .bin files> (or set CIFAR10_DIR)');
  const expect = args.expectDegradation;
  let seeds = [config.seed];
  if (args.seeds !== undefined) {
    const v = args.seeds.split(',').map((x) => validateConfig({ seed: x.trim() }, config));
    const bad = v.flatMap((r) => r.issues.filter((i) => i.level === 'error'));
    if (bad.length || v.length === 0) fail(`--seeds ${args.seeds}: ${bad.map((b) => b.message.replace(/^seed: /, '')).join('; ') || 'no seed given'}`);
    seeds = v.map((r) => r.config.seed);
  }
  if (args.expectSmoother && !args.landscape) fail('--expect-smoother needs --landscape (a plain and a residual net: --landscape plain-56,resnet-56)');
  const results: { seed: number; run: RunFile; wallMs: number; landscape?: RunLandscape }[] = [];
  for (const seed of seeds) {
    const dir = seeds.length > 1 ? join(out, `seed-${seed}`) : out;
    results.push({ seed, ...(await runOnce({ ...config, seed }, dataDir, dir)) });
    if (interrupted) break;
  }
  if (seeds.length > 1) {
    const text = seedsMd(results);
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'summary.md'), text);
    console.log(text);
  }
  const outcomes = results.map((r) => verdictOf(r.run).outcome);
  if (interrupted) process.exitCode = 130;
  else if (expect === 'both' && (outcomes.length < seeds.length || outcomes.some((o) => o !== 'both'))) process.exitCode = 1;
  else if (expect === 'plain' && (outcomes.length < seeds.length || outcomes.some((o) => o === 'not-shown'))) process.exitCode = 1;
  else if (args.expectSmoother) {
    const verdicts = results.map((r) => smootherOf(r.run, r.landscape));
    for (const [i, v] of verdicts.entries())
      console.log(
        `seed ${results[i].seed}: ${v ? `step ratio plain ${v.plain.toFixed(2)}, residual ${v.residual.toFixed(2)}: the residual surface is ${v.residualSmoother ? '' : 'not '}the smoother` : 'no plain and residual pair in --landscape'}`,
      );
    if (results.length < seeds.length || verdicts.some((v) => !v?.residualSmoother)) process.exitCode = 1;
  } else if (args.expectAsPaper) {
    const answers = results.map((r) => judgedQuestions(r.run));
    if (results.length < seeds.length || answers.some((qs) => qs.length === 0 || qs.some((q) => q.outcome !== 'as-paper'))) process.exitCode = 1;
  }
}

await main();
