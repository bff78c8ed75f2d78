// CIFAR-10 into the browser: from the server with a progress bar, by drag and drop, from the cache.
import { test, expect } from '@playwright/test';
import { createHash } from 'node:crypto';
import { makeBin, metaText } from '../src/core/data/testing/fixtures';
import { FIXTURE, fixtureArchive } from './fixtures';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('drop a fixture archive onto the page: count, sample grid with class names; after a reload it comes from the cache', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('data-panel')).not.toHaveAttribute('data-status', 'loading', { timeout: 60_000 });
  // a real drop: a DataTransfer holding the archive, dropped on the data panel
  const bytes = [...fixtureArchive()];
  const dataTransfer = await page.evaluateHandle((arr) => {
    const dt = new DataTransfer();
    dt.items.add(new File([new Uint8Array(arr)], 'cifar-10-binary.tar.gz', { type: 'application/gzip' }));
    return dt;
  }, bytes);
  await page.getByTestId('data-panel').dispatchEvent('drop', { dataTransfer });
  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', 'dropped', { timeout: 30_000 });
  const train = (FIXTURE.trainBatches * FIXTURE.perBatch).toLocaleString('en');
  await expect(page.getByTestId('data-count')).toHaveText(`${train} training / ${FIXTURE.test} test images`);
  const grid = page.getByTestId('sample-grid');
  await expect(grid).toHaveAttribute('data-count', '40');
  await expect(grid.getByRole('img', { name: 'airplane' })).toBeVisible();
  await expect(grid.getByRole('img', { name: 'truck' })).toBeVisible();
  await expect(grid).toContainText('automobile');

  await page.reload();
  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', 'cache', { timeout: 30_000 });
  await expect(page.getByTestId('data-count')).toHaveText(`${train} training / ${FIXTURE.test} test images`);
});

test('loads the files from the app’s own origin with a progress bar, checked against the manifest', async ({ page, context }) => {
  const files = new Map<string, Uint8Array>([
    ['data_batch_1.bin', makeBin(300, 7)],
    ['test_batch.bin', makeBin(60, 8)],
    ['batches.meta.txt', metaText()],
  ]);
  const manifest = { files: [...files].map(([name, b]) => ({ name, bytes: b.length, sha256: sha256(b) })) };
  const seen: string[] = [];
  await context.route('**/data/cifar-10-batches-bin/*', async (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop()!;
    seen.push(name);
    if (name === 'manifest.json') return route.fulfill({ json: manifest });
    const body = files.get(name);
    return body ? route.fulfill({ body: Buffer.from(body), headers: { 'content-length': String(body.length) } }) : route.fulfill({ status: 404 });
  });
  await page.goto('/');
  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', 'origin', { timeout: 30_000 });
  await expect(page.getByTestId('data-count')).toHaveText('300 training / 60 test images');
  expect(seen).toEqual(expect.arrayContaining(['manifest.json', 'data_batch_1.bin', 'test_batch.bin', 'batches.meta.txt']));
});

test('a file that does not match the manifest is refused, naming the file', async ({ page, context }) => {
  const good = makeBin(50, 1);
  const manifest = {
    files: [
      { name: 'data_batch_1.bin', bytes: good.length, sha256: sha256(good) },
      { name: 'test_batch.bin', bytes: good.length, sha256: '0'.repeat(64) },
    ],
  };
  await context.route('**/data/cifar-10-batches-bin/*', (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop()!;
    return name === 'manifest.json' ? route.fulfill({ json: manifest }) : route.fulfill({ body: Buffer.from(good) });
  });
  await page.goto('/');
  await expect(page.getByTestId('data-error')).toContainText('checksum mismatch for test_batch.bin', { timeout: 30_000 });
});

test('without data on the server the lab says how to get it, and a bad drop gets a specific message', async ({ page, context }) => {
  await context.route('**/data/cifar-10-batches-bin/manifest.json', (r) => r.fulfill({ status: 404 }));
  await page.goto('/');
  const guidance = page.getByTestId('data-guidance');
  await expect(guidance).toContainText('npm run fetch-data', { timeout: 30_000 });
  await expect(guidance).toContainText('CIFAR10_DIR');
  await expect(guidance).toContainText('drop cifar-10-binary.tar.gz');
  const truncated = fixtureArchive().subarray(0, 5000);
  await page.getByTestId('data-file-input').setInputFiles({ name: 'cifar-10-binary.tar.gz', mimeType: 'application/gzip', buffer: truncated });
  // a cut archive's last bytes are whatever was there: caught while inflating, or by the size they declare
  await expect(page.getByTestId('data-error')).toContainText(
    /cifar-10-binary\.tar\.gz (is not a valid gzip file \(corrupt or truncated\)|declares \d+ MB unpacked .* truncated or damaged \(download it again\))/,
  );
  const notCifar = Buffer.from(makeBin(3).subarray(0, 3000));
  await page.getByTestId('data-file-input').setInputFiles([
    { name: 'data_batch_1.bin', mimeType: 'application/octet-stream', buffer: notCifar },
    { name: 'test_batch.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(makeBin(2)) },
  ]);
  await expect(page.getByTestId('data-error')).toContainText('data_batch_1.bin is 3,000 bytes, not a multiple of the 3073-byte CIFAR-10 record');
});
