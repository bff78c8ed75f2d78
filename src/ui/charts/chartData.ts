// Turning run series into chart points: one colour per depth, the same in every run (3:1 contrast on white),
// downsampling (LTTB from `downsample`) so drawing stays cheap on long runs, and CSV.
import { LTTB } from 'downsample';
import type { NetInfo, NetSeries } from '../../core/metrics';
import type { BlockType, NetFamily } from '../../core/nets';
import type { WarmupMode } from '../../core/schedule';
import { familyOf } from '../../core/metrics';

/**
 * Depth is one ordered colour scale, the same in every run: a depth keeps its colour from run to run
 * and from chart to chart (plain-20 is the same blue today as yesterday, beside ResNet-20). The scale
 * runs from dark purple (8 layers) through blue and teal (20–44) to green (56), brown (110) and red
 * (1,202), interpolated on log depth between those anchors, so the Classroom's 8, 20 and 56 layers get
 * three clearly different hues. Every colour has at least 3:1 contrast against the white chart
 * background (WCAG 2.1 non-text contrast), so none washes out on a projector. Plain against residual
 * is never a colour: it is the panel (curves) or the line style (summary, layer charts).
 */
const DEPTH_ANCHORS: readonly [number, string][] = [
  [8, '#440154'],
  [20, '#3b528b'],
  [32, '#2c728e'],
  [44, '#1f8a86'],
  [56, '#1a7f3c'],
  [110, '#9a6200'],
  [1202, '#b2182b'],
];

function mix(a: string, b: string, f: number): string {
  const ch = (h: string, i: number) => parseInt(h.slice(1 + 2 * i, 3 + 2 * i), 16);
  return `#${[0, 1, 2]
    .map((i) =>
      Math.round(ch(a, i) + (ch(b, i) - ch(a, i)) * f)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('')}`;
}

/** The colour of one depth: the same in every run. */
export function depthColor(depth: number): string {
  const [first] = DEPTH_ANCHORS;
  if (!(depth > first[0])) return first[1];
  for (let i = 1; i < DEPTH_ANCHORS.length; i++) {
    const [d0, c0] = DEPTH_ANCHORS[i - 1];
    const [d1, c1] = DEPTH_ANCHORS[i];
    if (depth <= d1) return mix(c0, c1, Math.log(depth / d0) / Math.log(d1 / d0));
  }
  return DEPTH_ANCHORS[DEPTH_ANCHORS.length - 1][1];
}

/** The summary's depth axis turns logarithmic once the deepest net is more than this many times the shallowest. */
const LOG_DEPTH_SPAN = 20;

/**
 * The depth summary's x axis: linear, with a little room either side; or logarithmic once depths span more than
 * LOG_DEPTH_SPAN× (8 to 1,202 layers on a linear axis would squeeze 8 … 110 into its first tenth). Ticks are the depths.
 */
export function depthAxis(depths: readonly number[]): { scale: 'linear' | 'log'; domain: [number, number] } {
  const lo = depths.length ? Math.max(1, Math.min(...depths)) : 8;
  const hi = depths.length ? Math.max(...depths) : 56;
  if (hi / lo > LOG_DEPTH_SPAN) return { scale: 'log', domain: [lo / 1.2, hi * 1.2] };
  return { scale: 'linear', domain: [Math.max(0, lo - 4), hi + 4] };
}

/**
 * Shortcut options, when one depth is compared across them (the Shortcuts preset): Okabe–Ito's blue,
 * orange and purple, the orange and purple darkened to 3:1 contrast against white.
 */
export const SHORTCUT_COLORS: Record<string, string> = { A: '#0072B2', B: '#A66F00', C: '#B3568C' };

/** Line styles (SVG dash arrays) of the families where they share a chart: plain dashed, residual solid (B, C their own), highway dotted. */
export const FAMILY_DASH = { plain: '8 5', A: undefined, B: '2 3', C: '12 3 2 3', highway: '1 3' } as const;

/** A net's line style among the families. */
export const familyDash = (n: NetInfo): string | undefined => {
  const f = familyOf(n);
  return f === 'residual' ? FAMILY_DASH[n.shortcut] : FAMILY_DASH[f];
};

/** Variants of one net compared at one depth (shortcut options, block types, warmups): Okabe–Ito, the shortcuts' colours first. */
export const VARIANT_COLORS = [SHORTCUT_COLORS.A, SHORTCUT_COLORS.B, SHORTCUT_COLORS.C, '#00805C', '#D55E00', '#2F86C0'];

/** Colour of a net's lines: by depth, or, when the run has one depth and several nets of this net's family there, by variant. */
export function netColor(net: NetInfo, nets: NetInfo[]): string {
  const depths = nets.map((n) => n.depth);
  const siblings = nets.filter((n) => familyOf(n) === familyOf(net) && n.depth === net.depth);
  if (siblings.length > 1 && new Set(depths).size === 1) return VARIANT_COLORS[siblings.indexOf(net) % VARIANT_COLORS.length];
  return depthColor(net.depth);
}

/** A net's name where its line ends: short, since it shares the panel's width ("Highway-20 (gate bias -6)" → "Highway-20 (−6)"; the legend has the full name). */
export function endLabelOf(label: string): string {
  return label.replace(/ \(gate bias (-?[\d.]+)\)/, (_, b: string) => ` (${b.replace('-', '−')})`);
}

export interface Point {
  x: number;
  y: number;
}

/** The depth summary's line colours where a run compares block types or warmup variants: dark first, then Okabe–Ito. */
export const SUMMARY_VARIANT_LINES = ['#222222', '#D55E00', '#0072B2', '#009E73', '#CC79A7'];
/** The depth summary's line colour where it does not: plain against residual is the line style. */
export const SUMMARY_LINE = '#333333';

/** One line of the depth summary: one kind of net across depths, with its points (error % by depth). */
interface SummaryGroup {
  key: string;
  family: NetFamily;
  /** The shortcut option, where the run's ResNets have several. */
  shortcut: NetInfo['shortcut'] | null;
  block: BlockType;
  warmup: WarmupMode | undefined;
  /** A highway net's gate bias, where its label names one (several highway nets per depth). */
  gateBias: string | null;
  /** Whether the run compares block types or warmup variants (then each is a colour), whether it compares warmups, and this line's colour. */
  variants: boolean;
  warmups: boolean;
  color: string;
  nets: NetInfo[];
  points: Point[];
}

/**
 * The depth summary's lines, for the page's chart and the figure for slides: plain, highway (one per gate
 * bias) and residual (one per shortcut option where there are several), each split by block type and
 * warmup variant where the run compares them; a line's points are its nets' errors (0..1 in `errorOf`) in
 * %, by depth. Lines without a point are left out.
 */
export function summaryGroups(nets: readonly NetInfo[], errorOf: Map<string, number | null>): SummaryGroup[] {
  const shortcuts = new Set(nets.filter((n) => familyOf(n) === 'residual').map((n) => n.shortcut)).size > 1;
  const variantOf = (n: NetInfo) => `${n.block ?? 'basic'}|${n.warmup ?? ''}`;
  const variants = [...new Set(nets.map(variantOf))];
  const warmups = new Set(nets.map((n) => n.warmup)).size > 1;
  const biasOf = (n: NetInfo) => (familyOf(n) === 'highway' ? (/gate bias (-?[\d.]+)/.exec(n.label)?.[1] ?? null) : null);
  const biases = [...new Set(nets.map(biasOf))];
  // plain, highway, residual; then shortcut, gate bias and variant, each in the order the run has them
  const rank = (n: NetInfo) => [
    ['plain', 'highway', 'residual'].indexOf(familyOf(n)),
    familyOf(n) === 'residual' ? n.shortcut.charCodeAt(0) : 0,
    biases.indexOf(biasOf(n)),
    variants.indexOf(variantOf(n)),
  ];
  const before = (a: NetInfo, b: NetInfo) => rank(a).reduce((d, x, i) => d || x - rank(b)[i], 0);
  const groups = new Map<string, SummaryGroup>();
  for (const n of [...nets].sort(before)) {
    const shortcut = shortcuts && familyOf(n) === 'residual' ? n.shortcut : null;
    const key = [familyOf(n), shortcut ?? '', biasOf(n) ?? '', variantOf(n)].join('|');
    let g = groups.get(key);
    if (!g) {
      const v = variants.indexOf(variantOf(n));
      g = {
        key,
        family: familyOf(n),
        shortcut,
        block: n.block ?? 'basic',
        warmup: n.warmup,
        gateBias: biasOf(n),
        variants: variants.length > 1,
        warmups,
        color: variants.length > 1 ? SUMMARY_VARIANT_LINES[v % SUMMARY_VARIANT_LINES.length] : SUMMARY_LINE,
        nets: [],
        points: [],
      };
      groups.set(key, g);
    }
    g.nets.push(n);
  }
  for (const g of groups.values()) {
    g.points = g.nets
      .map((n) => ({ x: n.depth, y: errorOf.get(n.id) ?? null }))
      .filter((p): p is Point => p.y !== null)
      .map((p) => ({ x: p.x, y: 100 * p.y }))
      .sort((a, b) => a.x - b.x);
  }
  return [...groups.values()].filter((g) => g.points.length);
}

const MAX_POINTS = 200;

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
    lines.push({
      key: `${net.id}:train${opts.suffix ?? ''}`,
      label: `${label} ${words.train}`,
      color,
      dashed: true,
      faded: opts.faded,
      kind: 'train',
      endLabel: opts.faded ? undefined : endLabelOf(net.label),
      points: downsample(
        s.train.it,
        s.train.runErr.map((e) => 100 * e),
        max,
      ),
    });
    if (s.test.it.length) {
      lines.push({
        key: `${net.id}:test${opts.suffix ?? ''}`,
        label: `${label} ${words.test}`,
        color,
        dashed: false,
        faded: opts.faded,
        kind: 'test',
        points: downsample(
          s.test.it,
          s.test.err.map((e) => 100 * e),
          max,
        ),
      });
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
