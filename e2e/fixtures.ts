// Test data for the browser tests: a small CIFAR-10 archive in the exact format, made on the fly.
import type { Page } from '@playwright/test';
import { expect } from '@playwright/test';
import { makeFiles, makeTarGz } from '../src/core/data/testing/fixtures';

export const FIXTURE = { trainBatches: 2, perBatch: 250, test: 100 };

export function fixtureArchive(): Buffer {
  return Buffer.from(makeTarGz(makeFiles(FIXTURE.trainBatches, FIXTURE.perBatch, FIXTURE.test)));
}

/** Give the page the fixture archive through its file input, and wait until it is loaded. */
export async function loadFixtureData(page: Page): Promise<void> {
  await expect(page.getByTestId('data-panel')).not.toHaveAttribute('data-status', 'loading', { timeout: 60_000 });
  await page.getByTestId('data-file-input').setInputFiles({ name: 'cifar-10-binary.tar.gz', mimeType: 'application/gzip', buffer: fixtureArchive() });
  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', /dropped|cache/, { timeout: 60_000 });
}

/** A tiny, fast experiment on the lab CPU engine (a documented URL setting: backend=lab-cpu). */
export const TINY_QUERY =
  'depths=8,14&families=both&shortcut=A&warmup=off&lr=0.1&batch=8&iters=60&train=500&test=50&split=test&aug=0&width=0.25&eval=10&seed=3&backend=lab-cpu';
