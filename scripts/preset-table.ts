// The rows of a preset's table in docs/presets.md, from its run files: per seed each net's final training
// error (the verdict's window), the verdict, each net's last test error, whether the test error tells the
// same story, and the wall time (the runner's, from the summary.md beside each run file: start to end,
// evaluations included). scripts/doc-figures.test.ts recomputes every cell from the same files.
//   npx tsx scripts/preset-table.ts docs/presets/full/seed-{1,2,3}/run.json.gz
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseRunFile, runFileText } from '../src/core/runFile';
import { OUTCOME_TEXT, finalErrors, judgeDegradation, judgeTestStory } from '../src/core/verdict';

const files = process.argv.slice(2);
if (files.length === 0) throw new Error('give run files: npx tsx scripts/preset-table.ts seed-1/run.json …');
const pct = (x: number | null | undefined) => (x === null || x === undefined ? '–' : `${(100 * x).toFixed(1)}%`);
const wallTime = (file: string) => {
  const summary = join(dirname(file), 'summary.md');
  return existsSync(summary) ? (/wall time (\d+) s/.exec(readFileSync(summary, 'utf8'))?.[1] ?? '–') : '–';
};
const runs = files.map((f) => ({ file: f, run: parseRunFile(runFileText(f, readFileSync(f))) }));
const labels = runs[0].run.nets.map((n) => n.label);
const train: string[] = [`| seed | ${labels.join(' | ')} | verdict | wall time |`, `|---|${labels.map(() => '---|').join('')}---|---|`];
const test: string[] = [`| seed | ${labels.map((l) => `${l} test`).join(' | ')} | test verdict |`, `|---|${labels.map(() => '---|').join('')}---|`];
for (const { file, run } of runs) {
  const judged = { status: run.status, iterations: run.config.iterations, nets: run.nets, series: run.series };
  const finals = finalErrors(judged);
  const story = judgeTestStory(judged, run.config.trainSize);
  const seed = run.config.seed;
  train.push(
    `| ${seed} | ${labels.map((l) => pct(finals.find((f) => f.label === l)?.error)).join(' | ')} | ${OUTCOME_TEXT[judgeDegradation(judged).outcome]} | ${wallTime(file)} s |`,
  );
  test.push(
    `| ${seed} | ${labels.map((l) => pct(run.series[run.nets.find((n) => n.label === l)!.id].test.err.at(-1))).join(' | ')} | ${story ? OUTCOME_TEXT[story.outcome] : '–'} |`,
  );
}
console.log([...train, '', ...test].join('\n'));
