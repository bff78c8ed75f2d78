// `npm run gpu-kit`: one self-contained folder that measures the lab WebGPU engine on a GPU server
// with `bash run.sh`: no Node, no browser, no network there (README: "Measuring on a GPU server").
//
//   npm run gpu-kit [-- --out gpu-kit] [--data DIR] [--vulkan-loader]
//
// The folder holds the WebGPU runtime (Deno, its Linux x64 binary from npm, xz-packed), the kit's
// program (bench/gpu-kit/kit.ts and the lab's src/core, bundled by esbuild into kit.js), the lab CPU
// engine's WebAssembly kernels (the reference the GPU is checked against), the Classroom preset's
// CIFAR-10 subset, the PyTorch side (torch_kit.py with lab_train.py) and run.sh. At most 45 MiB:
// it travels beside the project's tracked files to a GPU machine that takes 64 MiB in all.
// --vulkan-loader packs Debian's libvulkan1 too (apt-get download), for a machine without the loader.
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { AGREEMENT_CASES, THROUGHPUT_CASES } from '../bench/gpu-kit/cases';
import { CLASSROOM } from '../src/core/presets';
import { RECORD_BYTES } from '../src/core/data/cifar10';
import { realDataDir } from '../src/node/realData';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The kit's size limit: 64 MiB travel to the GPU machine, the project's tracked files take about 14. */
export const KIT_LIMIT_BYTES = 45 * 1024 * 1024;
/** The runtime: the deno package's Linux x64 build (devDependencies pin the version). */
const DENO_PACKAGE = '@deno/linux-x64-glibc';
/** A cached xz of the runtime, keyed by its version: packing takes about 30 s. */
const CACHE = join(ROOT, 'node_modules/.cache/gpu-kit');

export interface KitFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface KitManifest {
  built: string;
  commit: string | null;
  deno: string;
  data: { source: string; train: number; test: number };
  vulkanLoader: boolean;
  files: KitFile[];
  bytes: number;
}

function fail(message: string): never {
  console.error(`gpu-kit: ${message}`);
  process.exit(2);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The first `count` records of a CIFAR-10 binary file, as a file of the same format. */
function records(file: string, count: number): Buffer {
  const bytes = readFileSync(file);
  if (bytes.length % RECORD_BYTES !== 0) fail(`${file} is not a CIFAR-10 binary batch (${bytes.length} bytes is not a multiple of ${RECORD_BYTES})`);
  if (bytes.length / RECORD_BYTES < count) fail(`${file} holds ${bytes.length / RECORD_BYTES} images; the Classroom preset needs ${count}`);
  return bytes.subarray(0, count * RECORD_BYTES);
}

function denoBinary(): { path: string; version: string } {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve(`${DENO_PACKAGE}/package.json`);
  } catch {
    fail(
      `${DENO_PACKAGE} is not installed (npm installs it with the deno devDependency on Linux x64; elsewhere: npm install --no-save --force ${DENO_PACKAGE}@${require('deno/package.json').version})`,
    );
  }
  const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  return { path: join(dirname(pkg), 'deno'), version };
}

function packedRuntime(deno: { path: string; version: string }): string {
  const packed = join(CACHE, `deno-${deno.version}-${statSync(deno.path).size}.xz`);
  if (!existsSync(packed)) {
    mkdirSync(CACHE, { recursive: true });
    console.log(`packing the Deno ${deno.version} runtime with xz (about 30 s, once) ...`);
    const tmp = `${packed}.tmp`;
    const r = spawnSync('sh', ['-c', `xz -6 -T2 -c "$0" > "$1"`, deno.path, tmp], { stdio: 'inherit' });
    if (r.status !== 0) fail('xz failed (apt-get install -y xz-utils)');
    execFileSync('mv', [tmp, packed]);
  }
  return packed;
}

function vulkanLoader(dir: string): void {
  const work = mkdtempSync(join(tmpdir(), 'gpu-kit-vulkan-'));
  const r = spawnSync('apt-get', ['download', 'libvulkan1'], { cwd: work, encoding: 'utf8' });
  if (r.status !== 0) fail(`apt-get download libvulkan1 failed: ${(r.stderr || r.stdout).trim().split('\n').pop()} (run apt-get update first)`);
  const deb = readdirSync(work).find((f) => f.endsWith('.deb'))!;
  execFileSync('dpkg-deb', ['-x', join(work, deb), join(dir, 'vulkan')]);
  rmSync(work, { recursive: true, force: true });
}

function gitCommit(): string | null {
  const r = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name), base) : [relative(base, join(dir, e.name))]));
}

export async function buildKit(options: { out: string; data: string; vulkanLoader?: boolean; quiet?: boolean }): Promise<KitManifest> {
  const out = resolve(options.out);
  const log = (s: string) => options.quiet || console.log(s);
  const wasmDir = join(ROOT, 'src/core/cpu/build');
  for (const f of ['kernels-relaxed.wasm', 'kernels-simd.wasm']) if (!existsSync(join(wasmDir, f))) fail(`${f} is not built: npm run build:wasm`);
  if (!existsSync(join(options.data, 'data_batch_1.bin')) || !existsSync(join(options.data, 'test_batch.bin'))) {
    fail(`${options.data} has no data_batch_1.bin and test_batch.bin (CIFAR-10's binary version: npm run fetch-data)`);
  }
  const deno = denoBinary();
  rmSync(out, { recursive: true, force: true });
  for (const d of ['runtime', 'wasm', 'data']) mkdirSync(join(out, d), { recursive: true });

  // 1. The program: the kit's measurement and the lab's src/core, one ES module for Deno.
  await build({
    entryPoints: [join(ROOT, 'bench/gpu-kit/kit.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    outfile: join(out, 'kit.js'),
    legalComments: 'none',
    logLevel: 'warning',
    banner: { js: `// Degradation Lab GPU kit: bundled from bench/gpu-kit/kit.ts${gitCommit() ? ` at ${gitCommit()}` : ''}. Run by run.sh.` },
  });
  // 2. The reference engine's kernels (one thread: no shared memory).
  for (const f of ['kernels-relaxed.wasm', 'kernels-simd.wasm']) copyFileSync(join(wasmDir, f), join(out, 'wasm', f));
  // 3. The Classroom preset's images: the first trainSize training and testSize test images, as the lab selects them.
  writeFileSync(join(out, 'data/data_batch_1.bin'), records(join(options.data, 'data_batch_1.bin'), CLASSROOM.trainSize));
  writeFileSync(join(out, 'data/test_batch.bin'), records(join(options.data, 'test_batch.bin'), CLASSROOM.testSize));
  // 4. The PyTorch side, and what both sides measure.
  copyFileSync(join(ROOT, 'bench/gpu-kit/torch_kit.py'), join(out, 'torch_kit.py'));
  copyFileSync(join(ROOT, 'bench/reference/lab_train.py'), join(out, 'lab_train.py'));
  writeFileSync(join(out, 'cases.json'), JSON.stringify({ agreement: AGREEMENT_CASES, throughput: THROUGHPUT_CASES }, null, 2) + '\n');
  // 5. The runtime, its checksum for run.sh, and optionally the Vulkan loader.
  copyFileSync(packedRuntime(deno), join(out, 'runtime/deno.xz'));
  writeFileSync(join(out, 'runtime/deno.sha256'), `${sha256(readFileSync(deno.path))}  deno\n`);
  if (options.vulkanLoader) vulkanLoader(out);
  copyFileSync(join(ROOT, 'bench/gpu-kit/run.sh'), join(out, 'run.sh'));
  chmodSync(join(out, 'run.sh'), 0o755);

  const files = listFiles(out)
    .sort()
    .map((path) => {
      const bytes = readFileSync(join(out, path));
      return { path, bytes: bytes.length, sha256: sha256(bytes) };
    });
  const manifest: KitManifest = {
    built: new Date().toISOString(),
    commit: gitCommit(),
    deno: deno.version,
    data: { source: options.data, train: CLASSROOM.trainSize, test: CLASSROOM.testSize },
    vulkanLoader: Boolean(options.vulkanLoader),
    files,
    bytes: files.reduce((s, f) => s + f.bytes, 0),
  };
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  const mib = (b: number) => (b / 1024 / 1024).toFixed(1);
  log(`gpu kit: ${out}, ${files.length} files, ${mib(manifest.bytes)} MiB (limit ${mib(KIT_LIMIT_BYTES)} MiB)`);
  if (manifest.bytes > KIT_LIMIT_BYTES) fail(`the kit is ${mib(manifest.bytes)} MiB, over its ${mib(KIT_LIMIT_BYTES)} MiB limit`);
  return manifest;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let args;
  try {
    ({ values: args } = parseArgs({
      options: {
        out: { type: 'string', default: join(ROOT, 'gpu-kit') },
        data: { type: 'string' },
        'vulkan-loader': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail(`${(e as Error).message} (try --help)`);
  }
  if (args.help) {
    console.log(
      readFileSync(fileURLToPath(import.meta.url), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('//'))
        .slice(0, 12)
        .map((l) => l.slice(3))
        .join('\n'),
    );
    process.exit(0);
  }
  const fetched = join(ROOT, 'public/data/cifar-10-batches-bin');
  const data =
    args.data ??
    realDataDir() ??
    (existsSync(join(fetched, 'test_batch.bin')) ? fetched : fail('no CIFAR-10 folder: pass --data DIR or set CIFAR10_DIR (npm run fetch-data downloads it)'));
  await buildKit({ out: args.out!, data, vulkanLoader: args['vulkan-loader'] });
  const where = relative(process.cwd(), resolve(args.out!));
  console.log(
    `next: copy it to a GPU server and run \`bash ${where.startsWith('..') ? resolve(args.out!) : where}/run.sh\` there (README: Measuring on a GPU server)`,
  );
}
