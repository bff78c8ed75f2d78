// The screenshots of issue #18's additions, in docs/screens/: the architecture view (a bottleneck
// ResNet and a highway net, with the ImageNet table), and one finished run of each new preset,
// imported from the run files `npm run experiment` wrote (docs/presets/<preset>/seed-1/run.json);
// and classroom mode on a projector (issue #33): each preset's recorded run at 1280×720 and
// 1920×1080 in English, and with LANGS=en,zh in Chinese too (classroom-<preset>-<size>-<lang>.png); and the
// guided lesson at 1280×720 (lesson-1280x720-<lang>.png).
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
  await page.getByRole('button', { name: 'Architecture of Highway-20 (gate bias -2)' }).click();
  await page.getByTestId('arch-diagram').waitFor();
  await shot(page, 'architecture-highway');
  await page.keyboard.press('Escape');
  // the deepest CIFAR net of the paper's Fig. 6 on a 1280×720 projector: folded, no scrolling
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.getByLabel('Preset').selectOption('fig6');
  await page.getByRole('button', { name: 'Architecture of ResNet-110' }).click();
  await page.getByTestId('arch-diagram').waitFor();
  await shot(page, 'architecture-resnet110-1280x720');
  await page.keyboard.press('Escape');
  // one finished run of each new preset
  await page.setViewportSize({ width: 1600, height: 1000 });
  for (const preset of ['highway', 'bottleneck', 'warmup110', 'shortcuts']) {
    await page.getByTestId('import-run-input').setInputFiles(join(ROOT, `docs/presets/${preset}/seed-1/run.json`));
    await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
    await page.evaluate(() => document.querySelector('main')?.scrollIntoView());
    await shot(page, `preset-${preset}-done`, true);
  }
  // classroom mode on a projector, each preset's recorded run
  const runs = {
    classroom: 'docs/classroom-run/seed-1/run.json',
    warmup110: 'docs/presets/warmup110/seed-1/run.json',
    bottleneck: 'docs/presets/bottleneck/seed-1/run.json',
    highway: 'docs/presets/highway/seed-1/run.json',
    shortcuts: 'docs/presets/shortcuts/seed-1/run.json',
  };
  for (const [preset, file] of Object.entries(runs)) {
    await page.setViewportSize({ width: 1600, height: 1000 });
    await page.getByTestId('import-run-input').setInputFiles(join(ROOT, file));
    await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
    // (Chinese too, where the machine has CJK fonts: LANGS=en,zh)
    for (const [w, h, lang] of (
      [
        [1280, 720, 'en'],
        [1920, 1080, 'en'],
        [1280, 720, 'zh'],
        [1920, 1080, 'zh'],
      ] as const
    ).filter(([, , l]) => (process.env.LANGS ?? 'en').split(',').includes(l))) {
      await page.setViewportSize({ width: w, height: h });
      await page.locator('select[aria-label="Language"], select[aria-label="语言"]').selectOption(lang);
      if ((await page.locator('.app.classroom').count()) === 0) await page.getByRole('button', { name: lang === 'zh' ? '课堂模式' : 'Classroom mode' }).click();
      await shot(page, `classroom-${preset}-${w}x${h}-${lang}`);
      await page.getByRole('button', { name: lang === 'zh' ? '退出课堂模式' : 'Exit classroom mode' }).click();
    }
    await page.locator('select[aria-label="Language"], select[aria-label="语言"]').selectOption('en');
  }
  // the guided lesson at 1280×720, the residual half just revealed on the recorded Classroom run, in English and Chinese
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.getByTestId('import-run-input').setInputFiles(join(ROOT, 'docs/classroom-run/seed-1/run.json'));
  await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
  for (const lang of ['en', 'zh'].filter((l) => (process.env.LANGS ?? 'en').split(',').includes(l))) {
    await page.locator('select[aria-label="Language"], select[aria-label="语言"]').selectOption(lang);
    await page.getByRole('button', { name: lang === 'zh' ? '课程' : 'Lesson' }).click();
    await page.getByRole('button', { name: lang === 'zh' ? '下一步 →' : 'Next →' }).click();
    await page.getByTestId('lesson').and(page.locator('[data-step="watch-residual"]')).waitFor();
    await page.evaluate(() => window.scrollTo(0, 0));
    await shot(page, `lesson-1280x720-${lang}`);
    await page.getByRole('button', { name: lang === 'zh' ? '退出课程' : 'End lesson' }).click();
  }
  await page.locator('select[aria-label="Language"], select[aria-label="语言"]').selectOption('en');
  console.log(`wrote ${written.map((f) => f.replace(`${ROOT}/`, '')).join(', ')}`);
} finally {
  await s.close();
}
