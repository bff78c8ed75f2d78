import { createInstance } from 'i18next';
import { describe, expect, it } from 'vitest';
import type { NetInfo, NetSeries } from '../../core/metrics';
import { emptySeries } from '../../core/metrics';
import { judgeDegradation } from '../../core/verdict';
import { DICTIONARIES } from '../i18n';
import { judgeQuestions } from '../../core/questions';
import { run } from '../../core/testing/judgedRuns';
import { questionLines, summaryCaption, summaryErrors, verdictLines } from './captions';

const i18n = createInstance();
void i18n.init({ resources: { en: { translation: DICTIONARIES.en } }, lng: 'en', interpolation: { escapeValue: false }, initAsync: false });
const t = i18n.t.bind(i18n);

const ITERATIONS = 200;
/** A net whose running error settles at `final`, then jumps to `last` at the very last iteration. */
function net(depth: number, residual: boolean, final: number, last: number): { info: NetInfo; series: NetSeries } {
  const s = emptySeries();
  for (let it = 1; it <= ITERATIONS; it++) {
    const err = it === ITERATIONS ? last : it < 100 ? 0.9 - ((0.9 - final) * it) / 100 : final;
    s.train.it.push(it);
    s.train.err.push(err);
    s.train.runErr.push(err);
    s.train.loss.push(2 * err);
    s.train.lr.push(0.1);
  }
  const id = residual ? `resnet-${depth}-A` : `plain-${depth}`;
  const info: NetInfo = {
    id,
    label: residual ? `ResNet-${depth}` : `plain-${depth}`,
    depth,
    residual,
    family: residual ? 'residual' : 'plain',
    shortcut: 'A',
    params: 1,
    status: 'done',
    divergedAt: null,
  };
  return { info, series: s };
}

describe('the depth summary and the verdict give one number for one gap', () => {
  // the last point differs from the window's mean, as a running error's last value does
  const nets = [net(8, false, 0.4, 0.38), net(56, false, 0.85, 0.9), net(8, true, 0.35, 0.3), net(56, true, 0.1, 0.12)];
  const infos = nets.map((n) => n.info);
  const series = Object.fromEntries(nets.map((n) => [n.info.id, n.series]));

  it('at the run’s end, the summary shows the verdict’s window means, and says so', () => {
    const { errorOf, window } = summaryErrors(infos, series, ITERATIONS, ITERATIONS);
    expect(window).toEqual([180, 200]);
    const verdict = judgeDegradation({ status: 'done', iterations: ITERATIONS, nets: infos, series });
    for (const f of verdict.finals) expect(errorOf.get(f.id)).toBeCloseTo(f.error!, 12);
    // plain-56: 19 iterations at 0.85 and one at 0.9 → 85.25%, not the last point's 90%
    expect(errorOf.get('plain-56')).toBeCloseTo((19 * 0.85 + 0.9) / 20, 12);

    const caption = summaryCaption(t, infos, series, ITERATIONS, ITERATIONS);
    expect(caption).toContain('Mean training error over iterations 181–200');
    const gap = /plain-56 is ([\d.]+) points above plain-8/.exec(caption)?.[1];
    expect(gap).toBeDefined();
    const lines = verdictLines(t, verdict, infos)
      .lines.map((l) => l.text)
      .join('\n');
    expect(lines).toContain(`plain-56 is ${gap} points above plain-8`);
  });

  it('before the end (or scrubbed back), it shows the running error at that iteration', () => {
    const { errorOf, window } = summaryErrors(infos, series, 150, ITERATIONS);
    expect(window).toBeNull();
    expect(errorOf.get('plain-56')).toBeCloseTo(0.85, 12);
    expect(summaryCaption(t, infos, series, 150, ITERATIONS)).toContain('At iteration 150, running training error: plain-56 is 45.0 points above plain-8');
  });
});

describe('the depth summary’s caption compares nets as the verdict groups them', () => {
  it('compares a warmup variant’s nets with each other, never with another variant’s', () => {
    // two warmup variants of plain-8/plain-56 and ResNet-56: each variant its own comparisons
    const variant = (warmup: 'off' | 'paper', errs: [number, number, number]) =>
      [net(8, false, errs[0], errs[0]), net(56, false, errs[1], errs[1]), net(56, true, errs[2], errs[2])].map(({ info, series }) => ({
        info: { ...info, id: `${info.id}-${warmup}`, label: `${info.label} (${warmup})`, warmup },
        series,
      }));
    const nets = [...variant('off', [0.4, 0.8, 0.2]), ...variant('paper', [0.3, 0.5, 0.1])];
    const infos = nets.map((n) => n.info);
    const series = Object.fromEntries(nets.map((n) => [n.info.id, n.series]));
    const caption = summaryCaption(t, infos, series, ITERATIONS, ITERATIONS);
    expect(caption).toContain('plain-56 (off) is 40.0 points above plain-8 (off)');
    expect(caption).toContain('plain-56 (paper) is 20.0 points above plain-8 (paper)');
    expect(caption).toContain('ResNet-56 (off) is 60.0 points below plain-56 (off)');
    expect(caption).toContain('ResNet-56 (paper) is 40.0 points below plain-56 (paper)');
    // no comparison across the variants
    expect(caption).not.toMatch(/\(off\)[^;.]*\(paper\)|\(paper\)[^;.]*\(off\)/);
  });
});

describe('the thousand-layer question in the page’s words', () => {
  it('says a diverged plain net could not train, and how far below chance the ResNet ended, in English and Chinese', () => {
    const curves = [
      { depth: 110, residual: false, final: 0.3 },
      { depth: 110, residual: true, final: 0.2 },
      { depth: 1202, residual: false, final: 0.9, diverged: 1, trained: 1 },
      { depth: 1202, residual: true, final: 0.5 },
    ];
    const r = run(curves);
    const [q] = judgeQuestions(r);
    expect(q.kind).toBe('thousand');
    const en = questionLines(t, q, r.nets);
    expect(en.outcome).toBe('Yes, as in the paper');
    expect(en.lines.map((l) => [l.holds, l.text])).toEqual([
      [true, 'plain-1202 could not train: it diverged at iteration 1 (its gradients overflow: they grow about 1.19× per layer back from the loss)'],
      [true, 'ResNet-1202 50.0% is 40.0 points below chance, where the diverged plain-1202 stays (expected at least 30.0 points below)'],
    ]);
    const zhI18n = createInstance();
    void zhI18n.init({ resources: { zh: { translation: DICTIONARIES.zh } }, lng: 'zh', interpolation: { escapeValue: false }, initAsync: false });
    const zh = questionLines(zhI18n.t.bind(zhI18n), q, r.nets);
    expect(zh.lines[0].text).toContain('无法训练');
    expect(zh.lines[1].text).toContain('40.0');
    // a plain net that stayed near chance without diverging, and a ResNet too close to it
    const [close] = judgeQuestions(run(curves.map((c) => (c.depth === 1202 ? { depth: 1202, residual: c.residual, final: c.residual ? 0.7 : 0.88 } : c))));
    expect(questionLines(t, close, r.nets).lines.map((l) => [l.holds, l.text])).toEqual([
      [true, 'plain-1202 88.0% stayed near chance (at or above 80.0%)'],
      [false, 'ResNet-1202 70.0% is 18.0 points below plain-1202 88.0% (expected at least 30.0 points below)'],
    ]);
  });
});
