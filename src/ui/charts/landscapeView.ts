// The loss-landscape panel's geometry and words, without React (tested in landscapeView.test.ts): which nets it shows
// by default, one log colour scale for every map, the contour lines at log-spaced levels (d3-contour), and the caption.
import { contours } from 'd3-contour';
import { interpolateViridis } from 'd3-scale-chromatic';
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

/**
 * The centre row of a surface of `grid` rows (y = 0): the 1-D slice along the first direction. Empty until that row is
 * in: while the rows stream in, the middle of those so far is another y.
 */
export function centreRow(net: Pick<NetLandscape, 'loss'>, grid: number): (number | null)[] {
  return net.loss[Math.floor(grid / 2)] ?? [];
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
  // each shape's sentence lists its nets; a rise says by how much
  const sentences = [
    ['falls', 'landscape.pathFalls', (p: NetPath) => p.label],
    ['flat', 'landscape.pathFlat', (p: NetPath) => p.label],
    ['rises', 'landscape.pathRises', (p: NetPath) => `${p.label} ×${pathRise(p).toFixed(2)}`],
  ] as const;
  for (const [shape, key, name] of sentences) {
    const nets = paths.filter((p) => pathShape(p) === shape);
    if (nets.length) parts.push(t(key, { list: nets.map(name).join(', ') }));
  }
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

/** How the 3-D view looks at the surfaces: turned `azimuth` degrees about the vertical, seen from `elevation` degrees above. */
export interface SurfaceCamera {
  azimuth: number;
  elevation: number;
}

/** One quad of a surface as drawn: its corners on screen, its colour (viridis at its mean height), and how near it is. */
interface SurfaceQuad {
  points: [number, number][];
  fill: string;
  near: number;
}

/** The surface's height above its floor: the log colour scale's 0 to 1, times this (the floor is 2 × 2). */
const HEIGHT = 1.1;

/**
 * A surface in 3-D, as SVG polygons in a w × h box (issue #27): the grid's two directions across the floor (−1 to 1),
 * the loss on the shared log scale as the height, seen orthographically by `camera`; every quad coloured as the maps
 * are, and sorted far to near so that the nearer ones are drawn over (the painter's algorithm). The scale is that of the
 * surfaces' bounding box, whatever the data, so two surfaces drawn with one camera compare, and turning never rescales.
 * Also where the trained weights (the centre) are.
 */
export function surfaceQuads(
  net: Pick<NetLandscape, 'loss'>,
  domain: [number, number],
  camera: SurfaceCamera,
  box: { w: number; h: number },
): { quads: SurfaceQuad[]; centre: [number, number]; floor: [number, number][] } {
  const n = net.loss.length;
  const colour = scaleOf(domain);
  const [a, e] = [(camera.azimuth * Math.PI) / 180, (camera.elevation * Math.PI) / 180];
  // turn about the vertical, then look from `e` above the floor: x across the screen, y up it, and nearness
  const view = (u: number, v: number, z: number) => {
    const x = u * Math.cos(a) - v * Math.sin(a);
    const y = u * Math.sin(a) + v * Math.cos(a);
    return { x, y: y * Math.sin(e) + z * Math.cos(e), near: -y * Math.cos(e) + z * Math.sin(e) };
  };
  const corners = [-1, 1].flatMap((u) => [-1, 1].flatMap((v) => [0, HEIGHT].map((z) => view(u, v, z))));
  const [x0, x1] = [Math.min(...corners.map((p) => p.x)), Math.max(...corners.map((p) => p.x))];
  const [y0, y1] = [Math.min(...corners.map((p) => p.y)), Math.max(...corners.map((p) => p.y))];
  const k = Math.min(box.w / (x1 - x0), box.h / (y1 - y0));
  const screen = (p: { x: number; y: number }): [number, number] => [
    Number((box.w / 2 + k * (p.x - (x0 + x1) / 2)).toFixed(1)),
    Number((box.h / 2 - k * (p.y - (y0 + y1) / 2)).toFixed(1)),
  ];
  const at = (i: number) => (n > 1 ? (2 * i) / (n - 1) - 1 : 0);
  const height = (r: number, c: number) => HEIGHT * colour(net.loss[r]?.[c] ?? null);
  const quads: SurfaceQuad[] = [];
  for (let r = 0; r + 1 < n; r++) {
    for (let c = 0; c + 1 < n; c++) {
      // row r is direction 2 (v), column c direction 1 (u), as on the maps
      const cell = [
        [r, c],
        [r, c + 1],
        [r + 1, c + 1],
        [r + 1, c],
      ].map(([i, j]) => ({ p: view(at(j), at(i), height(i, j)), h: height(i, j) }));
      const mean = cell.reduce((s, q) => s + q.h, 0) / 4;
      quads.push({ points: cell.map((q) => screen(q.p)), fill: interpolateViridis(mean / HEIGHT), near: cell.reduce((s, q) => s + q.p.near, 0) / 4 });
    }
  }
  quads.sort((p, q) => p.near - q.near);
  const mid = (n - 1) / 2;
  const centreHeight = Number.isInteger(mid) ? height(mid, mid) : 0;
  return {
    quads,
    centre: screen(view(0, 0, centreHeight)),
    floor: [
      [-1, -1],
      [1, -1],
      [1, 1],
      [-1, 1],
    ].map(([u, v]) => screen(view(u, v, 0))),
  };
}
