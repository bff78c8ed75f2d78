// Turning run series into chart points: colours per depth (Okabe–Ito, colour-blind-safe),
// downsampling (LTTB from `downsample`) so drawing stays cheap on long runs, and CSV.
import { LTTB } from 'downsample';
import type { NetInfo, NetSeries } from '../../core/metrics';
import { familyOf } from '../../core/metrics';

/**
 * Depth is one ordered colour scale everywhere: viridis (perceptually ordered and colour-blind-safe),
 * from dark purple for the shallowest net of a run to green for the deepest, stopping short of its
 * yellow, which a projector washes out. A run's depths are spread over the whole scale, so 8, 20 and
 * 56 layers get three clearly different colours. Plain against residual is never a colour: it is
 * the panel (curves) or the line style (summary, layer charts).
 */
const VIRIDIS = ['#440154', '#46327e', '#365c8d', '#277f8e', '#1fa187', '#4ac16d', '#a0da39'];

function mix(a: string, b: string, f: number): string {
  const ch = (h: string, i: number) => parseInt(h.slice(1 + 2 * i, 3 + 2 * i), 16);
  return `#${[0, 1, 2].map((i) => Math.round(ch(a, i) + (ch(b, i) - ch(a, i)) * f).toString(16).padStart(2, '0')).join('')}`;
}

/** The colour of one depth among a run's depths (ordered: shallow dark, deep light). */
export function depthColor(depth: number, depths: readonly number[] = [depth]): string {
  const sorted = [...new Set(depths)].sort((a, b) => a - b);
  const rank = sorted.indexOf(depth);
  const t = sorted.length <= 1 || rank < 0 ? 0.4 : rank / (sorted.length - 1);
  const pos = t * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(pos));
  return mix(VIRIDIS[i], VIRIDIS[i + 1], pos - i);
}

/** Shortcut options, when one depth is compared across them (the Shortcuts preset): Okabe–Ito. */
export const SHORTCUT_COLORS: Record<string, string> = { A: '#0072B2', B: '#E69F00', C: '#CC79A7' };

/** Line styles (SVG dash arrays) of the families where they share a chart: plain dashed, residual solid (B, C their own), highway dotted. */
export const FAMILY_DASH = { plain: '8 5', A: undefined, B: '2 3', C: '12 3 2 3', highway: '1 3' } as const;

/** A net's line style among the families. */
export const familyDash = (n: NetInfo): string | undefined => {
  const f = familyOf(n);
  return f === 'residual' ? FAMILY_DASH[n.shortcut] : FAMILY_DASH[f];
};

/** Variants of one net compared at one depth (shortcut options, block types, warmups): Okabe–Ito, the shortcuts' colours first. */
const VARIANT_COLORS = [SHORTCUT_COLORS.A, SHORTCUT_COLORS.B, SHORTCUT_COLORS.C, '#009E73', '#D55E00', '#56B4E9'];

/** Colour of a net's lines: by depth, or, when the run has one depth and several nets of this net's family there, by variant. */
export function netColor(net: NetInfo, nets: NetInfo[]): string {
  const depths = nets.map((n) => n.depth);
  const siblings = nets.filter((n) => familyOf(n) === familyOf(net) && n.depth === net.depth);
  if (siblings.length > 1 && new Set(depths).size === 1) return VARIANT_COLORS[siblings.indexOf(net) % VARIANT_COLORS.length];
  return depthColor(net.depth, depths);
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
  /** The net's name, drawn at the line's end (training lines only). */
  endLabel?: string;
  /** Which curve: training (dashed, running mean) or test (solid). */
  kind?: 'train' | 'test';
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
    lines.push({ key: `${net.id}:train${opts.suffix ?? ''}`, label: `${label} ${words.train}`, color, dashed: true, faded: opts.faded, kind: 'train', endLabel: opts.faded ? undefined : net.label, points: downsample(s.train.it, s.train.runErr.map((e) => 100 * e), max) });
    if (s.test.it.length) {
      lines.push({ key: `${net.id}:test${opts.suffix ?? ''}`, label: `${label} ${words.test}`, color, dashed: false, faded: opts.faded, kind: 'test', points: downsample(s.test.it, s.test.err.map((e) => 100 * e), max) });
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
