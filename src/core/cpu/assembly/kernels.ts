// The lab CPU engine's kernels: WebAssembly SIMD (f32x4), compiled by AssemblyScript
// (scripts/build-wasm.ts). Every tensor is NHWC float32 in one shared linear memory; every
// argument is a byte offset or a size. A kernel called with (tid, nth) does its share of the
// work when nth threads run it at once (engine.ts runs each call on every thread, then a barrier).
//
// Requirements checked by the caller (engine.ts): channel counts are multiples of 4 (the stem's
// 3 input channels are padded to 4 with zeros), pointers are 16-byte aligned.
//
// Names: x input, y output, w weights [kh][kw][cin][cout] (tfjs's HWIO), dy/dz gradients,
// N batch, H/W input size, Hp/Wp padded input size, Ho/Wo output size, C input and K output
// channels, s stride, k kernel size (3 or 1).

// ---------------------------------------------------------------------------------------------
// helpers

@inline function fma(a: v128, b: v128, c: v128): v128 {
  // With relaxed SIMD this is one fused multiply-add; without, a multiply and an add.
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

@inline function splat(p: usize): v128 {
  return v128.load32_splat(p);
}

@inline function lo(total: i32, tid: i32, nth: i32): i32 {
  return <i32>((<i64>total * tid) / nth);
}

@inline function hi(total: i32, tid: i32, nth: i32): i32 {
  return <i32>((<i64>total * (tid + 1)) / nth);
}

@inline function f(n: i32): usize {
  // bytes of n floats
  return <usize>n << 2;
}

/** Zero n floats from p (n a multiple of 4), in this thread's share. */
export function zero(p: usize, n: i32, tid: i32, nth: i32): void {
  const q0 = lo(n >> 2, tid, nth), q1 = hi(n >> 2, tid, nth);
  const z = f32x4.splat(0);
  for (let q = q0; q < q1; q++) v128.store(p + (<usize>q << 4), z);
}

// ---------------------------------------------------------------------------------------------
// convolution, forward: y[n,oh,ow,:] (+)= Σ_{kh,kw,c} xp[n, oh·s+kh, ow·s+kw, c] · w[kh,kw,c,:]
// xp is already padded (Hp = H + 2·pad). Work is split by output rows (n, oh).
// Micro-tiles: 4 output pixels × 8 output channels in 8 registers, then tails of 1 pixel and 4 channels.

@inline function conv_tile_4x8(xp: usize, pix: usize, row: usize, C: i32, w: usize, k: i32, K: i32, y: usize, acc: i32): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  const ks = f(K);
  if (acc) {
    a00 = v128.load(y); a01 = v128.load(y, 16);
    a10 = v128.load(y + ks); a11 = v128.load(y + ks, 16);
    a20 = v128.load(y + 2 * ks); a21 = v128.load(y + 2 * ks, 16);
    a30 = v128.load(y + 3 * ks); a31 = v128.load(y + 3 * ks, 16);
  }
  for (let kh = 0; kh < k; kh++) {
    for (let kw = 0; kw < k; kw++) {
      let p = xp + <usize>kh * row + f(kw * C);
      let wp = w + f((kh * k + kw) * C * K);
      const pe = p + f(C);
      while (p < pe) {
        const w0 = v128.load(wp), w1 = v128.load(wp, 16);
        let b = splat(p);
        a00 = fma(b, w0, a00); a01 = fma(b, w1, a01);
        b = splat(p + pix);
        a10 = fma(b, w0, a10); a11 = fma(b, w1, a11);
        b = splat(p + 2 * pix);
        a20 = fma(b, w0, a20); a21 = fma(b, w1, a21);
        b = splat(p + 3 * pix);
        a30 = fma(b, w0, a30); a31 = fma(b, w1, a31);
        p += 4;
        wp += ks;
      }
    }
  }
  v128.store(y, a00); v128.store(y, a01, 16);
  v128.store(y + ks, a10); v128.store(y + ks, a11, 16);
  v128.store(y + 2 * ks, a20); v128.store(y + 2 * ks, a21, 16);
  v128.store(y + 3 * ks, a30); v128.store(y + 3 * ks, a31, 16);
}

@inline function conv_tile_4x4(xp: usize, pix: usize, row: usize, C: i32, w: usize, k: i32, K: i32, y: usize, acc: i32): void {
  const ks = f(K);
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
  if (acc) {
    a0 = v128.load(y); a1 = v128.load(y + ks); a2 = v128.load(y + 2 * ks); a3 = v128.load(y + 3 * ks);
  }
  for (let kh = 0; kh < k; kh++) {
    for (let kw = 0; kw < k; kw++) {
      let p = xp + <usize>kh * row + f(kw * C);
      let wp = w + f((kh * k + kw) * C * K);
      const pe = p + f(C);
      while (p < pe) {
        const w0 = v128.load(wp);
        a0 = fma(splat(p), w0, a0);
        a1 = fma(splat(p + pix), w0, a1);
        a2 = fma(splat(p + 2 * pix), w0, a2);
        a3 = fma(splat(p + 3 * pix), w0, a3);
        p += 4;
        wp += ks;
      }
    }
  }
  v128.store(y, a0); v128.store(y + ks, a1); v128.store(y + 2 * ks, a2); v128.store(y + 3 * ks, a3);
}

@inline function conv_tile_1x4(xp: usize, row: usize, C: i32, w: usize, k: i32, K: i32, y: usize, acc: i32): void {
  const ks = f(K);
  let a0 = acc ? v128.load(y) : f32x4.splat(0);
  for (let kh = 0; kh < k; kh++) {
    for (let kw = 0; kw < k; kw++) {
      let p = xp + <usize>kh * row + f(kw * C);
      let wp = w + f((kh * k + kw) * C * K);
      const pe = p + f(C);
      while (p < pe) {
        a0 = fma(splat(p), v128.load(wp), a0);
        p += 4;
        wp += ks;
      }
    }
  }
  v128.store(y, a0);
}

export function conv_fwd(
  xp: usize, Hp: i32, Wp: i32, C: i32, w: usize, k: i32, s: i32,
  y: usize, N: i32, Ho: i32, Wo: i32, K: i32, acc: i32, tid: i32, nth: i32,
): void {
  const rows = N * Ho;
  const r0 = lo(rows, tid, nth), r1 = hi(rows, tid, nth);
  const row = f(Wp * C); // bytes per input row
  const pix = f(s * C); // bytes between the inputs of neighbouring output pixels
  for (let r = r0; r < r1; r++) {
    const n = r / Ho, oh = r % Ho;
    const xrow = xp + f((n * Hp + oh * s) * Wp * C);
    const yrow = y + f(r * Wo * K);
    let ow = 0;
    for (; ow + 4 <= Wo; ow += 4) {
      const xq = xrow + f(ow * s * C);
      let co = 0;
      for (; co + 8 <= K; co += 8) conv_tile_4x8(xq, pix, row, C, w + f(co), k, K, yrow + f(ow * K + co), acc);
      if (co < K) conv_tile_4x4(xq, pix, row, C, w + f(co), k, K, yrow + f(ow * K + co), acc);
    }
    for (; ow < Wo; ow++) {
      const xq = xrow + f(ow * s * C);
      for (let co = 0; co < K; co += 4) conv_tile_1x4(xq, row, C, w + f(co), k, K, yrow + f(ow * K + co), acc);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// convolution, weight gradient: dw[kh,kw,c,co] = Σ_{n,oh,ow} xp[n, oh·s+kh, ow·s+kw, c] · dy[n,oh,ow,co]
// Work is split by tiles (kh, kw, 4 input channels), so threads write disjoint parts of dw.
// Output rows are visited in groups of ≥ 64 pixels, which stay in L1 while every tile uses them.

export function conv_bwd_filter(
  xp: usize, Hp: i32, Wp: i32, C: i32, dy: usize, N: i32, Ho: i32, Wo: i32, K: i32,
  k: i32, s: i32, dw: usize, tid: i32, nth: i32,
): void {
  const cb = C >> 2;
  const tiles = k * k * cb;
  const t0 = lo(tiles, tid, nth), t1 = hi(tiles, tid, nth);
  if (t0 >= t1) return;
  // zero this thread's rows of dw: tile t covers rows [4t, 4t+4) of the [k·k·C][K] matrix
  const z = f32x4.splat(0);
  for (let q = <usize>(f(t0 * 4 * K)); q < <usize>f(t1 * 4 * K); q += 16) v128.store(dw + q, z);
  const rows = N * Ho;
  const group = Wo >= 64 ? 1 : 64 / Wo;
  const pix = f(s * C);
  const ks = f(K);
  for (let g0 = 0; g0 < rows; g0 += group) {
    const g1 = min(rows, g0 + group);
    for (let t = t0; t < t1; t++) {
      const kk = t / cb, c0 = (t % cb) << 2;
      const kh = kk / k, kw = kk % k;
      const dwt = dw + f((kk * C + c0) * K);
      let co = 0;
      for (; co + 8 <= K; co += 8) {
        const d = dwt + f(co);
        let a00 = v128.load(d), a01 = v128.load(d, 16);
        let a10 = v128.load(d + ks), a11 = v128.load(d + ks, 16);
        let a20 = v128.load(d + 2 * ks), a21 = v128.load(d + 2 * ks, 16);
        let a30 = v128.load(d + 3 * ks), a31 = v128.load(d + 3 * ks, 16);
        for (let r = g0; r < g1; r++) {
          const n = r / Ho, oh = r % Ho;
          let xq = xp + f(((n * Hp + oh * s + kh) * Wp + kw) * C + c0);
          let dq = dy + f(r * Wo * K + co);
          const de = dq + f(Wo * K);
          while (dq < de) {
            const d0 = v128.load(dq), d1 = v128.load(dq, 16);
            let b = splat(xq);
            a00 = fma(b, d0, a00); a01 = fma(b, d1, a01);
            b = splat(xq + 4);
            a10 = fma(b, d0, a10); a11 = fma(b, d1, a11);
            b = splat(xq + 8);
            a20 = fma(b, d0, a20); a21 = fma(b, d1, a21);
            b = splat(xq + 12);
            a30 = fma(b, d0, a30); a31 = fma(b, d1, a31);
            xq += pix;
            dq += ks;
          }
        }
        v128.store(d, a00); v128.store(d, a01, 16);
        v128.store(d + ks, a10); v128.store(d + ks, a11, 16);
        v128.store(d + 2 * ks, a20); v128.store(d + 2 * ks, a21, 16);
        v128.store(d + 3 * ks, a30); v128.store(d + 3 * ks, a31, 16);
      }
      if (co < K) {
        const d = dwt + f(co);
        let a0 = v128.load(d), a1 = v128.load(d + ks), a2 = v128.load(d + 2 * ks), a3 = v128.load(d + 3 * ks);
        for (let r = g0; r < g1; r++) {
          const n = r / Ho, oh = r % Ho;
          let xq = xp + f(((n * Hp + oh * s + kh) * Wp + kw) * C + c0);
          let dq = dy + f(r * Wo * K + co);
          const de = dq + f(Wo * K);
          while (dq < de) {
            const d0 = v128.load(dq);
            a0 = fma(splat(xq), d0, a0);
            a1 = fma(splat(xq + 4), d0, a1);
            a2 = fma(splat(xq + 8), d0, a2);
            a3 = fma(splat(xq + 12), d0, a3);
            xq += pix;
            dq += ks;
          }
        }
        v128.store(d, a0); v128.store(d + ks, a1); v128.store(d + 2 * ks, a2); v128.store(d + 3 * ks, a3);
      }
    }
  }
}

/**
 * Copy x [N,H,W,C] into a zeroed [N, s·H + 2·pad, s·W + 2·pad, C] buffer at (pad + s·i, pad + s·j).
 * s = 1 is zero padding (the input of a 3×3 conv); s = 2 spreads a stride-2 conv's output
 * gradient, so that the input gradient becomes a stride-1 conv with the flipped kernel.
 */
export function dilate_pad(x: usize, N: i32, H: i32, W: i32, C: i32, s: i32, pad: i32, dst: usize, tid: i32, nth: i32): void {
  const Hd = s * H + 2 * pad, Wd = s * W + 2 * pad;
  const rows = N * Hd;
  const r0 = lo(rows, tid, nth), r1 = hi(rows, tid, nth);
  const z = f32x4.splat(0);
  const rowBytes = f(Wd * C);
  for (let r = r0; r < r1; r++) {
    const n = r / Hd, hd = r % Hd;
    const drow = dst + <usize>r * rowBytes;
    const i = hd - pad;
    if (i < 0 || i % s != 0 || i / s >= H) {
      for (let q: usize = 0; q < rowBytes; q += 16) v128.store(drow + q, z);
      continue;
    }
    const srow = x + f((n * H + i / s) * W * C);
    if (s == 1) {
      for (let q: usize = 0; q < f(pad * C); q += 16) v128.store(drow + q, z);
      memory.copy(drow + f(pad * C), srow, f(W * C));
      for (let q: usize = f((pad + W) * C); q < rowBytes; q += 16) v128.store(drow + q, z);
    } else {
      for (let q: usize = 0; q < rowBytes; q += 16) v128.store(drow + q, z);
      for (let j = 0; j < W; j++) memory.copy(drow + f((pad + s * j) * C), srow + f(j * C), f(C));
    }
  }
}

/** wt[kh][kw][co][c] = w[k-1-kh][k-1-kw][c][co]: the kernel of the input-gradient convolution. */
export function flip_weights(w: usize, k: i32, C: i32, K: i32, wt: usize, tid: i32, nth: i32): void {
  const taps = k * k;
  const t0 = lo(taps, tid, nth), t1 = hi(taps, tid, nth);
  for (let t = t0; t < t1; t++) {
    const src = w + f((taps - 1 - t) * C * K);
    const dst = wt + f(t * C * K);
    for (let c = 0; c < C; c++) for (let co = 0; co < K; co++) store<f32>(dst + f(co * C + c), load<f32>(src + f(c * K + co)));
  }
}

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

/** y = scale·z + shift (+ res), then ReLU if relu ≠ 0. res = 0 means no residual term. */
export function bn_apply(z: usize, M: i32, C: i32, scale: usize, shift: usize, res: usize, relu: i32, y: usize, tid: i32, nth: i32): void {
  const p0 = lo(M, tid, nth), p1 = hi(M, tid, nth);
  const zero = f32x4.splat(0);
  for (let c0 = p0; c0 < p1; c0 += 64) {
    const c1 = min(p1, c0 + 64);
    for (let cb = 0; cb < C; cb += 4) {
      const sc = v128.load(scale + f(cb)), sh = v128.load(shift + f(cb));
      for (let p = c0; p < c1; p++) {
        const off = f(p * C + cb);
        let v = fma(v128.load(z + off), sc, sh);
        if (res) v = f32x4.add(v, v128.load(res + off));
        if (relu) v = f32x4.max(v, zero);
        v128.store(y + off, v);
      }
    }
  }
}

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

// ---------------------------------------------------------------------------------------------
// elementwise pieces of the residual block

/** d ← d·[a > 0]: the gradient through a ReLU whose output was a. */
export function relu_mask(d: usize, a: usize, n: i32, tid: i32, nth: i32): void {
  const q0 = lo(n >> 2, tid, nth), q1 = hi(n >> 2, tid, nth);
  const zero = f32x4.splat(0);
  for (let q = q0; q < q1; q++) {
    const off = <usize>q << 4;
    v128.store(d + off, v128.and(v128.load(d + off), f32x4.gt(v128.load(a + off), zero)));
  }
}

/** dst ← dst + src. */
export function add_inplace(dst: usize, src: usize, n: i32, tid: i32, nth: i32): void {
  const q0 = lo(n >> 2, tid, nth), q1 = hi(n >> 2, tid, nth);
  for (let q = q0; q < q1; q++) {
    const off = <usize>q << 4;
    v128.store(dst + off, f32x4.add(v128.load(dst + off), v128.load(src + off)));
  }
}

/** Option A: y[n,i,j,c] = x[n,2i,2j,c] for c < C, 0 for C ≤ c < K (§3.3: zero-padded, no parameters). */
export function subsample_pad(x: usize, N: i32, H: i32, W: i32, C: i32, K: i32, y: usize, tid: i32, nth: i32): void {
  const Ho = H >> 1, Wo = W >> 1;
  const rows = N * Ho;
  const r0 = lo(rows, tid, nth), r1 = hi(rows, tid, nth);
  const z = f32x4.splat(0);
  for (let r = r0; r < r1; r++) {
    const n = r / Ho, i = r % Ho;
    for (let j = 0; j < Wo; j++) {
      const src = x + f(((n * H + 2 * i) * W + 2 * j) * C);
      const dst = y + f((r * Wo + j) * K);
      memory.copy(dst, src, f(C));
      for (let c = C; c < K; c += 4) v128.store(dst + f(c), z);
    }
  }
}

/** The gradient of option A: dx[n,2i,2j,c] += dy[n,i,j,c] for c < C. */
export function subsample_pad_bwd(dy: usize, N: i32, H: i32, W: i32, C: i32, K: i32, dx: usize, tid: i32, nth: i32): void {
  const Ho = H >> 1, Wo = W >> 1;
  const rows = N * Ho;
  const r0 = lo(rows, tid, nth), r1 = hi(rows, tid, nth);
  for (let r = r0; r < r1; r++) {
    const n = r / Ho, i = r % Ho;
    for (let j = 0; j < Wo; j++) {
      const dst = dx + f(((n * H + 2 * i) * W + 2 * j) * C);
      const src = dy + f((r * Wo + j) * K);
      for (let c = 0; c < C; c += 4) v128.store(dst + f(c), f32x4.add(v128.load(dst + f(c)), v128.load(src + f(c))));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// head: global average pooling, the FC layer and softmax cross-entropy (small; thread 0 only)

/**
 * Forward and, when dA ≠ 0, backward through the head. a [N, HW, C]; W [C, 10]; labels i32 [N].
 * out (f64): [0] += Σ cross-entropy, [1] += misclassified count. g [N, C] and logits scratch.
 * Backward: dW, db (written), dA [N, HW, C] (written) for the mean loss over N.
 */
export function head(a: usize, N: i32, HW: i32, C: i32, fcw: usize, fcb: usize, labels: usize, out: usize,
  g: usize, probs: usize, dA: usize, dW: usize, db: usize, tid: i32): void {
  if (tid != 0) return;
  const J = 10;
  const inv = <f32>1 / <f32>HW;
  let loss: f64 = 0, wrong: f64 = 0;
  for (let n = 0; n < N; n++) {
    const gn = g + f(n * C);
    for (let c = 0; c < C; c += 4) v128.store(gn + f(c), f32x4.splat(0));
    for (let p = 0; p < HW; p++) {
      const ap = a + f((n * HW + p) * C);
      for (let c = 0; c < C; c += 4) v128.store(gn + f(c), f32x4.add(v128.load(gn + f(c)), v128.load(ap + f(c))));
    }
    for (let c = 0; c < C; c++) store<f32>(gn + f(c), load<f32>(gn + f(c)) * inv);
    const pn = probs + f(n * J);
    let best = 0;
    let mx: f32 = -Infinity;
    for (let j = 0; j < J; j++) {
      let z = load<f32>(fcb + f(j));
      for (let c = 0; c < C; c++) z += load<f32>(gn + f(c)) * load<f32>(fcw + f(c * J + j));
      store<f32>(pn + f(j), z);
      if (z > mx) {
        mx = z;
        best = j;
      }
    }
    let sum: f64 = 0;
    for (let j = 0; j < J; j++) sum += Math.exp(<f64>(load<f32>(pn + f(j)) - mx));
    const label = load<i32>(labels + (<usize>n << 2));
    if (<u32>label > 9) {
      // never index memory with a bad label: poison the loss (reported as a divergence)
      loss = NaN;
      continue;
    }
    loss += Math.log(sum) - <f64>(load<f32>(pn + f(label)) - mx);
    if (best != label || !(mx == mx)) wrong += 1;
    for (let j = 0; j < J; j++) store<f32>(pn + f(j), <f32>(Math.exp(<f64>(load<f32>(pn + f(j)) - mx)) / sum));
  }
  store<f64>(out, load<f64>(out) + loss);
  store<f64>(out + 8, load<f64>(out + 8) + wrong);
  if (!dA) return;
  // d logits = (p − onehot)/N
  const invN = <f32>1 / <f32>N;
  for (let n = 0; n < N; n++) {
    const pn = probs + f(n * J);
    const label = load<i32>(labels + (<usize>n << 2));
    for (let j = 0; j < J; j++) store<f32>(pn + f(j), (load<f32>(pn + f(j)) - (j == label ? <f32>1 : <f32>0)) * invN);
  }
  for (let c = 0; c < C; c++) {
    for (let j = 0; j < J; j++) {
      let s: f32 = 0;
      for (let n = 0; n < N; n++) s += load<f32>(g + f(n * C + c)) * load<f32>(probs + f(n * J + j));
      store<f32>(dW + f(c * J + j), s);
    }
  }
  for (let j = 0; j < J; j++) {
    let s: f32 = 0;
    for (let n = 0; n < N; n++) s += load<f32>(probs + f(n * J + j));
    store<f32>(db + f(j), s);
  }
  // dA[n,p,c] = (Σ_j dlogits[n,j]·W[c,j]) / HW, the same for every pixel p
  for (let n = 0; n < N; n++) {
    const gn = g + f(n * C);
    for (let c = 0; c < C; c++) {
      let s: f32 = 0;
      for (let j = 0; j < J; j++) s += load<f32>(probs + f(n * J + j)) * load<f32>(fcw + f(c * J + j));
      store<f32>(gn + f(c), s * inv);
    }
    for (let p = 0; p < HW; p++) memory.copy(dA + f((n * HW + p) * C), gn, f(C));
  }
}

// ---------------------------------------------------------------------------------------------
// the optimiser

/** SGD with momentum and weight decay over n floats: v ← μv + g + λw; w ← w − lr·v. */
export function sgd(w: usize, g: usize, v: usize, n: i32, lr: f32, mom: f32, wd: f32, tid: i32, nth: i32): void {
  const q0 = lo(n >> 2, tid, nth), q1 = hi(n >> 2, tid, nth);
  const L = f32x4.splat(lr), Mo = f32x4.splat(mom), D = f32x4.splat(wd);
  for (let q = q0; q < q1; q++) {
    const off = <usize>q << 4;
    const wv = v128.load(w + off);
    const vv = fma(Mo, v128.load(v + off), fma(D, wv, v128.load(g + off)));
    v128.store(v + off, vv);
    v128.store(w + off, f32x4.sub(wv, f32x4.mul(L, vv)));
  }
}
