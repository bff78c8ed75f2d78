// Fig. 7 of the paper, honestly: the std of each 3×3 layer's response (after BN, before addition and
// ReLU), in two variants that say different things.
//  (a) 'eval': BN with its running averages, as a trained net computes at test time. A measurement
//      of responses. Where the running averages lag the weights (early in a run, or a plain net whose
//      statistics swing), a layer's std can be far from 1: the net really computes that then.
//  (b) 'readout': BN normalising by the measured batch's own statistics, as in training. Each
//      channel's output then has mean β and std γ·√(v/(v+ε)) ≈ |γ|, so over a layer's channels the std
//      is √(mean γ² + var β): a readout of the BN parameters, in which the images enter only through ε.
// The engines measure both (train.ts EvalResult); this file holds the closed form of (b) and what the
// caption says about a set of nets, computed from their numbers.
import type { LayerTap } from './metrics';
import type { NetSpec, Tensors } from './nets';

export type Fig7Variant = 'eval' | 'readout';

/** (b) in closed form: √(mean γ² + var β) of each 3×3 layer, from the parameters alone. */
export function bnReadout(spec: NetSpec, params: Tensors): number[] {
  return spec.layers3x3.map((c) => {
    const gamma = params[`${c.name}.bn.gamma`];
    const beta = params[`${c.name}.bn.beta`];
    let g2 = 0;
    let b = 0;
    let b2 = 0;
    for (let k = 0; k < gamma.length; k++) {
      g2 += gamma[k] * gamma[k];
      b += beta[k];
      b2 += beta[k] * beta[k];
    }
    const n = gamma.length;
    return Math.sqrt(Math.max(0, g2 / n + b2 / n - (b / n) ** 2));
  });
}

/** A tap's values in one variant; null where a run saved before (a) existed has none. */
export function fig7Values(tap: LayerTap, variant: Fig7Variant): number[] | null {
  return variant === 'readout' ? tap.layerStd : (tap.layerStdEval ?? null);
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** How far (a) may exceed (b) before the caption says the running averages are off: a factor of 10. */
const OFF_AVERAGES_FACTOR = 10;

interface Fig7Summary {
  /** Median layer std of each net, in the chosen variant. */
  nets: { id: string; label: string; residual: boolean; median: number; largest: number }[];
  /** Nets whose evaluation-mode responses are over OFF_AVERAGES_FACTOR × their readout in some layer: BN's running averages lag. */
  offAverages: { id: string; label: string; largest: number; readout: number }[];
}

/** What the chart shows, in numbers: per net its median and largest layer std, and the nets whose running averages are off. */
export function fig7Summary(nets: readonly { id: string; label: string; residual: boolean; tap: LayerTap | null }[], variant: Fig7Variant): Fig7Summary {
  const out: Fig7Summary = { nets: [], offAverages: [] };
  for (const n of nets) {
    if (!n.tap) continue;
    const values = fig7Values(n.tap, variant);
    if (values && values.length) out.nets.push({ id: n.id, label: n.label, residual: n.residual, median: median(values), largest: Math.max(...values) });
    const a = n.tap.layerStdEval;
    if (a && a.length === n.tap.layerStd.length) {
      let worst = -1;
      a.forEach((x, i) => {
        if (x > OFF_AVERAGES_FACTOR * Math.max(n.tap!.layerStd[i], 1e-6) && (worst < 0 || x > a[worst])) worst = i;
      });
      if (worst >= 0) out.offAverages.push({ id: n.id, label: n.label, largest: a[worst], readout: n.tap.layerStd[worst] });
    }
  }
  return out;
}
