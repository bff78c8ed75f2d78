// "Figure for slides": the run on screen as one figure for a 16:9 (1920×1080) or 4:3 (1440×1080)
// slide, PNG or SVG: a title in plain words (the finding when the verdict shows it, else the question),
// the verdict in one line, a panel per family of the curves and the depth summary, and the settings on
// one line. Drawn from the run's data by ./slideFigure.ts, never copied from the page's charts.
import type { TFunction } from 'i18next';
import type { NetInfo } from '../../core/metrics';
import { familyOf } from '../../core/metrics';
import { NET_FAMILIES } from '../../core/nets';
import { asksFig6, judgeQuestions, showsFig6 } from '../../core/questions';
import { finalErrors, judgeDegradation } from '../../core/verdict';
import type { RunView } from '../store';
import { summaryErrors } from './captions';
import { depthColor, downsample, endLabelOf, netColor, summaryGroups } from './chartData';
import { download, slug, svgToPng } from './exportChart';
import type { SlideAspect, SlideLine, SlidePanel, SlideResult } from './slideFigure';
import { renderSlide } from './slideFigure';
import { interpolateViridis } from 'd3-scale-chromatic';
import { lossGrid, stepRatio } from '../../core/landscape';
import { complete, contourPaths, logLevels, lossDomain, scaleOf } from './landscapeView';

/** Dash arrays at the slide's 5 px lines: plain dashed, residual solid (B, C their own), highway dotted. */
const SLIDE_DASH: Record<string, string | undefined> = { plain: '16 10', A: undefined, B: '4 8', C: '20 7 5 7', highway: '2 9' };

/** The verdict in one line: Fig. 6's outcome and its two main gaps, or the run's own question and its answer. */
function verdictLine(t: TFunction, run: RunView): { text: string; mark: 'holds' | 'fails' | 'none'; title: string } {
  const judged = { status: run.state, iterations: run.config.iterations, nets: run.nets, series: run.series };
  if (run.state !== 'done') {
    const it = run.progress?.iteration ?? 0;
    const words = run.state === 'running' || run.state === 'starting' || run.state === 'paused' ? 'slide.running' : 'slide.stopped';
    return {
      text: t(words, { it: it.toLocaleString('en'), of: run.config.iterations.toLocaleString('en') }),
      mark: 'none',
      title: asksFig6(run.nets) ? t('slide.titleDepth') : t('slide.titleRun'),
    };
  }
  const questions = judgeQuestions(judged);
  if (!showsFig6(run.nets, questions)) {
    const q = questions[0];
    const extra =
      questions.length > 1
        ? ` ${questions
            .slice(1)
            .map((x) => `${t(`questions.heading.${x.kind}`)} ${t(`questions.outcome.${x.outcome}`)}`)
            .join(' ')}`
        : '';
    return {
      text: `${t(`questions.outcome.${q.outcome}`)}.${extra}`,
      mark: q.outcome === 'as-paper' ? 'holds' : q.outcome === 'not-judged' ? 'none' : 'fails',
      title: t(`questions.heading.${q.kind}`),
    };
  }
  const v = judgeDegradation(judged);
  const finals = new Map(finalErrors(judged).map((f) => [f.id, f.error]));
  const pts = (a: NetInfo, b: NetInfo) => (100 * Math.abs((finals.get(a.id) ?? 0) - (finals.get(b.id) ?? 0))).toFixed(1);
  const gap = (a: NetInfo, b: NetInfo) =>
    t((finals.get(a.id) ?? 0) >= (finals.get(b.id) ?? 0) ? 'captions.above' : 'captions.below', { a: a.label, b: b.label, pts: pts(a, b) });
  const byDepth = (a: NetInfo, b: NetInfo) => a.depth - b.depth;
  const plain = run.nets.filter((n) => familyOf(n) === 'plain').sort(byDepth);
  const res = run.nets.filter((n) => familyOf(n) === 'residual').sort(byDepth);
  const parts: string[] = [];
  if (plain.length >= 2) parts.push(gap(plain[plain.length - 1], plain[0]));
  if (res.length >= 2) parts.push(gap(res[res.length - 1], res[0]));
  const text = `${t(`verdict.${v.outcome}`)}${parts.length ? `${t('slide.colon')}${parts.join(t('captions.join'))}` : ''}`;
  return { text, mark: v.outcome === 'both' ? 'holds' : 'fails', title: v.outcome === 'both' ? t('charts.slideTitle') : t('slide.titleDepth') };
}

/** The settings in a few words, and the curves' key. */
function settingsLine(t: TFunction, run: RunView, locale: string, trainingOnly: boolean): string {
  const c = run.config;
  const n = (x: number) => x.toLocaleString(locale);
  const parts = [
    t('slide.images', { n: n(c.trainSize) }),
    t('slide.width', { w: c.width }),
    t('slide.iterations', { n: n(c.iterations) }),
    t('slide.batch', { n: c.batchSize }),
  ];
  if (c.augment) parts.push(t('slide.augment'));
  if (c.warmup.some((w) => w !== 'off')) parts.push(t('slide.warmup'));
  return `${t(trainingOnly ? 'slide.keyTrain' : 'slide.keyBoth')}${t('simplified.join')}${parts.join(t('simplified.join'))}`;
}

/** The slide's panels: one per family present (training error against iteration), then the depth summary. */
function panels(t: TFunction, run: RunView, trainingOnly: boolean): { panels: SlidePanel[]; yMax: number } {
  const out: SlidePanel[] = [];
  let top = 10;
  for (const family of NET_FAMILIES) {
    const nets = run.nets.filter((n) => familyOf(n) === family);
    if (!nets.length) continue;
    const lines: SlideLine[] = [];
    for (const net of nets) {
      const s = run.series[net.id];
      if (!s) continue;
      const color = netColor(net, run.nets);
      const train = downsample(
        s.train.it,
        s.train.runErr.map((e) => 100 * e),
        300,
      );
      const endLabel = endLabelOf(net.label);
      // the panel names the family: "Highway-20 (−2)" may shorten to "20 (−2)"
      lines.push({ points: train, color, dash: trainingOnly ? undefined : SLIDE_DASH.plain, endLabel, shortLabel: endLabel.replace(/^[A-Za-z]+-/, '') });
      if (!trainingOnly && s.test.it.length) lines.push({ points: s.test.it.map((x, i) => ({ x, y: 100 * s.test.err[i] })), color, secondary: true });
      top = Math.max(top, ...train.map((p) => p.y));
    }
    out.push({ title: t(`charts.${family}`), kind: 'iterations', xLabel: t('slide.iterAxis'), xMax: run.config.iterations, lines });
  }
  // the depth summary: a line per kind of net across depths, dots in the depths' colours
  const at = run.progress?.iteration ?? 0;
  const { errorOf } = summaryErrors(run.nets, run.series, at, run.config.iterations);
  const depths = [...new Set(run.nets.map((n) => n.depth))].sort((a, b) => a - b);
  const summary: SlideLine[] = summaryGroups(run.nets, errorOf).map((g) => {
    const words = [
      t(`slide.${g.family}`),
      g.shortcut ? `(${g.shortcut})` : '',
      g.gateBias ? `(${g.gateBias.replace('-', '−')})` : '',
      g.variants && g.block === 'bottleneck' ? t('runName.bottleneck') : '',
      g.variants && g.warmups ? t('runName.warmup', { mode: g.warmup }) : '',
    ]
      .filter(Boolean)
      .join(' ');
    top = Math.max(top, ...g.points.map((p) => p.y));
    return {
      points: g.points,
      color: g.color,
      dash: SLIDE_DASH[g.family === 'residual' ? (g.shortcut ?? 'A') : g.family],
      endLabel: words,
      dots: g.points.map((p) => depthColor(p.x)),
    };
  });
  if (summary.length) out.push({ title: t('slide.depthPanel'), kind: 'depths', xLabel: t('slide.depthAxis'), depths, lines: summary });
  return { panels: out, yMax: Math.min(100, Math.ceil(top / 20) * 20) };
}

/**
 * The run's loss landscape as a slide panel (issue #27): its complete surfaces side by side on one log colour scale,
 * as the page draws them (cells, contour lines, the trained weights at the centre), each with its step ratio, and
 * which is the smoother. Null when the run has no complete surface.
 */
export function landscapePanel(t: TFunction, run: RunView): SlidePanel | null {
  const l = run.landscape;
  const nets = l ? l.nets.filter((n) => complete(l, n)) : [];
  if (!l || !nets.length) return null;
  const domain = lossDomain(nets);
  const colour = scaleOf(domain);
  const levels = logLevels(domain);
  const ratios = nets.map((n) => stepRatio(lossGrid(n)));
  const family = (id: string) => {
    const info = run.nets.find((i) => i.id === id);
    return info ? familyOf(info) : null;
  };
  const plain = nets.findIndex((n) => family(n.id) === 'plain');
  const res = nets.findIndex((n) => family(n.id) === 'residual');
  const verdict =
    plain >= 0 && res >= 0
      ? t(ratios[res] < ratios[plain] ? 'slide.landscapeSmoother' : 'slide.landscapeNotSmoother', { res: nets[res].label, plain: nets[plain].label })
      : '';
  return {
    title: t('slide.landscapeTitle', { it: l.iteration.toLocaleString('en') }),
    kind: 'landscape',
    xLabel: '',
    lines: [],
    maps: nets.map((n, i) => ({
      label: n.label,
      note: t('slide.landscapeRatio', { ratio: ratios[i].toFixed(2) }),
      cells: n.loss.map((row) => row.map((v) => (v === null ? '#bbbbbb' : interpolateViridis(colour(v))))),
      contours: (size: number) => contourPaths(n, levels, size).map((p) => p.d),
    })),
    caption: `${t('slide.landscapeKey')}${verdict ? ` ${verdict}` : ''}`,
  };
}

/**
 * The figure for a slide of the run on screen. `trainingOnly` follows the curves' "Training error only"; `landscape`
 * adds the run's loss landscape as a panel under the others, where it has one.
 */
export function slideFigure(
  t: TFunction,
  run: RunView,
  locale: string,
  aspect: SlideAspect,
  trainingOnly: boolean,
  landscape = false,
): SlideResult & { title: string } {
  const v = verdictLine(t, run);
  const { panels: lines, yMax } = panels(t, run, trainingOnly);
  const maps = landscape ? landscapePanel(t, run) : null;
  const ps = maps ? [...lines, maps] : lines;
  const f = renderSlide({
    aspect,
    title: v.title,
    verdict: { text: v.text, mark: v.mark },
    panels: ps,
    settings: settingsLine(t, run, locale, trainingOnly),
    yMax,
  });
  return { ...f, title: v.title };
}

/** Download the figure for slides as PNG (2×) or SVG, with the loss landscape panel when asked and the run has one. */
export async function exportSlide(
  t: TFunction,
  run: RunView,
  locale: string,
  format: 'png' | 'svg',
  aspect: SlideAspect = '16:9',
  landscape = false,
): Promise<void> {
  // the curves' own choice of training error only, as the page shows them
  const trainingOnly = document.querySelector<HTMLElement>('[data-chart="curves"] [data-training-only]')?.dataset.trainingOnly !== 'false';
  const f = slideFigure(t, run, locale, aspect, trainingOnly, landscape);
  const name = `${slug(f.title)}-slide-${aspect.replace(':', 'x')}`;
  if (format === 'svg') download(f.svg, `${name}.svg`, 'image/svg+xml');
  else download(await svgToPng(f.svg, f.width, f.height, 1), `${name}.png`);
}
