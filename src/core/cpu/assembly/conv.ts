// Direct convolution kernels: forward, weight gradient, and the stride-2 input gradient (with the
// padding and flipping they need). The stride-1 3×3 convolutions usually run as Winograd (./winograd.ts).
import { fma, splat, lo, hi, f } from './helpers';
import { conv_tile_1x4, conv_tile_4x4, conv_tile_4x8 } from './tiles';

// ---------------------------------------------------------------------------------------------
// convolution, forward: y[n,oh,ow,:] (+)= Σ_{kh,kw,c} xp[n, oh·s+kh, ow·s+kw, c] · w[kh,kw,c,:]
// xp is already padded (Hp = H + 2·pad). Work is split by output rows (n, oh).
// Micro-tiles: 4 output pixels × 8 output channels in 8 registers, then tails of 1 pixel and 4 channels.

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
// Input gradient of a stride-2 convolution (3×3 pad 1, or 1×1 pad 0), computed directly: each
// input pixel (i, j) receives only the taps whose stride-2 output lands on it. For 3×3, an even
// row takes tap row 1 (from output row i/2), an odd row taps 0 and 2 (output rows (i+1)/2 and
// (i−1)/2); the same for columns: 9 taps per 4 input pixels, where a stride-1 convolution over the
// zero-spread gradient does 36. For 1×1 only even rows and columns receive anything.
// dyp is the output gradient padded by 1 on every side (dilate_pad s=1 pad=1), so taps that fall
// past the last output row or column read zeros; wt is flip_weights' kernel, wt[8 − (3kh + kw)][k][c]
// (for k = 1, wt[0][k][c]). Split by input rows.

/** 4 input pixels (pixel stride px bytes) × 8 channels: Σ over the taps and K of dyp · wt, stored or added to dx. */
@inline function s2_tile_4x8(dx: usize, px: usize, acc: i32, K: i32, C: i32, nt: i32,
  p0: usize, w0p: usize, p1: usize, w1p: usize, p2: usize, w2p: usize, p3: usize, w3p: usize, dpx: usize): void {
  let a00 = f32x4.splat(0), a01 = f32x4.splat(0), a10 = f32x4.splat(0), a11 = f32x4.splat(0);
  let a20 = f32x4.splat(0), a21 = f32x4.splat(0), a30 = f32x4.splat(0), a31 = f32x4.splat(0);
  const cs = f(C);
  for (let t = 0; t < nt; t++) {
    let p = t == 0 ? p0 : t == 1 ? p1 : t == 2 ? p2 : p3;
    let wp = t == 0 ? w0p : t == 1 ? w1p : t == 2 ? w2p : w3p;
    const pe = p + f(K);
    while (p < pe) {
      const w0 = v128.load(wp), w1 = v128.load(wp, 16);
      let b = splat(p);
      a00 = fma(b, w0, a00); a01 = fma(b, w1, a01);
      b = splat(p + dpx);
      a10 = fma(b, w0, a10); a11 = fma(b, w1, a11);
      b = splat(p + 2 * dpx);
      a20 = fma(b, w0, a20); a21 = fma(b, w1, a21);
      b = splat(p + 3 * dpx);
      a30 = fma(b, w0, a30); a31 = fma(b, w1, a31);
      p += 4;
      wp += cs;
    }
  }
  if (acc) {
    a00 = f32x4.add(a00, v128.load(dx)); a01 = f32x4.add(a01, v128.load(dx, 16));
    a10 = f32x4.add(a10, v128.load(dx + px)); a11 = f32x4.add(a11, v128.load(dx + px, 16));
    a20 = f32x4.add(a20, v128.load(dx + 2 * px)); a21 = f32x4.add(a21, v128.load(dx + 2 * px, 16));
    a30 = f32x4.add(a30, v128.load(dx + 3 * px)); a31 = f32x4.add(a31, v128.load(dx + 3 * px, 16));
  }
  v128.store(dx, a00); v128.store(dx, a01, 16);
  v128.store(dx + px, a10); v128.store(dx + px, a11, 16);
  v128.store(dx + 2 * px, a20); v128.store(dx + 2 * px, a21, 16);
  v128.store(dx + 3 * px, a30); v128.store(dx + 3 * px, a31, 16);
}

/** 1 input pixel × 4 channels: the tail of s2_tile_4x8. */
@inline function s2_tile_1x4(dx: usize, acc: i32, K: i32, C: i32, nt: i32,
  p0: usize, w0p: usize, p1: usize, w1p: usize, p2: usize, w2p: usize, p3: usize, w3p: usize): void {
  let a = acc ? v128.load(dx) : f32x4.splat(0);
  const cs = f(C);
  for (let t = 0; t < nt; t++) {
    let p = t == 0 ? p0 : t == 1 ? p1 : t == 2 ? p2 : p3;
    let wp = t == 0 ? w0p : t == 1 ? w1p : t == 2 ? w2p : w3p;
    const pe = p + f(K);
    while (p < pe) {
      a = fma(splat(p), v128.load(wp), a);
      p += 4;
      wp += cs;
    }
  }
  v128.store(dx, a);
}

export function conv_bwd_data_s2(
  dyp: usize, Hp: i32, Wp: i32, K: i32, wt: usize, k: i32, C: i32,
  dx: usize, N: i32, H: i32, W: i32, acc: i32, tid: i32, nth: i32,
): void {
  const rows = N * H;
  const r0 = lo(rows, tid, nth), r1 = hi(rows, tid, nth);
  const tapBytes = f(K * C);
  const px2 = f(2 * C); // bytes between same-parity input pixels
  const dpx = f(K); // bytes between neighbouring output-gradient pixels
  const Wb = W >> 1;
  for (let r = r0; r < r1; r++) {
    const n = r / H, i = r % H, a = i >> 1, odd = i & 1;
    // this row's taps: (kh, padded output row)
    let rn = 0, kh0 = 0, dr0 = 0, kh1 = 0, dr1 = 0;
    if (k == 3) {
      if (odd) { rn = 2; kh0 = 0; dr0 = a + 2; kh1 = 2; dr1 = a + 1; } else { rn = 1; kh0 = 1; dr0 = a + 1; }
    } else if (!odd) { rn = 1; kh0 = 0; dr0 = a + 1; }
    for (let pj = 0; pj < 2; pj++) {
      let cn = 0, kw0 = 0, dc0 = 0, kw1 = 0, dc1 = 0;
      if (k == 3) {
        if (pj) { cn = 2; kw0 = 0; dc0 = 2; kw1 = 2; dc1 = 1; } else { cn = 1; kw0 = 1; dc0 = 1; }
      } else if (!pj) { cn = 1; kw0 = 0; dc0 = 1; }
      const nt = rn * cn;
      // tap t = (row tap t / cn, column tap t % cn): its output-gradient pointer (for b = 0) and kernel slice
      const rowBase = dyp + f((n * Hp) * Wp * K);
      const q0 = rowBase + f((dr0 * Wp + dc0) * K), q1 = rowBase + f((dr0 * Wp + dc1) * K);
      const q2 = rowBase + f((dr1 * Wp + dc0) * K), q3 = rowBase + f((dr1 * Wp + dc1) * K);
      const t0 = k * k - 1 - (kh0 * k + kw0), t1 = k * k - 1 - (kh0 * k + kw1);
      const t2 = k * k - 1 - (kh1 * k + kw0), t3 = k * k - 1 - (kh1 * k + kw1);
      // with one column tap, taps are (row 0, col 0), (row 1, col 0): remap so that slot t is row t / cn
      const P0 = q0, W0 = wt + <usize>t0 * tapBytes;
      const P1 = cn == 2 ? q1 : q2, W1 = wt + <usize>(cn == 2 ? t1 : t2) * tapBytes;
      const P2 = q2, W2 = wt + <usize>t2 * tapBytes;
      const P3 = q3, W3 = wt + <usize>t3 * tapBytes;
      const drow = dx + f(((n * H + i) * W + pj) * C);
      if (nt == 0) {
        if (!acc) for (let b = 0; b < Wb; b++) for (let c = 0; c < C; c += 4) v128.store(drow + <usize>b * px2 + f(c), f32x4.splat(0));
        continue;
      }
      let b = 0;
      for (; b + 4 <= Wb; b += 4) {
        const o = f(b * K);
        let c = 0;
        for (; c + 8 <= C; c += 8) s2_tile_4x8(drow + <usize>b * px2 + f(c), px2, acc, K, C, nt, P0 + o, W0 + f(c), P1 + o, W1 + f(c), P2 + o, W2 + f(c), P3 + o, W3 + f(c), dpx);
        for (; c < C; c += 4) for (let m = 0; m < 4; m++) s2_tile_1x4(drow + <usize>(b + m) * px2 + f(c), acc, K, C, nt, P0 + o + <usize>m * dpx, W0 + f(c), P1 + o + <usize>m * dpx, W1 + f(c), P2 + o + <usize>m * dpx, W2 + f(c), P3 + o + <usize>m * dpx, W3 + f(c));
      }
      for (; b < Wb; b++) {
        const o = f(b * K);
        for (let c = 0; c < C; c += 4) s2_tile_1x4(drow + <usize>b * px2 + f(c), acc, K, C, nt, P0 + o, W0 + f(c), P1 + o, W1 + f(c), P2 + o, W2 + f(c), P3 + o, W3 + f(c));
      }
    }
  }
}
