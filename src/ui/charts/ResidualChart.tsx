// How close each block stays to the identity, live (issue #27): ‖F(x)‖/‖x‖ of each block with a shortcut at the
// latest evaluation (or the scrubbed iteration), and its median over the blocks through the run. F is what the
// block's branch adds, x its input; 0 would be the identity. The paper argues residual functions are small (§3.1,
// Fig. 7); the caption says what these numbers show, from the numbers.
import { memo } from 'react';
import { useTranslation } from 'react-i18next';
import type { NetInfo } from '../../core/metrics';
import { median } from '../../core/fig7';
import { ChartCard } from './ChartCard';
import { linesToCsv, netColor } from './chartData';
import { identityCaption } from './landscapeView';
import type { PanelLine, TapCardProps } from './TapPanel';
import { TapPanel, sameTaps } from './TapPanel';

function ResidualChartImpl({ nets, series, scrub, images }: TapCardProps) {
  const { t } = useTranslation();
  const taps = (n: NetInfo) => (series[n.id]?.taps ?? []).filter((tap) => tap.residualRatios?.length && (scrub === null || tap.it <= scrub));
  const shown = nets.filter((n) => taps(n).length);
  const latest = shown.map((n) => ({ net: n, tap: taps(n).at(-1)! }));
  const byBlock: PanelLine[] = latest.map(({ net, tap }) => ({
    key: net.id,
    label: `${net.label} @ ${tap.it}`,
    color: netColor(net, nets),
    points: tap.residualRatios!.map((y, i) => ({ x: i + 1, y })),
  }));
  const overTime: PanelLine[] = shown.map((n) => ({
    key: `${n.id}:time`,
    label: n.label,
    color: netColor(n, nets),
    points: taps(n).map((tap) => ({ x: tap.it, y: median(tap.residualRatios!) })),
  }));
  const it = Math.max(0, ...latest.map((l) => l.tap.it));
  const caption = identityCaption(
    t,
    latest.map(({ net, tap }) => ({ id: net.id, label: net.label, images, ratios: tap.residualRatios! })),
    nets,
    t('charts.residualAbout', { images, it }),
  );
  return (
    <ChartCard
      id="residuals"
      title={t('landscape.identityTitle')}
      caption={caption}
      legend={overTime.map((l) => ({ label: l.label, color: l.color, dashed: false }))}
      csv={() => linesToCsv([...byBlock, ...overTime.map((l) => ({ ...l, label: `${l.label} ${t('charts.residualOverRun')}` }))], 'x', '‖F(x)‖/‖x‖')}
      empty={byBlock.length === 0}
    >
      <div className="panels-2" data-testid="residual-chart" data-nets={shown.length}>
        <TapPanel lines={byBlock} xLabel={t('charts.block')} subtitle={t('charts.gateByBlock')} yLabel="‖F(x)‖/‖x‖" yDomain={[0, 'auto']} />
        <TapPanel lines={overTime} xLabel={t('charts.iteration')} subtitle={t('charts.residualOverRun')} yLabel="‖F(x)‖/‖x‖" yDomain={[0, 'auto']} />
      </div>
    </ChartCard>
  );
}

export const ResidualChart = memo(ResidualChartImpl, sameTaps);
