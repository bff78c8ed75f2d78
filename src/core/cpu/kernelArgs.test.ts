// The kernels' named arguments (./kernelArgs.ts) against their AssemblyScript sources: the same
// kernels, the same names in the same order, so a named call passes each value where the kernel
// reads it.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KERNELS, KERNEL_ARGS, argIndex, kernelCall } from './kernelArgs';

const ASSEMBLY = join(import.meta.dirname, 'assembly');

/** Every exported function of the kernel sources, with its parameter names in order. */
function exportedFunctions(): Map<string, { file: string; params: string[] }> {
  const out = new Map<string, { file: string; params: string[] }>();
  for (const file of readdirSync(ASSEMBLY).filter((f) => f.endsWith('.ts'))) {
    const text = readFileSync(join(ASSEMBLY, file), 'utf8');
    for (const m of text.matchAll(/export function (\w+)\s*\(([^)]*)\)/g)) {
      const params = m[2]
        .split(',')
        .map((p) => p.split(':')[0].trim())
        .filter(Boolean);
      out.set(m[1], { file: file.replace(/\.ts$/, ''), params });
    }
  }
  return out;
}

/** A kernel's parameters without the trailing thread arguments (tid, nth) that the engine appends to every call. */
function withoutThreadArgs(params: string[]): string[] {
  const p = [...params];
  if (p.at(-1) === 'nth' && p.at(-2) === 'tid') p.splice(-2);
  else if (p.at(-1) === 'tid') p.pop();
  return p;
}

describe('the kernels’ named arguments', () => {
  const sources = exportedFunctions();
  // the WebAssembly module's entry re-exports zero from helpers.ts, and every export of the family files
  const entry = readFileSync(join(ASSEMBLY, 'kernels.ts'), 'utf8');
  const families = [...entry.matchAll(/export \* from '\.\/(\w+)'/g)].map((m) => m[1]);

  it('name every kernel that runs on threads (it takes tid), and only those', () => {
    const threaded = [...sources]
      .filter(([name, { file, params }]) => params.includes('tid') && (families.includes(file) || name === 'zero'))
      .map(([name]) => name);
    expect(new Set(KERNELS)).toEqual(new Set(threaded));
    expect(KERNELS.length).toBeGreaterThan(30);
  });

  it.each(KERNELS.map((k) => [k]))('%s: the names of its source, in order', (kernel) => {
    expect([...KERNEL_ARGS[kernel]]).toEqual(withoutThreadArgs(sources.get(kernel)!.params));
  });

  it('a call lists the arguments in the kernel’s order, whatever the order they are named in', () => {
    expect(kernelCall('sgd', { wd: 7, mom: 6, lr: 5, n: 4, v: 3, g: 2, w: 1 })).toEqual(['sgd', 1, 2, 3, 4, 5, 6, 7]);
    expect(argIndex('sgd', 'lr')).toBe(5);
    expect(argIndex('conv_fwd', 'acc')).toBe(13);
  });

  it('a value that is not a number is refused with the kernel’s and the argument’s name', () => {
    expect(() => kernelCall('zero', { p: 16, n: Number.NaN })).toThrow('zero: argument n is NaN');
    expect(() => kernelCall('zero', { p: 16 } as unknown as { p: number; n: number })).toThrow('zero: argument n is undefined');
  });
});
