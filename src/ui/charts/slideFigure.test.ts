import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInstance } from 'i18next';
import { describe, expect, it } from 'vitest';
import { parseRunFile } from '../../core/runFile';
import { DICTIONARIES } from '../i18n';
import { runViewFromFile } from '../store';
import { landscapePanel, slideFigure } from './slide';
import type { RunLandscape } from '../../core/landscape';
import { lossGrid, stepRatio } from '../../core/landscape';
import type { TextBox } from './slideFigure';
import { SLIDE_SIZES, fitText, spreadLabels, textWidth } from './slideFigure';

const tFor = (lng: 'en' | 'zh') => {
  const i18n = createInstance();
  void i18n.init({ resources: { [lng]: { translation: DICTIONARIES[lng] } }, lng, interpolation: { escapeValue: false }, initAsync: false });
  return i18n.t.bind(i18n);
};
const RUNS = ['classroom-run/seed-1', 'presets/warmup110/seed-1', 'presets/bottleneck/seed-1', 'presets/highway/seed-1'];
const runView = (path: string) => runViewFromFile(path, parseRunFile(readFileSync(join(import.meta.dirname, `../../../docs/${path}/run.json`), 'utf8')));
const overlap = (a: TextBox, b: TextBox) => a.x < b.x + b.w - 0.5 && b.x < a.x + a.w - 0.5 && a.y < b.y + b.h - 0.5 && b.y < a.y + a.h - 0.5;

/** A figure a projector shows well: text ≥ 24 px inside the frame, no two texts overlapping, lines ≥ 4 px, charts ≥ 80% of the frame. */
function expectReadable(f: ReturnType<typeof slideFigure>, aspect: '16:9' | '4:3', lang: 'en' | 'zh') {
  const { width, height } = SLIDE_SIZES[aspect];
  expect([f.width, f.height]).toEqual([width, height]);
  expect(f.texts.length).toBeGreaterThan(10);
  for (const b of f.texts) {
    expect(b.size, b.text).toBeGreaterThanOrEqual(24);
    expect(b.x, b.text).toBeGreaterThanOrEqual(0);
    expect(b.y, b.text).toBeGreaterThanOrEqual(0);
    expect(b.x + b.w, b.text).toBeLessThanOrEqual(width);
    expect(b.y + b.h, b.text).toBeLessThanOrEqual(height);
  }
  const clashes = f.texts.flatMap((a, i) =>
    f.texts
      .slice(i + 1)
      .filter((b) => overlap(a, b))
      .map((b) => `${a.text} / ${b.text}`),
  );
  expect(clashes).toEqual([]);
  expect((f.chart.w * f.chart.h) / (width * height)).toBeGreaterThanOrEqual(0.8);
  const strokes = [...f.svg.matchAll(/<path [^>]*stroke-width="([\d.]+)"/g)].map((m) => Number(m[1]));
  expect(strokes.length).toBeGreaterThan(0);
  expect(Math.min(...strokes)).toBeGreaterThanOrEqual(4);
  // a title in plain words, in the page's language; the settings on one line
  expect(f.title).not.toMatch(/·|×|\d+ it\b/);
  if (lang === 'zh') expect(f.title).toMatch(/\p{Script=Han}/u);
  expect(f.texts.filter((b) => /CIFAR-10/.test(b.text))).toHaveLength(1);
}

describe('the figure for slides', () => {
  for (const path of RUNS) {
    for (const aspect of ['16:9', '4:3'] as const) {
      for (const lang of ['en', 'zh'] as const) {
        for (const trainingOnly of [true, false]) {
          it(`${path}, ${aspect}, ${lang}${trainingOnly ? '' : ', with test error'}: text ≥ 24 px inside the frame, no overlaps, lines ≥ 4 px, charts ≥ 80% of the frame`, () => {
            expectReadable(slideFigure(tFor(lang), runView(path), lang, aspect, trainingOnly), aspect, lang);
          });
        }
      }
    }
  }

  it('says the verdict: the finding as the title when Fig. 6 is shown, the answer to the run’s own question otherwise', () => {
    const t = tFor('en');
    const classroom = slideFigure(t, runView('classroom-run/seed-1'), 'en', '16:9', true);
    expect(classroom.title).toBe('Deep plain nets train worse; residual nets do not');
    expect(classroom.texts[1].text).toMatch(/^✓ Both halves shown: plain-56 is [\d.]+ points above plain-8; ResNet-56 is [\d.]+ points below ResNet-8/);
    const warmup = slideFigure(t, runView('presets/warmup110/seed-1'), 'en', '16:9', true);
    expect(warmup.title).toBe('Did the warmup help?');
    expect(warmup.texts[1].text).toBe('✓ Yes, as in the paper.');
    const zh = slideFigure(tFor('zh'), runView('classroom-run/seed-1'), 'zh', '16:9', true);
    expect(zh.texts[1].text).toMatch(/^✓ 左右两部分都已呈现：/);
  });

  it('spreads end labels that want one height, keeping their order, inside the plot', () => {
    const ys = spreadLabels([100, 101, 102, 400], 30, 50, 420);
    expect(ys[1] - ys[0]).toBeGreaterThanOrEqual(30);
    expect(ys[2] - ys[1]).toBeGreaterThanOrEqual(30);
    expect(ys[3]).toBe(400);
    const low = spreadLabels([410, 412, 415], 30, 50, 420);
    expect(Math.max(...low)).toBeLessThanOrEqual(420);
    expect(low[2] - low[1]).toBeGreaterThanOrEqual(30);
  });

  it('cuts by width, Han text a full em a character', () => {
    expect(textWidth('图', 24)).toBe(24);
    const cut = fitText('训练误差'.repeat(40), 24, 600);
    expect(textWidth(cut, 24)).toBeLessThanOrEqual(600);
    expect(cut.endsWith('…')).toBe(true);
  });
});

describe('the figure for slides of an unfinished run', () => {
  it('says where the run stands instead of a verdict, and asks its question as the title', () => {
    const t = tFor('en');
    const view = runView('classroom-run/seed-1');
    const running = slideFigure(t, { ...view, state: 'running', progress: { ...view.progress!, iteration: 300 } }, 'en', '16:9', true);
    expect(running.title).toBe('Do deeper nets train better, plain and residual?');
    expect(running.texts[1].text).toBe('Iteration 300 of 1,000, still training: no verdict yet');
    const stopped = slideFigure(t, { ...view, state: 'stopped', progress: { ...view.progress!, iteration: 300 } }, 'en', '16:9', true);
    expect(stopped.texts[1].text).toBe('Stopped at iteration 300 of 1,000: a verdict needs a finished run');
  });
});

describe('the figure for slides with the loss landscape (issue #27)', () => {
  // the Classroom run's landscape as the page computed it (docs/landscape.md), on the Classroom run's view
  const landscape = JSON.parse(readFileSync(join(import.meta.dirname, '../../../docs/landscape/classroom-page-seed-1/landscape.json'), 'utf8')) as RunLandscape;
  const view = () => ({ ...runView('classroom-run/seed-1'), landscape });
  for (const aspect of ['16:9', '4:3'] as const) {
    for (const lang of ['en', 'zh'] as const) {
      it(`${aspect}, ${lang}: the surfaces under the curves, readable on a projector, each named with its step ratio`, () => {
        const f = slideFigure(tFor(lang), view(), lang, aspect, true, true);
        expectReadable(f, aspect, lang);
        // every cell of both 21×21 surfaces, the contour lines, and the trained weights marked on each
        expect([...f.svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="#[0-9a-f]{6}"\/>/g)]).toHaveLength(2 * 21 * 21);
        expect([...f.svg.matchAll(/stroke="#ffffff" stroke-width="4"/g)].length).toBeGreaterThan(4);
        expect([...f.svg.matchAll(/<circle [^>]*stroke="#ff4d4d"/g)]).toHaveLength(2);
        for (const n of landscape.nets) {
          expect(f.texts.some((b) => b.text === n.label)).toBe(true);
          expect(f.texts.some((b) => b.text.includes(stepRatio(lossGrid(n)).toFixed(2)))).toBe(true);
        }
      });
    }
  }

  it('says which surface is the smoother, from the numbers; without a landscape, or unasked, there is no such panel', () => {
    const t = tFor('en');
    const panel = landscapePanel(t, view())!;
    expect(panel.maps!.map((m) => m.label)).toEqual(['plain-56', 'ResNet-56']);
    expect(panel.caption).toContain('ResNet-56 is the smoother surface.');
    // the same surfaces with the ResNet's made rougher than the plain net's: the sentence turns
    const rough = {
      ...landscape,
      nets: landscape.nets.map((n) =>
        n.label === 'ResNet-56' ? { ...n, loss: n.loss.map((row, r) => row.map((v, c) => (v === null ? v : v * 10 ** ((r + c) % 2)))) } : n,
      ),
    };
    expect(landscapePanel(t, { ...view(), landscape: rough })!.caption).toContain('ResNet-56 is not the smoother surface here.');
    expect(landscapePanel(t, runView('classroom-run/seed-1'))).toBeNull();
    expect(slideFigure(t, view(), 'en', '16:9', true, false).svg).not.toContain('#ff4d4d');
  });
});
