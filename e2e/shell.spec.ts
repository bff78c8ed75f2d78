import { test, expect } from '@playwright/test';
import { collectConsoleProblems } from './helpers';

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
  await page.getByRole('button', { name: 'Verify backend' }).click();
  const result = page.getByTestId('netcheck');
  await expect(result).toHaveAttribute('data-max-rel-diff', /.+/, { timeout: 90_000 });
  expect(Number(await result.getAttribute('data-max-rel-diff'))).toBeLessThanOrEqual(1e-3);
  await expect(result).toContainText('match the lab CPU engine');
  expect(problems()).toEqual([]);
});
