// Build the lab CPU engine's WebAssembly kernels from source with AssemblyScript (from npm).
// Four variants of one source: with/without relaxed SIMD (fused multiply-add), and with a shared
// memory (threads, needs a cross-origin-isolated page) or a private one.
// Skips the work when every output is newer than every source file; `--force` rebuilds.
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const assembly = join(root, 'src/core/cpu/assembly');
/** The entry: it exports every kernel family's file (one family per file in assembly/). */
const source = join(assembly, 'kernels.ts');
const outDir = join(root, 'src/core/cpu/build');

export const VARIANTS = [
  { name: 'kernels-relaxed-shared.wasm', relaxed: true, shared: true },
  { name: 'kernels-relaxed.wasm', relaxed: true, shared: false },
  { name: 'kernels-simd-shared.wasm', relaxed: false, shared: true },
  { name: 'kernels-simd.wasm', relaxed: false, shared: false },
];

const mtime = (p: string): number => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
};

export async function buildWasm({ force = false, quiet = false } = {}): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const srcTime = Math.max(...readdirSync(assembly).map((f) => mtime(join(assembly, f))), mtime(fileURLToPath(import.meta.url)));
  for (const v of VARIANTS) {
    const out = join(outDir, v.name);
    if (!force && mtime(out) > srcTime) continue;
    const args = [
      source,
      '-o',
      out,
      '-O3',
      '--noAssert',
      '--runtime',
      'stub',
      '--use',
      'abort=',
      '--enable',
      'simd',
      '--importMemory',
      '--initialMemory',
      '2',
      '--maximumMemory',
      '65536',
    ];
    if (v.relaxed) args.push('--enable', 'relaxed-simd');
    if (v.shared) args.push('--enable', 'threads', '--sharedMemory');
    const { error, stderr } = await asc.main(args);
    if (error) throw new Error(`asc failed for ${v.name}: ${error.message}\n${String(stderr)}`);
    if (!quiet) console.log(`built ${join('src/core/cpu/build', v.name)}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildWasm({ force: process.argv.includes('--force') });
}
