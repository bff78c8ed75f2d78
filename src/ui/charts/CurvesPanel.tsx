// Fig. 6, live: training error (dashed, running mean) and test error (solid) against iterations,
// plain nets on the left and residual nets on the right, on one shared y scale.
import { memo, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { CartesianGrid, Line as RLine, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { NetInfo, NetSeries } from '../../core/metrics';
import { familyOf } from '../../core/metrics';
import { NET_FAMILIES } from '../../core/nets';
import { MEMORISED_TRAIN_SIZE } from '../../core/verdict';
import type { CompareView } from '../store';
import { useLab } from '../store';
import { ChartCard } from './ChartCard';
import type { Line } from './chartData';
import { errorLines, linesToCsv } from './chartData';

/**
 * Where each line's end label goes: at its last value, moved apart just enough that no two overlap.
 * Values are placed on the chart's own pixel scale (the plot's height and y range), sorted top to
 * bottom, pushed down to keep `gap` pixels between neighbours, then the whole stack moved up as far
 * as it overran the bottom. Returns each key's label centre in pixels from the plot's top.
 */
export function placeEndLabels(ends: { key: string; value: number }[], domain: [number, number], plotHeight: number, gap: number): Map<string, number> {
  const [lo, hi] = domain;
  const span = hi - lo || 1;
  const wanted = ends.map((e) => ({ key: e.key, y: Math.min(plotHeight, Math.max(0, (1 - (e.value - lo) / span) * plotHeight)) })).sort((a, b) => a.y - b.y);
  const placed = wanted.map((w) => w.y);
  for (let i = 1; i < placed.length; i++) placed[i] = Math.max(placed[i], placed[i - 1] + gap);
  const over = placed.length ? placed[placed.length - 1] - plotHeight : 0;
  if (over > 0) {
    placed[placed.length - 1] -= over;
    for (let i = placed.length - 2; i >= 0; i--) placed[i] = Math.min(placed[i], placed[i + 1] - gap);
  }
  return new Map(wanted.map((w, i) => [w.key, placed[i]]));
}

/**
 * A name that fits `chars` characters: the name; or, in a panel of one family, without the family
 * ("Highway-20 (−6)" → "20 (−6)": the panel's title names it); or cut, with "…".
 */
export function fitEndLabel(name: string, chars: number): string {
  if (name.length <= chars) return name;
  const bare = name.replace(/^[^\s-]+-(?=\d)/, '');
  if (bare.length <= chars) return bare;
  return `${bare.slice(0, Math.max(1, chars - 1))}…`;
}

/** A line's name at its last point, in its colour, at the height placeEndLabels gave it, fitted to `chars` characters (the full name in its title). */
function endLabel(l: Line, placedY: number | undefined, fontSize: number, chars: number) {
  const last = l.points.length - 1;
  const name = l.endLabel ?? '';
  const shown = fitEndLabel(name, chars);
  return function EndLabel(props: { x?: number | string; y?: number | string; index?: number }) {
    if (!l.endLabel || props.index !== last) return <g />;
    return (
      <text x={Number(props.x) + 5} y={placedY ?? Number(props.y)} dy={fontSize / 3} fill={l.color} fontSize={fontSize} fontWeight={600} className="end-label">
        {shown !== name && <title>{name}</title>}
        {shown}
      </text>
    );
  };
}

/** The chart's margins and x-axis height (Recharts' default), to turn the container's height into the plot's. */
const MARGIN = { top: 8, bottom: 28, left: 8 };
const X_AXIS_HEIGHT = 30;

function ErrorChart({ lines, iterations, yDomain, label }: { lines: Line[]; iterations: number; yDomain: [number, number]; label: string }) {
  const { t } = useTranslation();
  // room at the right for the end labels, as long as the longest (larger in classroom mode's 20 px type)
  const classroom = useLab((s) => s.classroom);
  // the end labels, apart on the chart's pixel scale (the container reports its size); their room at
  // the right is at most 30% of the panel, so the curves keep most of it: a longer name is cut
  const [{ width, height }, setSize] = useState({ width: 0, height: 0 });
  const charWidth = classroom ? 12.5 : 8; // bold 20 px and 12 px type
  const longest = Math.max(8, ...lines.map((l) => l.endLabel?.length ?? 0));
  const right = Math.ceil(Math.min(longest * charWidth + 8, width > 0 ? 0.3 * width : 200));
  const chars = Math.max(4, Math.floor((right - 4) / charWidth));
  const fontSize = classroom ? 20 : 12;
  const ends = lines.filter((l) => l.endLabel && l.points.length).map((l) => ({ key: l.key, value: l.points[l.points.length - 1].y }));
  const plotHeight = Math.max(0, height - MARGIN.top - MARGIN.bottom - X_AXIS_HEIGHT);
  const placed = height > 0 ? placeEndLabels(ends, yDomain, plotHeight, Math.ceil(fontSize * 1.3)) : new Map<string, number>();
  return (
    <div
      className="chart-panel"
      data-subtitle={label}
      data-lines={lines.length}
      data-points={lines.reduce((s, l) => s + l.points.length, 0)}
      data-y-domain={yDomain.join(',')}
    >
      <h3 className="panel-title">{label}</h3>
      <div className="plot plot-curves">
        <ResponsiveContainer width="100%" height="100%" onResize={(w, h) => setSize({ width: w, height: h })}>
          <LineChart margin={{ ...MARGIN, right }}>
            <CartesianGrid stroke="#e3e6eb" />
            <XAxis
              type="number"
              dataKey="x"
              domain={[0, iterations]}
              tickCount={classroom ? 3 : 6}
              allowDecimals={false}
              label={{ value: t('charts.iter'), position: 'insideBottom', offset: -16, fill: '#333' }}
              tick={{ fill: '#333' }}
            />
            <YAxis
              type="number"
              domain={yDomain}
              allowDataOverflow
              tickCount={6}
              width={56}
              tick={{ fill: '#333' }}
              label={{ value: t('charts.error'), angle: -90, position: 'insideLeft', offset: 0, dy: 30, fill: '#333' }}
            />
            <Tooltip isAnimationActive={false} formatter={(v) => `${Number(v).toFixed(1)}%`} labelFormatter={(x) => `${t('charts.iter')}: ${x}`} />
            {lines.map((l) => (
              <RLine
                key={l.key}
                data={l.points}
                dataKey="y"
                name={l.label}
                stroke={l.color}
                strokeWidth={l.dashed ? 2 : 2.8}
                strokeOpacity={l.faded ? 0.35 : 1}
                strokeDasharray={l.dashed ? '6 4' : undefined}
                dot={false}
                label={l.endLabel ? endLabel(l, placed.has(l.key) ? MARGIN.top + placed.get(l.key)! : undefined, fontSize, chars) : undefined}
                isAnimationActive={false}
                connectNulls
              />
            ))}
          </LineChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}

/** The y range: 0 to the next 10% above the data, or, when asked, fitted to the data (5% steps). */
export function errorDomain(lines: Line[], fit: boolean): [number, number] {
  const ys = lines.flatMap((l) => l.points.map((p) => p.y));
  if (ys.length === 0) return [0, 100];
  let lo = Infinity;
  let hi = -Infinity;
  for (const y of ys) {
    if (y < lo) lo = y;
    if (y > hi) hi = y;
  }
  if (!fit) return [0, Math.min(100, Math.max(10, Math.ceil(hi / 10) * 10))];
  return [Math.max(0, Math.floor(lo / 5) * 5), Math.min(100, Math.max(Math.ceil(hi / 5) * 5, Math.floor(lo / 5) * 5 + 5))];
}

// Up to MEMORISED_TRAIN_SIZE training images (src/core/verdict.ts), a run's nets memorise their data: their
// test error says little about depth (the Classroom demo's ResNets test at ~57% whatever their depth), so
// the curves show training error alone until asked, as the paper's Fig. 6 emphasises.

function CurvesPanelImpl({
  nets,
  series,
  iterations,
  trainSize,
  compare,
}: {
  nets: NetInfo[];
  series: Record<string, NetSeries>;
  iterations: number;
  trainSize: number;
  compare: CompareView | null;
}) {
  const { t } = useTranslation();
  const memorised = trainSize <= MEMORISED_TRAIN_SIZE;
  // the reader's choice, once made, holds across runs; until then, the data's size decides
  const [asked, setTrainingOnly] = useState<boolean | null>(null);
  const trainingOnly = asked ?? memorised;
  const [fit, setFit] = useState(false);
  // one panel per family: plain | residual, and highway when the run has highway nets
  const panels = useMemo(() => {
    const words = { train: t('charts.trainWord'), test: t('charts.testWord') };
    const suffix = compare ? ` (${t('charts.compare')})` : '';
    const keep = (l: Line) => !trainingOnly || l.kind === 'train';
    // plain | residual as in Fig. 6, and highway: a panel for each family the run (or the compared run) has
    const present = new Set([...nets, ...(compare?.nets ?? [])].map(familyOf));
    const families = nets.length || compare ? NET_FAMILIES.filter((f) => present.has(f)) : NET_FAMILIES.filter((f) => f !== 'highway');
    return families.map((family) => ({
      family,
      lines: [
        ...errorLines(
          nets.filter((n) => familyOf(n) === family),
          nets,
          series,
          { words },
        ),
        ...(compare
          ? errorLines(
              compare.nets.filter((n) => familyOf(n) === family),
              compare.nets,
              compare.series,
              { faded: true, suffix, words },
            )
          : []),
      ].filter(keep),
    }));
  }, [nets, series, compare, t, trainingOnly]);
  const all = panels.flatMap((p) => p.lines);
  const yDomain = errorDomain(all, fit);
  // one entry per net (its colour); the key under the chart says which curve is which
  const legend = [
    ...new Map(
      all
        .filter((l) => l.kind === 'train' || trainingOnly)
        .map((l) => [
          l.label.replace(/ \S+$/, ''),
          { label: l.label.replace(/ \S+$/, ''), color: l.color, dashed: false, netId: l.faded ? undefined : l.key.split(':')[0] },
        ]),
    ).values(),
  ];
  const csv = () => {
    const full = [
      ...errorLines(nets, nets, series, { max: Infinity }),
      ...(compare ? errorLines(compare.nets, compare.nets, compare.series, { max: Infinity, suffix: ` (${t('charts.compare')})` }) : []),
    ];
    return linesToCsv(full, 'iteration', 'error %');
  };
  const maxIt = Math.max(iterations, ...all.flatMap((l) => l.points.map((p) => p.x)));
  return (
    <ChartCard
      id="curves"
      title={panels.map((p) => t(`charts.${p.family}`)).join(' | ')}
      caption={
        trainingOnly
          ? `${t('charts.legendHintTrain')}${asked === null && memorised ? `${t('charts.sentenceEnd')}${t('charts.memorised', { n: trainSize.toLocaleString('en') })}` : ''}`
          : t('charts.legendHint')
      }
      legend={legend}
      csv={csv}
      empty={all.length === 0}
      tools={
        <>
          <label className="check-line">
            <input type="checkbox" checked={trainingOnly} onChange={(e) => setTrainingOnly(e.target.checked)} /> {t('charts.trainingOnly')}
          </label>
          <label className="check-line">
            <input type="checkbox" checked={fit} onChange={(e) => setFit(e.target.checked)} /> {t('charts.fitY')}
          </label>
        </>
      }
    >
      <div className={`panels-${panels.length}`} data-training-only={trainingOnly}>
        {panels.map((p) => (
          <ErrorChart key={p.family} lines={p.lines} iterations={maxIt} yDomain={yDomain} label={t(`charts.${p.family}`)} />
        ))}
      </div>
    </ChartCard>
  );
}

export const CurvesPanel = memo(CurvesPanelImpl);
