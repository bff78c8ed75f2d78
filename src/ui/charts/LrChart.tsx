// The learning rate each net actually trained at, step by step (from its own series): with the
// paper's warmup the switch to the full rate comes when that net's running training error falls
// below 80%, so it differs from net to net. Shown when the run warms up at all.
import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import { CartesianGrid, Line as RLine, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { NetInfo, NetSeries } from '../../core/metrics';
import { ChartCard } from './ChartCard';
import { downsample, familyDash, linesToCsv, netColor } from './chartData';

function LrChartImpl({ nets, series, iterations }: { nets: NetInfo[]; series: Record<string, NetSeries>; iterations: number }) {
  const { t } = useTranslation();
  const lines = nets.map((n) => {
    const s = series[n.id];
    return { key: n.id, label: n.label, color: netColor(n, nets), dash: familyDash(n), points: s ? downsample(s.train.it, s.train.lr, 400) : [] };
  });
  return (
    <ChartCard
      id="lr"
      title={t('charts.lrTitle')}
      caption={t('charts.lrCaption')}
      legend={lines.map((l) => ({ label: l.label, color: l.color, dashed: false, dash: l.dash, netId: l.key }))}
      csv={() => linesToCsv(lines, 'iteration', 'lr')}
      empty={lines.every((l) => l.points.length === 0)}
    >
      <div className="chart-panel" data-subtitle="" data-lines={lines.length} data-points={lines.reduce((s, l) => s + l.points.length, 0)}>
        <ResponsiveContainer width="100%" height={200}>
          <LineChart margin={{ top: 8, right: 16, bottom: 28, left: 8 }}>
            <CartesianGrid stroke="#e3e6eb" />
            <XAxis
              type="number"
              dataKey="x"
              domain={[0, iterations]}
              tick={{ fill: '#333' }}
              label={{ value: t('charts.iteration'), position: 'insideBottom', offset: -16, fill: '#333' }}
            />
            <YAxis
              type="number"
              scale="log"
              domain={['auto', 'auto']}
              width={56}
              tick={{ fill: '#333' }}
              tickFormatter={(v: number) => String(Number(v.toPrecision(2)))}
              label={{ value: 'lr', angle: -90, position: 'insideLeft', offset: 4, fill: '#333' }}
            />
            <Tooltip isAnimationActive={false} formatter={(v) => Number(v).toPrecision(3)} labelFormatter={(x) => `${t('charts.iteration')} ${x}`} />
            {lines.map((l) => (
              <RLine
                key={l.key}
                type="stepAfter"
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
      </div>
    </ChartCard>
  );
}

export const LrChart = memo(LrChartImpl);
