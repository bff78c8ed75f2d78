// The loss-landscape panel's geometry and words, without React (tested in landscapeView.test.ts): which nets it shows
// by default, one log colour scale for every map, the contour lines at log-spaced levels (d3-contour), and the caption.
import { contours } from 'd3-contour';
import type { TFunction } from 'i18next';
import type { NetIdentity, NetLandscape, NetPath, RunLandscape } from '../../core/landscape';
import { lossGrid, pathRise, pathShape, stepRatio } from '../../core/landscape';
import type { NetInfo } from '../../core/metrics';
import { familyOf } from '../../core/metrics';

/** Depths at which the run has both a plain and a residual net (the pairs a landscape compares), shallow first. */
export function pairDepths(nets: readonly NetInfo[]): number[] {
  const has = (d: number, f: string) => nets.some((n) => n.depth === d && familyOf(n) === f);
  return [...new Set(nets.map((n) => n.depth))].filter((d) => has(d, 'plain') && has(d, 'residual')).sort((a, b) => a - b);
}

/**
 * The pair shown by default: plain-56 and ResNet-56 where the run has them (Li et al.'s Fig. 5), else the deepest pair
 * of at most 110 layers (a 1,202-layer surface takes hours on a CPU: it can be chosen, not defaulted), else the shallowest.
 */
export function defaultDepth(nets: readonly NetInfo[]): number | null {
  const depths = pairDepths(nets);
  return depths.includes(56) ? 56 : (depths.filter((d) => d <= 110).at(-1) ?? depths[0] ?? null);
}

/** The plain and the residual net at `depth` (the first of each family, as the run lists them). */
export function pairAt(nets: readonly NetInfo[], depth: number): NetInfo[] {
  return (['plain', 'residual'] as const).flatMap((f) => nets.find((n) => n.depth === depth && familyOf(n) === f) ?? []);
}

/** How far above the lowest loss the colour scale reaches: 1,000× (beyond it, one colour: a plain net's surface can reach 10⁸). */
const RANGE = 1000;

/** One log colour scale for every map shown: from the lowest finite loss to RANGE× it, or to the highest if lower. */
export function lossDomain(nets: readonly Pick<NetLandscape, 'loss'>[]): [number, number] {
  const finite = nets.flatMap((n) => n.loss.flat()).filter((v): v is number => v !== null && Number.isFinite(v) && v > 0);
  if (!finite.length) return [1, 10];
  const lo = Math.min(...finite);
  const hi = Math.min(Math.max(...finite), lo * RANGE);
  return [lo, hi > lo ? hi : lo * 10];
}

/** Where a loss falls on the scale, 0 (the lowest) to 1 (the top, and anything above it or not finite). */
export function scaleOf([lo, hi]: [number, number]): (v: number | null) => number {
  const a = Math.log(lo);
  const b = Math.log(hi);
  return (v) => (v === null || !Number.isFinite(v) || v <= 0 ? 1 : Math.min(1, Math.max(0, (Math.log(v) - a) / (b - a))));
}

/** Log-spaced contour levels across the scale: `count` of them, strictly inside it. */
export function logLevels([lo, hi]: [number, number], count = 8): number[] {
  return Array.from({ length: count }, (_, i) => lo * (hi / lo) ** ((i + 1) / (count + 1)));
}

/**
 * The contour lines of a complete n×n surface at the given loss levels, as SVG paths in a `size`-pixel square (row 0 at
 * the bottom: y grows upward, as the direction does). Computed on log loss; a loss that is not finite counts as above
 * every level.
 */
export function contourPaths(net: Pick<NetLandscape, 'loss'>, levels: readonly number[], size: number): { level: number; d: string }[] {
  const n = net.loss.length;
  if (n < 2 || net.loss.some((r) => r.length !== n)) return [];
  const top = Math.log(Math.max(...levels)) + 1;
  // d3-contour reads a row-major grid whose first row is at y = 0: rows are flipped so that y grows upward on screen
  const values = lossGrid(net)
    .slice()
    .reverse()
    .flat()
    .map((v) => (Number.isFinite(v) && v > 0 ? Math.log(v) : top));
  const k = size / n;
  return contours()
    .size([n, n])
    .thresholds(levels.map(Math.log))(values)
    .filter((c) => c.coordinates.length)
    .map((c) => ({
      level: Math.exp(c.value),
      d: c.coordinates.flatMap((poly) => poly.map((ring) => `M${ring.map(([x, y]) => `${(x * k).toFixed(1)},${(y * k).toFixed(1)}`).join('L')}Z`)).join(''),
    }));
}

/** The centre row of a surface (y = 0): the 1-D slice along the first direction. */
export function centreRow(net: Pick<NetLandscape, 'loss'>): (number | null)[] {
  return net.loss[Math.floor(net.loss.length / 2)] ?? [];
}

/** Whether every row of the surface is in. */
export const complete = (l: RunLandscape, net: NetLandscape) => net.loss.length === l.grid;

/**
 * The caption, from the data: each net's step ratio (how many times the loss changes from one grid point to the next,
 * the median), which surface is the smoother where a plain and a residual net are both complete, and, in classroom
 * mode, how to read the maps.
 */
export function landscapeCaption(t: TFunction, l: RunLandscape, nets: readonly NetInfo[], classroom: boolean): string {
  const parts: string[] = [];
  if (classroom) parts.push(t('landscape.howToRead'));
  parts.push(t('landscape.about', { grid: l.grid, span: l.span, sample: l.sample, iteration: l.iteration.toLocaleString('en') }));
  const done = l.nets.filter((n) => complete(l, n)).map((n) => ({ ...n, ratio: stepRatio(lossGrid(n)), info: nets.find((i) => i.id === n.id) }));
  if (done.length) parts.push(t('landscape.ratios', { list: done.map((n) => `${n.label} ×${n.ratio.toFixed(2)}`).join(t('captions.join')) }));
  const plain = done.find((n) => n.info && familyOf(n.info) === 'plain');
  const res = done.find((n) => n.info && familyOf(n.info) === 'residual');
  if (plain && res)
    parts.push(t(res.ratio < plain.ratio ? 'landscape.residualSmoother' : 'landscape.residualNotSmoother', { plain: plain.label, res: res.label }));
  return parts.join(' ');
}

/** The path chart's caption: what it shows, and for which nets the loss falls all the way (Goodfellow et al.'s finding), barely moves, or rises on the way. */
export function pathCaption(t: TFunction, paths: readonly NetPath[]): string {
  const parts = [t('landscape.pathAbout')];
  const of = (shape: string) => paths.filter((p) => pathShape(p) === shape);
  if (of('falls').length)
    parts.push(
      t('landscape.pathFalls', {
        list: of('falls')
          .map((p) => p.label)
          .join(', '),
      }),
    );
  if (of('flat').length)
    parts.push(
      t('landscape.pathFlat', {
        list: of('flat')
          .map((p) => p.label)
          .join(', '),
      }),
    );
  if (of('rises').length)
    parts.push(
      t('landscape.pathRises', {
        list: of('rises')
          .map((p) => `${p.label} ×${pathRise(p).toFixed(2)}`)
          .join(', '),
      }),
    );
  return parts.join(' ');
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The ‖F(x)‖/‖x‖ chart's caption, from the data: each net's median over its blocks and how many blocks keep their
 * residual smaller than their input; which nets bear out the paper's claim that residual functions are small (median
 * below 1) and which do not; and, with nets of several depths, whether the median falls as depth grows (Fig. 7: "the
 * deeper ResNet has smaller magnitudes of responses").
 */
export function identityCaption(t: TFunction, nets: readonly NetIdentity[], infos: readonly NetInfo[], about?: string): string {
  const shown = nets.filter((n) => n.ratios.length).map((n) => ({ ...n, median: median(n.ratios), depth: infos.find((i) => i.id === n.id)?.depth ?? 0 }));
  const parts = [about ?? t('landscape.identityAbout', { images: shown[0]?.images ?? 0 })];
  for (const n of shown)
    parts.push(t('landscape.identityNet', { net: n.label, median: n.median.toFixed(2), small: n.ratios.filter((r) => r < 1).length, blocks: n.ratios.length }));
  const small = shown.filter((n) => n.median < 1).map((n) => n.label);
  const large = shown.filter((n) => n.median >= 1).map((n) => n.label);
  if (small.length) parts.push(t('landscape.identitySmall', { list: small.join(', ') }));
  if (large.length) parts.push(t('landscape.identityNotSmall', { list: large.join(', ') }));
  const byDepth = [...shown].sort((a, b) => a.depth - b.depth);
  if (new Set(byDepth.map((n) => n.depth)).size >= 2) {
    const falls = byDepth.every((n, i) => i === 0 || n.depth === byDepth[i - 1].depth || n.median < byDepth[i - 1].median);
    parts.push(t(falls ? 'landscape.identityDeeper' : 'landscape.identityNotDeeper'));
  }
  return parts.join(' ');
}
