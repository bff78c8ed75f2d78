// docs/landscape.md's table of step ratios, recomputed from the surfaces it cites (docs/landscape/*.json), so the doc
// cannot drift from its data. A row: | half | seed | plain step ratio | ResNet step ratio | smoother |.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { smoother } from '../src/core/landscape';

const ROOT = join(import.meta.dirname, '..');
const doc = readFileSync(join(ROOT, 'docs/landscape.md'), 'utf8');

/** The surfaces of one run as committed: { grid, nets: [{ label, loss }] } (a loss that overflowed is null). */
function surfaces(half: string, seed: string): Record<string, (number | null)[][]> {
  const file = JSON.parse(readFileSync(join(ROOT, `docs/landscape/classroom-${half}-seed-${seed}.json`), 'utf8')) as {
    nets: { label: string; loss: (number | null)[][] }[];
  };
  return Object.fromEntries(file.nets.map((n) => [n.label, n.loss]));
}

describe('docs/landscape.md', () => {
  it('gives each seed’s step ratios as its committed surfaces compute them, and which is the smoother', () => {
    const rows = [...doc.matchAll(/^\| (first|second) half \| (\d) \| ([\d.]+) \| ([\d.]+) \| (ResNet-56|plain-56) \|$/gm)];
    expect(rows.length).toBe(6); // seeds 1–3 on each half of data_batch_1
    for (const [, half, seed, plain, res, which] of rows) {
      const s = surfaces(half, seed);
      const v = smoother({ loss: s['plain-56'] }, { loss: s['ResNet-56'] });
      expect(plain, `${half} half, seed ${seed}`).toBe(v.plain.toFixed(2));
      expect(res, `${half} half, seed ${seed}`).toBe(v.residual.toFixed(2));
      expect(which).toBe(v.residualSmoother ? 'ResNet-56' : 'plain-56');
    }
  });
});
