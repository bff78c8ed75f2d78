// docs/landscape.md's table of step ratios, recomputed from the surfaces it cites (docs/landscape/*.json), so the doc
// cannot drift from its data. A row: | half | seed | plain step ratio | ResNet step ratio | smoother |.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunLandscape } from '../src/core/landscape';
import { pathRise, pathShape, smoother } from '../src/core/landscape';

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

  it('quotes the page run’s step ratios, ‖F(x)‖/‖x‖ medians and path rises as its committed landscape.json computes them', () => {
    const run = JSON.parse(readFileSync(join(ROOT, 'docs/landscape/classroom-page-seed-1/landscape.json'), 'utf8')) as RunLandscape;
    const text = doc.replace(/\s+/g, ' ');
    const net = (label: string) => run.nets.find((n) => n.label === label)!;
    const v = smoother(net('plain-56'), net('ResNet-56'));
    expect(text).toContain(`step ratio ${v.plain.toFixed(2)} for plain-56 and ${v.residual.toFixed(2)} for ResNet-56`);
    const median = (r: number[]) => [...r].sort((a, b) => a - b)[r.length >> 1]; // odd counts: 3, 9, 27 blocks
    expect(text).toContain(run.identity!.map((n) => `${median(n.ratios).toFixed(2)} (${n.label})`).join(', '));
    const rises = ['plain-8', 'plain-20', 'ResNet-20'].map((l) => `×${pathRise(run.paths!.find((p) => p.label === l)!).toFixed(2)}`);
    expect(text).toContain(`(to ${rises[0]}, ${rises[1]} and ${rises[2]} their lowest loss so far)`);
    expect(['ResNet-8', 'ResNet-56'].map((l) => pathShape(run.paths!.find((p) => p.label === l)!))).toEqual(['falls', 'falls']);
    expect(pathShape(run.paths!.find((p) => p.label === 'plain-56')!)).toBe('flat');
  });

  it('gives seeds 2 and 3 through the page as their committed landscape.json files compute them', () => {
    const rows = [...doc.matchAll(/^\| (\d) \| ([\d.]+) \| ([\d.]+) \| (ResNet-56|plain-56) \| (\d+) \+ (\d+) s \|$/gm)];
    expect(rows.map((r) => r[1])).toEqual(['2', '3']);
    for (const [, seed, plain, res, which, plainS, resS] of rows) {
      const run = JSON.parse(readFileSync(join(ROOT, `docs/landscape/classroom-page-seed-${seed}/landscape.json`), 'utf8')) as RunLandscape;
      expect(run.seed).toBe(Number(seed));
      const net = (label: string) => run.nets.find((n) => n.label === label)!;
      const v = smoother(net('plain-56'), net('ResNet-56'));
      expect([plain, res, which]).toEqual([v.plain.toFixed(2), v.residual.toFixed(2), v.residualSmoother ? 'ResNet-56' : 'plain-56']);
      expect([plainS, resS]).toEqual([net('plain-56').seconds, net('ResNet-56').seconds].map((x) => String(Math.round(x))));
    }
  });
});
