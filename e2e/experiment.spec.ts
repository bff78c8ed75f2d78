// Paired experiments in the worker, on the fast CPU path (URL setting backend=lab-cpu), with
// fixture data: metrics stream, a run survives a reload and resumes, runs export and import.
import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { TINY_QUERY, loadFixtureData } from './fixtures';
import { collectConsoleProblems } from './helpers';

async function iteration(page: import('@playwright/test').Page): Promise<number> {
  const text = (await page.getByTestId('iteration').textContent()) ?? '';
  return Number(text.replace(/,/g, '')) || 0;
}

test('plain and residual nets at two depths train side by side, and metrics arrive', async ({ page }) => {
  const problems = collectConsoleProblems(page);
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=300')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('engine')).toContainText('lab CPU engine');
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(5);
  const legend = page.locator('[data-chart="curves"] .legend');
  // one legend entry per net, and each training curve labelled where it ends
  for (const name of ['plain-8', 'plain-14', 'ResNet-8', 'ResNet-14']) {
    await expect(legend).toContainText(name);
    await expect(page.locator('[data-chart="curves"] .end-label').filter({ hasText: new RegExp(`^${name}$`) })).toHaveCount(1);
  }
  await expect.poll(async () => Number(await page.getByTestId('images-per-sec').textContent()), { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  expect(await iteration(page)).toBe(300);
  // Fig. 7 by layer, and sorted by magnitude as in the paper
  const fig7 = page.locator('[data-chart="layer-std"] .chart-panel');
  await expect(fig7).toHaveCount(2);
  await expect(fig7.nth(1)).toHaveAttribute('data-subtitle', 'sorted by magnitude');
  await expect(fig7.nth(1)).toHaveAttribute('data-points', /^[1-9]\d*$/);
  // two variants, said which is which: (a) the responses as the net computes them, (b) the BN readout
  const card = page.locator('[data-chart="layer-std"]');
  await expect(card).toContainText('with BN in evaluation mode (its running averages)');
  // measured on the test subset's 50 images (fewer than 128), and said so
  await expect(card).toContainText('on the first 50 test images');
  await expect(card).toContainText(/Median std: .*plain-14 \d/);
  await page.getByTestId('fig7-variant').selectOption('readout');
  await expect(card).toContainText('√(mean γ² + var β)');
  await expect(fig7.nth(0)).toHaveAttribute('data-points', /^[1-9]\d*$/);
  // how close each ResNet block stays to the identity, ‖F(x)‖/‖x‖, by block and through the run (plain nets have none)
  const residuals = page.getByTestId('residual-chart');
  await expect(residuals).toHaveAttribute('data-nets', '2');
  await expect(residuals.locator('.chart-panel').nth(1)).toHaveAttribute('data-points', /^[1-9]\d*$/);
  await expect(page.locator('[data-chart="residuals"]')).toContainText(/ResNet-14: median \d/);
  await expect(page.locator('[data-chart="residuals"]')).toContainText('on the first 50 test images at iteration 300');
  expect(problems()).toEqual([]);
});

test('Fig. 7 and the gradient norms follow the evaluations during a run, not only at its end', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=100000')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(45);
  const latest = async (chart: string) => {
    const text = (await page.locator(`[data-chart="${chart}"] .legend`).textContent()) ?? '';
    return Math.max(-1, ...[...text.matchAll(/@ ([\d,]+)/g)].map((m) => Number(m[1].replace(/,/g, ''))));
  };
  // evaluations every 10 iterations: the charts show one from well after the start
  await expect.poll(() => latest('layer-std'), { timeout: 30_000 }).toBeGreaterThanOrEqual(30);
  await expect.poll(() => latest('grad-norm'), { timeout: 30_000 }).toBeGreaterThanOrEqual(30);
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'running');
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'stopped', { timeout: 30_000 });
});

test('pause, reload: the curves are restored; resume continues from the checkpoint', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=5000')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(15);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'paused', { timeout: 30_000 });
  const pausedAt = await iteration(page);
  // the charts redraw a moment after the status line (a deferred render): wait until they draw the paused iteration
  await expect(page.getByTestId('charts')).toHaveAttribute('data-iteration', String(pausedAt));
  const pointsBefore = Number(await page.locator('[data-chart="curves"] .chart-panel').first().getAttribute('data-points'));
  expect(pointsBefore).toBeGreaterThan(0);

  await page.reload();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'paused', { timeout: 30_000 });
  await expect(page.locator('[data-chart="curves"] .chart-panel').first()).toHaveAttribute('data-points', String(pointsBefore));
  expect(await iteration(page)).toBe(pausedAt);

  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', 'cache', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'running');
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(pausedAt + 5);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'stopped', { timeout: 30_000 });
});

test('a page reload mid-run keeps every point and resumes within a few iterations of where it was', async ({ page }) => {
  // a checkpoint at every evaluation (every 5 iterations here), and in between as often as a twentieth of the time allows
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=2000').replace('eval=10', 'eval=5')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(50);
  const reloadedAt = await iteration(page);
  await page.reload();
  const banner = page.getByTestId('interrupted');
  await expect(banner).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'paused');
  await expect(page.locator('[data-chart="curves"] .chart-panel').first()).toHaveAttribute('data-points', /^[1-9]\d*$/);
  const checkpointAt = Number(/iteration ([\d,]+)/.exec((await banner.textContent()) ?? '')?.[1].replace(/,/g, ''));
  expect(checkpointAt, `reloaded at iteration ${reloadedAt}`).toBeGreaterThanOrEqual(reloadedAt - 5);
  // Resume continues from there
  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', 'cache', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'running');
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(checkpointAt);
  expect(await iteration(page)).toBeGreaterThanOrEqual(reloadedAt - 5);
  // the time left is this session's speed, not the saved clock's over iterations trained again
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(checkpointAt + 25);
  await expect(page.getByTestId('eta')).toHaveText(/^\d+(:\d\d){1,2}$/);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'stopped', { timeout: 30_000 });
  // a stopped run has no time left
  await expect(page.getByTestId('eta')).toHaveText('–');
});

test('Stop works on a run restored after a reload: the run is stopped in storage, and stays stopped', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=5000')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(10);
  await page.reload();
  await expect(page.getByTestId('interrupted')).toBeVisible({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'stopped', { timeout: 30_000 });
  await expect(page.getByTestId('interrupted')).toHaveCount(0);
  // the form is unlocked again, and the stored run says stopped
  await expect(page.getByLabel('Iterations')).toBeEnabled();
  await page.reload();
  await expect(page.getByTestId('saved-runs').locator('li').first()).toContainText('Stopped');
  await expect(page.getByTestId('interrupted')).toHaveCount(0);
});

test('after a reload the last run reopens with its charts, and the form and the link show its settings', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=30')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  // a plain visit to the lab, as after closing the tab
  await page.goto('/');
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(page.locator('[data-chart="curves"] .chart-panel').first()).toHaveAttribute('data-points', /^[1-9]\d*$/);
  await expect(page.getByLabel('Iterations')).toHaveValue('30');
  await expect(page).toHaveURL(/iterations=30/);
  await expect(page).toHaveURL(/depths=8%2C14/);
  // a link to another experiment is not overridden by the old run
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=70')}`);
  await expect(page.getByTestId('charts-empty')).toBeVisible();
  await expect(page.getByLabel('Iterations')).toHaveValue('70');
});

test('export a run as JSON and import it back', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=20')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const row = page.getByTestId('saved-runs').locator('li').first();
  const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Export JSON' }).click()]);
  const path = await download.path();
  const run = JSON.parse(readFileSync(path, 'utf8'));
  expect(run.format).toBe('degradation-lab-run');
  expect(run.nets.map((n: { id: string }) => n.id)).toEqual(['plain-8', 'resnet-8-A', 'plain-14', 'resnet-14-A']);
  expect(run.series['plain-8'].train.it.length).toBe(20);

  // a damaged file changes nothing and says why
  const before = await page.getByTestId('saved-runs').locator('li').count();
  await page
    .getByTestId('import-run-input')
    .setInputFiles({ name: 'broken.run.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"degradation-lab-run","version":1}') });
  await expect(page.getByTestId('error-banner')).toContainText('Could not import broken.run.json');
  await expect(page.getByTestId('saved-runs').locator('li')).toHaveCount(before);

  await page
    .getByTestId('import-run-input')
    .setInputFiles({ name: 'copy.run.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...run, name: 'Imported copy' })) });
  await expect(page.getByTestId('saved-runs').locator('li')).toHaveCount(before + 1);
  await expect(page.getByTestId('saved-runs')).toContainText('Imported copy');
});

test('renaming a run while it trains sticks: the worker, which saves the run as it trains, is the one that writes the name', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=5000')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(5);
  const row = page.getByTestId('saved-runs').locator('li.current');
  await row.getByRole('button', { name: 'Rename' }).click();
  await row.getByRole('textbox').fill('Renamed while training');
  await row.getByRole('button', { name: 'OK' }).click();
  await expect(row.locator('.run-name')).toHaveText('Renamed while training');
  // several of the worker's saves (every 400 ms) later, the stored name is still the new one
  const at = await iteration(page);
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(at + 20);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'stopped', { timeout: 30_000 });
  await page.reload();
  await expect(page.getByTestId('saved-runs').locator('li').first().locator('.run-name')).toHaveText('Renamed while training');
});

test('a training run cannot be deleted from under the worker; once stopped it can', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=5000')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(5);
  const row = page.getByTestId('saved-runs').locator('li.current');
  await expect(row.getByRole('button', { name: 'Delete' })).toBeDisabled();
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'stopped', { timeout: 30_000 });
  page.once('dialog', (d) => void d.accept());
  await row.getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByTestId('saved-runs').locator('li')).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId('saved-runs').locator('li')).toHaveCount(0);
});

test('a run of 250,000 iterations survives import → storage → open → export → import, stored in bounded chunks', async ({ page }) => {
  test.setTimeout(180_000);
  const n = 250_000;
  const it = Array.from({ length: n }, (_, i) => i + 1);
  const col = (f: (i: number) => number) => Array.from({ length: n }, (_, i) => Math.round(f(i) * 1e4) / 1e4);
  const run = {
    format: 'degradation-lab-run',
    version: 1,
    name: 'Long run',
    createdAt: '2026-01-01T00:00:00.000Z',
    config: { depths: [8], families: 'plain', iterations: n, evalEvery: 1000 },
    backend: 'lab-cpu',
    dataset: 'synthetic',
    status: 'done',
    progress: { iteration: n, iterations: n, imagesPerSec: 1000, elapsedMs: 1, etaMs: null },
    nets: [{ id: 'plain-8', label: 'plain-8', depth: 8, residual: false, shortcut: 'A', params: 1000, status: 'done', divergedAt: null }],
    series: {
      'plain-8': {
        train: {
          it,
          loss: col((i) => 2.3 / (1 + i / 1000)),
          err: col((i) => 0.9 / (1 + i / 1000)),
          runErr: col((i) => 0.9 / (1 + i / 1000)),
          lr: col(() => 0.1),
        },
        test: { it: [1000, 250_000], err: [0.8, 0.2], loss: [2, 0.5] },
        taps: [],
      },
    },
  };
  await page.goto('/');
  await page.getByTestId('import-run-input').setInputFiles({ name: 'long.run.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(run)) });
  await expect(page.getByTestId('saved-runs')).toContainText('Long run', { timeout: 60_000 });
  // opened: the charts draw it, and the store holds every point
  await expect(page.locator('[data-chart="curves"] .chart-panel').first()).toHaveAttribute('data-points', /^[1-9]\d*$/, { timeout: 60_000 });
  // stored in chunks of at most 10,000 points per column
  const chunks = await page.evaluate(
    () =>
      new Promise<number[]>((resolve, reject) => {
        const open = indexedDB.open('degradation-lab');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction('chunks').objectStore('chunks').getAll();
          req.onsuccess = () =>
            resolve(
              req.result.map((c: { nets: Record<string, { train: { it: number[] } }> }) => Math.max(...Object.values(c.nets).map((s) => s.train.it.length))),
            );
          req.onerror = () => reject(req.error);
        };
      }),
  );
  expect(chunks.length).toBe(25);
  expect(Math.max(...chunks)).toBeLessThanOrEqual(10_000);
  // export reads every chunk back, in order
  const row = page.getByTestId('saved-runs').locator('li').first();
  const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Export JSON' }).click()]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  expect(exported.series['plain-8'].train.it.length).toBe(n);
  expect(exported.series['plain-8'].train.it.at(-1)).toBe(n);
  expect(exported.series['plain-8'].train.loss).toEqual(run.series['plain-8'].train.loss);
  // and the export imports again
  await page
    .getByTestId('import-run-input')
    .setInputFiles({ name: 'again.run.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...exported, name: 'Long run again' })) });
  await expect(page.getByTestId('saved-runs').locator('li')).toHaveCount(2, { timeout: 60_000 });
  await expect(page.getByTestId('saved-runs')).toContainText('Long run again');
});

/** The stored checkpoints' iterations, newest first (read straight from IndexedDB). */
function storedCheckpoints(page: import('@playwright/test').Page): Promise<number[]> {
  return page.evaluate(
    () =>
      new Promise<number[]>((resolve, reject) => {
        const open = indexedDB.open('degradation-lab');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction('snapshots').objectStore('snapshots').getAll();
          req.onsuccess = () => {
            open.result.close();
            resolve((req.result as { seq: number; iteration: number }[]).sort((a, b) => b.seq - a.seq).map((s) => s.iteration));
          };
          req.onerror = () => reject(req.error);
        };
      }),
  );
}

test('a NaN weight and a failed write never replace the last good checkpoint; resume lands on it', async ({ page }) => {
  const inject = (kind: string) =>
    page.evaluate((k) => (window as unknown as { labAutomation: { injectFault(k: string): void } }).labAutomation.injectFault(k), kind);
  const pause = async () => {
    await page.getByRole('button', { name: 'Pause' }).click();
    await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'paused', { timeout: 30_000 });
  };
  // a fault in the next checkpoint, taken soon after Resume (checkpoints are frequent): it names the last good one, which stays
  const faultyCheckpoint = async (kind: string, says: string) => {
    const [good] = await storedCheckpoints(page);
    await inject(kind);
    await page.getByRole('button', { name: 'Resume' }).click();
    await expect(page.getByTestId('error-banner').last()).toContainText(`checkpoint: not saved, the last good checkpoint (iteration ${good}) is kept`);
    await expect(page.getByTestId('error-banner').last()).toContainText(says);
    await pause();
  };
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=5000')}&automation=1`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(10);
  await pause();
  await expect.poll(async () => (await storedCheckpoints(page)).length).toBeGreaterThanOrEqual(1);
  expect((await storedCheckpoints(page))[0]).toBeGreaterThan(10);

  await faultyCheckpoint('nan-checkpoint', 'is NaN');
  await faultyCheckpoint('write-fault', 'the write failed (simulated)');
  // the run trains on after each: the checkpoint taken at the pause is good, and it is the one resumed from
  const [last] = await storedCheckpoints(page);
  expect(last).toBe(await iteration(page));

  await page.reload();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'paused', { timeout: 30_000 });
  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', 'cache', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('notice')).toContainText(`Resumed from the checkpoint at iteration ${last}.`);
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'running');
  await page.getByRole('button', { name: 'Stop' }).click();
});

test('the live tensor count reported by the worker stays flat over 100 steps (tfjs engine)', async ({ page }) => {
  // tfjs's own CPU backend, so the count is of real tfjs tensors (the lab CPU engine counts buffers)
  const query = TINY_QUERY.replace('iters=60', 'iters=100')
    .replace('backend=lab-cpu', 'backend=cpu')
    .replace('depths=8,14', 'depths=8')
    .replace('families=both', 'families=residual')
    .replace('batch=8', 'batch=4')
    .replace('eval=10', 'eval=50');
  await page.goto(`/?${query}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('engine')).toContainText('tfjs cpu');
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThanOrEqual(5);
  const early = Number(await page.getByTestId('live-tensors').textContent());
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  expect(early).toBeGreaterThan(0);
  expect(Number(await page.getByTestId('live-tensors').textContent())).toBe(early);
});

test('a lost device stops the run cleanly, keeps every point, and offers to resume on the next backend', async ({ page }) => {
  const query = TINY_QUERY.replace('iters=60', 'iters=100000')
    .replace('depths=8,14', 'depths=8')
    .replace('families=both', 'families=residual')
    .replace('batch=8', 'batch=4');
  await page.goto(`/?${query}&automation=1`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(5);
  await page.evaluate(() => (window as unknown as { labAutomation: { injectFault(k: string): void } }).labAutomation.injectFault('device-lost'));
  const banner = page.getByTestId('backend-failure');
  await expect(banner).toContainText('the GPU device was lost (simulated)');
  await expect(banner).toContainText('Every recorded point is kept');
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'failed');
  const failedAt = await iteration(page);
  await expect(page.locator('[data-chart="curves"] .chart-panel')).toHaveCount(1); // residual nets only: no empty plain panel
  await expect(page.locator('[data-chart="curves"] .chart-panel').first()).toHaveAttribute('data-points', /^[1-9]\d*$/);
  await banner.getByRole('button', { name: 'Resume on cpu' }).click();
  await expect(page.getByTestId('engine')).toContainText('tfjs cpu', { timeout: 30_000 });
  // the weights at the moment of the fault are not trusted: it resumes from the last checkpoint before it
  await expect(page.getByTestId('notice')).toContainText(/Resumed from the checkpoint at iteration \d+\./);
  const resumedAt = Number((await page.getByTestId('notice').textContent())!.match(/iteration ([\d,]+)/)![1].replace(/,/g, ''));
  expect(resumedAt).toBeLessThanOrEqual(failedAt);
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(resumedAt);
  await page.getByRole('button', { name: 'Stop' }).click();
});

test('a helper thread that dies does not wedge the lab: the watchdog restarts the worker, keeps the points, and Resume works', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=100000')}&automation=1`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(5);
  await page.evaluate(() => (window as unknown as { labAutomation: { injectFault(k: string): void } }).labAutomation.injectFault('kill-helper'));
  await expect(page.getByTestId('error-banner')).toContainText('Training stopped answering', { timeout: 30_000 });
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'paused');
  await expect(page.getByTestId('interrupted')).toBeVisible();
  await expect(page.locator('[data-chart="curves"] .chart-panel').first()).toHaveAttribute('data-points', /^[1-9]\d*$/);
  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', 'cache', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
  const resumedAt = await iteration(page);
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(resumedAt + 5);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'stopped', { timeout: 30_000 });
});

test('a lost WebGL context stops the run cleanly and offers to resume on the next backend', async ({ page }) => {
  const query = TINY_QUERY.replace('iters=60', 'iters=100000')
    .replace('depths=8,14', 'depths=8')
    .replace('families=both', 'families=residual')
    .replace('backend=lab-cpu', 'backend=webgl');
  await page.goto(`/?${query}&automation=1`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('engine')).toContainText('tfjs webgl', { timeout: 60_000 });
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(2);
  await page.evaluate(() => (window as unknown as { labAutomation: { injectFault(k: string): void } }).labAutomation.injectFault('context-lost'));
  const banner = page.getByTestId('backend-failure');
  await expect(banner).toContainText('the WebGL context was lost');
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'failed');
  await expect(banner.getByRole('button', { name: /Resume on lab-cpu/ })).toBeVisible();
});

test('two tabs, one run: the second shows it read-only as running in another tab, and cannot resume or rename it', async ({ page, context }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=100000')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(5);

  const other = await context.newPage();
  await other.goto('/');
  await expect(other.getByTestId('elsewhere')).toBeVisible({ timeout: 30_000 });
  await expect(other.getByTestId('run-state')).toHaveAttribute('data-state', 'running');
  await expect(other.getByTestId('interrupted')).toHaveCount(0);
  for (const name of ['Resume', 'Pause', 'Stop']) await expect(other.getByRole('button', { name, exact: true })).toHaveCount(0);
  const row = other.getByTestId('saved-runs').locator('li').first();
  await row.getByRole('button', { name: 'Rename' }).click();
  await row.getByRole('textbox').fill('Renamed from the other tab');
  await row.getByRole('button', { name: 'OK' }).click();
  await expect(other.getByTestId('error-banner')).toContainText('this run is training in another tab: rename it there');

  // the first tab trains on, undisturbed
  const at = await iteration(page);
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(at + 5);
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'stopped', { timeout: 30_000 });
  await other.reload(); // the last run reopens: stopped now, and no longer another tab's
  await expect(other.getByTestId('run-state')).toHaveAttribute('data-state', 'stopped');
  await expect(other.getByTestId('elsewhere')).toHaveCount(0);
});

test('a start that the worker refuses ends as "failed" with the reason; the page never waits in "starting"', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY}&automation=1`);
  await loadFixtureData(page);
  // the automation API passes the config to the worker unchecked: the worker's validation refuses it
  await page.evaluate(() =>
    (window as unknown as { labAutomation: { startWith(c: object, s: boolean): void } }).labAutomation.startWith({ depths: [9] }, true),
  );
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'failed', { timeout: 30_000 });
  const run = await page.evaluate(() => (window as unknown as { labAutomation: { state(): { run: { message?: string } | null } } }).labAutomation.state().run);
  expect(run?.message).toContain('invalid experiment: depths: 9 is not a CIFAR net depth');
  await expect(page.getByRole('button', { name: 'Run again with these settings' })).toBeEnabled();
});

test('storage full mid-run: a specific message, training goes on, and Export JSON still has every point', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=100000')}&automation=1`);
  await expect(page.getByTestId('storage-usage')).toContainText(/Stored: [\d.,]+ MB of the [\d.,]+ MB this browser allows the lab\./);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(5);
  await page.evaluate(() => (window as unknown as { labAutomation: { injectFault(k: string): void } }).labAutomation.injectFault('quota'));
  const banner = page.getByTestId('error-banner').filter({ hasText: 'Storage is full' });
  await expect(banner).toContainText(/the saved copy of this run stops at iteration \d+\. Training goes on/);
  const fullAt = await iteration(page);
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(fullAt + 20);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'paused', { timeout: 30_000 });
  const stored = await page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('degradation-lab');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const req = open.result.transaction('chunks').objectStore('chunks').getAll();
          req.onsuccess = () =>
            resolve(
              req.result.reduce((n: number, c: { nets: Record<string, { train: { it: number[] } }> }) => n + (c.nets['plain-8']?.train.it.length ?? 0), 0),
            );
          req.onerror = () => reject(req.error);
        };
      }),
  );
  const row = page.getByTestId('saved-runs').locator('li.current');
  const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: 'Export JSON' }).click()]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  const its: number[] = exported.series['plain-8'].train.it;
  expect(its.length).toBeGreaterThan(stored + 20);
  expect(its.every((it, i) => it === i + 1)).toBe(true);
});

test('a net added to a running experiment starts at iteration 0 and trains beside the others', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=100000').replace('depths=8,14', 'depths=8')}&automation=1`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(20);
  await page.getByLabel('Add a net').selectOption('plain-14');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  const legend = page.locator('[data-chart="curves"] .legend');
  await expect(legend).toContainText('plain-14', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'stopped', { timeout: 30_000 });
  type Run = { series: Record<string, { train: { it: number[] } }> };
  const run = (await page.evaluate(() => (window as unknown as { labAutomation: { runFile(): Promise<unknown> } }).labAutomation.runFile())) as Run;
  const newcomer = run.series['plain-14'].train.it;
  const first = run.series['plain-8'].train.it;
  expect(newcomer[0]).toBe(1); // from iteration 0, not from where the others were
  expect(newcomer.length).toBeGreaterThan(0);
  expect(first.length).toBeGreaterThan(newcomer.length); // the others had a head start
  expect(newcomer).toEqual(first.slice(0, newcomer.length)); // one point per iteration, none skipped
});

test('the lab WebGPU engine trains a paired experiment in the page (on SwiftShader here), and auto says what it timed', async ({ page }) => {
  const problems = collectConsoleProblems(page);
  const query = TINY_QUERY.replace('iters=60', 'iters=20').replace('depths=8,14', 'depths=8').replace('backend=lab-cpu', 'backend=lab-webgpu');
  await page.goto(`/?${query}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('engine')).toContainText('lab WebGPU engine', { timeout: 60_000 });
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
  expect(await iteration(page)).toBe(20);
  await expect(page.locator('[data-chart="curves"] .chart-panel').first()).toHaveAttribute('data-points', /^[1-9]\d*$/);
  expect(problems()).toEqual([]);

  // auto: the experiment's largest net timed on each engine that can run it, the figures in the status line;
  // here the only adapter is SwiftShader, which auto does not time, and says so
  await page.goto(`/?${query.replace('backend=lab-webgpu', 'backend=auto').replace('iters=20', 'iters=10')}`);
  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', 'cache', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Start' }).click();
  // the status line names the engine; what auto measured is under "details"
  await expect(page.getByTestId('engine')).toContainText(/lab CPU engine \(\d threads?\)/, { timeout: 120_000 });
  const engine = page.getByTestId('engine-detail');
  await expect(engine).toContainText(/lab CPU engine .* — auto: CPU [\d,]+ img\/s · WebGPU: not timed, the only adapter is a software one/, {
    timeout: 120_000,
  });
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 240_000 });
});

test('the loss landscape of a finished run: plain beside ResNet on one scale, streamed with progress, cancellable, saved with the run across a reload', async ({
  page,
}) => {
  const problems = collectConsoleProblems(page);
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=20')}&automation=1`);
  await loadFixtureData(page);
  const card = page.locator('[data-chart="landscape"]');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 60_000 });
  await card.getByTestId('landscape-grid').selectOption('11');
  await card.getByRole('button', { name: 'Compute the landscape' }).click();
  // rows stream in: the progress bar counts them, and the maps grow row by row
  await expect(card.getByTestId('landscape-progress')).toContainText(/of 26 steps/); // 2 maps of 11 rows, 4 paths
  const maps = card.locator('.landscape-map');
  await expect(maps).toHaveCount(2);
  await expect(maps.nth(0)).toHaveAttribute('data-subtitle', 'plain-14');
  await expect(maps.nth(1)).toHaveAttribute('data-subtitle', 'ResNet-14');
  await expect(maps.nth(1)).toHaveAttribute('data-rows', '11', { timeout: 60_000 });
  await expect(card.getByTestId('landscape-progress')).toHaveCount(0);
  await expect(maps.nth(0).locator('rect')).toHaveCount(1 + 121);
  await expect(maps.nth(0).locator('path').first()).toBeAttached(); // contour lines
  await expect(card).toContainText(/Step ratio .*plain-14 ×\d\.\d\d; ResNet-14 ×\d\.\d\d/);
  await expect(card).toContainText(/The ResNet-14 surface is the smoother|Here the ResNet-14 surface is not the smoother/);
  // the same surfaces in 3-D, turned together by a slider (keyboard too), and back to the maps
  await card.getByTestId('landscape-view').selectOption('3d');
  const surfaces = card.locator('.landscape-surface');
  await expect(surfaces).toHaveCount(2);
  await expect(surfaces.nth(0)).toHaveAttribute('data-quads', '100');
  const firstQuad = () => surfaces.nth(1).locator('polygon').nth(1).getAttribute('points');
  const before = await firstQuad();
  await card.getByTestId('landscape-turn').focus();
  await page.keyboard.press('ArrowRight');
  await expect.poll(firstQuad).not.toBe(before);
  if (process.env.SHOT_DIR) await card.screenshot({ path: `${process.env.SHOT_DIR}/landscape-3d.png` });
  await card.getByTestId('landscape-view').selectOption('maps');
  await expect(maps).toHaveCount(2);
  // and every net's path from its initial weights to its trained ones
  const path = page.locator('[data-chart="landscape-path"]');
  await expect(path.getByTestId('landscape-path')).toHaveAttribute('data-nets', '4');
  await expect(path).toContainText(/It (falls all the way|barely moves|rises on the way) for .*(plain|ResNet)-(8|14)/);
  // and how close each ResNet block stays to the identity, ‖F(x)‖/‖x‖, with the paper's claim judged on the data
  const identity = page.locator('[data-chart="landscape-identity"]');
  await expect(identity.getByTestId('landscape-identity')).toHaveAttribute('data-nets', '2');
  await expect(identity).toContainText(/ResNet-14: median \d+\.\d\d, smaller than its input in \d+ of 6 blocks/);
  await expect(identity).toContainText(/The residual functions stay small in|They are not small in/);
  // the figure for slides takes the landscape as a panel (on by default once there is one), and leaves it out unticked
  const tools = page.getByRole('group', { name: 'Figure for slides:' });
  const slide = async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), tools.getByRole('button', { name: '16:9 SVG' }).click()]);
    return readFileSync(await download.path(), 'utf8');
  };
  await expect(tools.getByTestId('slide-landscape')).toBeChecked();
  const withMaps = await slide();
  expect(withMaps).toContain('Loss landscape around the trained weights');
  expect([...withMaps.matchAll(/<circle [^>]*stroke="#ff4d4d"/g)]).toHaveLength(2);
  await tools.getByTestId('slide-landscape').uncheck();
  expect(await slide()).not.toContain('Loss landscape around the trained weights');
  // a larger grid, cancelled midway: the landscape before it stays
  await card.getByTestId('landscape-grid').selectOption('21');
  await card.getByRole('button', { name: 'Compute again' }).click();
  await expect(card.getByTestId('landscape-progress')).toContainText(/of 46 steps/);
  // after its first row, the time left at the job's own pace
  await expect(card.getByTestId('landscape-progress')).toContainText(/ · about \d+:\d\d left/);
  await card.getByRole('button', { name: 'Cancel' }).click();
  await expect(card.getByTestId('landscape-progress')).toHaveCount(0);
  await expect(maps.nth(1)).toHaveAttribute('data-rows', '11');
  // saved with the run: after a reload the finished run reopens with its landscape, and it is in the run file
  await page.reload();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 30_000 });
  await expect(page.locator('[data-chart="landscape"] .landscape-map').nth(1)).toHaveAttribute('data-rows', '11');
  const file = await page.evaluate(() =>
    (window as unknown as { labAutomation: { runFile(): Promise<{ landscape?: { grid: number; nets: unknown[] } }> } }).labAutomation.runFile(),
  );
  expect(file?.landscape?.grid).toBe(11);
  expect(file?.landscape?.nets).toHaveLength(2);
  // and computed again after the reload, from the run's saved weights (the worker loads its checkpoint)
  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', 'cache', { timeout: 30_000 });
  await page.locator('[data-chart="landscape"]').getByTestId('landscape-grid').selectOption('11');
  await page.locator('[data-chart="landscape"]').getByRole('button', { name: 'Compute again' }).click();
  await expect(page.locator('[data-chart="landscape"]').getByTestId('landscape-progress')).toHaveCount(0, { timeout: 60_000 });
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done');
  expect(problems()).toEqual([]);
});
