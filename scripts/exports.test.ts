// No export that only its own file uses (issue #32): an export is a module's promise to others, so each
// one has a user elsewhere (another module, a test, a script or a bench). Names are matched as words
// across the TypeScript sources; the AssemblyScript kernels (exported to WebAssembly) are left out.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', 'dist', 'build', 'assembly', 'gpu-kit', 'test-results', 'playwright-report']);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) && dir !== join(ROOT, 'bench')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

describe('exports', () => {
  it('has none that only its own file uses', () => {
    const files = ['src', 'scripts', 'bench', 'e2e'].flatMap((d) => sources(join(ROOT, d)));
    const text = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
    const declared = /^export (?:async )?(?:const|function|class|interface|type|let|enum) ([A-Za-z_$][\w$]*)/gm;
    const lonely: string[] = [];
    let count = 0;
    for (const f of files.filter((x) => relative(ROOT, x).startsWith('src'))) {
      for (const [, name] of text.get(f)!.matchAll(declared)) {
        count++;
        const word = new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\b`);
        if (!files.some((g) => g !== f && word.test(text.get(g)!))) lonely.push(`${relative(ROOT, f)}: ${name}`);
      }
    }
    expect(count).toBeGreaterThan(300); // the scan found the sources
    expect(lonely).toEqual([]);
  });
});
