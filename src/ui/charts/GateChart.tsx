// Highway nets' gates, live: the mean gate value T of each block at the latest evaluation (or the
// scrubbed iteration), and the mean over all blocks through the run. T near 0 carries a block's
// input; T near 1 closes the shortcut (the block then acts as a plain one). Shown only for runs
// with highway nets.
import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import { CartesianGrid, Line as RLine, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { NetInfo, NetSeries } from '../../core/metrics';
import { familyOf } from '../../core/metrics';
import { ChartCard } from './ChartCard';
import { linesToCsv, netColor } from './chartData';

type PanelLine = { key: string; label: string; color: string; points: { x: number; y: number }[] };

function GatePanel({ lines, xLabel, subtitle }: { lines: PanelLine[]; xLabel: string; subtitle: string }) {
  const { t } = useTranslation();
  return (
    <div className="chart-panel" data-subtitle={subtitle} data-points={lines.reduce((s, l) => s + l.points.length, 0)}>
      <h3 className="panel-title">{subtitle}</h3>
      <ResponsiveContainer width="100%" height={220}>
        <LineChart margin={{ top: 8, right: 16, bottom: 28, left: 8 }}>
          <CartesianGrid stroke="#e3e6eb" />
          <XAxis
            type="number"
            dataKey="x"
            domain={['dataMin', 'dataMax']}
            allowDecimals={false}
            tick={{ fill: '#333' }}
            label={{ value: xLabel, position: 'insideBottom', offset: -16, fill: '#333' }}
          />
          <YAxis
            type="number"
            domain={[0, 1]}
            width={48}
            tick={{ fill: '#333' }}
            label={{ value: t('charts.gateMean'), angle: -90, position: 'insideLeft', offset: 4, fill: '#333' }}
          />
          <Tooltip isAnimationActive={false} formatter={(v) => Number(v).toFixed(3)} labelFormatter={(x) => `${xLabel} ${x}`} />
          {lines.map((l) => (
            <RLine
              key={l.key}
              data={l.points}
              dataKey="y"
              name={l.label}
              stroke={l.color}
              strokeWidth={2}
              dot={l.points.length < 40}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}

function GateChartImpl({ nets, series, scrub }: { nets: NetInfo[]; series: Record<string, NetSeries>; scrub: number | null; taps: number }) {
  const { t } = useTranslation();
  const highway = nets.filter((n) => familyOf(n) === 'highway');
  const taps = (n: NetInfo) => (series[n.id]?.taps ?? []).filter((tap) => tap.gateMeans && (scrub === null || tap.it <= scrub));
  const byBlock: PanelLine[] = highway.map((n) => {
    const tap = taps(n).at(-1);
    return {
      key: n.id,
      label: `${n.label}${tap ? ` @ ${tap.it}` : ''}`,
      color: netColor(n, nets),
      points: (tap?.gateMeans ?? []).map((y, i) => ({ x: i + 1, y })),
    };
  });
  const overTime: PanelLine[] = highway.map((n) => ({
    key: `${n.id}:time`,
    label: n.label,
    color: netColor(n, nets),
    points: taps(n).map((tap) => ({ x: tap.it, y: tap.gateMeans!.reduce((a, b) => a + b, 0) / tap.gateMeans!.length })),
  }));
  return (
    <ChartCard
      id="gates"
      title={t('charts.gates')}
      caption={t('charts.gatesCaption')}
      legend={byBlock.map((l) => ({ label: l.label, color: l.color, dashed: false }))}
      csv={() => linesToCsv([...byBlock, ...overTime.map((l) => ({ ...l, label: `${l.label} ${t('charts.gateOverRun')}` }))], 'x', 'mean T')}
      empty={byBlock.every((l) => l.points.length === 0)}
    >
      <div className="panels-2">
        <GatePanel lines={byBlock} xLabel={t('charts.block')} subtitle={t('charts.gateByBlock')} />
        <GatePanel lines={overTime} xLabel={t('charts.iteration')} subtitle={t('charts.gateOverRun')} />
      </div>
    </ChartCard>
  );
}

/** Gates change only at evaluations: `taps` counts them when the props were made (the columns grow in place). */
function sameTaps(a: Parameters<typeof GateChartImpl>[0], b: Parameters<typeof GateChartImpl>[0]): boolean {
  return a.nets === b.nets && a.scrub === b.scrub && a.taps === b.taps;
}

export const GateChart = memo(GateChartImpl, sameTaps);
