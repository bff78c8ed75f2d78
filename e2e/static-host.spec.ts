// The production build on a plain static server that sends no COOP/COEP and no Content-Security-
// Policy (GitHub Pages, a school's server): the service worker (src/sw/sw.ts) makes the page
// cross-origin isolated, so the lab CPU engine trains on every core; the policy comes from the
// <meta> tag (and the worker's headers) with no violation; after one visit the lab opens and the
// Classroom preset trains with the network cut; a new build waits until the page asks for it.
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { test, expect } from '@playwright/test';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { extname, join, normalize, resolve } from 'node:path';
import { makeFiles } from '../src/core/data/testing/fixtures';
import type { LabAutomation } from '../src/ui/automation';
import { TINY_QUERY } from './fixtures';

const DIST = resolve('dist');
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.bin': 'application/octet-stream',
  '.txt': 'text/plain',
};

/** The fixture data where the lab looks for it on its own origin, with the manifest the download script writes. */
const DATA = makeFiles(2, 1000, 500);
const MANIFEST = JSON.stringify({
  files: DATA.map((f) => ({ name: f.name, bytes: f.data.length, sha256: createHash('sha256').update(f.data).digest('hex') })),
});

/**
 * A static server in the plainest form: files and a Content-Type, no other header. `build` 2 serves
 * a changed build (another service worker and a marked index.html); `down` drops every connection.
 */
class StaticHost {
  server!: Server;
  port = 0;
  build = 1;
  down = false;
  requests: string[] = [];

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (this.down) return void req.socket.destroy();
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      this.requests.push(path);
      const data = path.startsWith('/data/cifar-10-batches-bin/') ? path.slice('/data/cifar-10-batches-bin/'.length) : null;
      if (data !== null) {
        const body = data === 'manifest.json' ? Buffer.from(MANIFEST) : DATA.find((f) => f.name === data)?.data;
        if (!body) return void res.writeHead(404).end();
        return void res.writeHead(200, { 'Content-Type': TYPES[extname(data)] ?? 'application/octet-stream' }).end(body);
      }
      const file = normalize(join(DIST, path.endsWith('/') ? `${path}index.html` : path));
      if (!file.startsWith(DIST) || !existsSync(file)) return void res.writeHead(404).end();
      let body: Buffer | string = readFileSync(file);
      if (this.build === 2 && path === '/sw.js')
        body = `${body.toString('utf8')}\n// build 2\n`.replace(/const CACHE = `\$\{PREFIX\}\$\{"([0-9a-f]+)"\}`/, 'const CACHE = `${PREFIX}${"$1-2"}`');
      if (this.build === 2 && (path === '/' || path === '/index.html'))
        body = body.toString('utf8').replace('<title>', '<meta name="lab-build" content="2" /><title>');
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' }).end(body);
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  url(path: string): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }
}

const host = new StaticHost();
let context: BrowserContext;
let page: Page;
const violations: string[] = [];

const state = (p: Page) => p.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.state());

async function open(browser: Browser): Promise<void> {
  context = await browser.newContext({ serviceWorkers: 'allow', viewport: { width: 1280, height: 720 } });
  // every Content-Security-Policy violation on the page, and every console report of one
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      const list = ((window as unknown as { __csp?: string[] }).__csp ??= []);
      list.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  page = await context.newPage();
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async ({ browser }) => {
  await host.start();
  await open(browser);
});

test.afterAll(async () => {
  await context?.close();
  host.server?.close();
});

test('on a server with no COOP/COEP headers, the service worker isolates the page and the lab CPU engine trains on every core, under the <meta> policy', async () => {
  const response = await page.goto(host.url(`/?${TINY_QUERY.replace('iters=60', 'iters=30')}&automation=1`));
  // the server itself sends none of the headers: isolation and the policy come from the build
  const headers = response!.headers();
  expect(headers['cross-origin-opener-policy']).toBeUndefined();
  expect(headers['cross-origin-embedder-policy']).toBeUndefined();
  expect(headers['content-security-policy']).toBeUndefined();
  // one reload, once the service worker controls the page
  await expect
    .poll(() => page.evaluate(() => window.crossOriginIsolated && navigator.serviceWorker.controller !== null).catch(() => false), { timeout: 60_000 })
    .toBe(true);
  await expect(page.getByRole('heading', { name: 'Degradation Lab' })).toBeVisible();
  const meta = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(meta).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(meta).not.toContain('frame-ancestors'); // not allowed in a <meta> policy
  // the data from the server's own folder, checked against its manifest
  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', 'origin', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(async () => (await state(page)).run?.state, { timeout: 90_000 }).toBe('done');
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const engine = (await state(page)).run!.engine;
  expect(engine).toContain('lab CPU engine');
  expect(engine).not.toContain('one thread');
  expect(engine).toContain(`${cores} thread${cores > 1 ? 's' : ''}`);
  if (cores >= 2) expect(engine).toMatch(/\b([2-9]|\d\d+) threads\b/);
  expect(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? [])).toEqual([]);
  expect(violations).toEqual([]);
});

test('offline after one visit: with the network cut, a reload opens the lab and the Classroom preset trains on the cached data', async () => {
  await context.setOffline(true);
  host.down = true;
  const before = host.requests.length;
  await page.goto(host.url('/?preset=classroom&automation=1'));
  await expect(page.getByRole('heading', { name: 'Degradation Lab' })).toBeVisible();
  expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
  await expect(page.getByLabel('Preset')).toHaveValue('classroom');
  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', 'cache', { timeout: 60_000 });
  await page.getByRole('button', { name: 'Start' }).click();
  await expect
    .poll(async () => ((await state(page)).run?.progress as { iteration?: number } | null)?.iteration ?? 0, { timeout: 90_000 })
    .toBeGreaterThanOrEqual(3);
  expect((await state(page)).run!.engine).not.toContain('one thread');
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect.poll(async () => (await state(page)).run?.state, { timeout: 30_000 }).toBe('stopped');
  expect(host.requests.length).toBe(before); // nothing reached the server
  expect(await page.evaluate(() => (window as unknown as { __csp?: string[] }).__csp ?? [])).toEqual([]);
  await context.setOffline(false);
  host.down = false;
});

test('a new build takes over without mixing: the open page keeps its own files and says an update is ready; a reload opens the new build', async ({
  browser,
}) => {
  // a fresh visitor (no offline emulation left over), on the first build
  await context.close();
  await open(browser);
  const url = host.url(`/?${TINY_QUERY.replace('iters=60', 'iters=20')}&automation=1`);
  await page.goto(url);
  await expect
    .poll(() => page.evaluate(() => window.crossOriginIsolated && navigator.serviceWorker.controller !== null).catch(() => false), { timeout: 60_000 })
    .toBe(true);
  await expect(page.getByTestId('data-source')).toHaveAttribute('data-source', 'origin', { timeout: 60_000 });
  host.build = 2;
  await page.goto(url);
  // the browser found the new service worker on navigation; it installed and took over, and the page says so
  await expect(page.getByTestId('update-ready')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('update-ready')).toContainText('A new version of the lab is ready');
  // still the first build's page, and it still works on its own files, from the caches alone
  expect(await page.locator('meta[name="lab-build"]').count()).toBe(0);
  host.down = true;
  const before = host.requests.length;
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(async () => (await state(page)).run?.state, { timeout: 90_000 }).toBe('done');
  expect(host.requests.length).toBe(before);
  host.down = false;
  // asked: a reload opens the new build, which no longer says there is an update
  await page.getByRole('button', { name: 'Reload now' }).click();
  await expect(page.locator('meta[name="lab-build"]')).toHaveAttribute('content', '2', { timeout: 30_000 });
  await expect(page.getByTestId('update-ready')).toHaveCount(0);
  expect(await page.evaluate(() => window.crossOriginIsolated)).toBe(true);
  // the first build's cache goes once no page of that build is open
  await expect.poll(() => page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('degradation-lab-')).length), { timeout: 30_000 }).toBe(1);
  expect(violations).toEqual([]);
});
