// Batch normalisation: statistics, the running averages, apply (with the shortcut add and ReLU) and backward.
import { fma, splat, lo, hi, f } from './helpers';

// ---------------------------------------------------------------------------------------------
// batch normalisation. Per-channel sums are taken in f32 over chunks of 64 pixels and added
// into per-thread f64 partials [nth][2·C], which `bn_finalize` reduces.

/** Add one block's f32 lane sums s (Σ) and q (Σ of products) for channels cb..cb+3 to the f64 partials. */
@inline function add_partials(part: usize, C: i32, cb: i32, s: v128, q: v128): void {
  const ps = part + (<usize>cb << 3), pq = part + (<usize>(C + cb) << 3);
  store<f64>(ps, load<f64>(ps) + <f64>f32x4.extract_lane(s, 0));
  store<f64>(ps + 8, load<f64>(ps + 8) + <f64>f32x4.extract_lane(s, 1));
  store<f64>(ps + 16, load<f64>(ps + 16) + <f64>f32x4.extract_lane(s, 2));
  store<f64>(ps + 24, load<f64>(ps + 24) + <f64>f32x4.extract_lane(s, 3));
  store<f64>(pq, load<f64>(pq) + <f64>f32x4.extract_lane(q, 0));
  store<f64>(pq + 8, load<f64>(pq + 8) + <f64>f32x4.extract_lane(q, 1));
  store<f64>(pq + 16, load<f64>(pq + 16) + <f64>f32x4.extract_lane(q, 2));
  store<f64>(pq + 24, load<f64>(pq + 24) + <f64>f32x4.extract_lane(q, 3));
}

/** partial[tid] = (Σ_p a[p,c], Σ_p a[p,c]·b[p,c]) over this thread's pixels (a masked by mask > 0 when mask ≠ 0). */
@inline function chan_dot(a: usize, b: usize, mask: usize, M: i32, C: i32, partial: usize, tid: i32, nth: i32): void {
  const part = partial + (<usize>(tid * 2 * C) << 3);
  for (let c = 0; c < 2 * C; c++) store<f64>(part + (<usize>c << 3), 0);
  const p0 = lo(M, tid, nth), p1 = hi(M, tid, nth);
  const zero = f32x4.splat(0);
  for (let c0 = p0; c0 < p1; c0 += 64) {
    const c1 = min(p1, c0 + 64);
    for (let cb = 0; cb < C; cb += 4) {
      let s = f32x4.splat(0), q = f32x4.splat(0);
      for (let p = c0; p < c1; p++) {
        const off = f(p * C + cb);
        let x = v128.load(a + off);
        if (mask) x = v128.and(x, f32x4.gt(v128.load(mask + off), zero));
        s = f32x4.add(s, x);
        q = fma(x, v128.load(b + off), q);
      }
      add_partials(part, C, cb, s, q);
    }
  }
}

/**
 * Per-thread partial Σd and Σd² per channel, where d = z − z₀ is z shifted by its first pixel (z₀,
 * per channel). Shifted, the variance Σd²/M − (Σd/M)² does not cancel catastrophically when a
 * channel's mean is large next to its spread; unshifted f32 block sums lost up to 1e-3 of it.
 * `bn_finalize` and `bn_response_moments` add z₀ back.
 */
export function chan_sums(z: usize, M: i32, C: i32, partial: usize, tid: i32, nth: i32): void {
  const part = partial + (<usize>(tid * 2 * C) << 3);
  for (let c = 0; c < 2 * C; c++) store<f64>(part + (<usize>c << 3), 0);
  const p0 = lo(M, tid, nth), p1 = hi(M, tid, nth);
  for (let c0 = p0; c0 < p1; c0 += 64) {
    const c1 = min(p1, c0 + 64);
    for (let cb = 0; cb < C; cb += 4) {
      const k = v128.load(z + f(cb));
      let s = f32x4.splat(0), q = f32x4.splat(0);
      for (let p = c0; p < c1; p++) {
        const x = f32x4.sub(v128.load(z + f(p * C + cb)), k);
        s = f32x4.add(s, x);
        q = fma(x, x, q);
      }
      add_partials(part, C, cb, s, q);
    }
  }
}

/** Sum the threads' partials into out[2·C] (f64). */
@inline function reduce_partials(partial: usize, nth: i32, C: i32, c: i32): f64 {
  let v: f64 = 0;
  for (let t = 0; t < nth; t++) v += load<f64>(partial + (<usize>(t * 2 * C + c) << 3));
  return v;
}

/**
 * Batch statistics from the partials: mean, 1/√(var + ε) and the biased variance per channel,
 * then the affine map y = scale·z + shift that BN applies (scale = γ/σ, shift = β − μ·scale).
 */
export function bn_finalize(partial: usize, nth: i32, M: i32, C: i32, eps: f32, gamma: usize, beta: usize,
  mean: usize, invstd: usize, variance: usize, scale: usize, shift: usize, z: usize, tid: i32): void {
  if (tid != 0) return;
  for (let c = 0; c < C; c++) {
    const md = reduce_partials(partial, nth, C, c) / <f64>M; // mean of z − z₀ (see chan_sums)
    const mu = <f64>load<f32>(z + f(c)) + md;
    let v = reduce_partials(partial, nth, C, C + c) / <f64>M - md * md;
    if (v < 0) v = 0;
    const is = 1 / Math.sqrt(v + <f64>eps);
    const sc = <f64>load<f32>(gamma + f(c)) * is;
    store<f32>(mean + f(c), <f32>mu);
    store<f32>(invstd + f(c), <f32>is);
    store<f32>(variance + f(c), <f32>v);
    store<f32>(scale + f(c), <f32>sc);
    store<f32>(shift + f(c), <f32>(<f64>load<f32>(beta + f(c)) - mu * sc));
  }
}

/** Evaluation mode: the same affine map from the running mean and variance. */
export function bn_eval_affine(rmean: usize, rvar: usize, C: i32, eps: f32, gamma: usize, beta: usize, scale: usize, shift: usize, tid: i32): void {
  if (tid != 0) return;
  for (let c = 0; c < C; c++) {
    const is = 1 / Math.sqrt(<f64>load<f32>(rvar + f(c)) + <f64>eps);
    const sc = <f64>load<f32>(gamma + f(c)) * is;
    store<f32>(scale + f(c), <f32>sc);
    store<f32>(shift + f(c), <f32>(<f64>load<f32>(beta + f(c)) - <f64>load<f32>(rmean + f(c)) * sc));
  }
}

/** running ← (1 − m)·running + m·batch, with the batch variance made unbiased by M/(M−1). */
export function bn_running(rmean: usize, rvar: usize, mean: usize, variance: usize, C: i32, m: f32, M: i32, tid: i32): void {
  if (tid != 0) return;
  const unbias: f32 = M > 1 ? <f32>M / <f32>(M - 1) : 1;
  for (let c = 0; c < C; c++) {
    store<f32>(rmean + f(c), (1 - m) * load<f32>(rmean + f(c)) + m * load<f32>(mean + f(c)));
    store<f32>(rvar + f(c), (1 - m) * load<f32>(rvar + f(c)) + m * unbias * load<f32>(variance + f(c)));
  }
}

/**
 * y = scale·z + shift (+ res), then ReLU if relu ≠ 0. res = 0 means no residual term. Outputs smaller than TINY in
 * magnitude become 0: WebAssembly keeps subnormal floats, whose arithmetic runs about a hundred times slower on x86,
 * and a deep plain net tested with BN's initial running statistics fades through them layer by layer (plain-1202's
 * first test took 65 s for 128 images instead of 5). A value this small changes no loss or error; NaN and ±∞ pass.
 */
export function bn_apply(z: usize, M: i32, C: i32, scale: usize, shift: usize, res: usize, relu: i32, y: usize, tid: i32, nth: i32): void {
  const p0 = lo(M, tid, nth), p1 = hi(M, tid, nth);
  const zero = f32x4.splat(0);
  const tiny = f32x4.splat(TINY);
  for (let c0 = p0; c0 < p1; c0 += 64) {
    const c1 = min(p1, c0 + 64);
    for (let cb = 0; cb < C; cb += 4) {
      const sc = v128.load(scale + f(cb)), sh = v128.load(shift + f(cb));
      for (let p = c0; p < c1; p++) {
        const off = f(p * C + cb);
        let v = fma(v128.load(z + off), sc, sh);
        if (res) v = f32x4.add(v, v128.load(res + off));
        if (relu) v = f32x4.max(v, zero);
        v = v128.andnot(v, f32x4.lt(f32x4.abs(v), tiny));
        v128.store(y + off, v);
      }
    }
  }
}

/** Below this magnitude bn_apply writes 0 (2⁻¹⁰⁰: far above the subnormals' 2⁻¹²⁶, so a conv of such inputs stays normal). */
const TINY: f32 = 7.888609052210118e-31;

/** Partials for BN's backward pass: Σdy' and Σdy'·z per channel, with dy' = dy·[mask > 0] when mask ≠ 0. */
export function bn_bwd_sums(dy: usize, mask: usize, z: usize, M: i32, C: i32, partial: usize, tid: i32, nth: i32): void {
  chan_dot(dy, z, mask, M, C, partial, tid, nth);
}

/**
 * BN's parameter gradients and the coefficients of its input gradient:
 *   x̂ = (z − μ)/σ,  dβ = Σdy',  dγ = Σdy'·x̂ = (Σdy'·z − μ·Σdy')/σ
 *   dz = (γ/σ)·(dy' − dβ/M − x̂·dγ/M) = A·dy' + B·z + D
 */
export function bn_bwd_finalize(partial: usize, nth: i32, M: i32, C: i32, mean: usize, invstd: usize, gamma: usize,
  dgamma: usize, dbeta: usize, coefA: usize, coefB: usize, coefD: usize, tid: i32): void {
  if (tid != 0) return;
  for (let c = 0; c < C; c++) {
    const sdy = reduce_partials(partial, nth, C, c);
    const sdyz = reduce_partials(partial, nth, C, C + c);
    const mu = <f64>load<f32>(mean + f(c)), is = <f64>load<f32>(invstd + f(c));
    const db = sdy, dg = (sdyz - mu * sdy) * is;
    store<f32>(dbeta + f(c), <f32>db);
    store<f32>(dgamma + f(c), <f32>dg);
    const a = <f64>load<f32>(gamma + f(c)) * is;
    const invM = 1 / <f64>M;
    store<f32>(coefA + f(c), <f32>a);
    store<f32>(coefB + f(c), <f32>(-a * is * dg * invM));
    store<f32>(coefD + f(c), <f32>(-a * db * invM + a * is * dg * mu * invM));
  }
}

/** dz = A·dy' + B·z + D per channel (may write over dy). */
export function bn_bwd_dx(dy: usize, mask: usize, z: usize, M: i32, C: i32, coefA: usize, coefB: usize, coefD: usize, dz: usize, tid: i32, nth: i32): void {
  const p0 = lo(M, tid, nth), p1 = hi(M, tid, nth);
  const zero = f32x4.splat(0);
  for (let c0 = p0; c0 < p1; c0 += 64) {
    const c1 = min(p1, c0 + 64);
    for (let cb = 0; cb < C; cb += 4) {
      const A = v128.load(coefA + f(cb)), B = v128.load(coefB + f(cb)), D = v128.load(coefD + f(cb));
      for (let p = c0; p < c1; p++) {
        const off = f(p * C + cb);
        let g = v128.load(dy + off);
        if (mask) g = v128.and(g, f32x4.gt(v128.load(mask + off), zero));
        v128.store(dz + off, fma(A, g, fma(B, v128.load(z + off), D)));
      }
    }
  }
}

/**
 * The std of a BN output y = scale·z + shift over all its values, from the partial sums of z:
 * adds (Σy, Σy²) into out[0..1] (f64). For the layer-response statistics of Fig. 7.
 */
export function bn_response_moments(partial: usize, nth: i32, M: i32, C: i32, scale: usize, shift: usize, z: usize, out: usize, tid: i32): void {
  if (tid != 0) return;
  let sy: f64 = 0, syy: f64 = 0;
  for (let c = 0; c < C; c++) {
    // the partials are of d = z − z₀ (chan_sums): y = a·z + b = a·d + (a·z₀ + b)
    const s = reduce_partials(partial, nth, C, c), q = reduce_partials(partial, nth, C, C + c);
    const a = <f64>load<f32>(scale + f(c));
    const b = <f64>load<f32>(shift + f(c)) + a * <f64>load<f32>(z + f(c));
    sy += a * s + b * <f64>M;
    syy += a * a * q + 2 * a * b * s + b * b * <f64>M;
  }
  store<f64>(out, load<f64>(out) + sy);
  store<f64>(out + 8, load<f64>(out + 8) + syy);
}
