import type { Page } from '@playwright/test';

/** Marks the CSP test's deliberate violation, so the suite's check (globalTeardown.ts) expects it. */
export const CSP_PROBE = 'csp-probe-7f3a';

/** Console errors, page errors and WebGPU validation warnings (which do not throw) seen so far. */
export function collectConsoleProblems(page: Page): () => string[] {
  const problems: string[] = [];
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error') problems.push(`console.error: ${text}`);
    else if (/WebGPU|WGSL|GPUValidationError|validation/i.test(text) && msg.type() === 'warning') problems.push(`webgpu warning: ${text}`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  return () => [...problems];
}
