// Open the production build of the lab in headless Chromium, the same way the e2e tests do
// (e2e/browser.ts), for the benchmark harness and the headless experiment runner.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium } from '@playwright/test';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { preview } from 'vite';
import type { PreviewServer } from 'vite';
import { launchOptions } from '../e2e/browser';
import type { LabAutomation } from '../src/ui/automation';

export const ROOT = resolve(import.meta.dirname, '..');

export interface LabSession {
  page: Page;
  browser: Browser;
  context: BrowserContext;
  url: string;
  browserVersion: string;
  close(): Promise<void>;
}

/** Serve a folder of CIFAR-10 .bin files at the lab's data URL, with a manifest made on the fly. */
async function serveDataDir(context: BrowserContext, dir: string): Promise<void> {
  const names = readdirSync(dir).filter((n) => /^(data_batch_\d+|test_batch)\.bin$|^batches\.meta\.txt$/.test(n));
  if (!names.some((n) => n === 'test_batch.bin')) throw new Error(`${dir} has no test_batch.bin`);
  const files = new Map(names.map((n) => [n, readFileSync(join(dir, n))]));
  const manifest = { files: [...files].map(([name, b]) => ({ name, bytes: b.length, sha256: createHash('sha256').update(b).digest('hex') })) };
  await context.route('**/data/cifar-10-batches-bin/*', (route) => {
    const name = new URL(route.request().url()).pathname.split('/').pop()!;
    if (name === 'manifest.json') return route.fulfill({ json: manifest });
    const body = files.get(name);
    return body ? route.fulfill({ body, headers: { 'content-length': String(body.length) } }) : route.fulfill({ status: 404 });
  });
}

export async function openLab(opts: { query?: string; dataDir?: string | null; log?: (line: string) => void } = {}): Promise<LabSession> {
  if (!existsSync(join(ROOT, 'dist/index.html'))) throw new Error('no production build: run `npm run build` first');
  const server: PreviewServer = await preview({ root: ROOT, logLevel: 'silent', preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } });
  const url = server.resolvedUrls?.local[0]?.replace(/\/$/, '') ?? '';
  if (!url) throw new Error('the preview server did not report its URL');
  // handleSIGINT off: the runner stops the run cleanly on Ctrl-C and closes the browser itself
  const browser = await chromium.launch({ ...launchOptions(), headless: true, handleSIGINT: false });
  // no service worker: the runner and the bench serve the data through routes, which it would bypass
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, acceptDownloads: true, serviceWorkers: 'block' });
  if (opts.dataDir) await serveDataDir(context, opts.dataDir);
  const page = await context.newPage();
  page.on('pageerror', (e) => opts.log?.(`page error: ${e.message}`));
  await page.goto(`${url}/?${opts.query ? `${opts.query}&` : ''}automation=1`);
  await page.waitForFunction(
    () =>
      Boolean((window as unknown as { labAutomation?: unknown }).labAutomation) &&
      (window as unknown as { labAutomation: LabAutomation }).labAutomation.state().backend !== null,
    null,
    { timeout: 60_000 },
  );
  return {
    page,
    browser,
    context,
    url,
    browserVersion: browser.version(),
    async close() {
      await browser.close();
      await new Promise<void>((r) => server.httpServer.close(() => r()));
    },
  };
}
