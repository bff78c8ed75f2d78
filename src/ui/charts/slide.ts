// "Figure for slides": the curves' two panels and the depth summary of the run on screen as one
// fixed 16:9 figure (1920×1080 PNG or SVG), with the key, the iteration, a legend and a footer of
// the settings and what they simplify compared with the paper (composeSlide in ./exportChart.ts).
import type { TFunction } from 'i18next';
import type { RunView } from '../store';
import { simplificationsNote, summaryCaption } from './captions';
import { FAMILY_DASH, netColor } from './chartData';
import type { LegendItem } from './exportChart';
import { SLIDE, composeSlide, download, slug, svgToPng } from './exportChart';

export function slideFigure(t: TFunction, run: RunView, locale: string): { svg: string; width: number; height: number; title: string } {
  const curves = [...document.querySelectorAll<SVGSVGElement>('[data-chart="curves"] .chart-panel svg.recharts-surface')];
  const summary = document.querySelector<SVGSVGElement>('[data-chart="summary"] .chart-panel svg.recharts-surface');
  const panels = [
    ...curves.map((svg) => ({ svg, subtitle: svg.closest<HTMLElement>('.chart-panel')?.dataset.subtitle })),
    ...(summary ? [{ svg: summary, subtitle: t('charts.slideSummary') }] : []),
  ];
  const it = run.progress?.iteration ?? 0;
  const legend: LegendItem[] = [
    ...run.nets.map((n) => ({ label: n.label, color: netColor(n, run.nets), dashed: false })),
    { label: t('charts.slidePlain'), color: '#333333', dashed: false, dash: FAMILY_DASH.plain },
    { label: t('charts.slideResidual'), color: '#333333', dashed: false },
  ];
  const title = t('charts.slideTitle');
  const f = composeSlide({
    title,
    subtitle: `${run.name} · ${t('charts.legendHint')} · ${t('charts.slideIteration', { it: it.toLocaleString(locale), of: run.config.iterations.toLocaleString(locale) })}`,
    panels,
    // Fig. 6's two panels side by side, the depth summary under them
    rows: summary ? [curves.map((_, i) => i), [curves.length]] : undefined,
    legend,
    footer: [summaryCaption(t, run.nets, run.series, it, run.config.iterations), simplificationsNote(t, run.config, locale)].filter(Boolean).join(' '),
  });
  return { ...f, title };
}

/** Download the figure for slides as a 1920×1080 PNG or as SVG. */
export async function exportSlide(t: TFunction, run: RunView, locale: string, format: 'png' | 'svg'): Promise<void> {
  const f = slideFigure(t, run, locale);
  const name = `${slug(f.title)}-slide`;
  if (format === 'svg') download(f.svg, `${name}.svg`, 'image/svg+xml');
  else download(await svgToPng(f.svg, SLIDE.width, SLIDE.height, 1), `${name}.png`);
}
