import { test, expect } from '@playwright/test';
import { existsSync, readFileSync } from 'node:fs';
import { CSP_REPORT_FILE } from '../playwright.config';
import { CSP_PROBE, collectConsoleProblems } from './helpers';

test('the page loads with no console errors and shows the backend line', async ({ page }) => {
  const problems = collectConsoleProblems(page);
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Degradation Lab' })).toBeVisible();
  await expect(page.getByTestId('backend-name')).toBeVisible();
  expect(problems()).toEqual([]);
});

test('the worker brings up WebGPU on SwiftShader and names the adapter', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('backend-name')).toHaveText('webgpu');
  await expect(page.getByTestId('backend-adapter')).toContainText(/swiftshader/i);
  await expect(page.getByTestId('backend-line')).toContainText('software emulation');
});

test('a conv forward and backward pass in the worker matches the CPU backend within 1e-4', async ({ page }) => {
  const problems = collectConsoleProblems(page);
  await page.goto('/');
  await expect(page.getByTestId('backend-name')).toHaveText('webgpu');
  await page.locator('.status-details > summary').click(); // the backend's checks are behind "details"
  await page.getByRole('button', { name: 'Verify backend' }).click();
  const result = page.getByTestId('selftest');
  await expect(result).toHaveAttribute('data-max-abs-diff', /.+/, { timeout: 60_000 });
  const diff = Number(await result.getAttribute('data-max-abs-diff'));
  expect(diff).toBeLessThanOrEqual(1e-4);
  await expect(result).toContainText('matches the CPU backend');
  expect(problems()).toEqual([]);
});

test('on WebGPU, a whole residual net’s gradients match the lab CPU engine’s hand-written ones', async ({ page }) => {
  const problems = collectConsoleProblems(page);
  await page.goto('/');
  await expect(page.getByTestId('backend-name')).toHaveText('webgpu');
  await page.locator('.status-details > summary').click(); // the backend's checks are behind "details"
  await page.getByRole('button', { name: 'Verify backend' }).click();
  const result = page.getByTestId('netcheck');
  await expect(result).toHaveAttribute('data-max-rel-diff', /.+/, { timeout: 90_000 });
  expect(Number(await result.getAttribute('data-max-rel-diff'))).toBeLessThanOrEqual(1e-3);
  await expect(result).toContainText('match the lab CPU engine');
  expect(problems()).toEqual([]);
});

test('the page is served with a strict Content-Security-Policy: an injected inline script is refused and reported', async ({ page }) => {
  const response = await page.goto('/');
  const csp = response!.headers()['content-security-policy'];
  expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).not.toContain("'unsafe-eval'");
  expect(csp).not.toMatch(/https?:|\*/);
  const ran = await page.evaluate((probe) => {
    const s = document.createElement('script');
    s.textContent = `window.cspProbe = '${probe}';`;
    document.head.appendChild(s);
    return (window as unknown as { cspProbe?: string }).cspProbe === probe;
  }, CSP_PROBE);
  expect(ran).toBe(false);
  await expect.poll(() => (existsSync(CSP_REPORT_FILE) ? readFileSync(CSP_REPORT_FILE, 'utf8') : ''), { timeout: 15_000 }).toContain(CSP_PROBE);
  // the app itself runs under the policy: the worker starts and names its backend
  await expect(page.getByTestId('backend-name')).toBeVisible();
});
