// Each net's running training error (mean over the last 50 mini-batches) at chosen iterations, from
// run files (`npm run experiment` writes them): how the nets of a run got where they ended.
//   npx tsx scripts/run-table.ts --at 100,200,400,1000 docs/presets/warmup110/seed-*/run.json
// It also says from which iteration each net trained at the full learning rate (where the paper's
// warmup ended), and for highway nets the mean gate value T over their blocks, first and last evaluation.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseRunFile, runFileText } from '../src/core/runFile';
import { valueAt } from '../src/core/metrics';

const { values: a, positionals: files } = parseArgs({ options: { at: { type: 'string', default: '100,200,400,1000' } }, allowPositionals: true });
if (files.length === 0) throw new Error('give run files: npx tsx scripts/run-table.ts --at 100,200 run.json …');
const at = a.at!.split(',').map(Number);
const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
console.log(`| run | net | ${at.map((i) => `it ${i}`).join(' | ')} | full lr from | mean gate T |`);
console.log(`|---|---|${at.map(() => '---|').join('')}---|---|`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
for (const file of files) {
  const run = parseRunFile(runFileText(file, readFileSync(file)));
  for (const n of run.nets) {
    const s = run.series[n.id];
    const full = s.train.it.find((_, i) => s.train.lr[i] >= run.config.lr * 0.999);
    const gates = s.taps.filter((t) => t.gateMeans?.length);
    const gate = gates.length
      ? `${mean(gates[0].gateMeans!).toFixed(2)} → ${mean(gates.at(-1)!.gateMeans!).toFixed(2)} (${Math.min(...gates.at(-1)!.gateMeans!).toFixed(2)}–${Math.max(...gates.at(-1)!.gateMeans!).toFixed(2)})`
      : '–';
    console.log(
      `| ${file.replace(/\/run\.json(\.gz)?$/, '')} | ${n.label} | ${at.map((i) => pct(valueAt(s.train.it, s.train.runErr, i))).join(' | ')} | ${full ?? '–'} | ${gate} |`,
    );
  }
}
