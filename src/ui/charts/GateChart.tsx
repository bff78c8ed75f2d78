// Highway nets' gates, live: the mean gate value T of each block at the latest evaluation (or the
// scrubbed iteration), and the mean over all blocks through the run. T near 0 carries a block's
// input; T near 1 closes the shortcut (the block then acts as a plain one). Shown only for runs
// with highway nets.
import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import type { NetInfo } from '../../core/metrics';
import { familyOf } from '../../core/metrics';
import { ChartCard } from './ChartCard';
import { linesToCsv, netColor } from './chartData';
import type { PanelLine, TapCardProps } from './TapPanel';
import { TapPanel, sameTaps } from './TapPanel';

function GateChartImpl({ nets, series, scrub, images }: TapCardProps) {
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
      caption={t('charts.gatesCaption', { images })}
      legend={byBlock.map((l) => ({ label: l.label, color: l.color, dashed: false }))}
      csv={() => linesToCsv([...byBlock, ...overTime.map((l) => ({ ...l, label: `${l.label} ${t('charts.gateOverRun')}` }))], 'x', 'mean T')}
      empty={byBlock.every((l) => l.points.length === 0)}
    >
      <div className="panels-2">
        <TapPanel lines={byBlock} xLabel={t('charts.block')} subtitle={t('charts.gateByBlock')} yLabel={t('charts.gateMean')} yDomain={[0, 1]} />
        <TapPanel lines={overTime} xLabel={t('charts.iteration')} subtitle={t('charts.gateOverRun')} yLabel={t('charts.gateMean')} yDomain={[0, 1]} />
      </div>
    </ChartCard>
  );
}

export const GateChart = memo(GateChartImpl, sameTaps);
