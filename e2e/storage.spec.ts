// Storage trouble is said, not swallowed (issue #32): a tab of an older lab that holds the saved-runs
// database open blocks this page's upgrade; the page says so in its messages, once, and carries on
// when that tab closes.
import { expect, test } from '@playwright/test';

test('an old tab blocking the saved-runs upgrade: the page says so once, and the saved runs open when that tab closes', async ({ context }) => {
  // the old tab: the lab's version-1 database, held open, never closing when asked to
  const old = await context.newPage();
  await old.goto('/favicon.svg');
  await old.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('degradation-lab', 1);
        open.onupgradeneeded = () => {
          const d = open.result;
          d.createObjectStore('runs', { keyPath: 'id' });
          d.createObjectStore('chunks', { autoIncrement: true }).createIndex('runId', 'runId');
          d.createObjectStore('checkpoints', { keyPath: 'runId' });
          d.createObjectStore('datasets', { keyPath: 'slot' });
        };
        open.onsuccess = () => {
          (window as unknown as { oldDb: IDBDatabase }).oldDb = open.result;
          resolve();
        };
        open.onerror = () => reject(open.error);
      }),
  );
  const page = await context.newPage();
  await page.goto('/');
  const banner = page.getByTestId('error-banner').filter({ hasText: 'older version' });
  await expect(banner).toHaveCount(1, { timeout: 30_000 });
  await expect(banner).toContainText('Another tab of the lab has the saved runs open with an older version: close it to continue.');
  await expect(banner).toHaveAttribute('role', 'alert');
  // the old tab closes its connection: the upgrade goes on, and the lab's saved runs work
  await old.evaluate(() => (window as unknown as { oldDb: IDBDatabase }).oldDb.close());
  await expect
    .poll(
      () =>
        page.evaluate(
          () =>
            new Promise<number>((resolve) => {
              const open = indexedDB.open('degradation-lab');
              open.onsuccess = () => {
                resolve(open.result.version);
                open.result.close();
              };
            }),
        ),
      { timeout: 30_000 },
    )
    .toBe(2);
  await banner.getByRole('button', { name: /dismiss/i }).click();
  await expect(banner).toHaveCount(0);
});
