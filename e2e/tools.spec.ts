// The command-line tools that drive the lab headless: the benchmark harness and the experiment
// runner. Each runs for real (its own server and browser) on a tiny case, so neither can rot.
import { test, expect } from '@playwright/test';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeFiles } from '../src/core/data/testing/fixtures';
import { strFromU8, unzipSync } from 'fflate';

const run = promisify(execFile);
const tsx = join(process.cwd(), 'node_modules/.bin/tsx');

function pngSize(bytes: Buffer) {
  expect(bytes.subarray(1, 4).toString()).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function fixtureDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cifar-fixture-'));
  for (const f of makeFiles(1, 400, 60)) writeFileSync(join(dir, f.name.split('/').pop()!), f.data);
  return dir;
}

test('the benchmark harness measures one tiny case and writes its table and JSON', async () => {
  test.setTimeout(180_000);
  const json = join(mkdtempSync(join(tmpdir(), 'bench-')), 'bench.json');
  const { stdout } = await run(tsx, ['bench/run.ts', '--backends', 'lab-cpu,wasm', '--cases', 'resnet-8', '--batch', '8', '--reps', '5', '--json', json], {
    timeout: 170_000,
  });
  expect(stdout).toContain('| backend | net | batch | img/s median (min–max) |');
  expect(stdout).toMatch(/\| lab-cpu \| ResNet-8 \| 8 \| [\d.]+ \([\d.]+–[\d.]+\) \|/);
  // tfjs's wasm backend initialises but cannot train: the harness says why
  expect(stdout).toMatch(/\| wasm \| ResNet-8 \| 8 \| failed: .*Conv2DBackpropFilter/);
  const out = JSON.parse(readFileSync(json, 'utf8'));
  expect(out.machine.cores).toBeGreaterThan(0);
  const row = out.throughput.find((r: { backend: string }) => r.backend === 'lab-cpu');
  expect(row.stepMs).toHaveLength(5);
  expect(row.imagesPerSec.median).toBeGreaterThan(0);
  expect(row.memoryAfter.tensors).toBeGreaterThan(0);
});

test('the experiment runner writes run.json, metrics.csv, charts and a summary per seed, a row per seed, and an exit code that follows the verdicts; the page imports its run', async ({
  page,
}) => {
  test.setTimeout(240_000);
  const top = mkdtempSync(join(tmpdir(), 'experiment-'));
  const args = [
    'scripts/experiment.ts',
    '--depths',
    '8,14',
    '--width',
    '0.25',
    '--iterations',
    '24',
    '--batch-size',
    '8',
    '--eval-every',
    '8',
    '--train-size',
    '400',
    '--test-size',
    '60',
    '--augment',
    'off',
    '--backend',
    'lab-cpu',
    '--data',
    fixtureDir(),
    '--out',
    top,
    '--quiet',
    '--seeds',
    '1,2',
    '--expect-degradation=both',
  ];
  const { stdout, code } = await run(tsx, args, { timeout: 230_000 }).then(
    (r) => ({ stdout: r.stdout, code: 0 }),
    (err: { stdout: string; code: number }) => ({ stdout: err.stdout, code: err.code }),
  );
  // one summary with a row per seed; the exit code is 0 exactly when every seed shows both halves
  const summary = readFileSync(join(top, 'summary.md'), 'utf8');
  const rows = summary.split('\n').filter((l) => /^\| [12] \|/.test(l));
  expect(rows).toHaveLength(2);
  for (const r of rows) expect(r).toMatch(/\| (both halves shown|only the plain half shown|not shown) \| \d+ s \|$/);
  expect(code).toBe(rows.every((r) => r.includes('both halves shown')) ? 0 : 1);
  expect(stdout).toMatch(/\*\*Verdict: (both halves shown|only the plain half shown|not shown)\*\* — /);
  const out = join(top, 'seed-2');
  const runFile = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
  expect(runFile.format).toBe('degradation-lab-run');
  expect(runFile.config.seed).toBe(2);
  expect(runFile.nets).toHaveLength(4);
  for (const n of runFile.nets) expect(runFile.series[n.id].train.it).toHaveLength(24);
  const csv = readFileSync(join(out, 'metrics.csv'), 'utf8').trim().split('\n');
  expect(csv[0]).toBe('net,label,iteration,loss,train_error,running_train_error,lr,test_error,test_loss');
  expect(csv.length - 1).toBe(4 * 25); // iterations 0..24 (0 holds the first test error)
  expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('| plain-14 |');
  const charts = JSON.parse(readFileSync(join(out, 'charts.json'), 'utf8')) as { file: string; width: number; height: number }[];
  expect(charts.map((c) => c.file)).toEqual(['curves.png', 'summary.png', 'layer-std.png', 'grad-norm.png']);
  for (const c of charts) {
    expect(pngSize(readFileSync(join(out, c.file)))).toEqual({ width: c.width, height: c.height });
    expect(readFileSync(join(out, c.file.replace('.png', '.svg')), 'utf8')).toContain('<svg');
  }

  // the page imports the runner's run.json and draws the same number of points
  await page.goto('/');
  await page.getByTestId('import-run-input').setInputFiles({ name: 'run.json', mimeType: 'application/json', buffer: readFileSync(join(out, 'run.json')) });
  await expect(page.getByTestId('saved-runs')).toContainText(runFile.name);
  // the form and the link now hold the settings that made the run, so "Copy link" shares it
  await expect(page).toHaveURL(/depths=8%2C14&.*iterations=24&.*seed=2/);
  await expect(page.getByLabel('Iterations')).toHaveValue('24');
  const expected = (residual: boolean) =>
    runFile.nets
      .filter((n: { residual: boolean }) => n.residual === residual)
      .reduce((s: number, n: { id: string }) => s + runFile.series[n.id].train.it.length + runFile.series[n.id].test.it.length, 0);
  const panels = page.locator('[data-chart="curves"] .chart-panel');
  // every point drawn: the test error too (a small training set shows training error only until asked)
  await page.locator('[data-chart="curves"]').getByLabel('Training error only').uncheck();
  await expect(panels.nth(0)).toHaveAttribute('data-points', String(expected(false)));
  await expect(panels.nth(1)).toHaveAttribute('data-points', String(expected(true)));
});

test('npm start’s dev server serves a working lab (the worker and tfjs load in dev mode too)', async ({ page }) => {
  test.setTimeout(120_000);
  const { spawn } = await import('node:child_process');
  const port = 5199;
  const server = spawn(join(process.cwd(), 'node_modules/.bin/vite'), ['--port', String(port), '--strictPort', '--host', '127.0.0.1'], { stdio: 'ignore' });
  try {
    await expect
      .poll(async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => null))?.headers.get('cross-origin-embedder-policy') ?? null, { timeout: 60_000 })
      .toBe('require-corp');
    await page.goto(`http://127.0.0.1:${port}/`);
    await expect(page.getByTestId('backend-name')).toHaveText(/webgpu|webgl|cpu/, { timeout: 90_000 });
    await expect(page.getByTestId('error-banner')).toHaveCount(0);
  } finally {
    server.kill();
  }
});

test('Full scale (PyTorch): the exported job trains 50 iterations on the CPU, and its run file imports into the page like a live run', async ({ page }) => {
  test.setTimeout(300_000);
  const python = process.env.PYTHON ?? '/usr/bin/python3';
  const hasTorch = await run(python, ['-c', 'import torch']).then(
    () => true,
    () => false,
  );
  test.skip(!hasTorch && !process.env.CI, `${python} cannot import torch (apt-get install -y python3-torch); CI installs it`);
  const query =
    'depths=8,14&families=both&shortcuts=A&warmup=paper&lr=0.1&batch=32&iters=1000&train=1000&test=200&split=test&aug=1&width=0.25&eval=25&seed=2&backend=lab-cpu';
  await page.goto(`/?${query}`);
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Full scale (PyTorch)' }).click()]);
  const files = unzipSync(new Uint8Array(readFileSync(await download.path())));
  const names = Object.keys(files).sort();
  expect(names).toEqual(['degradation-lab-pytorch/README.md', 'degradation-lab-pytorch/config.json', 'degradation-lab-pytorch/degradation_lab_train.py']);
  // one definition: the script is the repository's, byte for byte, and the config is the form's
  expect(strFromU8(files['degradation-lab-pytorch/degradation_lab_train.py'])).toBe(readFileSync('bench/reference/lab_train.py', 'utf8'));
  const config = JSON.parse(strFromU8(files['degradation-lab-pytorch/config.json']));
  expect(config).toMatchObject({ depths: [8, 14], batchSize: 32, iterations: 1000, warmup: ['paper'], width: 0.25 });
  expect(strFromU8(files['degradation-lab-pytorch/README.md'])).toContain('torchrun --nproc_per_node=2');

  const dir = mkdtempSync(join(tmpdir(), 'lab-pytorch-'));
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name.split('/').pop()!), bytes);
  const data = process.env.CIFAR10_DIR ?? fixtureDir();
  await run(
    python,
    [
      join(dir, 'degradation_lab_train.py'),
      '--config',
      join(dir, 'config.json'),
      '--data',
      data,
      '--iterations',
      '50',
      '--out',
      join(dir, 'run.json'),
      '--checkpoint',
      join(dir, 'ck.pt'),
      '--device',
      'cpu',
      '--threads',
      '2',
    ],
    { timeout: 240_000 },
  );
  const runFile = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  expect(runFile.progress.iteration).toBe(50);
  expect(runFile.nets.map((n: { id: string }) => n.id)).toEqual(['plain-8', 'resnet-8-A', 'plain-14', 'resnet-14-A']);
  expect(runFile.series['plain-8'].train.it.length).toBe(50);
  expect(runFile.series['plain-8'].test.it).toEqual([0, 25, 50]);

  await page.getByTestId('import-run-input').setInputFiles(join(dir, 'run.json'));
  await expect(page.getByTestId('run-origin')).toContainText(/imported · trained by PyTorch [\d.a-z]+ on CPU in \d+:\d\d/); // the time is the machine's, not checked
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'stopped');
  await expect(page.locator('[data-chart="curves"] .chart-panel').first()).toHaveAttribute('data-points', /^[1-9]\d*$/);
  const legend = page.locator('[data-chart="curves"] .legend');
  for (const name of ['plain-8', 'ResNet-14']) await expect(legend).toContainText(name);
});
