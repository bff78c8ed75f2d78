// The screenshots of issue #18's additions, in docs/screens/: the architecture view (a bottleneck
// ResNet and a highway net, with the ImageNet table), and one finished run of each new preset,
// imported from the run files `npm run experiment` wrote (docs/presets/<preset>/seed-1/run.json).
//   npm run build && npx tsx scripts/paper-screenshots.ts
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { ROOT, openLab } from './labBrowser';

const OUT = join(ROOT, 'docs/screens');
mkdirSync(OUT, { recursive: true });
const written: string[] = [];

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.waitForTimeout(1200); // layout and the charts' redraw
  const file = join(OUT, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  written.push(file);
}

const s = await openLab({ query: 'preset=bottleneck', dataDir: null });
const { page } = s;
try {
  await page.setViewportSize({ width: 1400, height: 1000 });
  // the architecture view: a bottleneck ResNet, then a highway net
  await page.getByRole('button', { name: 'Architecture of ResNet-47 bottleneck' }).click();
  await page.getByTestId('arch-diagram').waitFor();
  await shot(page, 'architecture-bottleneck');
  await page.keyboard.press('Escape');
  await page.getByLabel('Preset').selectOption('highway');
  await page.getByRole('button', { name: 'Architecture of Highway-20' }).click();
  await page.getByTestId('arch-diagram').waitFor();
  await shot(page, 'architecture-highway');
  await page.keyboard.press('Escape');
  // one finished run of each new preset
  await page.setViewportSize({ width: 1600, height: 1000 });
  for (const preset of ['highway', 'bottleneck', 'warmup110']) {
    await page.getByTestId('import-run-input').setInputFiles(join(ROOT, `docs/presets/${preset}/seed-1/run.json`));
    await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
    await page.evaluate(() => document.querySelector('main')?.scrollIntoView());
    await shot(page, `preset-${preset}-done`, true);
  }
  console.log(`wrote ${written.map((f) => f.replace(`${ROOT}/`, '')).join(', ')}`);
} finally {
  await s.close();
}
