// The screenshots in docs/screens/: the lab at 1280×720 and 1920×1080, in the normal view and in
// classroom mode, mid-run and done, running the Classroom demo on real CIFAR-10 ($CIFAR10_DIR or
// ../shared/cifar10); and docs/slide-classroom.png, the "Figure for slides" of the finished run.
//   npm run build && npx tsx scripts/screenshots.ts --run docs/classroom-run/seed-1/run.json [--until 300]
// Mid-run shots train live until iteration --until; the done shots import --run (a finished run,
// e.g. from npm run experiment), so they show the run as it ended, verdict included.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Page } from '@playwright/test';
import { realDataDir } from '../src/node/realData';
import type { Progress } from '../src/core/metrics';
import type { LabAutomation } from '../src/ui/automation';
import { ROOT, openLab } from './labBrowser';

const { values: a } = parseArgs({ options: { until: { type: 'string', default: '300' }, run: { type: 'string' } } });
if (!a.run) throw new Error('--run <run.json of a finished Classroom run> is required (docs/classroom-run/seed-1/run.json)');
const dataDir = realDataDir();
if (!dataDir) throw new Error('needs real CIFAR-10: set CIFAR10_DIR');
const SIZES = [
  { width: 1280, height: 720 },
  { width: 1920, height: 1080 },
];
const OUT = join(ROOT, 'docs/screens');
mkdirSync(OUT, { recursive: true });
const written: string[] = [];

/** One shot of the page at each size, in the normal view and in classroom mode. */
async function shots(page: Page, phase: 'running' | 'done'): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize(size);
    for (const view of ['normal', 'classroom'] as const) {
      const classroom = (await page.locator('.app.classroom').count()) > 0;
      if ((view === 'classroom') !== classroom) await page.getByRole('button', { name: classroom ? 'Exit classroom mode' : 'Classroom mode' }).click();
      await page.waitForTimeout(1200); // layout and the charts' redraw
      await page.evaluate(() => window.scrollTo(0, 0));
      const file = join(OUT, `${size.width}x${size.height}-${view}-${phase}.png`);
      await page.screenshot({ path: file });
      written.push(file);
    }
  }
  if ((await page.locator('.app.classroom').count()) > 0) await page.getByRole('button', { name: 'Exit classroom mode' }).click();
}

const state = (page: Page) => page.evaluate(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.state());

const s = await openLab({ query: 'preset=classroom', dataDir });
const { page } = s;
try {
  await page.waitForFunction(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.state().data === 'ready', null, { timeout: 120_000 });
  // mid-run: the Classroom demo training live
  await page.getByRole('button', { name: 'Start' }).click();
  const until = Number(a.until);
  await page.waitForFunction(
    (it) => (((window as unknown as { labAutomation: LabAutomation }).labAutomation.state().run?.progress as Progress | null)?.iteration ?? 0) >= it,
    until,
    { timeout: 900_000, polling: 1000 },
  );
  await shots(page, 'running');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await page.waitForFunction(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.state().run?.state === 'stopped', null, {
    timeout: 60_000,
  });
  // done: a finished run, imported
  await page.getByTestId('import-run-input').setInputFiles(a.run);
  await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
  console.log(`imported: ${((await state(page)).run?.progress as Progress | null)?.iteration} iterations`);
  await shots(page, 'done');
  // the figure for slides of the finished run
  await page.setViewportSize(SIZES[0]);
  await page.waitForTimeout(1200);
  // the figure for slides, 16:9 and 4:3, in English and Chinese (docs/slide-classroom.png is the English 16:9)
  for (const lang of ['en', 'zh'] as const) {
    await page.locator('select[aria-label="Language"], select[aria-label="语言"]').selectOption(lang);
    const tools = page.getByRole('group', { name: lang === 'zh' ? '幻灯片用图：' : 'Figure for slides:' });
    for (const aspect of ['16:9', '4:3']) {
      const [download] = await Promise.all([page.waitForEvent('download'), tools.getByRole('button', { name: `${aspect} PNG` }).click()]);
      const file = join(ROOT, `docs/screens/slide-classroom-${aspect.replace(':', 'x')}-${lang}.png`);
      copyFileSync(await download.path(), file);
      written.push(file);
      if (lang === 'en' && aspect === '16:9') {
        copyFileSync(file, join(ROOT, 'docs/slide-classroom.png'));
        written.push(join(ROOT, 'docs/slide-classroom.png'));
      }
    }
  }
  await page.locator('select[aria-label="Language"], select[aria-label="语言"]').selectOption('en');
  console.log(`wrote ${written.map((f) => f.replace(`${ROOT}/`, '')).join(', ')}`);
} finally {
  await s.close();
}
