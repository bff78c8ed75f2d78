// Per-layer statistics at the latest evaluation (or the scrubbed iteration): the std of each 3×3
// layer's response (Fig. 7) and each layer's weight-gradient norm, plain against residual.
import { memo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import { CartesianGrid, Line as RLine, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { LayerTap, NetInfo, NetSeries } from '../../core/metrics';
import type { Fig7Variant } from '../../core/fig7';
import { fig7Summary, fig7Values } from '../../core/fig7';
import { ChartCard } from './ChartCard';
import { familyDash, linesToCsv, netColor } from './chartData';
import type { TapCardProps } from './TapPanel';
import { sameTaps } from './TapPanel';

function tapAt(s: NetSeries | undefined, it: number | null): LayerTap | null {
  if (!s || s.taps.length === 0) return null;
  if (it === null) return s.taps.at(-1)!;
  let best: LayerTap | null = null;
  for (const t of s.taps) if (t.it <= it) best = t;
  return best ?? s.taps[0];
}

function LayerChartImpl({ kind, nets, series, scrub, images }: TapCardProps & { kind: 'std' | 'grad' }) {
  const { t } = useTranslation();
  const depths = [...new Set(nets.map((n) => n.depth))].sort((a, b) => a - b);
  const [chosen, setChosen] = useState<number | null>(null);
  const depth = chosen !== null && depths.includes(chosen) ? chosen : (depths.at(-1) ?? 0);
  // Fig. 7 in two variants (src/core/fig7.ts): (a) as the trained net computes, the default; (b) the BN readout
  const [wanted, setVariant] = useState<Fig7Variant>('eval');
  const shown = nets.filter((n) => n.depth === depth).map((n) => ({ ...n, tap: tapAt(series[n.id], scrub) }));
  const hasEval = shown.some((n) => n.tap?.layerStdEval);
  const variant: Fig7Variant = hasEval ? wanted : 'readout';
  // tens of points: cheap enough to build on every render
  const lines = shown.map((n) => {
    const tap = n.tap;
    const values = tap ? (kind === 'std' ? (fig7Values(tap, variant) ?? []) : tap.gradNorms) : [];
    return {
      key: n.id,
      label: `${n.label}${tap ? ` @ ${tap.it}` : ''}`,
      color: netColor(n, nets),
      dash: familyDash(n),
      points: values.map((y, i) => ({ x: i + 1, y })).filter((p) => p.y > 0), // a log scale: zeros (no gradient recorded) are left out
    };
  });
  // the paper's Fig. 7 (bottom): each net's responses sorted by magnitude, largest first
  const sorted = lines.map((l) => ({ ...l, key: `${l.key}:sorted`, points: [...l.points].sort((a, b) => b.y - a.y).map((p, i) => ({ x: i + 1, y: p.y })) }));
  const title = kind === 'std' ? t('charts.layerStd') : t('charts.gradNorm');
  const yLabel = kind === 'std' ? t('charts.std') : t('charts.norm');
  const empty = lines.every((l) => l.points.length === 0);
  const caption = kind === 'std' ? fig7Caption(t, shown, variant, hasEval, images) : t('captions.gradNorm');
  return (
    <ChartCard
      id={kind === 'std' ? 'layer-std' : 'grad-norm'}
      title={title}
      caption={caption}
      legend={lines.map((l) => ({ label: l.label, color: l.color, dashed: false, dash: l.dash }))}
      csv={() => linesToCsv(lines, 'layer', yLabel)}
      empty={empty}
      tools={
        <>
          {kind === 'std' && hasEval && (
            <label>
              {t('fig7.variant')}{' '}
              <select value={variant} onChange={(e) => setVariant(e.target.value as Fig7Variant)} data-testid="fig7-variant">
                <option value="eval">{t('fig7.eval')}</option>
                <option value="readout">{t('fig7.readout')}</option>
              </select>
            </label>
          )}
          {depths.length > 1 ? (
            <label>
              {t('charts.netFor')}{' '}
              <select value={depth} onChange={(e) => setChosen(Number(e.target.value))}>
                {depths.map((d) => (
                  <option key={d} value={d}>
                    {d}
                  </option>
                ))}
              </select>
            </label>
          ) : null}
        </>
      }
    >
      <div className={kind === 'std' ? 'panels-2' : undefined}>
        <LayerPanel lines={lines} kind={kind} yLabel={yLabel} xLabel={t('charts.layerIndex')} subtitle={kind === 'std' ? t('charts.byLayer') : ''} />
        {kind === 'std' && <LayerPanel lines={sorted} kind={kind} yLabel={yLabel} xLabel={t('charts.rank')} subtitle={t('charts.sorted')} />}
      </div>
    </ChartCard>
  );
}

/**
 * Fig. 7's caption, computed from what the chart shows: which variant it is and what that means,
 * each net's median layer std, whether the ResNet's responses are the smaller ones, and any net whose
 * BN running averages lag (its evaluation-mode responses far above its readout), shown as measured.
 */
function fig7Caption(t: TFunction, shown: (NetInfo & { tap: LayerTap | null })[], variant: Fig7Variant, hasEval: boolean, images: number): string {
  const summary = fig7Summary(shown, variant);
  const parts = [t(variant === 'eval' ? 'fig7.captionEval' : 'fig7.captionReadout', { images })];
  if (!hasEval) parts.push(t('fig7.noEval'));
  if (summary.nets.length) parts.push(t('fig7.medians', { list: summary.nets.map((n) => `${n.label} ${n.median.toPrecision(2)}`).join(t('captions.join')) }));
  const res = summary.nets.filter((n) => n.residual);
  const plain = summary.nets.filter((n) => !n.residual);
  if (res.length && plain.length) {
    // a tenth apart at least before the caption calls one side smaller (the medians of 16–55 layers are close otherwise)
    const [r, p] = [Math.max(...res.map((n) => n.median)), Math.min(...plain.map((n) => n.median))];
    parts.push(t(r < 0.9 * p ? 'fig7.smaller' : r <= p / 0.9 ? 'fig7.similar' : 'fig7.notSmaller'));
  }
  for (const o of summary.offAverages) parts.push(t('fig7.off', { net: o.label, a: o.largest.toPrecision(3), b: o.readout.toPrecision(2) }));
  return parts.join(' ');
}

type PanelLine = { key: string; label: string; color: string; dash?: string; points: { x: number; y: number }[] };

/** One panel of per-layer values, on a log scale so that a small line stays readable beside a large one. */
function LayerPanel({ lines, kind, xLabel, yLabel, subtitle }: { lines: PanelLine[]; kind: 'std' | 'grad'; xLabel: string; yLabel: string; subtitle: string }) {
  const { t } = useTranslation();
  return (
    <div className="chart-panel" data-subtitle={subtitle} data-points={lines.reduce((s, l) => s + l.points.length, 0)}>
      {subtitle && <h3 className="panel-title">{subtitle}</h3>}
      <ResponsiveContainer width="100%" height={220}>
        <LineChart margin={{ top: 8, right: 16, bottom: 28, left: 8 }}>
          <CartesianGrid stroke="#e3e6eb" />
          <XAxis
            type="number"
            dataKey="x"
            domain={[1, 'dataMax']}
            allowDecimals={false}
            tick={{ fill: '#333' }}
            label={{ value: xLabel, position: 'insideBottom', offset: -16, fill: '#333' }}
          />
          <YAxis
            type="number"
            scale="log"
            domain={['auto', 'auto']}
            allowDataOverflow={false}
            width={56}
            tick={{ fill: '#333' }}
            tickFormatter={(v: number) => (kind === 'grad' ? v.toExponential(0) : v.toPrecision(2))}
            label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 4, fill: '#333' }}
          />
          <Tooltip isAnimationActive={false} formatter={(v) => Number(v).toPrecision(3)} labelFormatter={(x) => `${xLabel} ${x}`} />
          {lines.map((l) => (
            <RLine
              key={l.key}
              data={l.points}
              dataKey="y"
              name={l.label}
              stroke={l.color}
              strokeWidth={2}
              strokeDasharray={l.dash}
              dot={false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
      <span className="sr-only">{t('charts.logScale')}</span>
    </div>
  );
}

export const LayerChart = memo(LayerChartImpl, (a, b) => a.kind === b.kind && sameTaps(a, b));
