// Turning run series into chart points: colours per depth (Okabe–Ito, colour-blind-safe),
// downsampling (LTTB from `downsample`) so drawing stays cheap on long runs, and CSV.
import { LTTB } from 'downsample';
import type { NetInfo, NetSeries } from '../../core/metrics';

/** Okabe & Ito's colour-blind-safe palette, one colour per depth. */
export const DEPTH_COLORS: Record<number, string> = {
  8: '#56B4E9',
  14: '#009E73',
  20: '#0072B2',
  32: '#E69F00',
  44: '#CC79A7',
  56: '#D55E00',
  110: '#000000',
};
const EXTRA = ['#332288', '#117733', '#882255', '#44AA99', '#999933', '#AA4499'];
export const SHORTCUT_COLORS: Record<string, string> = { A: '#0072B2', B: '#E69F00', C: '#009E73' };

export function depthColor(depth: number): string {
  return DEPTH_COLORS[depth] ?? EXTRA[Math.floor(depth / 6) % EXTRA.length];
}

/** Colour of a net's lines: by depth, or by shortcut when one depth has several shortcut options. */
export function netColor(net: NetInfo, nets: NetInfo[]): string {
  const sameDepthResiduals = nets.filter((n) => n.residual && n.depth === net.depth);
  if (net.residual && sameDepthResiduals.length > 1 && new Set(nets.map((n) => n.depth)).size === 1) return SHORTCUT_COLORS[net.shortcut];
  return depthColor(net.depth);
}

export interface Point {
  x: number;
  y: number;
}

export const MAX_POINTS = 200;

/** At most `max` points, keeping the shape (largest-triangle-three-buckets). */
export function downsample(xs: number[], ys: number[], max = MAX_POINTS): Point[] {
  const n = Math.min(xs.length, ys.length);
  const pts: [number, number][] = new Array(n);
  for (let i = 0; i < n; i++) pts[i] = [xs[i], ys[i]];
  const kept = n > max ? (LTTB(pts, max) as [number, number][]) : pts;
  return kept.map(([x, y]) => ({ x, y }));
}

export interface Line {
  key: string;
  label: string;
  color: string;
  dashed: boolean;
  points: Point[];
  faded?: boolean;
}

/** Training (dashed, running mean) and test (solid) error lines, in %, for the nets given. */
export function errorLines(
  nets: NetInfo[],
  all: NetInfo[],
  series: Record<string, NetSeries>,
  opts: { faded?: boolean; suffix?: string; max?: number; words?: { train: string; test: string } } = {},
): Line[] {
  const words = opts.words ?? { train: 'train', test: 'test' };
  const max = opts.max ?? MAX_POINTS;
  const lines: Line[] = [];
  for (const net of nets) {
    const s = series[net.id];
    if (!s) continue;
    const color = netColor(net, all);
    const label = `${net.label}${opts.suffix ?? ''}`;
    lines.push({ key: `${net.id}:train${opts.suffix ?? ''}`, label: `${label} ${words.train}`, color, dashed: true, faded: opts.faded, points: downsample(s.train.it, s.train.runErr.map((e) => 100 * e), max) });
    if (s.test.it.length) {
      lines.push({ key: `${net.id}:test${opts.suffix ?? ''}`, label: `${label} ${words.test}`, color, dashed: false, faded: opts.faded, points: downsample(s.test.it, s.test.err.map((e) => 100 * e), max) });
    }
  }
  return lines;
}

/** CSV with one column pair per line: its x values and y values (lines differ in length). */
export function linesToCsv(lines: { label: string; points: Point[] }[], xName: string, yName: string): string {
  const header = lines.flatMap((l) => [`${l.label} ${xName}`, `${l.label} ${yName}`]);
  const rows = Math.max(0, ...lines.map((l) => l.points.length));
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const out = [header.map(quote).join(',')];
  for (let r = 0; r < rows; r++) out.push(lines.flatMap((l) => (l.points[r] ? [String(l.points[r].x), String(l.points[r].y)] : ['', ''])).join(','));
  return `${out.join('\n')}\n`;
}
