// Bad records, errors nobody caught, and a part of the page that fails to render: each is named on
// the page, and the rest of the lab keeps working.
import { test, expect } from '@playwright/test';

type Auto = { labAutomation: { breakView(area: string): void } };

test('a damaged saved record is hidden and named; the good ones still list and open', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('saved-runs')).toBeAttached();
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('degradation-lab');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('runs', 'readwrite');
          const good = {
            id: 'good-1',
            name: 'A good run',
            createdAt: '2026-01-02T00:00:00.000Z',
            updatedAt: '2026-01-02T00:00:00.000Z',
            config: { depths: [8], families: 'plain' },
            status: 'done',
            backend: 'lab-cpu',
            dataset: 'fixture',
            nets: [{ id: 'plain-8', label: 'plain-8', depth: 8, residual: false, shortcut: 'A', params: 100, status: 'done', divergedAt: null }],
            progress: { iteration: 10, iterations: 10, imagesPerSec: 1, elapsedMs: 1, etaMs: null },
            checkpointIteration: null,
            origin: 'lab',
          };
          tx.objectStore('runs').put(good);
          tx.objectStore('runs').put({ ...good, id: 'bad-1', name: 'Damaged', config: { depths: 'eleventy' } });
          tx.objectStore('runs').put({ id: 'bad-2', status: 'done' });
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
  await page.goto('/'); // a plain visit: the last run reopens
  await expect(page.getByTestId('saved-runs').locator('li')).toHaveCount(1);
  await expect(page.getByTestId('saved-runs')).toContainText('A good run');
  const banners = page.getByTestId('error-banner');
  await expect(banners.filter({ hasText: 'bad-1: its config is invalid (depths:' })).toHaveCount(1);
  await expect(banners.filter({ hasText: 'bad-2: its name is not text' })).toHaveCount(1);
  // the last good run reopens after the reload, as any last run does
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done');
  await expect(page.getByTestId('saved-runs').locator('li.current')).toContainText('A good run');
});

test('an error that no code caught still reaches the page', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('saved-runs')).toBeAttached();
  await page.evaluate(() => {
    void Promise.reject(new Error('probe rejection 41'));
  });
  await expect(page.getByTestId('error-banner')).toContainText('Something failed unexpectedly: probe rejection 41');
});

test('a part of the page that fails to render says so in its place; the rest works, and "Try again" brings it back', async ({ page }) => {
  await page.goto('/?automation=1');
  await expect(page.getByTestId('saved-runs')).toBeAttached();
  await page.evaluate(() => (window as unknown as Auto).labAutomation.breakView('charts'));
  const failed = page.getByTestId('area-failed');
  await expect(failed).toHaveAttribute('data-area', 'charts');
  await expect(failed).toContainText('The charts could not be shown: a rendering fault (simulated). Everything recorded is kept.');
  // the sidebar is untouched
  await expect(page.getByRole('heading', { name: 'Experiment', exact: true })).toBeVisible();
  await expect(page.getByTestId('saved-runs')).toBeAttached();
  await failed.getByRole('button', { name: 'Try again' }).click();
  await expect(failed).toHaveCount(0);
  await expect(page.getByTestId('charts-empty')).toBeVisible();
});
