// Loss landscapes (issue #27, the core): the loss of a trained net around its weights, along two random directions
// (Li, Xu, Taylor, Studer and Goldstein, "Visualizing the Loss Landscape of Neural Nets", NeurIPS 2018), and along
// the straight line from its initial weights to its trained ones (Goodfellow, Vinyals and Saxe, ICLR 2015).
//
// Directions are filter-normalised, as Li et al.'s: a random Gaussian direction, each filter of it (one output channel
// of a conv, one output unit of the FC layer) scaled to the norm of the same filter in the weights, so a step of 1
// moves every filter by its own size, whatever BN's scale invariance lets its norm be. BN's γ and β and the biases are
// left unperturbed (Li et al.'s "biasbn"). Each parameter's direction draws from its own substream named by the seed,
// the axis and the parameter's name, so a plain and a residual net of one depth are perturbed along the same
// directions, and every engine sees the same numbers.
//
// The loss is the engine's own evaluation (BN with the running statistics, as the trained net is used): with the
// batch's statistics, BN would renormalise every perturbed layer and hide the perturbation's effect on its scale.
import type { NetSpec, Tensors } from './nets';
import { Rng } from './rng';
import type { EngineNet, ImageBatch, NetState } from './train';
import { initialState } from './train';

/** The parameters a direction moves: conv (and gate) weights and the FC weight; BN's γ, β and the biases stay. */
const PERTURBED = new Set(['conv', 'fc-weight']);

/**
 * A filter-normalised random direction for `params` (a net's weights): N(0, 1) per element, then each filter (the
 * last axis: output channel or output unit) scaled to the norm of that filter in `params`. Zero for BN and biases.
 */
export function filterNormalisedDirection(spec: NetSpec, params: Tensors, seed: number, axis: 'x' | 'y'): Tensors {
  const out: Tensors = {};
  for (const p of spec.params) {
    const w = params[p.name];
    const d = new Float32Array(w.length);
    out[p.name] = d;
    if (!PERTURBED.has(p.kind)) continue;
    const rng = new Rng(seed, `landscape:${axis}:${p.name}`);
    for (let i = 0; i < d.length; i++) d[i] = rng.normal();
    const filters = p.shape[p.shape.length - 1];
    const wNorm = new Float64Array(filters);
    const dNorm = new Float64Array(filters);
    for (let i = 0; i < d.length; i++) {
      wNorm[i % filters] += w[i] * w[i];
      dNorm[i % filters] += d[i] * d[i];
    }
    for (let i = 0; i < d.length; i++) {
      const f = i % filters;
      d[i] *= Math.sqrt(wNorm[f]) / (Math.sqrt(dNorm[f]) + 1e-10);
    }
  }
  return out;
}

/** The net's loss (NaN where not finite) and error on the sample, BN in eval mode, without Fig. 7's passes. */
async function lossAt(net: EngineNet, sample: ImageBatch): Promise<{ loss: number; err: number }> {
  const e = await net.evaluate(sample, { responses: false });
  return { loss: Number.isFinite(e.loss) ? e.loss : Number.NaN, err: e.errors / Math.max(1, e.count) };
}

/** θ + Σ cᵢ·dᵢ, parameter by parameter (BN statistics and momentum kept from `base`). */
export function moved(base: NetState, steps: readonly { by: number; along: Tensors }[]): NetState {
  const params: Tensors = {};
  for (const [name, w] of Object.entries(base.params)) {
    const p = Float32Array.from(w);
    for (const { by, along } of steps) {
      const d = along[name];
      if (by !== 0) for (let i = 0; i < p.length; i++) p[i] += by * d[i];
    }
    params[name] = p;
  }
  return { params, momentum: base.momentum, bnStats: base.bnStats };
}

/** `count` evenly spaced values from -span to span (21 and 1: -1, -0.9, …, 1). */
export function gridAxis(count: number, span: number): number[] {
  return Array.from({ length: count }, (_, i) => (count === 1 ? 0 : -span + (2 * span * i) / (count - 1)));
}

interface Surface {
  /** The grid's coordinates along each direction. */
  xs: number[];
  ys: number[];
  /** loss[row][col]: row along y, column along x (NaN where the loss is not finite). */
  loss: number[][];
  /** Test-style error on the same images, 0..1. */
  err: number[][];
}

/**
 * The loss of `net` on `sample` at θ + x·d₁ + y·d₂ for every point of the grid, row by row (`onRow` after each, for a
 * progress bar and streaming; `between` is awaited before each point, so a worker can yield to its messages, then
 * `cancelled` is checked). Leaves the net at `base` when done or cancelled.
 */
export async function lossSurface(
  net: EngineNet,
  base: NetState,
  dirs: [Tensors, Tensors],
  sample: ImageBatch,
  xs: readonly number[],
  ys: readonly number[],
  hooks: { onRow?: (row: number, loss: number[], err: number[]) => void; between?: () => Promise<void>; cancelled?: () => boolean } = {},
): Promise<Surface | null> {
  const surface: Surface = { xs: [...xs], ys: [...ys], loss: [], err: [] };
  try {
    for (let r = 0; r < ys.length; r++) {
      const loss: number[] = [];
      const err: number[] = [];
      for (const x of xs) {
        await hooks.between?.();
        if (hooks.cancelled?.()) return null;
        net.setState(
          moved(base, [
            { by: x, along: dirs[0] },
            { by: ys[r], along: dirs[1] },
          ]),
        );
        const e = await lossAt(net, sample);
        loss.push(e.loss);
        err.push(e.err);
      }
      surface.loss.push(loss);
      surface.err.push(err);
      hooks.onRow?.(r, loss, err);
    }
    return surface;
  } finally {
    net.setState(base);
  }
}

/**
 * The loss along θ(t) = (1 − t)·θ₀ + t·θ₁ (Goodfellow et al.): BN statistics interpolated the same way within [0, 1], so
 * t = 0 is the net at initialisation and t = 1 the trained net, exactly, and held at the nearer end beyond it (a running
 * variance extrapolated past an end can go below zero, which means nothing). Leaves the net at θ₁.
 */
export async function interpolationPath(
  net: EngineNet,
  start: NetState,
  end: NetState,
  sample: ImageBatch,
  ts: readonly number[],
): Promise<{ t: number; loss: number; err: number }[]> {
  const lerp = (a: Tensors, b: Tensors, t: number): Tensors =>
    Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Float32Array.from(v, (x, i) => (1 - t) * a[k][i] + t * x)]));
  const out: { t: number; loss: number; err: number }[] = [];
  try {
    for (const t of ts) {
      net.setState(
        t === 1
          ? end
          : t === 0
            ? start
            : { params: lerp(start.params, end.params, t), momentum: end.momentum, bnStats: lerp(start.bnStats, end.bnStats, Math.min(1, Math.max(0, t))) },
      );
      out.push({ t, ...(await lossAt(net, sample)) });
    }
    return out;
  } finally {
    net.setState(end);
  }
}

/**
 * How rough a surface is: the median, over every pair of neighbouring grid points (along x and along y), of the factor
 * by which the loss changes from one to the other (≥ 1; 1 on a flat surface). A smooth surface changes by a modest
 * factor from point to point; a chaotic one, or one of plateaus and cliffs, by large factors. Ratios, not differences,
 * so a net's loss scale does not matter, and the median, so a few cliffs at the grid's corners do not decide it. A pair
 * with a loss that is not finite (or not positive) counts as an infinite step. Chosen on the Classroom's seed 1
 * (docs/landscape.md: the share of non-convex points, tried first, was 0 for both nets).
 */
export function stepRatio(loss: readonly (readonly number[])[]): number {
  const log = (v: number) => (Number.isFinite(v) && v > 0 ? Math.log(v) : Number.NaN);
  const steps: number[] = [];
  const step = (a: number, b: number) => {
    const d = Math.abs(log(a) - log(b));
    steps.push(Number.isNaN(d) ? Infinity : d);
  };
  for (let r = 0; r < loss.length; r++)
    for (let c = 0; c < loss[r].length; c++) {
      if (c + 1 < loss[r].length) step(loss[r][c], loss[r][c + 1]);
      if (r + 1 < loss.length) step(loss[r][c], loss[r + 1][c]);
    }
  if (!steps.length) return 1;
  steps.sort((a, b) => a - b);
  const m = steps.length >> 1;
  return Math.exp(steps.length % 2 ? steps[m] : (steps[m - 1] + steps[m]) / 2);
}

/** One net's surface as a run keeps it: JSON-safe (a loss that is not finite is null). */
export interface NetLandscape {
  id: string;
  label: string;
  /** loss[row][col]: row along y, column along x; null where the loss overflowed. */
  loss: (number | null)[][];
  /** Error on the same images, 0..1. */
  err: number[][];
  /** Seconds it took. */
  seconds: number;
}

/** The landscapes of a run's nets: the grid, the sample and the weights they were computed at. */
export interface RunLandscape {
  /** The training iteration of the weights. */
  iteration: number;
  /** The directions' seed (the run's seed). */
  seed: number;
  /** Points per axis, and the span: the grid runs from -span to span along each direction. */
  grid: number;
  span: number;
  /** Training images the loss is measured on (the run's first ones). */
  sample: number;
  nets: NetLandscape[];
  /** The loss along θ(t) from initialisation (t = 0) to the trained weights (t = 1), for every net of the run. */
  paths?: NetPath[];
  /** How close each block stays to the identity: ‖F(x)‖/‖x‖ per block on the run's first test images, for every net with shortcuts. */
  identity?: NetIdentity[];
}

/** One net's ‖F(x)‖/‖x‖ per block (src/core/tfjs/engine.ts residualRatios), on `images` test images. */
export interface NetIdentity {
  id: string;
  label: string;
  images: number;
  ratios: number[];
}

/** One net's loss and error along θ(t) = (1 − t)·θ₀ + t·θ₁ (Goodfellow et al. 2015); loss null where not finite. */
export interface NetPath {
  id: string;
  label: string;
  t: number[];
  loss: (number | null)[];
  err: number[];
}

/** Where the path is measured: t from −0.25 to 1.25 in steps of 0.125 (so 0 and 1 exactly, and a little beyond each end). */
export const PATH_TS = Array.from({ length: 13 }, (_, i) => -0.25 + i * 0.125);

/** The surface's losses as numbers again (null → NaN), for stepRatio and the contours. */
export const lossGrid = (n: Pick<NetLandscape, 'loss'>): number[][] => n.loss.map((row) => row.map((v) => v ?? Number.NaN));

/** Which of two surfaces is the smoother by stepRatio, and each one's ratio. */
export function smoother(
  plain: Pick<NetLandscape, 'loss'>,
  residual: Pick<NetLandscape, 'loss'>,
): { plain: number; residual: number; residualSmoother: boolean } {
  const p = stepRatio(lossGrid(plain));
  const r = stepRatio(lossGrid(residual));
  return { plain: p, residual: r, residualSmoother: r < p };
}

/** What a landscape job asks for: the nets (ids or labels) and the grid; the page's and the runner's defaults are Li et al.'s. */
export interface LandscapeAsk {
  nets: string[];
  grid: number;
  span: number;
  sample: number;
  /** Also the path from initialisation of every net of the run (PATH_TS). */
  path?: boolean;
}

export const LANDSCAPE_DEFAULTS: Omit<LandscapeAsk, 'nets'> = { grid: 21, span: 1, sample: 512 };

/** Why a landscape cannot be computed as asked (a clear sentence), or null. */
export function landscapeProblem(ask: LandscapeAsk, trainCount: number): string | null {
  if (ask.nets.length < 1 || ask.nets.length > 4) return `a loss landscape is computed for 1 to 4 nets at a time, not ${ask.nets.length}`;
  if (!Number.isInteger(ask.grid) || ask.grid < 3 || ask.grid > 51) return `the grid has 3 to 51 points a side, not ${ask.grid}`;
  if (!(ask.span > 0 && ask.span <= 5)) return `the span is above 0 and at most 5 (a step of 1 moves each filter by its own norm), not ${ask.span}`;
  if (!Number.isInteger(ask.sample) || ask.sample < 1 || ask.sample > trainCount)
    return `the sample is 1 to ${trainCount} training images (the run's), not ${ask.sample}`;
  return null;
}

/** The nets a landscape is computed on, as an experiment holds them. */
interface NetsHolder {
  iteration: number;
  config: { seed: number };
  infos(): { id: string; label: string }[];
  net(id: string): EngineNet | undefined;
  imageSample(n: number): ImageBatch;
}

/**
 * The landscapes of the asked nets of an experiment, one net after the other, on the engine that trained them, with
 * the run's seed's directions; `hooks` as lossSurface's, each row also told which net it is (its index in `ask.nets`).
 * Null when cancelled. Throws, naming the nets there are, when a net is not in the experiment.
 */
export async function landscapeOf(
  exp: NetsHolder,
  seed: number,
  ask: LandscapeAsk,
  hooks: {
    onRow?: (index: number, row: number, loss: number[], err: number[]) => void;
    onPath?: (path: NetPath) => void;
    between?: () => Promise<void>;
    cancelled?: () => boolean;
  } = {},
): Promise<RunLandscape | null> {
  const infos = ask.nets.map((want) => {
    const info = exp.infos().find((n) => n.id === want || n.label.toLowerCase() === want.toLowerCase());
    const net = info && exp.net(info.id);
    if (!info || !net)
      throw new Error(
        `no net ${want} in this run (it has ${exp
          .infos()
          .map((n) => n.label)
          .join(', ')})`,
      );
    return { info, net };
  });
  const sample = exp.imageSample(ask.sample);
  const axis = gridAxis(ask.grid, ask.span);
  const out: RunLandscape = { iteration: exp.iteration, seed, grid: ask.grid, span: ask.span, sample: sample.size, nets: [] };
  for (const [index, { info, net }] of infos.entries()) {
    const base = await net.getState();
    const dirs: [Tensors, Tensors] = [filterNormalisedDirection(net.spec, base.params, seed, 'x'), filterNormalisedDirection(net.spec, base.params, seed, 'y')];
    const t0 = performance.now();
    const surface = await lossSurface(net, base, dirs, sample, axis, axis, {
      ...hooks,
      onRow: (row, loss, err) => hooks.onRow?.(index, row, loss, err),
    });
    if (!surface) return null;
    out.nets.push({
      id: info.id,
      label: info.label,
      loss: surface.loss.map((row) => row.map((v) => (Number.isFinite(v) ? v : null))),
      err: surface.err,
      seconds: (performance.now() - t0) / 1000,
    });
  }
  if (ask.path) {
    out.paths = [];
    // every net from the initial weights its seed gives (as the run created it) to its weights now
    for (const info of exp.infos()) {
      const net = exp.net(info.id);
      if (!net) continue;
      await hooks.between?.();
      if (hooks.cancelled?.()) return null;
      const end = await net.getState();
      const points = await interpolationPath(net, initialState(net.spec, exp.config.seed), end, sample, PATH_TS);
      const path: NetPath = {
        id: info.id,
        label: info.label,
        t: points.map((p) => p.t),
        loss: points.map((p) => (Number.isFinite(p.loss) ? p.loss : null)),
        err: points.map((p) => p.err),
      };
      out.paths.push(path);
      hooks.onPath?.(path);
    }
  }
  return out;
}

/**
 * The largest factor by which the loss stands above the lowest it has been so far, between t = 0 and t = 1: 1 when it
 * never goes back up (a slow climb counts, not only a rise between neighbours); Infinity past an overflow.
 */
export function pathRise(path: Pick<NetPath, 't' | 'loss'>): number {
  let rise = 1;
  let best = Infinity;
  for (let i = 0; i < path.t.length; i++) {
    if (path.t[i] < 0 || path.t[i] > 1) continue;
    const v = path.loss[i];
    if (v === null) return Infinity;
    rise = Math.max(rise, v / best);
    best = Math.min(best, v);
  }
  return rise;
}

/** Rises smaller than this (2%) count as noise, not a barrier. */
const RISE_NOISE = 1.02;

/** The loss at t = 1 over the loss at t = 0: above this, the path barely moves (a net that did not train). */
const FLAT = 0.9;

/** How a net's path goes from initialisation to the trained weights: 'rises' on the way, 'flat' (barely moves), or 'falls' all the way. */
export function pathShape(path: Pick<NetPath, 't' | 'loss'>): 'rises' | 'flat' | 'falls' {
  if (pathRise(path) >= RISE_NOISE) return 'rises';
  const at = (t: number) => path.loss[path.t.indexOf(t)] ?? null;
  const [a, b] = [at(0), at(1)];
  return a !== null && b !== null && b >= FLAT * a ? 'flat' : 'falls';
}
