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
 * progress bar and streaming; `cancelled` is checked between points). Leaves the net at `base` when done or cancelled.
 */
export async function lossSurface(
  net: EngineNet,
  base: NetState,
  dirs: [Tensors, Tensors],
  sample: ImageBatch,
  xs: readonly number[],
  ys: readonly number[],
  hooks: { onRow?: (row: number, loss: number[], err: number[]) => void; cancelled?: () => boolean } = {},
): Promise<Surface | null> {
  const surface: Surface = { xs: [...xs], ys: [...ys], loss: [], err: [] };
  try {
    for (let r = 0; r < ys.length; r++) {
      const loss: number[] = [];
      const err: number[] = [];
      for (const x of xs) {
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
 * The loss along θ(t) = (1 − t)·θ₀ + t·θ₁ (Goodfellow et al.): BN statistics interpolated the same way, so t = 0 is the
 * net at initialisation and t = 1 the trained net, exactly. Leaves the net at θ₁.
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
        t === 1 ? end : t === 0 ? start : { params: lerp(start.params, end.params, t), momentum: end.momentum, bnStats: lerp(start.bnStats, end.bnStats, t) },
      );
      out.push({ t, ...(await lossAt(net, sample)) });
    }
    return out;
  } finally {
    net.setState(end);
  }
}

/**
 * How rough a surface is: the share of its interior grid points where the loss bends down (is not convex) along a
 * grid line, in x or in y. A second difference counts as bending down only below −10⁻³ of the surface's range, so
 * float rounding on a flat stretch does not. 0: convex along every grid line (a bowl); Li et al.'s chaotic
 * ResNet-56 without shortcuts would score high. A point with a non-finite loss nearby counts as bending down.
 */
export function nonConvexShare(loss: readonly (readonly number[])[]): number {
  const finite = loss.flat().filter(Number.isFinite);
  const range = finite.length ? Math.max(...finite) - Math.min(...finite) : 0;
  const tol = 1e-3 * range;
  let bent = 0;
  let points = 0;
  for (let r = 1; r < loss.length - 1; r++)
    for (let c = 1; c < loss[r].length - 1; c++) {
      points++;
      const dx = loss[r][c - 1] - 2 * loss[r][c] + loss[r][c + 1];
      const dy = loss[r - 1][c] - 2 * loss[r][c] + loss[r + 1][c];
      if (!(dx >= -tol) || !(dy >= -tol)) bent++;
    }
  return points ? bent / points : 0;
}
