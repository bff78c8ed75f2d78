// The lab WebGPU engine's tests (src/**/*.gpu.test.ts) run in headless Chromium on WebGPU, in
// Vitest's browser mode: SwiftShader where there is no GPU (as in CI), the real adapter elsewhere.
// The same Chromium and flags as the e2e tests (e2e/browser.ts).
import { defineConfig } from 'vitest/config';
import { playwright } from '@vitest/browser-playwright';
import { launchOptions } from './e2e/browser';

export default defineConfig({
  test: {
    include: ['src/**/*.gpu.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    browser: {
      enabled: true,
      headless: true,
      screenshotFailures: false,
      provider: playwright({ launchOptions: launchOptions() }),
      instances: [{ browser: 'chromium' }],
    },
  },
});
