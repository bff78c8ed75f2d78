// Each net's running training error (mean over the last 50 mini-batches) at chosen iterations, from
// run files (`npm run experiment` writes them): how the nets of a run got where they ended.
//   npx tsx scripts/run-table.ts --at 100,200,400,1000 docs/presets/warmup110/seed-*/run.json
// With the warmup variants of one net it also says at which iteration the paper's warmup ended
// (the first step at the full learning rate).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseRunFile } from '../src/core/runFile';
import { valueAt } from '../src/core/metrics';

const { values: a, positionals: files } = parseArgs({ options: { at: { type: 'string', default: '100,200,400,1000' } }, allowPositionals: true });
if (files.length === 0) throw new Error('give run files: npx tsx scripts/run-table.ts --at 100,200 run.json …');
const at = a.at!.split(',').map(Number);
const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
console.log(`| run | net | ${at.map((i) => `it ${i}`).join(' | ')} | full lr from |`);
console.log(`|---|---|${at.map(() => '---|').join('')}---|`);
for (const file of files) {
  const run = parseRunFile(readFileSync(file, 'utf8'));
  for (const n of run.nets) {
    const s = run.series[n.id];
    const full = s.train.it.find((_, i) => s.train.lr[i] >= run.config.lr * 0.999);
    console.log(`| ${file.replace(/\/run\.json$/, '')} | ${n.label} | ${at.map((i) => pct(valueAt(s.train.it, s.train.runErr, i))).join(' | ')} | ${full ?? '–'} |`);
  }
}
