import { test } from '@playwright/test';
test('shot', async ({ page }) => {
  test.setTimeout(200000);
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log('CONSOLE', m.type(), m.text().slice(0, 300)); });
  page.on('pageerror', (e) => console.log('PAGEERR', e.message));
  await page.goto('/?preset=classroom');
  await page.waitForSelector('[data-testid="data-source"]', { timeout: 60000 });
  await page.screenshot({ path: '/tmp/shot-idle.png' });
  await page.getByRole('button', { name: 'Start' }).click();
  await page.waitForTimeout(40000);
  await page.screenshot({ path: '/tmp/shot-run.png', fullPage: true });
  console.log(await page.getByTestId('run-status').textContent());
});
