// A titled chart with its caption and export buttons: PNG at 2× and SVG (title, panels, legend on
// white), and CSV of the full-resolution data.
import { useEffect, useRef } from 'react';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useLab } from '../store';
import { openArchitecture } from '../architecture/ArchitectureView';
import { simplificationsNote } from './captions';
import type { LegendItem } from './exportChart';
import { chartExporters, composeSvg, download, legendDash, slug, svgToPng } from './exportChart';

interface ChartCardProps {
  id: string;
  title: string;
  caption?: string;
  legend: LegendItem[];
  /** Full-resolution data as CSV, made on demand. */
  csv: () => string;
  children: ReactNode;
  /** Extra controls beside the title (a depth picker, a scrubber). */
  tools?: ReactNode;
  empty?: boolean;
}

export function ChartCard({ id, title, caption, legend, csv, children, tools, empty }: ChartCardProps) {
  const { t, i18n } = useTranslation();
  const body = useRef<HTMLDivElement>(null);
  // what the run simplifies compared with the paper: in every export (on the page it is said once, under the charts)
  const config = useLab((s) => s.run?.config);
  const note = config ? simplificationsNote(t, config, i18n.language) : '';

  const figure = () => {
    const panels = [...(body.current?.querySelectorAll<SVGSVGElement>('svg.recharts-surface, svg.figure-panel') ?? [])]
      .filter((svg) => svg.closest('.chart-panel'))
      .map((svg) => ({ svg, subtitle: svg.closest<HTMLElement>('.chart-panel')?.dataset.subtitle }));
    const sentence = (s: string) => (/[.!?。！？]$/.test(s) ? s : `${s}.`);
    const f = composeSvg({
      title,
      panels,
      legend,
      footer: [caption, note]
        .filter((s): s is string => Boolean(s))
        .map(sentence)
        .join(' '),
    });
    // the figure's size in CSS pixels, for tests and for anyone scripting exports
    body.current?.parentElement?.setAttribute('data-figure-size', `${f.width}x${f.height}`);
    return f;
  };

  const latest = useRef({ figure, csv });
  useEffect(() => {
    latest.current = { figure, csv };
  });
  useEffect(() => {
    chartExporters.set(id, { figure: () => latest.current.figure(), csv: () => latest.current.csv() });
    return () => {
      chartExporters.delete(id);
    };
  }, [id]);

  return (
    <section className="chart-card" aria-labelledby={`${id}-title`} data-chart={id}>
      <div className="chart-head">
        <h2 id={`${id}-title`}>{title}</h2>
        <div className="chart-tools">
          {tools}
          <div className="export" role="group" aria-label={t('charts.named', { title, what: t('charts.exportGroup') })}>
            <button
              type="button"
              disabled={empty}
              onClick={async () => {
                const f = figure();
                download(await svgToPng(f.svg, f.width, f.height, 2), `${slug(title)}.png`);
              }}
            >
              {t('charts.exportPng')}
            </button>
            <button type="button" disabled={empty} onClick={() => download(figure().svg, `${slug(title)}.svg`, 'image/svg+xml')}>
              {t('charts.exportSvg')}
            </button>
            <button type="button" disabled={empty} onClick={() => download(csv(), `${slug(title)}.csv`, 'text/csv')}>
              {t('charts.exportCsv')}
            </button>
          </div>
        </div>
      </div>
      <div ref={body} className="chart-body">
        {children}
      </div>
      {legend.length > 0 && (
        <ul className="legend" aria-label={t('charts.named', { title, what: t('charts.legendGroup') })}>
          {legend.map((l) => (
            <li key={l.label}>
              <svg width="28" height="10" aria-hidden="true">
                <line x1="1" y1="5" x2="27" y2="5" stroke={l.color} strokeWidth="2.5" strokeDasharray={legendDash(l)} />
              </svg>
              {l.netId ? (
                <button type="button" className="linklike" title={t('arch.openFor', { net: l.label })} onClick={() => openArchitecture(l.netId!)}>
                  {l.label}
                </button>
              ) : (
                l.label
              )}
            </li>
          ))}
        </ul>
      )}
      {caption && <p className="caption">{caption}</p>}
    </section>
  );
}
