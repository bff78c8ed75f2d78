// Fig. 6, live: training error (dashed, running mean) and test error (solid) against iterations,
// plain nets on the left and residual nets on the right, on one shared y scale.
import { memo, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { CartesianGrid, Line as RLine, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { NetInfo, NetSeries } from '../../core/metrics';
import type { CompareView } from '../store';
import { ChartCard } from './ChartCard';
import type { Line } from './chartData';
import { errorLines, linesToCsv } from './chartData';

const HEIGHT = 300;

export function ErrorChart({ lines, iterations, yMax, label }: { lines: Line[]; iterations: number; yMax: number; label: string }) {
  const { t } = useTranslation();
  return (
    <div className="chart-panel" data-subtitle={label} data-lines={lines.length} data-points={lines.reduce((s, l) => s + l.points.length, 0)}>
      <h3 className="panel-title">{label}</h3>
      <ResponsiveContainer width="100%" height={HEIGHT}>
        <LineChart margin={{ top: 8, right: 16, bottom: 28, left: 8 }}>
          <CartesianGrid stroke="#e3e6eb" />
          <XAxis
            type="number"
            dataKey="x"
            domain={[0, iterations]}
            tickCount={6}
            allowDecimals={false}
            label={{ value: t('charts.iter'), position: 'insideBottom', offset: -16, fill: '#333' }}
            tick={{ fill: '#333' }}
          />
          <YAxis type="number" domain={[0, yMax]} tickCount={6} width={56} tick={{ fill: '#333' }} label={{ value: t('charts.error'), angle: -90, position: 'insideLeft', offset: 0, dy: 30, fill: '#333' }} />
          <Tooltip isAnimationActive={false} formatter={(v) => `${Number(v).toFixed(1)}%`} labelFormatter={(x) => `${t('charts.iter')}: ${x}`} />
          {lines.map((l) => (
            <RLine
              key={l.key}
              data={l.points}
              dataKey="y"
              name={l.label}
              stroke={l.color}
              strokeWidth={l.dashed ? 1.8 : 2.6}
              strokeOpacity={l.faded ? 0.35 : 1}
              strokeDasharray={l.dashed ? '6 4' : undefined}
              dot={false}
              isAnimationActive={false}
              connectNulls
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

function CurvesPanelImpl({ nets, series, iterations, compare }: { nets: NetInfo[]; series: Record<string, NetSeries>; iterations: number; compare: CompareView | null }) {
  const { t } = useTranslation();
  const { plain, residual, yMax } = useMemo(() => {
    const words = { train: t('charts.trainWord'), test: t('charts.testWord') };
    const suffix = compare ? ` (${t('charts.compare')})` : '';
    const mk = (residualNets: boolean) => [
      ...errorLines(nets.filter((n) => n.residual === residualNets), nets, series, { words }),
      ...(compare ? errorLines(compare.nets.filter((n) => n.residual === residualNets), compare.nets, compare.series, { faded: true, suffix, words }) : []),
    ];
    const p = mk(false);
    const r = mk(true);
    const top = Math.max(10, ...[...p, ...r].flatMap((l) => l.points.map((pt) => pt.y)));
    return { plain: p, residual: r, yMax: Math.min(100, Math.ceil(top / 10) * 10) };
  }, [nets, series, compare, t]);
  const all = [...plain, ...residual];
  const legend = all.map((l) => ({ label: l.label, color: l.color, dashed: l.dashed }));
  const csv = () => {
    const full = [
      ...errorLines(nets, nets, series, { max: Infinity }),
      ...(compare ? errorLines(compare.nets, compare.nets, compare.series, { max: Infinity, suffix: ` (${t('charts.compare')})` }) : []),
    ];
    return linesToCsv(full, 'iteration', 'error %');
  };
  const maxIt = Math.max(iterations, ...all.flatMap((l) => l.points.map((p) => p.x)));
  return (
    <ChartCard id="curves" title={`${t('charts.plain')} | ${t('charts.residual')}`} caption={t('charts.legendHint')} legend={legend} csv={csv} empty={all.length === 0}>
      <div className="panels-2">
        <ErrorChart lines={plain} iterations={maxIt} yMax={yMax} label={t('charts.plain')} />
        <ErrorChart lines={residual} iterations={maxIt} yMax={yMax} label={t('charts.residual')} />
      </div>
    </ChartCard>
  );
}

export const CurvesPanel = memo(CurvesPanelImpl);
