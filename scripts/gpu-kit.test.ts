// The GPU kit cannot rot: `npm test` builds it as `npm run gpu-kit` does, checks its size and contents,
// and runs its run.sh in short mode on whatever Vulkan this machine has (Mesa's llvmpipe in CI:
// .ci/run installs mesa-vulkan-drivers). Tiny nets, a few steps: the agreement checks must pass and
// the tables be written. No speed is asserted. Without a Vulkan driver the run is skipped here and
// fails under CI, like the PyTorch tests.
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { KitReport, TorchFigures } from '../bench/gpu-kit/report';
import { AGREEMENT_CASES, THROUGHPUT_CASES, classroomConfig } from '../bench/gpu-kit/cases';
import { RECORD_BYTES } from '../src/core/data/cifar10';
import { makeBin } from '../src/core/data/testing/fixtures';
import { CLASSROOM } from '../src/core/presets';
import { realDataDir } from '../src/node/realData';
import type { KitManifest } from './gpu-kit';
import { KIT_LIMIT_BYTES, buildKit } from './gpu-kit';

const work = mkdtempSync(join(tmpdir(), 'gpu-kit-test-'));
const kit = join(work, 'kit');
/** The real images where this machine has them, else a fixture of the same format and size. */
function dataDir(): string {
  const real = realDataDir();
  if (real) return real;
  const dir = join(work, 'cifar');
  mkdirSync(dir);
  writeFileSync(join(dir, 'data_batch_1.bin'), makeBin(CLASSROOM.trainSize + 10, 1));
  writeFileSync(join(dir, 'test_batch.bin'), makeBin(CLASSROOM.testSize + 10, 2));
  return dir;
}
const data = dataDir();
let manifest: KitManifest;

/** Whether Deno's WebGPU finds an adapter here: a Vulkan loader and a driver (mesa-vulkan-drivers). */
const hasVulkan = (() => {
  const loader = spawnSync('sh', ['-c', 'ldconfig -p | grep -q "libvulkan\\.so\\.1"']).status === 0;
  const icd = spawnSync('sh', ['-c', 'ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json 2>/dev/null | grep -q .']).status === 0;
  return loader && icd;
})();

const runKit = (args: string[], env: Record<string, string> = {}) =>
  spawnSync('bash', [join(kit, 'run.sh'), ...args], { encoding: 'utf8', env: { ...process.env, TMPDIR: work, ...env }, timeout: 540_000 });

beforeAll(async () => {
  manifest = await buildKit({ out: kit, data, quiet: true });
}, 300_000);

describe('npm run gpu-kit', () => {
  it('writes one folder within 45 MiB with the runtime, the program, the kernels, the data, the PyTorch side and run.sh', () => {
    const files = manifest.files.map((f) => f.path);
    expect(files).toEqual(
      expect.arrayContaining([
        'run.sh',
        'kit.js',
        'runtime/deno.xz',
        'runtime/deno.sha256',
        'wasm/kernels-simd.wasm',
        'wasm/kernels-relaxed.wasm',
        'data/data_batch_1.bin',
        'data/test_batch.bin',
        'torch_kit.py',
        'lab_train.py',
        'cases.json',
      ]),
    );
    expect(manifest.bytes).toBeLessThanOrEqual(KIT_LIMIT_BYTES);
    // the runtime is the bulk of it: a kit without it would be small, and prove nothing
    expect(manifest.files.find((f) => f.path === 'runtime/deno.xz')!.bytes).toBeGreaterThan(10 * 1024 * 1024);
    for (const f of manifest.files) expect(readFileSync(join(kit, f.path)).length, f.path).toBe(f.bytes);
    const du = spawnSync('du', ['-sb', kit], { encoding: 'utf8' }).stdout.split('\t')[0];
    expect(Number(du)).toBeLessThanOrEqual(KIT_LIMIT_BYTES);
  });

  it('holds the Classroom preset’s images: the first training and test images, unchanged', () => {
    const train = readFileSync(join(kit, 'data/data_batch_1.bin'));
    const test = readFileSync(join(kit, 'data/test_batch.bin'));
    expect(train.length).toBe(CLASSROOM.trainSize * RECORD_BYTES);
    expect(test.length).toBe(CLASSROOM.testSize * RECORD_BYTES);
    expect(train.equals(readFileSync(join(data, 'data_batch_1.bin')).subarray(0, train.length))).toBe(true);
    expect(test.equals(readFileSync(join(data, 'test_batch.bin')).subarray(0, test.length))).toBe(true);
  });

  it('gives the PyTorch side the same cases as the lab’s side', () => {
    const cases = JSON.parse(readFileSync(join(kit, 'cases.json'), 'utf8'));
    expect(cases.throughput).toEqual(JSON.parse(JSON.stringify(THROUGHPUT_CASES)));
    expect(cases.agreement.full.map((c: { name: string }) => c.name)).toEqual(AGREEMENT_CASES.full.map((c) => c.name));
    expect(THROUGHPUT_CASES.full.map((c) => c.name)).toEqual([
      'ResNet-20, width ×1',
      'ResNet-56, width ×1',
      'ResNet-110, width ×1',
      'Classroom: plain and ResNet 8/20/56, width ×0.25',
      'A thousand layers: ResNet-1202 with plain and ResNet 110, width ×0.25',
    ]);
    expect(THROUGHPUT_CASES.full[3].nets).toHaveLength(6);
    expect(THROUGHPUT_CASES.full[4].nets.map((n) => 6 * n.n + 2)).toEqual([1202, 110, 110]);
  });

  it('bundles a program that imports nothing at run time (Deno runs it as it is)', () => {
    const js = readFileSync(join(kit, 'kit.js'), 'utf8');
    expect(js).not.toMatch(/^\s*import\s.+from\s/m);
    expect(js).not.toMatch(/\brequire\(/);
    expect(js).toContain('requestAdapter');
  });
});

describe.runIf(hasVulkan || process.env.CI)('bash run.sh --short (the kit on this machine’s Vulkan)', () => {
  it('passes the agreement checks and writes the tables', () => {
    expect(hasVulkan, 'no Vulkan loader or driver: apt-get install -y mesa-vulkan-drivers (CI installs it)').toBe(true);
    const out = join(work, 'out');
    const r = runKit(['--short', '--out', out, '--no-compile']);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as KitReport;
    expect(report.mode).toBe('short');
    expect(report.adapter.description.length + report.adapter.vendor.length).toBeGreaterThan(0);
    expect(report.adapter.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(report.agreement.map((a) => a.name)).toEqual(AGREEMENT_CASES.short.map((c) => c.name));
    for (const a of report.agreement) {
      expect(a.failed, a.name).toEqual([]);
      expect(a.checks, a.name).toBeGreaterThan(50);
      expect(a.worst.ratio, a.name).toBeLessThan(1);
    }
    expect(report.throughput.map((t) => t.name)).toEqual(THROUGHPUT_CASES.short.map((c) => c.name));
    for (const t of report.throughput) expect(t.imagesPerSec).toBeGreaterThan(0);
    const short = classroomConfig('short');
    expect(report.classroom!.iterations).toBe(short.iterations);
    expect(report.classroom!.finals.map((f) => f.label)).toEqual(['plain-8', 'ResNet-8']);
    for (const f of report.classroom!.finals) expect(f.trainError).toBeGreaterThanOrEqual(0);
    const md = readFileSync(join(out, 'results.md'), 'utf8');
    expect(md).toContain('| agreement with the lab CPU engine |');
    expect(md).toContain('| throughput (img/s, median round) |');
    expect(md).toContain('Classroom preset on this adapter');
    // the PyTorch side ran where a python3 here imports torch (CI installs Debian's)
    const torchHere = ['python3', '/usr/bin/python3'].some((p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0);
    expect(existsSync(join(out, 'torch.json'))).toBe(torchHere);
    if (torchHere) {
      const torch = JSON.parse(readFileSync(join(out, 'torch.json'), 'utf8')) as TorchFigures;
      expect(torch.rows.map((r) => r.name)).toEqual(THROUGHPUT_CASES.short.map((c) => c.name));
      for (const row of torch.rows) expect(row.eager!.imagesPerSec).toBeGreaterThan(0);
      expect(report.torch?.device).toBe(torch.device);
    }
  }, 540_000);

  it('refuses a corrupt runtime, and says so', () => {
    const copy = join(work, 'corrupt');
    cpSync(kit, copy, { recursive: true });
    writeFileSync(join(copy, 'runtime/deno.sha256'), `${'0'.repeat(64)}  deno\n`);
    const r = spawnSync('bash', [join(copy, 'run.sh'), '--short', '--no-torch', '--out', join(work, 'out-corrupt')], {
      encoding: 'utf8',
      env: { ...process.env, TMPDIR: work },
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('runtime/deno.xz is corrupt');
  });
});

describe('run.sh without a Vulkan loader', () => {
  it('says what is missing and how to bring it, and exits 3', () => {
    // an ldconfig that knows no library, and no loader on LD_LIBRARY_PATH
    const bin = join(work, 'no-loader-bin');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'ldconfig'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'ldconfig'), 0o755);
    const r = runKit(['--short', '--no-torch', '--out', join(work, 'out-no-loader')], { PATH: `${bin}:${process.env.PATH}`, LD_LIBRARY_PATH: '' });
    expect(r.status).toBe(3);
    expect(r.stdout).toContain('the Vulkan loader (libvulkan.so.1) is missing');
    expect(r.stdout).toContain('apt-get install -y libvulkan1');
  });

  it('rejects an unknown option with the list of options', () => {
    const r = runKit(['--fast']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown option '--fast'");
  });
});
