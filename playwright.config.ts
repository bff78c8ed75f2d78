import { defineConfig } from '@playwright/test';
import { resolve } from 'node:path';
import { launchOptions } from './e2e/browser';

const PORT = Number(process.env.E2E_PORT ?? 4173);
/** The server appends every Content-Security-Policy violation report here; the suite fails on any (e2e/globalTeardown.ts). */
export const CSP_REPORT_FILE = resolve('test-results/csp-reports.jsonl');

// The e2e tests run against the production build (npm test builds it first), served by `vite preview`.
export default defineConfig({
  testDir: 'e2e',
  testMatch: /.*\.spec\.ts$/,
  globalSetup: './e2e/globalSetup.ts',
  globalTeardown: './e2e/globalTeardown.ts',
  timeout: 120_000,
  expect: { timeout: 30_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    viewport: { width: 1280, height: 720 },
    launchOptions: launchOptions(),
    trace: 'off',
    // The production build registers a service worker (src/sw/sw.ts). Requests a service worker
    // handles bypass Playwright's routes, which many tests use; so it is blocked here (the page
    // then runs uncached, as in a browser without one) and allowed in e2e/static-host.spec.ts.
    serviceWorkers: 'block',
  },
  webServer: {
    command: `npx vite preview --host 127.0.0.1 --port ${PORT} --strictPort`,
    url: `http://127.0.0.1:${PORT}`,
    reuseExistingServer: false,
    env: { CSP_REPORT_FILE },
    timeout: 60_000,
  },
});
