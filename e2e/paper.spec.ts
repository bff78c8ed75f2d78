// The rest of the paper, explorable (issue #18): the architecture view, bottleneck blocks, highway
// nets and warmup variants, in the page.
import { test, expect } from '@playwright/test';
import type { Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { readFileSync } from 'node:fs';
import type { RunFile } from '../src/core/runFile';
import { loadFixtureData } from './fixtures';

/** Every new family and variant at once, tiny: 8 and 11 layers (basic and bottleneck), plain, residual and highway, with and without warmup. */
const VARIANTS =
  'depths=8,11&families=plain,residual,highway&shortcuts=A&blocks=basic,bottleneck&warmup=off,paper&lr=0.1&batch=8&iters=30&train=500&test=50&split=test&aug=0&width=0.25&eval=10&seed=3&backend=lab-cpu';

const runFile = (page: Page) => page.evaluate(() => (window as unknown as { labAutomation: { runFile(): Promise<RunFile | null> } }).labAutomation.runFile());

test('the architecture view draws ResNet-1202 as five runs of blocks with their counts, not 600 blocks, within the screen', async ({ page }) => {
  await page.goto('/?preset=classroom&depths=110,1202');
  await page.getByRole('button', { name: 'Architecture of ResNet-1202' }).click();
  const view = page.getByTestId('architecture-view');
  const diagram = view.getByTestId('arch-diagram');
  await expect(diagram.locator('[data-block]')).toHaveCount(5);
  expect(await diagram.locator('[data-block]').evaluateAll((gs) => gs.map((g) => Number(g.getAttribute('data-repeat'))))).toEqual([200, 1, 199, 1, 199]);
  await expect(view.getByTestId('arch-total-params')).toContainText('1,230,846');
  const box = (await diagram.boundingBox())!;
  expect(box.width).toBeLessThanOrEqual(1280);
  await page.keyboard.press('Escape');
  await expect(view).toBeHidden();
});

test('the architecture view opens from the net list by keyboard, draws each shortcut kind, exports SVG and PNG, and closes with Escape', async ({ page }) => {
  await page.goto(`/?${VARIANTS}`);
  const list = page.locator('.net-list');
  await expect(list.getByRole('button')).toHaveCount(12);
  const opener = page.getByRole('button', { name: 'Architecture of Highway-8, warmup off' });
  await opener.focus();
  await page.keyboard.press('Enter');
  const view = page.getByTestId('architecture-view');
  await expect(view).toBeVisible();
  await expect(view.getByRole('heading', { name: 'Architecture: Highway-8, warmup off' })).toBeVisible();
  const diagram = view.getByTestId('arch-diagram');
  // three stages, 32×32×4 → 16×16×8 → 8×8×16 at width ×0.25, one gated block each
  for (const size of ['32×32×4', '16×16×8', '8×8×16']) await expect(diagram).toContainText(size);
  await expect(diagram.locator('[data-block] [data-shortcut="gated"]')).toHaveCount(3);
  // the stage table adds up to the net's parameters (5,418 for Highway-8 at ×0.25, as nets.ts counts)
  await expect(view.getByTestId('arch-total-params')).toContainText('5,418');
  // no serious or critical accessibility violation in the open dialog
  const violations = (await new AxeBuilder({ page }).include('[data-testid="architecture-view"]').analyze()).violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  );
  expect(violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  // the ImageNet table, from the same block code
  await expect(view.getByTestId('imagenet-table').getByRole('row', { name: /ResNet-152/ })).toContainText('60.2M');
  await expect(view.getByTestId('imagenet-table').getByRole('row', { name: /ResNet-50/ })).toContainText('3.86×10⁹');
  // switch to another net in the view: option A pads at stride 1 and subsamples at stride 2; plain draws no shortcut
  await view.getByLabel('Net', { exact: true }).selectOption({ label: 'ResNet-11 bottleneck, warmup off' });
  await expect(diagram.locator('[data-block] [data-shortcut="subsample-pad"]')).toHaveCount(3);
  await expect(diagram).toContainText('1×1 conv');
  await expect(diagram).toContainText('3×3 conv');
  await view.getByLabel('Net', { exact: true }).selectOption({ label: 'plain-8, warmup off' });
  await expect(diagram.locator('[data-block] [data-shortcut]')).toHaveCount(0);
  // exports: a standalone SVG with the net's name, and a PNG at twice the size
  const [svgDownload] = await Promise.all([page.waitForEvent('download'), view.getByRole('button', { name: 'SVG' }).click()]);
  expect(svgDownload.suggestedFilename()).toBe('plain-8-architecture.svg');
  const svg = readFileSync(await svgDownload.path(), 'utf8');
  expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(svg).toContain('plain-8');
  const [pngDownload] = await Promise.all([page.waitForEvent('download'), view.getByRole('button', { name: 'PNG' }).click()]);
  const png = readFileSync(await pngDownload.path());
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  const width = Number(svg.match(/width="(\d+)"/)![1]);
  expect(png.readUInt32BE(16)).toBe(2 * width);
  // Escape closes it, and focus goes back to the button that opened it
  await page.keyboard.press('Escape');
  await expect(view).toBeHidden();
  await expect(opener).toBeFocused();
  await expect(page).not.toHaveURL(/architecture/);
});

test('the architecture view draws blocks as the paper’s Fig. 2, folds repeated blocks, and fits a 1280×720 screen with 16 px labels, ResNet-110 included', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto('/?depths=56,110&families=plain,residual&shortcuts=A&width=0.25');
  await page.getByRole('button', { name: 'Architecture of ResNet-110' }).click();
  const view = page.getByTestId('architecture-view');
  const diagram = view.getByTestId('arch-diagram');
  await expect(diagram).toBeVisible();
  // 18 blocks a stage: stage 1 one run of 18, stages 2 and 3 a stride-2 block then 17 alike
  await expect(diagram.getByTestId('arch-repeat')).toHaveText(['× 18', '× 1', '× 17', '× 1', '× 17']);
  await expect(diagram.locator('[data-block] [data-shortcut="identity"]')).toHaveCount(3);
  await expect(diagram.locator('[data-block] [data-shortcut="subsample-pad"]')).toHaveCount(2);
  await expect(diagram).toContainText('ReLU');
  const fit = await page.evaluate(() => {
    const svg = document.querySelector<SVGSVGElement>('[data-testid="arch-diagram"]')!;
    const box = svg.getBoundingClientRect();
    const scale = box.width / svg.viewBox.baseVal.width;
    const sizes = [...svg.querySelectorAll('text')].map((t) => Number(t.getAttribute('font-size')) * scale);
    const scroller = svg.closest('.arch-scroll')!;
    return { right: box.right, bottom: box.bottom, minText: Math.min(...sizes), scrolls: scroller.scrollWidth > scroller.clientWidth + 1 };
  });
  expect(fit.scrolls).toBe(false);
  expect(fit.right).toBeLessThanOrEqual(1280);
  expect(fit.bottom).toBeLessThanOrEqual(720);
  expect(fit.minText).toBeGreaterThanOrEqual(16);
  // a plain net: no shortcut, no addition
  await view.getByLabel('Net', { exact: true }).selectOption({ label: 'plain-56' });
  await expect(diagram.locator('[data-shortcut]')).toHaveCount(0);
  await expect(diagram.getByTestId('arch-repeat')).toHaveText(['× 9', '× 1', '× 8', '× 1', '× 8']);
});

test('the architecture view speaks Chinese too', async ({ page }) => {
  await page.goto(`/?${VARIANTS}`);
  await page.getByLabel('Language').selectOption('zh');
  await page.locator('.net-list button').first().click();
  const view = page.getByTestId('architecture-view');
  await expect(view.getByRole('heading', { name: /^网络结构：plain-8/ })).toBeVisible();
  await expect(view).toContainText('第 1 阶段');
  await expect(view).toContainText('ImageNet 上的 ResNet');
  await view.getByRole('button', { name: '关闭' }).click();
  await expect(view).toBeHidden();
});

test('a tiny run of every new family and variant trains to the end: gates charted, three panels, a legend entry opens its net', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto(`/?${VARIANTS}&automation=1`);
  // the warmup variants are drawn side by side in the schedule plot
  await expect(page.locator('.lr-plot polyline')).toHaveCount(2);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 200_000 });
  const curves = page.locator('[data-chart="curves"] .chart-panel');
  await expect(curves).toHaveCount(3);
  // 4 nets per family: 2 depths (basic 8, bottleneck 11) × 2 warmups, their training lines (500 images: test error on demand)
  for (let i = 0; i < 3; i++) await expect(curves.nth(i)).toHaveAttribute('data-lines', '4');
  const gates = page.locator('[data-chart="gates"] .chart-panel');
  await expect(gates).toHaveCount(2);
  await expect(gates.first()).toHaveAttribute('data-points', String(4 * 3)); // 4 highway nets × 3 blocks
  // each net's own learning rate, drawn: the warmup variants differ
  await expect(page.locator('[data-chart="lr"] .chart-panel')).toHaveAttribute('data-lines', '12');
  const run = (await runFile(page))!;
  expect(run.nets.map((n) => n.id).sort()).toEqual(
    ['plain', 'resnet', 'highway']
      .flatMap((f) => [`${f}-8${f === 'resnet' ? '-A' : ''}`, `${f}-11${f === 'resnet' ? '-A' : ''}-bottleneck`])
      .flatMap((id) => [`${id}-warmup-off`, `${id}-warmup-paper`])
      .sort(),
  );
  expect(run.nets.every((n) => n.status === 'done')).toBe(true);
  const hw = run.nets.find((n) => n.id === 'highway-11-bottleneck-warmup-paper')!;
  expect(hw).toMatchObject({ family: 'highway', block: 'bottleneck', warmup: 'paper', label: 'Highway-11 bottleneck, warmup paper' });
  const taps = run.series[hw.id].taps;
  expect(taps.at(-1)!.gateMeans!.length).toBe(3);
  for (const m of taps.at(-1)!.gateMeans!) {
    expect(m).toBeGreaterThan(0);
    expect(m).toBeLessThan(1);
  }
  // each warmup variant trained at its own learning rates from the first step
  expect(run.series['resnet-8-A-warmup-off'].train.lr[0]).toBeCloseTo(0.1, 6);
  expect(run.series['resnet-8-A-warmup-paper'].train.lr[0]).toBeCloseTo(0.01, 6);
  // the legend opens a net's architecture
  await page.locator('[data-chart="curves"] .legend').getByRole('button', { name: 'Highway-8, warmup off' }).click();
  await expect(page.getByTestId('architecture-view').getByRole('heading', { name: 'Architecture: Highway-8, warmup off' })).toBeVisible();
});

test('the new presets load: Gates vs identity, Bottleneck blocks, Warmup on ResNet-110', async ({ page }) => {
  await page.goto('/');
  await page.getByLabel('Preset').selectOption('highway');
  await expect(page).toHaveURL(/families=plain%2Cresidual%2Chighway/);
  // plain, residual, and a highway net per gate bias (−2, −6), at 20 and 56 layers
  await expect(page.locator('.net-list button')).toHaveCount(8);
  await page.getByLabel('Preset').selectOption('bottleneck');
  await expect(page).toHaveURL(/blocks=basic%2Cbottleneck/);
  await expect(page.locator('.net-list')).toContainText('ResNet-47 bottleneck');
  await page.getByLabel('Preset').selectOption('warmup110');
  await expect(page).toHaveURL(/warmup=off%2Cpaper/);
  await expect(page.locator('.net-list button')).toHaveText(['ResNet-110, warmup off', 'ResNet-110, warmup paper']);
  // classroom mode explains the variants, not one warmup for every net
  await page.getByRole('button', { name: 'Classroom mode' }).click();
  const explain = page.getByRole('complementary', { name: 'Explanations' });
  await expect(explain).toContainText('Each net trains once per warmup variant, side by side');
  await expect(explain).not.toContainText('No warmup: every net starts at the full learning rate');
});
