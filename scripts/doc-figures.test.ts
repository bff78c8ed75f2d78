// Every figure in the docs that report measured runs is recomputed here from the committed run files,
// so a doc cannot drift from its data. A table of figures opens with a comment naming its runs:
//
//   <!-- figures: runs=docs/classroom-run/seed-{seed}/run.json -->
//   | seed | plain-8 | ResNet-8 | … | verdict | wall time |
//
// A column named by a net's label holds its final training error (the verdict's: the mean over the last
// 10% of iterations); "<label> test" its last test error; "verdict" the verdict of that run; "test verdict"
// whether its test error tells the same story (judgeTestStory; "–" where the training verdict is not both); "answer" the
// answers to its own questions (src/core/questions.ts); with a "net"
// column (a row per net), "it N" the net's running training error at iteration N and "full lr from" the
// first iteration it trained at the base rate. "seed", "net" and "wall time" (machine-dependent) are
// keys or left alone; any other column fails the test. Every table with a percentage in these docs must
// carry such a comment. Sentences that quote ranges are listed in CLAIMS with the computation behind them.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunFile } from '../src/core/runFile';
import { parseRunFile, runFileText } from '../src/core/runFile';
import { valueAt } from '../src/core/metrics';
import { OUTCOME_TEXT, finalErrors, judgeDegradation, judgeTestStory } from '../src/core/verdict';
import { QUESTION_OUTCOME_TEXT, judgeQuestions } from '../src/core/questions';

const ROOT = join(import.meta.dirname, '..');
const FIGURE_DOCS = ['docs/presets.md', 'docs/classroom-tuning.md', 'docs/verdict.md', 'docs/thousand-layers.md'];

const cache = new Map<string, RunFile>();
function runAt(path: string): RunFile {
  let run = cache.get(path);
  if (!run) {
    const file = join(ROOT, path);
    if (!existsSync(file)) throw new Error(`${path}: no such run file (commit the run.json a doc cites)`);
    cache.set(path, (run = parseRunFile(runFileText(path, readFileSync(file)))));
  }
  return run;
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);

/** A net's final training error (the verdict's window), by label. */
function finalOf(run: RunFile, label: string): number | null {
  const f = finalErrors({ iterations: run.config.iterations, nets: run.nets, series: run.series }).find((x) => x.label === label);
  if (!f) throw new Error(`no net labelled "${label}" in the run (${run.nets.map((n) => n.label).join(', ')})`);
  return f.error;
}

function verdictOf(run: RunFile) {
  return judgeDegradation({ status: run.status, iterations: run.config.iterations, nets: run.nets, series: run.series });
}

interface Table {
  doc: string;
  line: number;
  runs: string | null;
  header: string[];
  rows: string[][];
}

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((c) => c.trim().replace(/\*\*/g, ''));

function tables(doc: string): Table[] {
  const lines = readFileSync(join(ROOT, doc), 'utf8').split('\n');
  const out: Table[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith('|') || !lines[i + 1]?.startsWith('|---')) continue;
    const comment = lines[i - 1]?.match(/^<!-- figures: runs=(\S+) -->$/);
    const rows: string[][] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j].startsWith('|'); j++) rows.push(cells(lines[j]));
    out.push({ doc, line: i + 1, runs: comment ? comment[1] : null, header: cells(lines[i]), rows });
    i = j;
  }
  return out;
}

const IGNORED = new Set(['seed', 'net', 'wall time']);

/** Every cell of a figures table beside what its run file says. */
function check(t: Table): { where: string; doc: string; computed: string }[] {
  const out: { where: string; doc: string; computed: string }[] = [];
  const seedCol = t.header.indexOf('seed');
  const netCol = t.header.indexOf('net');
  for (const row of t.rows) {
    const run = runAt(t.runs!.replace('{seed}', row[seedCol]));
    t.header.forEach((h, c) => {
      if (IGNORED.has(h)) return;
      const where = `${t.doc}:${t.line} seed ${row[seedCol]}${netCol >= 0 ? ` ${row[netCol]}` : ''}, column "${h}"`;
      let computed: string;
      const at = h.match(/^it (\d+)$/);
      if (h === 'verdict') computed = OUTCOME_TEXT[verdictOf(run).outcome];
      else if (h === 'test verdict') {
        const story = judgeTestStory({ status: run.status, iterations: run.config.iterations, nets: run.nets, series: run.series }, run.config.trainSize);
        computed = story ? OUTCOME_TEXT[story.outcome] : '–';
      } else if (h === 'answer')
        computed = judgeQuestions({ status: run.status, iterations: run.config.iterations, nets: run.nets, series: run.series })
          .map((q) => QUESTION_OUTCOME_TEXT[q.outcome])
          .join('; ');
      else if (at || h === 'full lr from') {
        const n = run.nets.find((x) => x.label === row[netCol]);
        if (!n) throw new Error(`${where}: no net "${row[netCol]}"`);
        const s = run.series[n.id];
        computed = at
          ? pct(valueAt(s.train.it, s.train.runErr, Number(at[1])))
          : String(s.train.it.find((_, i) => s.train.lr[i] >= run.config.lr * 0.999) ?? '–');
      } else if (h.endsWith(' test')) {
        const n = run.nets.find((x) => x.label === h.slice(0, -' test'.length));
        if (!n) throw new Error(`${where}: no net "${h.slice(0, -5)}"`);
        computed = pct(run.series[n.id].test.err.at(-1));
      } else computed = pct(finalOf(run, h));
      out.push({ where, doc: row[c], computed });
    });
  }
  return out;
}

describe('the docs’ figures, recomputed from the committed run files', () => {
  for (const doc of FIGURE_DOCS) {
    it(`${doc}: every table of figures names its runs, and every figure matches them`, () => {
      const all = tables(doc);
      const unsourced = all.filter((t) => !t.runs && t.rows.some((r) => r.some((c) => /\d%/.test(c))));
      expect(
        unsourced.map((t) => `${doc}:${t.line}`),
        'tables of percentages without a <!-- figures: runs=… --> comment',
      ).toEqual([]);
      const checked = all.filter((t) => t.runs).flatMap(check);
      for (const c of checked) expect(c.doc, c.where).toBe(c.computed);
    });
  }

  it('the sentences that quote ranges say what the runs give', () => {
    for (const claim of CLAIMS) {
      const text = readFileSync(join(ROOT, claim.doc), 'utf8').replace(/\s+/g, ' ');
      expect(text.includes(claim.text()), `${claim.doc}: ${claim.what}: "${claim.text()}" is not in it`).toBe(true);
    }
  });
});

/** A range "a–b" of numbers, to one decimal. */
const range = (xs: number[], digits = 1) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
const seeds = [1, 2, 3];
/** Points as the tables print them: each figure rounded to 0.1 first, so a quoted gap is the gap of two table cells. */
const points = (x: number) => 100 * x;
const gap = (a: number | null, b: number | null) => Number((100 * a!).toFixed(1)) - Number((100 * b!).toFixed(1));

/** Sentences with computed numbers: each is found, word for word, in its doc. */
const CLAIMS: { doc: string; what: string; text: () => string }[] = [
  {
    doc: 'docs/classroom-tuning.md',
    what: 'the Classroom runs: plain-56 above plain-8, in points',
    text: () =>
      `plain-56 is ${range(['seed', 'heldout'].flatMap((h) => seeds.map((s) => classroomRun(h, s))).map((r) => gap(finalOf(r, 'plain-56'), finalOf(r, 'plain-8'))))} points above plain-8`,
  },
  {
    doc: 'docs/classroom-tuning.md',
    what: 'the Classroom runs: ResNet-56 below plain-56, in points',
    text: () =>
      `ResNet-56 is ${range(['seed', 'heldout'].flatMap((h) => seeds.map((s) => classroomRun(h, s))).map((r) => gap(finalOf(r, 'plain-56'), finalOf(r, 'ResNet-56'))))} points below plain-56`,
  },
  {
    doc: 'docs/presets.md',
    what: 'warmup110: how much worse lr 0.1 from the start ended',
    text: () =>
      `ended ${range(seeds.map((s) => runAt(`docs/presets/warmup110/seed-${s}/run.json`)).map((r) => gap(finalOf(r, 'ResNet-110, warmup off'), finalOf(r, 'ResNet-110, warmup paper'))))} points worse`,
  },
  {
    doc: 'docs/presets.md',
    what: 'warmup110: the running error of lr 0.1 from the start at iteration 100',
    text: () =>
      `still ${range(
        seeds.map((s) => {
          const r = runAt(`docs/presets/warmup110/seed-${s}/run.json`);
          const n = r.nets.find((x) => x.label === 'ResNet-110, warmup off')!;
          return points(valueAt(r.series[n.id].train.it, r.series[n.id].train.runErr, 100)!);
        }),
      )}% at iteration 100`,
  },
  {
    doc: 'docs/presets.md',
    what: 'bottleneck: ResNet-32 below ResNet-47 bottleneck',
    text: () =>
      `ended ${range(seeds.map((s) => runAt(`docs/presets/bottleneck/seed-${s}/run.json`)).map((r) => gap(finalOf(r, 'ResNet-47 bottleneck (B)'), finalOf(r, 'ResNet-32 (B)'))))} points below ResNet-47 bottleneck`,
  },
  {
    doc: 'docs/classroom-tuning.md',
    what: 'the Classroom runs: the final test errors',
    text: () =>
      `The test errors (not judged) are ${range(
        ['seed', 'heldout'].flatMap((h) => seeds.map((s) => classroomRun(h, s))).flatMap((r) => r.nets.map((n) => points(r.series[n.id].test.err.at(-1)!))),
        0,
      )}%`,
  },
  {
    doc: 'docs/presets.md',
    what: 'highway: Highway-56 above Highway-20 at bias −2',
    text: () =>
      `Highway-56 (gate bias -2) ended ${range(seeds.map((s) => runAt(`docs/presets/highway/seed-${s}/run.json`)).map((r) => gap(finalOf(r, 'Highway-56 (gate bias -2)'), finalOf(r, 'Highway-20 (gate bias -2)'))))} points above Highway-20`,
  },
  {
    doc: 'docs/presets.md',
    what: 'shortcuts: the spread of A, B and C, and their gap to plain-20',
    text: () => {
      const runs = seeds.map((s) => runAt(`docs/presets/shortcuts/seed-${s}/run.json`));
      const res = ['ResNet-20', 'ResNet-20 (B)', 'ResNet-20 (C)'];
      const spread = runs.map((r) => Math.max(...res.map((l) => gap(finalOf(r, l), 0))) - Math.min(...res.map((l) => gap(finalOf(r, l), 0))));
      const below = runs.flatMap((r) => res.map((l) => gap(finalOf(r, 'plain-20'), finalOf(r, l))));
      return `ended within ${range(spread)} points of each other and ${range(below, 0)} points below plain-20`;
    },
  },
  ...(['docs/presets.md', 'README.md'] as const).flatMap((doc) => [
    {
      doc,
      what: 'full: plain-56 above plain-8 in test error, in points',
      text: () => `plain-56 tests ${range(fullRuns().map((r) => gap(testOf(r, 'plain-56'), testOf(r, 'plain-8'))))} points above plain-8`,
    },
    {
      doc,
      what: 'full: ResNet-56 below ResNet-8 in test error, in points',
      text: () => `ResNet-56 ${range(fullRuns().map((r) => gap(testOf(r, 'ResNet-8'), testOf(r, 'ResNet-56'))))} points below ResNet-8`,
    },
  ]),
  {
    doc: 'docs/presets.md',
    what: 'full: plain-56 above plain-8 in training error, in points',
    text: () => `plain-56 ends ${range(fullRuns().map((r) => gap(finalOf(r, 'plain-56'), finalOf(r, 'plain-8'))))} points above plain-8 in training error`,
  },
  {
    doc: 'docs/presets.md',
    what: 'full: ResNet-56 below ResNet-8 in training error, in points',
    text: () => `ResNet-56 ends ${range(fullRuns().map((r) => gap(finalOf(r, 'ResNet-8'), finalOf(r, 'ResNet-56'))))} points below ResNet-8 in training error`,
  },
  {
    doc: 'docs/presets.md',
    what: 'full: plain-8 and ResNet-8 apart, in points',
    text: () => `within ${range(fullRuns().map((r) => Math.abs(gap(finalOf(r, 'plain-8'), finalOf(r, 'ResNet-8')))))} points of each other in training error`,
  },
];

/** The Full lesson's six recorded runs: seeds 1–3 on each half of data_batch_1. */
function fullRuns(): RunFile[] {
  return ['', 'heldout/'].flatMap((half) => seeds.map((s) => runAt(`docs/presets/full/${half}seed-${s}/run.json.gz`)));
}

/** A net's last test error, by label. */
function testOf(run: RunFile, label: string): number {
  const net = run.nets.find((n) => n.label === label);
  if (!net) throw new Error(`no net labelled "${label}" in the run`);
  return run.series[net.id].test.err.at(-1)!;
}

function classroomRun(half: string, seed: number): RunFile {
  return runAt(half === 'seed' ? `docs/classroom-run/seed-${seed}/run.json` : `docs/classroom-run/heldout/seed-${seed}/run.json`);
}
