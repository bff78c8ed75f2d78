// The guided lesson (issue #29): predict → watch → explain → try, by keyboard, accessible; the
// residual half stays hidden until the plain half is clear by the verdict's rules; the printable sheets.
import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { TINY_QUERY, loadFixtureData } from './fixtures';

test('the lesson runs end to end by keyboard on tiny nets: the residual half waits for the plain half, then the block, then a preset to try', async ({
  page,
}) => {
  test.setTimeout(180_000);
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=80')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Lesson' }).click();
  const lesson = page.getByTestId('lesson');
  await expect(lesson).toHaveAttribute('data-step', 'predict');
  await expect(lesson).toContainText('one with 8 layers, one with 14');
  await expect(lesson).toContainText('Nothing is recorded');
  const violations = (await new AxeBuilder({ page }).include('[data-testid="lesson"]').analyze()).violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  );
  expect(violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
  // → : watch the plain nets; the lesson's own Start
  await page.keyboard.press('ArrowRight');
  await expect(lesson).toHaveAttribute('data-step', 'watch-plain');
  await expect(lesson.getByRole('heading')).toBeFocused();
  await lesson.getByRole('button', { name: 'Start' }).click();
  const panels = page.locator('[data-chart="curves"] .chart-panel');
  await expect(page.getByTestId('iteration')).not.toHaveText('–', { timeout: 60_000 });
  // 80 iterations are fewer than the live judgement looks at (LIVE_MIN_ITERATIONS, 100), so this run's plain half is
  // never clear, whatever the machine's speed: the plain panel alone, no verdict, and Next (button or key) waits
  await expect(panels).toHaveCount(1);
  await expect(page.locator('[data-chart="curves"] .legend')).not.toContainText('ResNet');
  await expect(page.locator('[data-chart="summary"] .legend')).not.toContainText('Residual');
  await expect(lesson.getByRole('button', { name: /Next/ })).toBeDisabled();
  await page.keyboard.press('ArrowRight');
  await expect(lesson).toHaveAttribute('data-step', 'watch-plain');
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'done', { timeout: 120_000 });
  await expect(lesson).toHaveAttribute('data-step', 'watch-plain');
  await expect(panels).toHaveCount(1);
  await expect(page.getByTestId('verdict')).toHaveCount(0);
  // a run whose plain half is clear (the recorded Classroom run): the residual half appears by itself
  await page.getByTestId('import-run-input').setInputFiles('docs/classroom-run/seed-1/run.json');
  await expect(lesson).toHaveAttribute('data-step', 'watch-residual', { timeout: 60_000 });
  await expect(lesson.getByTestId('lesson-plain-clear')).toContainText(/plain-56 is [\d.]+ points above plain-8 at iteration 1,000/);
  await expect(panels).toHaveCount(2);
  await expect(page.getByTestId('verdict')).toBeVisible();
  // on the projector: classroom mode with the lesson step still fits 1280×720 without scrolling
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.getByRole('button', { name: 'Classroom mode' }).click();
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(720);
  await expect(lesson).toBeInViewport();
  await expect(panels.last()).toBeInViewport();
  await page.getByRole('button', { name: 'Exit classroom mode' }).click();
  // Space: explain (from the step's heading: on a focused button, Space presses the button); the residual
  // block opens in the architecture view, and Escape closes the view, not the lesson
  await lesson.getByRole('heading').focus();
  await page.keyboard.press('Space');
  await expect(lesson).toHaveAttribute('data-step', 'explain');
  await expect(lesson.getByTestId('lesson-test')).toContainText('The Full lesson trains on 5,000 augmented images');
  await lesson.getByRole('button', { name: 'Show the residual block of ResNet-56' }).click();
  await expect(page.getByTestId('architecture-view')).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(page.getByTestId('architecture-view')).toBeHidden();
  await expect(lesson).toBeVisible();
  // → : try; a preset loads with its question first
  await lesson.getByRole('heading').focus();
  await page.keyboard.press('ArrowRight');
  await expect(lesson).toHaveAttribute('data-step', 'try');
  await expect(lesson).toContainText('Does the kind of shortcut matter?');
  await lesson.getByRole('button', { name: 'Load “Shortcuts A/B/C”' }).click();
  await expect(page.getByLabel('Preset')).toHaveValue('shortcuts');
  // ← goes back, Escape ends the lesson
  await lesson.getByRole('heading').focus();
  await page.keyboard.press('ArrowLeft');
  await expect(lesson).toHaveAttribute('data-step', 'explain');
  await page.keyboard.press('Escape');
  await expect(lesson).toHaveCount(0);
});

test('the teacher notes and the student worksheet print alone, in English and Chinese', async ({ page }) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Lesson' }).click();
  await expect(page.getByTestId('print-notes')).toBeHidden(); // not on screen
  await page.emulateMedia({ media: 'print' });
  await page.evaluate(() => (document.body.dataset.print = 'notes'));
  await expect(page.getByTestId('print-notes')).toBeVisible();
  await expect(page.getByTestId('print-notes')).toContainText('teacher notes');
  await expect(page.getByTestId('print-worksheet')).toBeHidden();
  await expect(page.getByTestId('lesson')).toBeHidden();
  await expect(page.getByRole('heading', { name: 'Degradation Lab', exact: true })).toBeHidden();
  await page.evaluate(() => (document.body.dataset.print = 'worksheet'));
  await expect(page.getByTestId('print-worksheet')).toBeVisible();
  await expect(page.getByTestId('print-worksheet').locator('li')).toHaveCount(7);
  await page.emulateMedia({ media: 'screen' });
  await page.getByLabel('Language').selectOption('zh');
  await page.emulateMedia({ media: 'print' });
  await expect(page.getByTestId('print-worksheet')).toContainText('练习单');
  await page.evaluate(() => (document.body.dataset.print = 'notes'));
  await expect(page.getByTestId('print-notes')).toContainText('教师备课说明');
});

test('on an experiment without plain nets of two depths, the lesson says it is written for the Classroom demo and does not wait for a plain half', async ({
  page,
}) => {
  await page.goto('/?preset=warmup110');
  await page.getByRole('button', { name: 'Lesson' }).click();
  const lesson = page.getByTestId('lesson');
  await expect(lesson).toContainText('the lesson is written for the Classroom demo');
  await page.keyboard.press('ArrowRight');
  await expect(lesson).toHaveAttribute('data-step', 'watch-plain');
  await expect(lesson.getByRole('button', { name: /Next/ })).toBeEnabled();
  await page.keyboard.press('ArrowRight');
  await expect(lesson).toHaveAttribute('data-step', 'watch-residual');
});

test('while the nets train, the lesson lists what to talk about (on the projector one point at a time); before a run, Predict offers the two demos', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await page.goto(`/?${TINY_QUERY.replace('iters=60', 'iters=100000')}`);
  await loadFixtureData(page);
  await page.getByRole('button', { name: 'Lesson' }).click();
  const lesson = page.getByTestId('lesson');
  await page.keyboard.press('ArrowRight');
  await expect(lesson).toHaveAttribute('data-step', 'watch-plain');
  await expect(lesson.getByTestId('lesson-more')).toHaveCount(0); // nothing trains yet
  await lesson.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'running', { timeout: 60_000 });
  const more = lesson.getByTestId('lesson-more').locator('li');
  await expect(more).toHaveCount(3);
  await expect(more.first()).toContainText('the same 64 images');
  await page.getByRole('button', { name: 'Classroom mode' }).click();
  await expect(more).toHaveCount(1);
  await page.getByRole('button', { name: 'Exit classroom mode' }).click();
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'stopped', { timeout: 30_000 });
  await expect(lesson.getByTestId('lesson-more')).toHaveCount(0);
  // back to Predict: the Classroom demo or the Full lesson, one click each, the loaded one marked
  await lesson.getByRole('heading').focus();
  await page.keyboard.press('ArrowLeft');
  await expect(lesson).toHaveAttribute('data-step', 'predict');
  const full = lesson.getByRole('button', { name: /Load “Full lesson”/ });
  await expect(full).toHaveAttribute('aria-pressed', 'false');
  await full.click();
  await expect(page.getByLabel('Preset')).toHaveValue('full');
  await expect(full).toHaveAttribute('aria-pressed', 'true');
  await expect(lesson.getByRole('button', { name: /Load “Classroom demo”/ })).toHaveAttribute('aria-pressed', 'false');
  const violations = (await new AxeBuilder({ page }).include('[data-testid="lesson"]').analyze()).violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  );
  expect(violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
});
