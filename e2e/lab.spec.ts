// The lab as users see it: presets, live charts, the URL, exports, comparison, language,
// classroom mode, accessibility and a responsive main thread.
import { test, expect } from '@playwright/test';
import type { Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { TINY_QUERY, loadFixtureData } from './fixtures';

async function iteration(page: Page): Promise<number> {
  return Number(((await page.getByTestId('iteration').textContent()) ?? '').replace(/,/g, '')) || 0;
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(0, 8).equals(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]))).toBe(true);
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

function parseCsv(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((line) =>
      line
        .match(/("([^"]|"")*"|[^,]*)(,|$)/g)!
        .slice(0, -1)
        .map((c) => c.replace(/,$/, '').replace(/^"|"$/g, '').replace(/""/g, '"')),
    );
}

/** An SVG's text, its lines joined by spaces (a wrapped footer is one sentence again). */
const svgWords = (svg: string) => svg.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

test('a first visit opens on the Classroom demo, and a reload keeps it selected', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByLabel('Preset')).toHaveValue('classroom');
  await expect(page).toHaveURL(/depths=8%2C20%2C56/);
  await expect(page.getByText('Both halves of Fig. 6')).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Preset')).toHaveValue('classroom');
  // a link with another config is "Custom"
  await page.goto('/?depths=20,56&width=1');
  await expect(page.getByLabel('Preset')).toHaveValue('');
});

test('a first visit guides in three steps until the first run; the status line says what trains and how fast', async ({ page }) => {
  // long enough to be read while it trains, on a fast machine too
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=400')}`);
  const steps = page.getByTestId('first-steps');
  await expect(steps.locator('li')).toHaveCount(3);
  // one expected time, on this machine: before any run, from a few timed steps (the preset texts give no other machine's)
  await expect(page.getByTestId('expected-time')).toContainText(/Expected here: \d+:\d\d, from a few timed steps on this machine \(lab CPU engine/, {
    timeout: 30_000,
  });
  await expect(steps).toContainText('Press Start');
  await loadFixtureData(page);
  // a step done says so: the data is loaded
  await expect(steps.locator('li').first()).toHaveText('✓ CIFAR-10 is loaded.');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(steps).toHaveCount(0);
  const status = page.getByTestId('run-status');
  await expect(page.getByTestId('engine')).toContainText('Training 4 nets on lab CPU engine');
  await expect(status).toContainText(', all 4 nets together');
  // the adapter and the checks are one click away, not in the first line
  await expect(page.getByTestId('backend-adapter')).toBeHidden();
  await page.locator('.status-details > summary').click();
  await expect(page.getByTestId('backend-adapter')).toBeVisible();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(page.getByTestId('engine')).toContainText('4 nets trained on lab CPU engine');
  // the run measured this machine: the form now says how long an experiment takes here
  await expect(page.getByTestId('expected-time')).toContainText(/Expected here: \d+:\d\d, at the speed this machine trained at last \(lab CPU engine/);
  await page.reload();
  await expect(page.getByTestId('saved-runs').locator('li')).toHaveCount(1);
  await expect(steps).toHaveCount(0);
  await page.getByLabel('Preset').selectOption('fig6');
  await expect(page.getByTestId('expected-time')).toContainText(/about \d+ (h|days).*use a GPU, or try the Classroom preset/);
});

test('an old link that says shortcut= still applies, and the page rewrites it as shortcuts=', async ({ page }) => {
  await page.goto('/?depths=8,20&shortcut=B');
  await expect(page.getByRole('checkbox', { name: /^B — 1×1 projection/ })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: /^A — identity/ })).not.toBeChecked();
  await expect(page).toHaveURL(/shortcuts=B&/);
  await expect(page.getByTestId('url-issues')).toHaveCount(0);
});

test('a preset starts and both panels gain series with the expected legend entries', async ({ page }) => {
  await page.goto('/');
  await loadFixtureData(page);
  await page.getByLabel('Preset').selectOption('classroom');
  await expect(page).toHaveURL(/depths=8%2C20%2C56/);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(3);
  const [plainPanel, resPanel] = [page.locator('[data-chart="curves"] .chart-panel').nth(0), page.locator('[data-chart="curves"] .chart-panel').nth(1)];
  // 2,000 images are memorised: training error only until asked (3 depths), with the reason said
  await expect(plainPanel).toHaveAttribute('data-lines', '3');
  await expect(resPanel).toHaveAttribute('data-lines', '3');
  const card = page.locator('[data-chart="curves"]');
  await expect(card.getByLabel('Training error only')).toBeChecked();
  await expect(card).toContainText('nets trained on 2,000 images memorise them');
  await card.getByLabel('Training error only').uncheck();
  await expect(plainPanel).toHaveAttribute('data-lines', '6'); // 3 depths × (train, test)
  await expect(resPanel).toHaveAttribute('data-lines', '6');
  const legend = page.locator('[data-chart="curves"] .legend');
  for (const d of [8, 20, 56]) {
    await expect(legend).toContainText(`plain-${d}`);
    await expect(legend).toContainText(`ResNet-${d}`);
  }
  await page.getByRole('button', { name: 'Stop' }).click();
});

test('the URL holds the config: changes show in it, and a copied link reproduces it', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto(`/?${TINY_QUERY}`);
  await page.getByLabel('B — 1×1 projection where the shape changes').check();
  await expect(page).toHaveURL(/shortcuts=A%2CB/);
  // warmup is a set of variants: tick the paper's, untick off
  await page.getByLabel('paper: lr/10 until train error < 80%').check();
  await expect(page).toHaveURL(/warmup=off%2Cpaper/);
  await page.getByLabel('off', { exact: true }).uncheck();
  await expect(page).toHaveURL(/warmup=paper&/);
  await page.getByRole('button', { name: 'Copy link' }).click();
  const link = await page.evaluate(() => navigator.clipboard.readText());
  expect(link).toContain('warmup=paper');
  const other = await context.newPage();
  await other.goto(link);
  await expect(other.getByLabel('B — 1×1 projection where the shape changes')).toBeChecked();
  await expect(other.getByLabel('A — identity; zero-pad new channels')).toBeChecked();
  await expect(other.getByLabel('paper: lr/10 until train error < 80%')).toBeChecked();
  await expect(other.getByLabel('off', { exact: true })).not.toBeChecked();
  await expect(other.getByLabel('Width ×')).toHaveValue('0.25');
});

test('every form change goes through validation: a refused one is named under its control and changes nothing', async ({ page }) => {
  await page.goto('/?depths=20&shortcuts=A&iters=500');
  // the last depth cannot be unticked
  await page.getByRole('checkbox', { name: '20', exact: true }).click();
  await expect(page.locator('#depths-note')).toContainText('depths: needs at least one depth');
  await expect(page.getByRole('checkbox', { name: '20', exact: true })).toBeChecked();
  await expect(page).toHaveURL(/depths=20&/);
  // a typed value out of range is clamped, and the note says so
  await page.getByLabel('Iterations').fill('999999');
  await page.getByLabel('Iterations').press('Enter');
  await expect(page.locator('#iterations-note')).toContainText('iterations: 999999 is outside 1–200000; using 200000');
  await expect(page).toHaveURL(/iterations=200000/);
});

test('the form names the memory a thousand layers need before Start, and lets them run at width ×0.25', async ({ page }) => {
  await page.goto('/?preset=classroom&depths=110,1202');
  await expect(page.getByTestId('net-count')).toContainText(/^4 nets · about 1\.\d GB of memory to train \(the limit is 3\.0 GB\)$/);
  await expect(page.getByTestId('cost-problem')).toHaveCount(0);
  await page.goto('/?depths=1202');
  await expect(page.getByTestId('cost-problem')).toContainText('needs about');
});

test('an experiment too large for the device is refused before it starts, with the figure and the limit', async ({ page }) => {
  await page.goto('/?depths=8,14,20,32,44,56,110&families=both&shortcuts=A,B,C&width=4&batch=512&iters=100');
  await expect(page.getByTestId('cost-problem')).toContainText('needs about');
  await expect(page.getByTestId('cost-problem')).toContainText('the limit is 3.0 GB');
  await expect(page.getByTestId('net-count')).toContainText(/^\d+ nets · about \d+\.\d GB of memory to train \(the limit is 3\.0 GB\)$/);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('error-banner')).toContainText('Not started: this experiment needs about');
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'idle');
});

test('a bad URL parameter gets a clear message naming it, and the rest of the link still applies', async ({ page }) => {
  await page.goto('/?depths=20,21&batch=64&warmup=sometimes');
  const issues = page.getByTestId('url-issues');
  await expect(issues).toContainText('depths: "21" is not a CIFAR net depth');
  await expect(issues).toContainText('warmup: "sometimes" is not a warmup mode (off, paper, paper-110, constant, linear)');
  await expect(page.getByLabel('Batch size')).toHaveValue('64');
});

test('charts export a 2× PNG with title and legend, an SVG, and a CSV of the series shown', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=30')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const card = page.locator('[data-chart="curves"]');
  const [png] = await Promise.all([page.waitForEvent('download'), card.getByRole('button', { name: 'PNG' }).click()]);
  expect(png.suggestedFilename()).toMatch(/\.png$/);
  const size = pngSize(readFileSync(await png.path()));
  const [w, h] = (await card.getAttribute('data-figure-size'))!.split('x').map(Number);
  expect(size).toEqual({ width: 2 * w, height: 2 * h });
  expect(size.width).toBeGreaterThanOrEqual(1600);

  const [svg] = await Promise.all([page.waitForEvent('download'), card.getByRole('button', { name: 'SVG' }).click()]);
  const svgText = readFileSync(await svg.path(), 'utf8');
  expect(svgText).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
  expect(svgText).toContain('fill="#ffffff"');
  expect(svgText).toContain('Plain networks | Residual networks (ResNets)');
  expect(svgText).toContain('plain-14');
  expect(svgText).toContain('class="end-label"');
  // what the run simplifies: once on the page, and in each export's footer
  await expect(page.locator('.settings-note')).toHaveCount(1);
  await expect(page.getByTestId('settings-note')).toContainText('width ×0.25');
  expect(svgWords(svgText)).toMatch(/width ×0\.25/);

  const [csv] = await Promise.all([page.waitForEvent('download'), card.getByRole('button', { name: 'CSV' }).click()]);
  const rows = parseCsv(readFileSync(await csv.path(), 'utf8'));
  const header = rows[0];
  for (const label of await card.locator('.legend li').allTextContents()) {
    expect(header).toContain(`${label} train iteration`);
    expect(header).toContain(`${label} train error %`);
    expect(header).toContain(`${label} test error %`);
  }
  const trainCol = header.indexOf('plain-8 train error %');
  const values = rows.slice(1).map((r) => Number(r[trainCol]));
  expect(values).toHaveLength(30);
  expect(values.every((v) => v >= 0 && v <= 100)).toBe(true);
});

/** Every text of an SVG figure as the browser lays it out: its box (getBBox) and font size. */
async function svgTextBoxes(page: Page, svg: string): Promise<{ text: string; x: number; y: number; w: number; h: number; size: number }[]> {
  // off the app's origin: a blank page, under no Content-Security-Policy of the lab's
  if (page.url() !== 'about:blank') await page.goto('about:blank');
  await page.setContent(`<!doctype html><body>${svg}</body>`);
  return page.evaluate(() =>
    [...document.querySelectorAll('svg[data-slide] text')].map((el) => {
      const b = (el as SVGTextElement).getBBox();
      return { text: el.textContent ?? '', x: b.x, y: b.y, w: b.width, h: b.height, size: Number(el.getAttribute('font-size')) };
    }),
  );
}

test('a figure for slides in one click, 16:9 and 4:3, PNG and SVG: text ≥ 24 px inside the frame and never overlapping (browser metrics), lines ≥ 4 px, the verdict, a plain title; Chinese too', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1100, height: 800 }); // the figure's size does not follow the window
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=30')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const tools = page.getByRole('group', { name: 'Figure for slides:' });
  const [png] = await Promise.all([page.waitForEvent('download'), tools.getByRole('button', { name: '16:9 PNG' }).click()]);
  expect(pngSize(readFileSync(await png.path()))).toEqual({ width: 1920, height: 1080 });
  expect(png.suggestedFilename()).toMatch(/-slide-16x9\.png$/);
  const [png43] = await Promise.all([page.waitForEvent('download'), tools.getByRole('button', { name: '4:3 PNG' }).click()]);
  expect(pngSize(readFileSync(await png43.path()))).toEqual({ width: 1440, height: 1080 });
  const svgs: Record<string, string> = {};
  for (const aspect of ['16:9', '4:3']) {
    const [svg] = await Promise.all([page.waitForEvent('download'), tools.getByRole('button', { name: `${aspect} SVG` }).click()]);
    svgs[aspect] = readFileSync(await svg.path(), 'utf8');
  }
  await page.getByLabel('Language').selectOption('zh');
  const [zh] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('group', { name: '幻灯片用图：' }).getByRole('button', { name: '16:9 SVG' }).click(),
  ]);
  expect(zh.suggestedFilename()).toMatch(/\p{Script=Han}.*-slide-16x9\.svg$/u);
  svgs.zh = readFileSync(await zh.path(), 'utf8');
  const text = svgWords(svgs['16:9']);
  for (const part of ['Plain networks', 'Residual networks', 'Training error against depth', 'ResNet-14', '500 CIFAR-10 training images', 'width ×0.25'])
    expect(text).toContain(part);
  expect(text).toMatch(/[✓✗] (Both halves shown|Only the plain half shown|Not shown)/); // the verdict
  expect(svgs['16:9']).not.toContain('plain+res'); // no jargon subtitle
  for (const [name, svg] of Object.entries(svgs)) {
    const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
    expect([w, h]).toEqual(name === '4:3' ? [1440, 1080] : [1920, 1080]);
    const boxes = await svgTextBoxes(page, svg);
    expect(boxes.length, name).toBeGreaterThan(10);
    for (const b of boxes) {
      expect(b.size, `${name}: ${b.text}`).toBeGreaterThanOrEqual(24);
      expect(b.x >= 0 && b.y >= 0 && b.x + b.w <= w && b.y + b.h <= h, `${name}: "${b.text}" inside the frame`).toBe(true);
    }
    // ink boxes: a glyph box is taller than its letters, so compare the middle 60% of each line's height
    const ink = boxes.map((b) => ({ ...b, y: b.y + 0.2 * b.h, h: 0.6 * b.h }));
    const clashes = ink.flatMap((a, i) =>
      ink
        .slice(i + 1)
        .filter((b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h)
        .map((b) => `${a.text} / ${b.text}`),
    );
    expect(clashes, name).toEqual([]);
    const strokes = [...svg.matchAll(/<path [^>]*stroke-width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(Math.min(...strokes)).toBeGreaterThanOrEqual(4);
  }
  expect(svgWords(svgs.zh)).toMatch(/\p{Script=Han}/u);
  // the Chinese slide speaks Chinese: no English word is left but the names kept in 简体中文 (KEEP_IN_ZH)
  expect(
    svgWords(svgs.zh)
      .replace(KEEP_IN_ZH, '')
      .match(/[A-Za-z]{3,}/g),
  ).toBeNull();
});

test('the curves can show training error only (Fig. 6’s emphasis), and fit the y-axis to the data', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=30')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const card = page.locator('[data-chart="curves"]');
  const plainPanel = card.locator('.chart-panel').first();
  // 500 images: training error only by default (they are memorised), test error on demand
  await expect(plainPanel).toHaveAttribute('data-lines', '2');
  await card.getByLabel('Training error only').uncheck();
  await expect(plainPanel).toHaveAttribute('data-lines', '4');
  await card.getByLabel('Training error only').check();
  await expect(plainPanel).toHaveAttribute('data-lines', '2');
  await expect(card).toContainText('dashed: training error (running mean over 50 mini-batches)');
  await expect(card).not.toContainText('memorise'); // the reason is said only while the default holds
  await expect(plainPanel).toHaveAttribute('data-y-domain', /^0,/);
  await card.getByLabel('Fit the y-axis to the data').check();
  // every training error of this short run is far above 0%: the fitted range starts well above it
  await expect(plainPanel).toHaveAttribute('data-y-domain', /^([1-9]\d*),\d+$/);
});

test('compare: a second run shows only its own curves; a saved run is overlaid only when asked', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=20')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await page.getByLabel('B — 1×1 projection where the shape changes').check();
  await page.getByLabel('A — identity; zero-pad new channels').uncheck();
  await page.getByRole('button', { name: 'Run again with these settings' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  const legend = page.locator('[data-chart="curves"] .legend');
  await expect(legend).toContainText('ResNet-8 (B)');
  // no ghost of the previous run: it would give away the ending of a live run
  await expect(legend).not.toContainText('(compare)');
  const runs = page.getByTestId('saved-runs').locator('li');
  await expect(runs).toHaveCount(2);
  // compare with the older run on demand, then stop comparing
  const older = runs.nth(1);
  await older.getByRole('button', { name: 'Compare' }).click();
  await expect(legend).toContainText('ResNet-8 (compare)');
  await expect(legend).toContainText('ResNet-14 (compare)');
  await older.getByRole('button', { name: 'Stop comparing' }).click();
  await expect(legend).not.toContainText('(compare)');
});

test('switching the language changes the labels, and the choice is remembered', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Degradation Lab' })).toBeVisible();
  await page.getByLabel('Language').selectOption('zh');
  await expect(page.getByRole('heading', { name: '退化实验室' })).toBeVisible();
  await expect(page.getByRole('heading', { name: '实验', exact: true })).toBeVisible();
  await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
  await page.reload();
  await expect(page.getByRole('heading', { name: '退化实验室' })).toBeVisible();
  await page.getByLabel('语言').selectOption('en');
  await expect(page.getByRole('heading', { name: 'Degradation Lab' })).toBeVisible();
});

/** Words that stay as they are in 简体中文: names of nets, formats, backends, datasets and products. */
const KEEP_IN_ZH =
  /\b(English|CNN|ResNet|plain|CIFAR|PNG|SVG|CSV|JSON|PyTorch|WebGPU|WebGL|WebAssembly|SIMD|FMA|tfjs|webgpu|webgl|cpu|CPU|GPU|BN|ReLU|SGD|lr|epoch|tar|bin|gz|cifar|binary|google|swiftshader|SwiftShader|ANGLE|Google|Vulkan|Subzero|Device|driver|He|Esc)\b/g;

test('简体中文 is complete: no English is left on the page, in text or accessible names, while a run trains', async ({ page }) => {
  await page.addInitScript(() => localStorage.setItem('degradation-lab.lang', 'zh'));
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=400')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: '开始' }).click();
  await expect
    .poll(async () => Number(((await page.getByTestId('iteration').textContent()) ?? '').replace(/,/g, '')) || 0, { timeout: 60_000 })
    .toBeGreaterThan(20);
  await page.locator('.status-details > summary').click();
  await page.getByRole('button', { name: '课程' }).click(); // the lesson's step too
  await expect(page.getByTestId('lesson')).toBeVisible();
  const english = await page.evaluate((keep) => {
    const re = new RegExp(keep, 'g');
    const left: string[] = [];
    const check = (where: string, text: string | null) => {
      if (!text) return;
      const rest = text.replace(re, '').replace(/https?:\S+|[\w.-]+\.(tar\.gz|bin|txt|json)|npm run [\w-]+|CIFAR10_DIR/g, '');
      if (/[A-Za-z]{3,}/.test(rest)) left.push(`${where}: ${text}`);
      // full-width punctuation next to Chinese: no ASCII comma, colon, semicolon or parenthesis beside a Han character
      if (/\p{Script=Han}[,:;(]|[,:;]\s*\p{Script=Han}|\(\s*\p{Script=Han}|\p{Script=Han}\s*\)/u.test(text)) left.push(`${where} (punctuation): ${text}`);
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    let n: Node | null;
    while ((n = walker.nextNode())) {
      const el = n.parentElement;
      if (!el || el.closest('script, style, option[value="en"]') || el.getClientRects().length === 0) continue;
      check('text', n.textContent);
    }
    for (const el of document.querySelectorAll('[aria-label], [title], [placeholder]'))
      for (const a of ['aria-label', 'title', 'placeholder']) check(a, el.getAttribute(a));
    return left;
  }, KEEP_IN_ZH.source);
  expect(english).toEqual([]);
});

for (const [viewport, lang] of [
  [{ width: 1280, height: 720 }, 'en'],
  [{ width: 1920, height: 1080 }, 'en'],
  [{ width: 1280, height: 720 }, 'zh'],
  [{ width: 1920, height: 1080 }, 'zh'],
] as const) {
  test(`classroom mode fits the lesson on one ${viewport.width}×${viewport.height} screen (${lang}): both panels, the depth summary and the verdict, 4 px lines, 20 px text`, async ({
    page,
  }) => {
    await page.setViewportSize(viewport);
    await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=40')}`);
    await loadFixtureData(page);
    await page.getByRole('button', { name: 'Start' }).click();
    await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
    await page.getByLabel('Language').selectOption(lang);
    await page.getByRole('button', { name: lang === 'zh' ? '课堂模式' : 'Classroom mode' }).click();
    const plots = page.locator('.plot:visible');
    await expect(plots).toHaveCount(3);
    for (const box of await plots.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().toJSON() as DOMRect))) {
      expect(box.top).toBeGreaterThanOrEqual(0);
      expect(box.left).toBeGreaterThanOrEqual(0);
      expect(box.bottom).toBeLessThanOrEqual(viewport.height);
      expect(box.right).toBeLessThanOrEqual(viewport.width);
      expect(box.height).toBeGreaterThanOrEqual(240);
    }
    const style = await page.evaluate(() => ({
      line: Math.min(...[...document.querySelectorAll('.plot .recharts-line-curve')].map((e) => parseFloat(getComputedStyle(e).strokeWidth))),
      tick: Math.min(...[...document.querySelectorAll('.plot .recharts-cartesian-axis-tick-value')].map((e) => parseFloat(getComputedStyle(e).fontSize))),
      legend: parseFloat(getComputedStyle(document.querySelector('.legend')!).fontSize),
    }));
    // no scrolling; each curve plot at least 35% of the width; end labels never overlap; the verdict and the time left in view
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(viewport.height);
    const curvePlots = page.locator('[data-chart="curves"] .plot');
    for (const box of await curvePlots.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width)))
      expect(box).toBeGreaterThanOrEqual(0.35 * viewport.width);
    // (the labels are placed once the resized chart reports its height: poll)
    const overlaps = () =>
      page.locator('[data-chart="curves"] .chart-panel').evaluateAll((panels) =>
        panels.map((p) => {
          const boxes = [...p.querySelectorAll('.end-label')].map((e) => e.getBoundingClientRect());
          let n = 0;
          for (let i = 0; i < boxes.length; i++)
            for (let j = i + 1; j < boxes.length; j++) {
              const [a, b] = [boxes[i], boxes[j]];
              if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) n++;
            }
          return { labels: boxes.length, overlapping: n };
        }),
      );
    await expect.poll(overlaps).toEqual([
      { labels: 2, overlapping: 0 },
      { labels: 2, overlapping: 0 },
    ]);
    const verdict = await page.getByTestId('verdict').boundingBox();
    expect(verdict).not.toBeNull();
    expect(verdict!.y + verdict!.height).toBeLessThanOrEqual(viewport.height);
    await expect(page.getByTestId('eta')).toBeVisible();
    expect(style.line).toBeGreaterThanOrEqual(4);
    expect(style.tick).toBeGreaterThanOrEqual(20);
    expect(style.legend).toBeGreaterThanOrEqual(20);
    // no title cut short
    expect(
      await page.locator('[data-chart="curves"] .panel-title').evaluateAll((els) => els.filter((e) => e.scrollWidth > e.clientWidth).map((e) => e.textContent)),
    ).toEqual([]);
    // the status line says what trains, the iteration and the time left, nothing more
    await expect(page.getByTestId('engine')).toBeVisible();
    await expect(page.getByTestId('iteration')).toBeVisible();
    await expect(page.getByTestId('images-per-sec')).toBeHidden();
    // the explanations are those of this experiment: no warmup or shortcut options in it
    await expect(page.locator('aside.explainers h2')).toHaveCount(2);
  });
}

test('classroom explanations describe the warmup of the experiment shown, not only the paper’s', async ({ page }) => {
  await page.goto('/?preset=classroom&view=classroom');
  const explain = page.getByRole('complementary', { name: 'Explanations' });
  await expect(explain).toContainText('Every net here starts at a tenth of the learning rate until its running training error is below 80%');
  await expect(explain).toContainText('The paper did this for ResNet-110 only');
  await page.goto('/?preset=fig6&view=classroom');
  await expect(explain).toContainText('As in the paper: nets of 110 layers start at a tenth of the learning rate');
});

test('classroom mode hides the controls and shows explanations beside the charts', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY}`);
  await expect(page.getByRole('heading', { name: 'Experiment', exact: true })).toBeVisible();
  await page.getByRole('button', { name: 'Classroom mode' }).click();
  await expect(page.getByRole('heading', { name: 'Experiment', exact: true })).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'The degradation problem' })).toBeVisible();
  await expect(page).toHaveURL(/view=classroom/);
  const size = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('.app')!).fontSize));
  expect(size).toBeGreaterThanOrEqual(18);
  await page.getByRole('button', { name: 'Exit classroom mode' }).click();
  await expect(page.getByRole('heading', { name: 'Experiment', exact: true })).toBeVisible();
});

test('no serious or critical accessibility violations, idle and running', async ({ page }) => {
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=5000')}`);
  await loadFixtureData(page);
  const serious = async () =>
    (await new AxeBuilder({ page }).analyze()).violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${v.id}: ${v.help} (${v.nodes
            .map((n) => n.target.join(' '))
            .slice(0, 3)
            .join('; ')})`,
      );
  expect(await serious()).toEqual([]);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(10);
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'running');
  expect(await serious()).toEqual([]);
  await page.getByRole('button', { name: 'Stop' }).click();
});

test('the main thread never freezes (no task over 500 ms), and the layout does not shift, during 20 s of training', async ({ page }) => {
  await page.addInitScript(() => {
    const w = window as unknown as { __longTasks: number[]; __shift: number; __recording: boolean };
    w.__longTasks = [];
    w.__shift = 0;
    w.__recording = false;
    new PerformanceObserver((list) => {
      if (w.__recording) for (const e of list.getEntries()) w.__longTasks.push(Math.round(e.duration));
    }).observe({ type: 'longtask', buffered: false });
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as unknown as { value: number; hadRecentInput: boolean }[])
        if (w.__recording && !e.hadRecentInput) w.__shift += e.value;
    }).observe({ type: 'layout-shift', buffered: false });
  });
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=100000').replace('eval=10', 'eval=25')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Start' }).click();
  await expect.poll(() => iteration(page), { timeout: 60_000 }).toBeGreaterThan(5);
  // streaming, not the charts' first mount when the run starts: record once the curves hold points
  await expect(page.locator('[data-chart="curves"] .chart-panel').first()).not.toHaveAttribute('data-points', '0');
  await page.evaluate(() => ((window as unknown as { __recording: boolean }).__recording = true));
  await page.waitForTimeout(20_000);
  const tasks = await page.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks);
  const shift = await page.evaluate(() => (window as unknown as { __shift: number }).__shift);
  const at = await iteration(page);
  await page.getByRole('button', { name: 'Stop' }).click();
  expect(at).toBeGreaterThan(100); // it really trained meanwhile
  // A loose guard that holds on a machine 3× slower than ours (here the longest task while streaming is
  // about 70 ms): it catches a frozen page, not a slow one. The strict figure (no task over 100 ms on
  // the Classroom preset) is `npm run bench -- --main-thread`.
  expect(tasks.filter((d) => d > 500)).toEqual([]);
  expect(shift).toBeLessThan(0.01); // cumulative layout shift while metrics streamed
});

test('every preset’s recorded run draws its curves in both modes at both projector sizes, with no empty panel, and answers its own question in the first screen', async ({
  page,
}) => {
  test.setTimeout(300_000);
  // each preset's question (Fig. 6's for the Classroom and Gates presets), and its answer in the committed run
  const runs: Record<string, [string, string, string]> = {
    classroom: ['docs/classroom-run/seed-1/run.json', 'both', ''],
    // committed gzipped, as a user may import a run too
    full: ['docs/presets/full/seed-1/run.json.gz', 'both', ''],
    warmup110: ['docs/presets/warmup110/seed-1/run.json', '', 'warmup:as-paper'],
    bottleneck: ['docs/presets/bottleneck/seed-1/run.json', '', 'bottleneck:unlike-paper'],
    highway: ['docs/presets/highway/seed-1/run.json', 'both', 'highway:partly'],
    shortcuts: ['docs/presets/shortcuts/seed-1/run.json', '', 'shortcuts:as-paper'],
  };
  await page.goto('/');
  for (const [preset, [file, fig6, questions]] of Object.entries(runs)) {
    const families = new Set(
      (
        JSON.parse(file.endsWith('.gz') ? gunzipSync(readFileSync(file)).toString('utf8') : readFileSync(file, 'utf8')) as {
          nets: { family?: string; residual: boolean }[];
        }
      ).nets.map((n) => n.family ?? (n.residual ? 'residual' : 'plain')),
    );
    await page.setViewportSize({ width: 1280, height: 720 });
    await page.getByTestId('import-run-input').setInputFiles(file);
    const verdict = page.getByTestId('verdict');
    await expect(verdict).toBeVisible({ timeout: 60_000 });
    await expect(verdict, preset).toHaveAttribute('data-outcome', fig6);
    await expect(verdict, preset).toHaveAttribute('data-questions', questions);
    // no red "not shown" for a preset that asked another question
    if (!fig6) await expect(verdict, preset).not.toContainText('Did this run show Fig. 6?');
    // the fourth line: the Classroom run's test error does not tell the story, and the page says why
    if (preset === 'classroom') {
      await expect(verdict.getByTestId('test-story')).toHaveAttribute('data-outcome', 'plain-only');
      await expect(verdict.getByTestId('test-story')).toContainText('Why: 2,000 training images are memorised');
    }
    // the Full lesson's test error tells the same story
    if (preset === 'full') await expect(verdict.getByTestId('test-story')).toHaveAttribute('data-outcome', 'both');
    // in the first screen at 1280×720, in the normal view: its heading at least
    await page.evaluate(() => window.scrollTo(0, 0));
    expect((await verdict.locator('h3').first().boundingBox())!.y, preset).toBeLessThan(720 - 40);
    for (const viewport of [
      { width: 1280, height: 720 },
      { width: 1920, height: 1080 },
    ]) {
      await page.setViewportSize(viewport);
      for (const classroom of [false, true]) {
        const toggle = page.getByRole('button', { name: classroom ? 'Classroom mode' : 'Exit classroom mode' });
        if (await toggle.isVisible()) await toggle.click();
        const where = `${preset} at ${viewport.width}×${viewport.height}${classroom ? ', classroom' : ''}`;
        const panels = page.locator('[data-chart="curves"] .chart-panel');
        // one panel per family the run has: no empty "Plain networks" beside residual nets only
        await expect(panels, where).toHaveCount(families.size);
        // every panel draws its lines, at a visible size
        await expect
          .poll(
            () =>
              panels.evaluateAll((els) =>
                els.map((p) => {
                  const paths = [...p.querySelectorAll('path.recharts-line-curve')].map((e) => e.getBoundingClientRect());
                  const plot = p.querySelector('.plot')!.getBoundingClientRect();
                  // (a net that diverged early draws a short line: at least one spans the run)
                  return paths.length > 0 && paths.some((r) => r.width > 0.4 * plot.width) && plot.height >= 200;
                }),
              ),
            { message: where },
          )
          .toEqual(new Array(families.size).fill(true));
        if (classroom) expect(await page.evaluate(() => document.documentElement.scrollHeight), where).toBeLessThanOrEqual(viewport.height);
      }
      await page.getByRole('button', { name: 'Exit classroom mode' }).click();
    }
  }
});
