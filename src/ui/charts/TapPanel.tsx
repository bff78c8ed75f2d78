// One panel of a card that charts what each evaluation taps (highway gates, ‖F(x)‖/‖x‖): lines over blocks or over
// iterations, with dots while they are few.
import { CartesianGrid, Line as RLine, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { NetInfo, NetSeries } from '../../core/metrics';

export type PanelLine = { key: string; label: string; color: string; points: { x: number; y: number }[] };

export function TapPanel({
  lines,
  xLabel,
  subtitle,
  yLabel,
  yDomain,
}: {
  lines: PanelLine[];
  xLabel: string;
  subtitle: string;
  yLabel: string;
  yDomain: [number, number | 'auto'];
}) {
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
            domain={yDomain}
            width={48}
            tick={{ fill: '#333' }}
            tickFormatter={(v: number) => String(Math.round(v * 100) / 100)}
            label={{ value: yLabel, angle: -90, position: 'insideLeft', offset: 4, fill: '#333' }}
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

/**
 * Per-layer taps change only at evaluations: skip the re-render for every other metrics update.
 * `taps` counts them when the props were made: the series' columns grow in place, so comparing their
 * lengths now would compare an array with itself, and the chart would stay at its first evaluation.
 */
/** What each card of per-evaluation taps (Fig. 7, gradient norms, the gates, ‖F(x)‖/‖x‖) is drawn from. */
export interface TapCardProps {
  nets: NetInfo[];
  series: Record<string, NetSeries>;
  /** The iteration the charts are scrubbed to, or null for the latest. */
  scrub: number | null;
  /** The evaluations recorded so far (the cards redraw when this changes; see sameTaps). */
  taps: number;
  /** Test images the responses are measured on (train.ts responseImages). */
  images: number;
}

export function sameTaps<P extends { nets: unknown; scrub: number | null; taps: number }>(a: P, b: P): boolean {
  return a.nets === b.nets && a.scrub === b.scrub && a.taps === b.taps;
}
