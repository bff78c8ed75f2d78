// The screenshots in docs/: the lab idle, mid-run and in classroom mode, at 1280×720, running the
// Classroom demo on real CIFAR-10 ($CIFAR10_DIR or ../shared/cifar10).
//   npm run build && npx tsx scripts/screenshots.ts [--until 300]
// With --run <run.json> (a finished run, e.g. from npm run experiment), the page imports it instead
// and the screenshots show that run as it ended, verdict included: docs/lab-done.png (the whole
// page) and docs/classroom-done.png.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { realDataDir } from '../src/node/realData';
import type { Progress } from '../src/core/metrics';
import type { LabAutomation } from '../src/ui/automation';
import { ROOT, openLab } from './labBrowser';

const { values: a } = parseArgs({ options: { until: { type: 'string', default: '300' }, run: { type: 'string' } } });
const dataDir = realDataDir();
if (!dataDir) throw new Error('needs real CIFAR-10: set CIFAR10_DIR');
const s = await openLab({ query: 'preset=classroom', dataDir });
const { page } = s;
try {
  await page.waitForFunction(() => (window as unknown as { labAutomation: LabAutomation }).labAutomation.state().data === 'ready', null, { timeout: 120_000 });
  await page.waitForTimeout(500);
  if (a.run) {
    await page.getByTestId('import-run-input').setInputFiles(a.run);
    await page.getByTestId('verdict').waitFor({ timeout: 60_000 });
    await page.waitForTimeout(1500); // the charts' last redraw
    await page.screenshot({ path: join(ROOT, 'docs/lab-done.png'), fullPage: true });
    await page.getByRole('button', { name: 'Classroom mode' }).click();
    await page.waitForTimeout(1000);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ROOT, 'docs/classroom-done.png') });
    console.log('wrote docs/lab-done.png, docs/classroom-done.png');
  } else {
    await liveShots();
  }
} finally {
  await s.close();
}

/** Idle, mid-run and classroom mode while the Classroom demo trains live. */
async function liveShots() {
  await page.screenshot({ path: join(ROOT, 'docs/lab-idle.png') });
  await page.getByRole('button', { name: 'Start' }).click();
  const until = Number(a.until);
  await page.waitForFunction(
    (it) => (((window as unknown as { labAutomation: LabAutomation }).labAutomation.state().run?.progress as Progress | null)?.iteration ?? 0) >= it,
    until,
    { timeout: 900_000, polling: 1000 },
  );
  await page.screenshot({ path: join(ROOT, 'docs/lab-running.png') });
  await page.getByRole('button', { name: 'Classroom mode' }).click();
  await page.waitForTimeout(800);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ROOT, 'docs/classroom.png') });
  console.log('wrote docs/lab-idle.png, docs/lab-running.png, docs/classroom.png');
}
