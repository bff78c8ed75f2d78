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
    {
      // the k taps of a kernel row read k·C consecutive input floats and k·C consecutive weight rows: one loop
      let p = xp + <usize>kh * row;
      let wp = w + f(kh * k * C * K);
      const pe = p + f(k * C);
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
    {
      // the k taps of a kernel row read k·C consecutive input floats and k·C consecutive weight rows: one loop
      let p = xp + <usize>kh * row;
      let wp = w + f(kh * k * C * K);
      const pe = p + f(k * C);
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
    {
      // the k taps of a kernel row read k·C consecutive input floats and k·C consecutive weight rows: one loop
      let p = xp + <usize>kh * row;
      let wp = w + f(kh * k * C * K);
      const pe = p + f(k * C);
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

// ---------------------------------------------------------------------------------------------
// Winograd F(2×2, 3×3) for the stride-1 3×3 convolutions (Lavin & Gray 2016). Each 2×2 block of
// output pixels ("tile") is A^T [(G g G^T) ⊙ (B^T d B)] A, where d is the tile's 4×4 input patch
// and g the 3×3 kernel: 16 products per tile and channel pair instead of 36. Per block of tiles:
// transform the inputs to V [16][T][C], multiply by U [16][C][K] (16 small matrix products), and
// transform back. The weight gradient is the transpose of the same maths: with P = A dY A^T,
// dU[ξ] = Σ_tiles V[ξ]^T P[ξ] and dg = G^T dU G. The input gradient is the forward kernel over the
// padded output gradient, with U taken from the flipped, transposed kernel (wino_weights, flip=1).
// Requires even Ho and Wo (program.ts falls back to the direct kernels otherwise).
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]   A^T = [1 1 1 0; 0 1 -1 -1]

/** Tiles per block in the forward kernel, and in the weight-gradient kernel (more reuse of dU). */
const WT_FWD = 16;
const WT_BWD = 64;

/**
 * Floats between the 16 matrices V[ξ] (or M[ξ], P[ξ]) of T tiles × C channels in scratch: one cache
 * line more than they hold, so that the 16 rows a tile's transform writes do not all fall in one
 * L1 set (a plain T·C·4 bytes is a multiple of 4 KiB for the lab's shapes: conflict misses).
 */
@inline function wstride(T: i32, C: i32): i32 {
  return T * C + 16;
}

/** Bytes of per-thread scratch the Winograd kernels need for C input and K output channels. */
export function wino_scratch_bytes(C: i32, K: i32): i32 {
  return 16 * (wstride(WT_BWD, C) + wstride(WT_BWD, K)) * 4;
}

/** U[ξ][c][k] = (G g G^T)[ξ] for g = w[·][·][c][k]; with flip ≠ 0, U[ξ][k][c] for g = w[2−·][2−·][c][k] (the input-gradient kernel). */
export function wino_weights(w: usize, C: i32, K: i32, flip: i32, U: usize, tid: i32, nth: i32): void {
  const c0 = lo(C, tid, nth), c1 = hi(C, tid, nth);
  for (let c = c0; c < c1; c++) {
    for (let k = 0; k < K; k++) {
      // g[i][j]
      let g00: f32, g01: f32, g02: f32, g10: f32, g11: f32, g12: f32, g20: f32, g21: f32, g22: f32;
      const base = w + f(c * K + k);
      const tap = f(C * K);
      if (flip) {
        g00 = load<f32>(base + 8 * tap); g01 = load<f32>(base + 7 * tap); g02 = load<f32>(base + 6 * tap);
        g10 = load<f32>(base + 5 * tap); g11 = load<f32>(base + 4 * tap); g12 = load<f32>(base + 3 * tap);
        g20 = load<f32>(base + 2 * tap); g21 = load<f32>(base + tap); g22 = load<f32>(base);
      } else {
        g00 = load<f32>(base); g01 = load<f32>(base + tap); g02 = load<f32>(base + 2 * tap);
        g10 = load<f32>(base + 3 * tap); g11 = load<f32>(base + 4 * tap); g12 = load<f32>(base + 5 * tap);
        g20 = load<f32>(base + 6 * tap); g21 = load<f32>(base + 7 * tap); g22 = load<f32>(base + 8 * tap);
      }
      // rows: h = G g (4×3)
      const h00 = g00, h01 = g01, h02 = g02;
      const h10 = <f32>0.5 * (g00 + g10 + g20), h11 = <f32>0.5 * (g01 + g11 + g21), h12 = <f32>0.5 * (g02 + g12 + g22);
      const h20 = <f32>0.5 * (g00 - g10 + g20), h21 = <f32>0.5 * (g01 - g11 + g21), h22 = <f32>0.5 * (g02 - g12 + g22);
      const h30 = g20, h31 = g21, h32 = g22;
      // columns: u = h G^T (4×4); store at ξ = 4·i + j
      const stride = f(C * K);
      const at = U + (flip ? f(k * C + c) : f(c * K + k));
      store<f32>(at + 0 * stride, h00); store<f32>(at + 1 * stride, <f32>0.5 * (h00 + h01 + h02));
      store<f32>(at + 2 * stride, <f32>0.5 * (h00 - h01 + h02)); store<f32>(at + 3 * stride, h02);
      store<f32>(at + 4 * stride, h10); store<f32>(at + 5 * stride, <f32>0.5 * (h10 + h11 + h12));
      store<f32>(at + 6 * stride, <f32>0.5 * (h10 - h11 + h12)); store<f32>(at + 7 * stride, h12);
      store<f32>(at + 8 * stride, h20); store<f32>(at + 9 * stride, <f32>0.5 * (h20 + h21 + h22));
      store<f32>(at + 10 * stride, <f32>0.5 * (h20 - h21 + h22)); store<f32>(at + 11 * stride, h22);
      store<f32>(at + 12 * stride, h30); store<f32>(at + 13 * stride, <f32>0.5 * (h30 + h31 + h32));
      store<f32>(at + 14 * stride, <f32>0.5 * (h30 - h31 + h32)); store<f32>(at + 15 * stride, h32);
    }
  }
}

/**
 * The tile at linear index t (over image, tile row, tile column), for tiles m pixels apart: the byte
 * offset of its top-left pixel in an [N][H][W][C] tensor at `base` (its input patch in the padded
 * input, or its output block in y or dy).
 */
@inline function tile_at(base: usize, t: i32, H: i32, W: i32, C: i32, m: i32, tilesW: i32, tilesPerImage: i32): usize {
  const n = t / tilesPerImage, r = t % tilesPerImage;
  const th = r / tilesW, tw = r % tilesW;
  return base + f(((n * H + m * th) * W + m * tw) * C);
}

/** V[ξ][tl][c] = (B^T d B)[ξ] for the tiles t0..t0+T of xp (T tiles, C channels). */
@inline function wino_input_transform(xp: usize, Hp: i32, Wp: i32, C: i32, t0: i32, T: i32, tilesW: i32, tilesPerImage: i32, V: usize, TS: i32): void {
  const row = f(Wp * C), px = f(C), xs = f(wstride(TS, C));
  for (let tl = 0; tl < T; tl++) {
    const p = tile_at(xp, t0 + tl, Hp, Wp, C, 2, tilesW, tilesPerImage);
    const vo = V + f(tl * C);
    for (let cb = 0; cb < C; cb += 4) {
      const q = p + f(cb);
      // e = B^T d, column by column (rows of d at q, q+row, …)
      const r0 = q, r1 = q + row, r2 = q + 2 * row, r3 = q + 3 * row;
      const e00 = f32x4.sub(v128.load(r0), v128.load(r2)), e01 = f32x4.sub(v128.load(r0 + px), v128.load(r2 + px));
      const e02 = f32x4.sub(v128.load(r0 + 2 * px), v128.load(r2 + 2 * px)), e03 = f32x4.sub(v128.load(r0 + 3 * px), v128.load(r2 + 3 * px));
      const e10 = f32x4.add(v128.load(r1), v128.load(r2)), e11 = f32x4.add(v128.load(r1 + px), v128.load(r2 + px));
      const e12 = f32x4.add(v128.load(r1 + 2 * px), v128.load(r2 + 2 * px)), e13 = f32x4.add(v128.load(r1 + 3 * px), v128.load(r2 + 3 * px));
      const e20 = f32x4.sub(v128.load(r2), v128.load(r1)), e21 = f32x4.sub(v128.load(r2 + px), v128.load(r1 + px));
      const e22 = f32x4.sub(v128.load(r2 + 2 * px), v128.load(r1 + 2 * px)), e23 = f32x4.sub(v128.load(r2 + 3 * px), v128.load(r1 + 3 * px));
      const e30 = f32x4.sub(v128.load(r1), v128.load(r3)), e31 = f32x4.sub(v128.load(r1 + px), v128.load(r3 + px));
      const e32 = f32x4.sub(v128.load(r1 + 2 * px), v128.load(r3 + 2 * px)), e33 = f32x4.sub(v128.load(r1 + 3 * px), v128.load(r3 + 3 * px));
      // v = e B, row by row; ξ = 4·i + j
      const o = vo + f(cb);
      v128.store(o, f32x4.sub(e00, e02)); v128.store(o + xs, f32x4.add(e01, e02));
      v128.store(o + 2 * xs, f32x4.sub(e02, e01)); v128.store(o + 3 * xs, f32x4.sub(e01, e03));
      v128.store(o + 4 * xs, f32x4.sub(e10, e12)); v128.store(o + 5 * xs, f32x4.add(e11, e12));
      v128.store(o + 6 * xs, f32x4.sub(e12, e11)); v128.store(o + 7 * xs, f32x4.sub(e11, e13));
      v128.store(o + 8 * xs, f32x4.sub(e20, e22)); v128.store(o + 9 * xs, f32x4.add(e21, e22));
      v128.store(o + 10 * xs, f32x4.sub(e22, e21)); v128.store(o + 11 * xs, f32x4.sub(e21, e23));
      v128.store(o + 12 * xs, f32x4.sub(e30, e32)); v128.store(o + 13 * xs, f32x4.add(e31, e32));
      v128.store(o + 14 * xs, f32x4.sub(e32, e31)); v128.store(o + 15 * xs, f32x4.sub(e31, e33));
    }
  }
}

/**
 * Forward: y (+)= conv3×3(xp, g) at stride 1 for the N·(Ho/2)·(Wo/2) tiles, split by blocks of
 * tiles across threads. U from wino_weights; scratch + tid·sstride holds the thread's V and M.
 */
export function wino_fwd(
  xp: usize, Hp: i32, Wp: i32, C: i32, U: usize, y: usize, N: i32, Ho: i32, Wo: i32, K: i32, acc: i32,
  scratch: usize, sstride: i32, tid: i32, nth: i32,
): void {
  const tilesW = Wo >> 1, tilesPerImage = (Ho >> 1) * tilesW;
  const tiles = N * tilesPerImage;
  const blocks = (tiles + WT_FWD - 1) / WT_FWD;
  const b0 = lo(blocks, tid, nth), b1 = hi(blocks, tid, nth);
  const V = scratch + <usize>tid * <usize>sstride;
  const Mm = V + f(16 * wstride(WT_FWD, C));
  const ks = f(K), cs = f(C);
  for (let b = b0; b < b1; b++) {
    const t0 = b * WT_FWD, T = min(WT_FWD, tiles - t0);
    wino_input_transform(xp, Hp, Wp, C, t0, T, tilesW, tilesPerImage, V, WT_FWD);
    // M[ξ] (T×K) = V[ξ] (T×C) · U[ξ] (C×K)
    for (let xi = 0; xi < 16; xi++) {
      const Vx = V + f(xi * wstride(WT_FWD, C)), Ux = U + f(xi * C * K), Mx = Mm + f(xi * wstride(WT_FWD, K));
      let tl = 0;
      for (; tl + 4 <= T; tl += 4) {
        const vq = Vx + f(tl * C);
        let co = 0;
        for (; co + 8 <= K; co += 8) conv_tile_4x8(vq, cs, 0, C, Ux + f(co), 1, K, Mx + f(tl * K + co), 0);
        if (co < K) conv_tile_4x4(vq, cs, 0, C, Ux + f(co), 1, K, Mx + f(tl * K + co), 0);
      }
      for (; tl < T; tl++) {
        for (let co = 0; co < K; co += 4) conv_tile_1x4(Vx + f(tl * C), 0, C, Ux + f(co), 1, K, Mx + f(tl * K + co), 0);
      }
    }
    // y = A^T m A per tile
    const ms = f(wstride(WT_FWD, K));
    const yrow = f(Wo * K);
    for (let tl = 0; tl < T; tl++) {
      const yo = tile_at(y, t0 + tl, Ho, Wo, K, 2, tilesW, tilesPerImage);
      for (let kb = 0; kb < K; kb += 4) {
        const m = Mm + f(tl * K + kb);
        // s = A^T m (2×4): s0 = m0 + m1 + m2, s1 = m1 − m2 − m3 (rows of m)
        const m0 = v128.load(m), m1 = v128.load(m + ms), m2 = v128.load(m + 2 * ms), m3 = v128.load(m + 3 * ms);
        const m4 = v128.load(m + 4 * ms), m5 = v128.load(m + 5 * ms), m6 = v128.load(m + 6 * ms), m7 = v128.load(m + 7 * ms);
        const m8 = v128.load(m + 8 * ms), m9 = v128.load(m + 9 * ms), m10 = v128.load(m + 10 * ms), m11 = v128.load(m + 11 * ms);
        const m12 = v128.load(m + 12 * ms), m13 = v128.load(m + 13 * ms), m14 = v128.load(m + 14 * ms), m15 = v128.load(m + 15 * ms);
        const s00 = f32x4.add(f32x4.add(m0, m4), m8), s01 = f32x4.add(f32x4.add(m1, m5), m9);
        const s02 = f32x4.add(f32x4.add(m2, m6), m10), s03 = f32x4.add(f32x4.add(m3, m7), m11);
        const s10 = f32x4.sub(f32x4.sub(m4, m8), m12), s11 = f32x4.sub(f32x4.sub(m5, m9), m13);
        const s12 = f32x4.sub(f32x4.sub(m6, m10), m14), s13 = f32x4.sub(f32x4.sub(m7, m11), m15);
        let y00 = f32x4.add(f32x4.add(s00, s01), s02), y01 = f32x4.sub(f32x4.sub(s01, s02), s03);
        let y10 = f32x4.add(f32x4.add(s10, s11), s12), y11 = f32x4.sub(f32x4.sub(s11, s12), s13);
        const o = yo + f(kb);
        if (acc) {
          y00 = f32x4.add(y00, v128.load(o)); y01 = f32x4.add(y01, v128.load(o + ks));
          y10 = f32x4.add(y10, v128.load(o + yrow)); y11 = f32x4.add(y11, v128.load(o + yrow + ks));
        }
        v128.store(o, y00); v128.store(o + ks, y01);
        v128.store(o + yrow, y10); v128.store(o + yrow + ks, y11);
      }
    }
  }
}

/** Dx (C×K) += Vx^T · Px over T tiles: Vx holds C floats per tile, Px K per tile; 4 channels × 8 outputs in registers. */
@inline function gemm_tn_acc(Vx: usize, Px: usize, Dx: usize, C: i32, K: i32, T: i32): void {
  const ks = f(K), vs = f(C);
  for (let c0 = 0; c0 < C; c0 += 4) {
    const dwt = Dx + f(c0 * K);
    let co = 0;
    for (; co + 8 <= K; co += 8) {
      const dd = dwt + f(co);
      let a00 = v128.load(dd), a01 = v128.load(dd, 16);
      let a10 = v128.load(dd + ks), a11 = v128.load(dd + ks, 16);
      let a20 = v128.load(dd + 2 * ks), a21 = v128.load(dd + 2 * ks, 16);
      let a30 = v128.load(dd + 3 * ks), a31 = v128.load(dd + 3 * ks, 16);
      let xq = Vx + f(c0), dq = Px + f(co);
      for (let tl = 0; tl < T; tl++) {
        const d0 = v128.load(dq), d1 = v128.load(dq, 16);
        let bb = splat(xq);
        a00 = fma(bb, d0, a00); a01 = fma(bb, d1, a01);
        bb = splat(xq + 4);
        a10 = fma(bb, d0, a10); a11 = fma(bb, d1, a11);
        bb = splat(xq + 8);
        a20 = fma(bb, d0, a20); a21 = fma(bb, d1, a21);
        bb = splat(xq + 12);
        a30 = fma(bb, d0, a30); a31 = fma(bb, d1, a31);
        xq += vs;
        dq += ks;
      }
      v128.store(dd, a00); v128.store(dd, a01, 16);
      v128.store(dd + ks, a10); v128.store(dd + ks, a11, 16);
      v128.store(dd + 2 * ks, a20); v128.store(dd + 2 * ks, a21, 16);
      v128.store(dd + 3 * ks, a30); v128.store(dd + 3 * ks, a31, 16);
    }
    if (co < K) {
      const dd = dwt + f(co);
      let a0 = v128.load(dd), a1 = v128.load(dd + ks), a2 = v128.load(dd + 2 * ks), a3 = v128.load(dd + 3 * ks);
      let xq = Vx + f(c0), dq = Px + f(co);
      for (let tl = 0; tl < T; tl++) {
        const d0 = v128.load(dq);
        a0 = fma(splat(xq), d0, a0);
        a1 = fma(splat(xq + 4), d0, a1);
        a2 = fma(splat(xq + 8), d0, a2);
        a3 = fma(splat(xq + 12), d0, a3);
        xq += vs;
        dq += ks;
      }
      v128.store(dd, a0); v128.store(dd + ks, a1); v128.store(dd + 2 * ks, a2); v128.store(dd + 3 * ks, a3);
    }
  }
}

/**
 * Weight gradient, first half: this thread's partial dU[ξ][c][k] = Σ_tiles V[ξ][t][c]·P[ξ][t][k]
 * over its blocks of tiles, with P = A dy A^T, into dU + tid·16·C·K floats. wino_filter_finish sums
 * the nth partials and maps them back to 3×3.
 */
export function wino_bwd_filter(
  xp: usize, Hp: i32, Wp: i32, C: i32, dy: usize, N: i32, Ho: i32, Wo: i32, K: i32,
  dU: usize, scratch: usize, sstride: i32, tid: i32, nth: i32,
): void {
  const tilesW = Wo >> 1, tilesPerImage = (Ho >> 1) * tilesW;
  const tiles = N * tilesPerImage;
  const blocks = (tiles + WT_BWD - 1) / WT_BWD;
  const b0 = lo(blocks, tid, nth), b1 = hi(blocks, tid, nth);
  const part = dU + f(tid * 16 * C * K);
  const z = f32x4.splat(0);
  for (let q: usize = 0; q < f(16 * C * K); q += 16) v128.store(part + q, z);
  const V = scratch + <usize>tid * <usize>sstride;
  const P = V + f(16 * wstride(WT_BWD, C));
  const ks = f(K), ps = f(wstride(WT_BWD, K)), yrow = f(Wo * K);
  for (let b = b0; b < b1; b++) {
    const t0 = b * WT_BWD, T = min(WT_BWD, tiles - t0);
    wino_input_transform(xp, Hp, Wp, C, t0, T, tilesW, tilesPerImage, V, WT_BWD);
    // P = A dy A^T per tile: rows r = [a, a+b, a−b, −b] of the 2×2 dy, then the same on columns
    for (let tl = 0; tl < T; tl++) {
      const d = tile_at(dy, t0 + tl, Ho, Wo, K, 2, tilesW, tilesPerImage);
      const o = P + f(tl * K);
      for (let kb = 0; kb < K; kb += 4) {
        const a0 = v128.load(d + f(kb)), a1 = v128.load(d + ks + f(kb));
        const c0 = v128.load(d + yrow + f(kb)), c1 = v128.load(d + yrow + ks + f(kb));
        // rows of A dy (4×2)
        const q00 = a0, q01 = a1;
        const q10 = f32x4.add(a0, c0), q11 = f32x4.add(a1, c1);
        const q20 = f32x4.sub(a0, c0), q21 = f32x4.sub(a1, c1);
        const q30 = f32x4.neg(c0), q31 = f32x4.neg(c1);
        const ob = o + f(kb);
        v128.store(ob, q00); v128.store(ob + ps, f32x4.add(q00, q01)); v128.store(ob + 2 * ps, f32x4.sub(q00, q01)); v128.store(ob + 3 * ps, f32x4.neg(q01));
        v128.store(ob + 4 * ps, q10); v128.store(ob + 5 * ps, f32x4.add(q10, q11)); v128.store(ob + 6 * ps, f32x4.sub(q10, q11)); v128.store(ob + 7 * ps, f32x4.neg(q11));
        v128.store(ob + 8 * ps, q20); v128.store(ob + 9 * ps, f32x4.add(q20, q21)); v128.store(ob + 10 * ps, f32x4.sub(q20, q21)); v128.store(ob + 11 * ps, f32x4.neg(q21));
        v128.store(ob + 12 * ps, q30); v128.store(ob + 13 * ps, f32x4.add(q30, q31)); v128.store(ob + 14 * ps, f32x4.sub(q30, q31)); v128.store(ob + 15 * ps, f32x4.neg(q31));
      }
    }
    // dU[ξ] (C×K) += V[ξ]^T (C×T) · P[ξ] (T×K)
    for (let xi = 0; xi < 16; xi++) gemm_tn_acc(V + f(xi * wstride(WT_BWD, C)), P + f(xi * wstride(WT_BWD, K)), part + f(xi * C * K), C, K, T);
  }
}

/** Weight gradient, second half: dw[i][j][c][k] = (G^T (Σ_threads dU) G)[i][j], split by input channel. */
export function wino_filter_finish(dU: usize, parts: i32, C: i32, K: i32, dw: usize, tid: i32, nth: i32): void {
  const c0 = lo(C, tid, nth), c1 = hi(C, tid, nth);
  const stride = f(C * K), partBytes = f(16 * C * K), tap = f(C * K);
  const half = f32x4.splat(0.5);
  for (let c = c0; c < c1; c++) {
    for (let k = 0; k < K; k += 4) {
      const at = dU + f(c * K + k);
      // p[ξ] summed over the parts
      let p0 = v128.load(at), p1 = v128.load(at + stride), p2 = v128.load(at + 2 * stride), p3 = v128.load(at + 3 * stride);
      let p4 = v128.load(at + 4 * stride), p5 = v128.load(at + 5 * stride), p6 = v128.load(at + 6 * stride), p7 = v128.load(at + 7 * stride);
      let p8 = v128.load(at + 8 * stride), p9 = v128.load(at + 9 * stride), p10 = v128.load(at + 10 * stride), p11 = v128.load(at + 11 * stride);
      let p12 = v128.load(at + 12 * stride), p13 = v128.load(at + 13 * stride), p14 = v128.load(at + 14 * stride), p15 = v128.load(at + 15 * stride);
      for (let t = 1; t < parts; t++) {
        const a = at + <usize>t * partBytes;
        p0 = f32x4.add(p0, v128.load(a)); p1 = f32x4.add(p1, v128.load(a + stride));
        p2 = f32x4.add(p2, v128.load(a + 2 * stride)); p3 = f32x4.add(p3, v128.load(a + 3 * stride));
        p4 = f32x4.add(p4, v128.load(a + 4 * stride)); p5 = f32x4.add(p5, v128.load(a + 5 * stride));
        p6 = f32x4.add(p6, v128.load(a + 6 * stride)); p7 = f32x4.add(p7, v128.load(a + 7 * stride));
        p8 = f32x4.add(p8, v128.load(a + 8 * stride)); p9 = f32x4.add(p9, v128.load(a + 9 * stride));
        p10 = f32x4.add(p10, v128.load(a + 10 * stride)); p11 = f32x4.add(p11, v128.load(a + 11 * stride));
        p12 = f32x4.add(p12, v128.load(a + 12 * stride)); p13 = f32x4.add(p13, v128.load(a + 13 * stride));
        p14 = f32x4.add(p14, v128.load(a + 14 * stride)); p15 = f32x4.add(p15, v128.load(a + 15 * stride));
      }
      // q = G^T p (3×4): q0 = p0 + ½(p1 + p2), q1 = ½(p1 − p2), q2 = ½(p1 + p2) + p3, over rows of p
      const r1a = f32x4.mul(half, f32x4.add(p4, p8)), r1b = f32x4.mul(half, f32x4.add(p5, p9));
      const r1c = f32x4.mul(half, f32x4.add(p6, p10)), r1d = f32x4.mul(half, f32x4.add(p7, p11));
      const q00 = f32x4.add(p0, r1a), q01 = f32x4.add(p1, r1b), q02 = f32x4.add(p2, r1c), q03 = f32x4.add(p3, r1d);
      const q10 = f32x4.mul(half, f32x4.sub(p4, p8)), q11 = f32x4.mul(half, f32x4.sub(p5, p9));
      const q12 = f32x4.mul(half, f32x4.sub(p6, p10)), q13 = f32x4.mul(half, f32x4.sub(p7, p11));
      const q20 = f32x4.add(r1a, p12), q21 = f32x4.add(r1b, p13), q22 = f32x4.add(r1c, p14), q23 = f32x4.add(r1d, p15);
      // dw = q G (3×3), the same on columns
      const o = dw + f(c * K + k);
      let h = f32x4.mul(half, f32x4.add(q01, q02));
      v128.store(o, f32x4.add(q00, h)); v128.store(o + tap, f32x4.mul(half, f32x4.sub(q01, q02))); v128.store(o + 2 * tap, f32x4.add(h, q03));
      h = f32x4.mul(half, f32x4.add(q11, q12));
      v128.store(o + 3 * tap, f32x4.add(q10, h)); v128.store(o + 4 * tap, f32x4.mul(half, f32x4.sub(q11, q12))); v128.store(o + 5 * tap, f32x4.add(h, q13));
      h = f32x4.mul(half, f32x4.add(q21, q22));
      v128.store(o + 6 * tap, f32x4.add(q20, h)); v128.store(o + 7 * tap, f32x4.mul(half, f32x4.sub(q21, q22))); v128.store(o + 8 * tap, f32x4.add(h, q23));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Winograd F(4×4, 3×3): 4×4 output tiles from 6×6 input patches, 36 products per tile and channel
// pair instead of 144 (direct) or 64 (four F(2×2) tiles); the transforms cost more per tile, so
// it pays where the channel counts are large (program.ts's rule). Same structure as F(2×2) above.
// Each 2-D transform is a 1-D transform down the columns into a small per-thread buffer, then
// along its rows. Requires Ho and Wo divisible by 4.
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G = [¼ 0 0; -⅙ -⅙ -⅙; -⅙ ⅙ -⅙; 1/24 1/12 ⅙; 1/24 -1/12 ⅙; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]

const W4_FWD = 16;
const W4_BWD = 32;

/** Bytes of per-thread scratch the F(4×4) kernels need for C input and K output channels. */
export function wino4_scratch_bytes(C: i32, K: i32): i32 {
  return (36 * (wstride(W4_BWD, C) + wstride(W4_BWD, K)) + 36 * 4) * 4;
}

/** 6 vectors at src + i·ss → B^T·d, 6 vectors at dst + i·ds. */
@inline function bt6(src: usize, ss: usize, dst: usize, ds: usize): void {
  const d0 = v128.load(src), d1 = v128.load(src + ss), d2 = v128.load(src + 2 * ss);
  const d3 = v128.load(src + 3 * ss), d4 = v128.load(src + 4 * ss), d5 = v128.load(src + 5 * ss);
  const four = f32x4.splat(4), five = f32x4.splat(-5), two = f32x4.splat(2), m4 = f32x4.splat(-4);
  const t0 = fma(m4, d2, d4), t1 = fma(m4, d1, d3);
  const t2 = f32x4.sub(d4, d2), t3 = f32x4.mul(two, f32x4.sub(d3, d1));
  v128.store(dst, fma(four, d0, fma(five, d2, d4)));
  v128.store(dst + ds, f32x4.add(t0, t1));
  v128.store(dst + 2 * ds, f32x4.sub(t0, t1));
  v128.store(dst + 3 * ds, f32x4.add(t2, t3));
  v128.store(dst + 4 * ds, f32x4.sub(t2, t3));
  v128.store(dst + 5 * ds, fma(four, d1, fma(five, d3, d5)));
}

/** 6 vectors at src + i·ss → A^T·m, 4 vectors at dst + i·ds. */
@inline function at6(src: usize, ss: usize, dst: usize, ds: usize): void {
  const m0 = v128.load(src), m1 = v128.load(src + ss), m2 = v128.load(src + 2 * ss);
  const m3 = v128.load(src + 3 * ss), m4 = v128.load(src + 4 * ss), m5 = v128.load(src + 5 * ss);
  const a = f32x4.add(m1, m2), b = f32x4.sub(m1, m2), c = f32x4.add(m3, m4), d = f32x4.sub(m3, m4);
  v128.store(dst, f32x4.add(f32x4.add(m0, a), c));
  v128.store(dst + ds, fma(f32x4.splat(2), d, b));
  v128.store(dst + 2 * ds, fma(f32x4.splat(4), c, a));
  v128.store(dst + 3 * ds, f32x4.add(fma(f32x4.splat(8), d, b), m5));
}

/** 4 vectors at src + i·ss → A·x (6 vectors) at dst + i·ds: the adjoint of at6. */
@inline function a4(src: usize, ss: usize, dst: usize, ds: usize): void {
  const x0 = v128.load(src), x1 = v128.load(src + ss), x2 = v128.load(src + 2 * ss), x3 = v128.load(src + 3 * ss);
  const e = f32x4.add(x0, x2), o = f32x4.add(x1, x3);
  const e4 = fma(f32x4.splat(4), x2, x0), o4 = fma(f32x4.splat(2), x1, f32x4.mul(f32x4.splat(8), x3));
  v128.store(dst, x0);
  v128.store(dst + ds, f32x4.add(e, o));
  v128.store(dst + 2 * ds, f32x4.sub(e, o));
  v128.store(dst + 3 * ds, f32x4.add(e4, o4));
  v128.store(dst + 4 * ds, f32x4.sub(e4, o4));
  v128.store(dst + 5 * ds, x3);
}

/** 6 vectors at src + i·ss → G^T·p (3 vectors) at dst + i·ds: the adjoint of G. */
@inline function gt6(src: usize, ss: usize, dst: usize, ds: usize): void {
  const p0 = v128.load(src), p1 = v128.load(src + ss), p2 = v128.load(src + 2 * ss);
  const p3 = v128.load(src + 3 * ss), p4 = v128.load(src + 4 * ss), p5 = v128.load(src + 5 * ss);
  const s12 = f32x4.add(p1, p2), d12 = f32x4.sub(p2, p1), s34 = f32x4.add(p3, p4), d34 = f32x4.sub(p3, p4);
  const sixth = f32x4.splat(<f32>1 / 6), twelfth = f32x4.splat(<f32>1 / 12), m24 = f32x4.splat(<f32>1 / 24);
  v128.store(dst, fma(f32x4.splat(0.25), p0, fma(m24, s34, f32x4.mul(f32x4.neg(sixth), s12))));
  v128.store(dst + ds, fma(sixth, d12, f32x4.mul(twelfth, d34)));
  v128.store(dst + 2 * ds, fma(sixth, f32x4.sub(s34, s12), p5));
}

/** 3 vectors at src + i·ss → G·g (6 vectors) at dst + i·ds. */
@inline function g3(src: usize, ss: usize, dst: usize, ds: usize): void {
  const g0 = v128.load(src), g1 = v128.load(src + ss), g2 = v128.load(src + 2 * ss);
  const s02 = f32x4.add(g0, g2);
  const m6 = f32x4.splat(<f32>-1 / 6);
  const e = fma(f32x4.splat(<f32>1 / 24), g0, f32x4.mul(f32x4.splat(<f32>1 / 6), g2)), o = f32x4.mul(f32x4.splat(<f32>1 / 12), g1);
  v128.store(dst, f32x4.mul(f32x4.splat(0.25), g0));
  v128.store(dst + ds, f32x4.mul(m6, f32x4.add(s02, g1)));
  v128.store(dst + 2 * ds, f32x4.mul(m6, f32x4.sub(s02, g1)));
  v128.store(dst + 3 * ds, f32x4.add(e, o));
  v128.store(dst + 4 * ds, f32x4.sub(e, o));
  v128.store(dst + 5 * ds, g2);
}

/**
 * U[ξ][c][k] = (G g G^T)[ξ], ξ = 6i + j, four output channels at a time; with flip ≠ 0, U[ξ][k][c]
 * of the flipped kernel (as wino_weights). scratch + tid·sstride holds the 3×3 and 6×3 vectors.
 */
export function wino4_weights(w: usize, C: i32, K: i32, flip: i32, U: usize, scratch: usize, sstride: i32, tid: i32, nth: i32): void {
  const c0 = lo(C, tid, nth), c1 = hi(C, tid, nth);
  const tap = f(C * K), stride = f(C * K);
  const g = scratch + <usize>tid * <usize>sstride; // 9 vectors: the taps in (flipped) order
  const h = g + 144; // 18 vectors: G g, [i][j]
  const u = h + 288; // 36 vectors: h G^T, [ξ]
  for (let c = c0; c < c1; c++) {
    for (let k = 0; k < K; k += 4) {
      const base = w + f(c * K + k);
      for (let t = 0; t < 9; t++) v128.store(g + (<usize>t << 4), v128.load(base + <usize>(flip ? 8 - t : t) * tap));
      for (let j = 0; j < 3; j++) g3(g + (<usize>j << 4), 48, h + (<usize>j << 4), 48);
      for (let i = 0; i < 6; i++) g3(h + <usize>i * 48, 16, u + <usize>i * 96, 16);
      if (!flip) {
        const out = U + f(c * K + k);
        for (let xi = 0; xi < 36; xi++) v128.store(out + <usize>xi * stride, v128.load(u + (<usize>xi << 4)));
      } else {
        for (let xi = 0; xi < 36; xi++) {
          const v = u + (<usize>xi << 4), out = U + <usize>xi * stride + f(k * C + c);
          store<f32>(out, load<f32>(v));
          store<f32>(out + f(C), load<f32>(v + 4));
          store<f32>(out + f(2 * C), load<f32>(v + 8));
          store<f32>(out + f(3 * C), load<f32>(v + 12));
        }
      }
    }
  }
}

/** V[ξ][tl][c] = (B^T d B)[ξ] for the tiles t0..t0+T (6×6 patches at stride 4). */
@inline function wino4_input_transform(xp: usize, Hp: i32, Wp: i32, C: i32, t0: i32, T: i32, tilesW: i32, tilesPerImage: i32, V: usize, TS: i32, tmp: usize): void {
  const row = f(Wp * C), px = f(C), xs = f(wstride(TS, C));
  for (let tl = 0; tl < T; tl++) {
    const p = tile_at(xp, t0 + tl, Hp, Wp, C, 4, tilesW, tilesPerImage);
    const vo = V + f(tl * C);
    for (let cb = 0; cb < C; cb += 4) {
      const q = p + f(cb);
      // columns: tmp[i][j] = (B^T d)[i][j]
      for (let j = 0; j < 6; j++) bt6(q + <usize>j * px, row, tmp + (<usize>j << 4), 96);
      // rows: V[6i + j] = (tmp B)[i][j]
      for (let i = 0; i < 6; i++) bt6(tmp + <usize>i * 96, 16, vo + f(cb) + <usize>(6 * i) * xs, xs);
    }
  }
}

/** Forward with F(4×4, 3×3): y (+)= conv3×3(xp, g) at stride 1; U from wino4_weights. */
export function wino4_fwd(
  xp: usize, Hp: i32, Wp: i32, C: i32, U: usize, y: usize, N: i32, Ho: i32, Wo: i32, K: i32, acc: i32,
  scratch: usize, sstride: i32, tid: i32, nth: i32,
): void {
  const tilesW = Wo >> 2, tilesPerImage = (Ho >> 2) * tilesW;
  const tiles = N * tilesPerImage;
  const blocks = (tiles + W4_FWD - 1) / W4_FWD;
  const b0 = lo(blocks, tid, nth), b1 = hi(blocks, tid, nth);
  const V = scratch + <usize>tid * <usize>sstride;
  const Mm = V + f(36 * wstride(W4_FWD, C));
  const tmp = Mm + f(36 * wstride(W4_FWD, K));
  const ks = f(K), cs = f(C), ms = f(wstride(W4_FWD, K)), yrow = f(Wo * K);
  for (let b = b0; b < b1; b++) {
    const t0 = b * W4_FWD, T = min(W4_FWD, tiles - t0);
    wino4_input_transform(xp, Hp, Wp, C, t0, T, tilesW, tilesPerImage, V, W4_FWD, tmp);
    for (let xi = 0; xi < 36; xi++) {
      const Vx = V + f(xi * wstride(W4_FWD, C)), Ux = U + f(xi * C * K), Mx = Mm + f(xi * wstride(W4_FWD, K));
      let tl = 0;
      for (; tl + 4 <= T; tl += 4) {
        const vq = Vx + f(tl * C);
        let co = 0;
        for (; co + 8 <= K; co += 8) conv_tile_4x8(vq, cs, 0, C, Ux + f(co), 1, K, Mx + f(tl * K + co), 0);
        if (co < K) conv_tile_4x4(vq, cs, 0, C, Ux + f(co), 1, K, Mx + f(tl * K + co), 0);
      }
      for (; tl < T; tl++) {
        for (let co = 0; co < K; co += 4) conv_tile_1x4(Vx + f(tl * C), 0, C, Ux + f(co), 1, K, Mx + f(tl * K + co), 0);
      }
    }
    for (let tl = 0; tl < T; tl++) {
      const yo = tile_at(y, t0 + tl, Ho, Wo, K, 4, tilesW, tilesPerImage);
      for (let kb = 0; kb < K; kb += 4) {
        const m = Mm + f(tl * K + kb);
        // columns: tmp[a][j] = (A^T m)[a][j] (4×6), then rows: y[a][b] = (tmp A)[a][b]
        for (let j = 0; j < 6; j++) at6(m + <usize>j * ms, 6 * ms, tmp + (<usize>j << 4), 96);
        for (let a = 0; a < 4; a++) {
          const o = yo + <usize>a * yrow + f(kb);
          if (acc) {
            at6(tmp + <usize>a * 96, 16, tmp + 384 + 96, 16);
            const s = tmp + 384 + 96;
            v128.store(o, f32x4.add(v128.load(o), v128.load(s)));
            v128.store(o + ks, f32x4.add(v128.load(o + ks), v128.load(s + 16)));
            v128.store(o + 2 * ks, f32x4.add(v128.load(o + 2 * ks), v128.load(s + 32)));
            v128.store(o + 3 * ks, f32x4.add(v128.load(o + 3 * ks), v128.load(s + 48)));
          } else {
            at6(tmp + <usize>a * 96, 16, o, ks);
          }
        }
      }
    }
  }
}

/** Weight gradient with F(4×4, 3×3), first half: this thread's partial dU[ξ][c][k] (36 of them), as wino_bwd_filter. */
export function wino4_bwd_filter(
  xp: usize, Hp: i32, Wp: i32, C: i32, dy: usize, N: i32, Ho: i32, Wo: i32, K: i32,
  dU: usize, scratch: usize, sstride: i32, tid: i32, nth: i32,
): void {
  const tilesW = Wo >> 2, tilesPerImage = (Ho >> 2) * tilesW;
  const tiles = N * tilesPerImage;
  const blocks = (tiles + W4_BWD - 1) / W4_BWD;
  const b0 = lo(blocks, tid, nth), b1 = hi(blocks, tid, nth);
  const part = dU + f(tid * 36 * C * K);
  const z = f32x4.splat(0);
  for (let q: usize = 0; q < f(36 * C * K); q += 16) v128.store(part + q, z);
  const V = scratch + <usize>tid * <usize>sstride;
  const P = V + f(36 * wstride(W4_BWD, C));
  const tmp = P + f(36 * wstride(W4_BWD, K));
  const ks = f(K), ps = f(wstride(W4_BWD, K)), yrow = f(Wo * K);
  for (let b = b0; b < b1; b++) {
    const t0 = b * W4_BWD, T = min(W4_BWD, tiles - t0);
    wino4_input_transform(xp, Hp, Wp, C, t0, T, tilesW, tilesPerImage, V, W4_BWD, tmp);
    for (let tl = 0; tl < T; tl++) {
      const d = tile_at(dy, t0 + tl, Ho, Wo, K, 4, tilesW, tilesPerImage);
      for (let kb = 0; kb < K; kb += 4) {
        // columns: tmp[i][b] = (A dy)[i][b] (6×4), then rows: P[6i + j] = (tmp A^T)[i][j]
        for (let bb = 0; bb < 4; bb++) a4(d + f(kb) + <usize>bb * ks, yrow, tmp + (<usize>bb << 4), 64);
        for (let i = 0; i < 6; i++) a4(tmp + <usize>i * 64, 16, P + f(tl * K + kb) + <usize>(6 * i) * ps, ps);
      }
    }
    for (let xi = 0; xi < 36; xi++) gemm_tn_acc(V + f(xi * wstride(W4_BWD, C)), P + f(xi * wstride(W4_BWD, K)), part + f(xi * C * K), C, K, T);
  }
}

/** Weight gradient with F(4×4, 3×3), second half: dw = G^T (Σ_threads dU) G, split by input channel. */
export function wino4_filter_finish(dU: usize, parts: i32, C: i32, K: i32, dw: usize, scratch: usize, sstride: i32, tid: i32, nth: i32): void {
  const c0 = lo(C, tid, nth), c1 = hi(C, tid, nth);
  const stride = f(C * K), partBytes = f(36 * C * K), tap = f(C * K);
  const sum = scratch + <usize>tid * <usize>sstride; // 36 vectors
  const tmp = sum + 576; // 18 vectors
  for (let c = c0; c < c1; c++) {
    for (let k = 0; k < K; k += 4) {
      const at = dU + f(c * K + k);
      for (let xi = 0; xi < 36; xi++) {
        let v = v128.load(at + <usize>xi * stride);
        for (let t = 1; t < parts; t++) v = f32x4.add(v, v128.load(at + <usize>t * partBytes + <usize>xi * stride));
        v128.store(sum + (<usize>xi << 4), v);
      }
      // columns: tmp[a][j] = (G^T p)[a][j] (3×6), then rows: dw[a][b] = (tmp G)[a][b]
      for (let j = 0; j < 6; j++) gt6(sum + (<usize>j << 4), 96, tmp + (<usize>j << 4), 96);
      const o = dw + f(c * K + k);
      for (let a = 0; a < 3; a++) gt6(tmp + <usize>a * 96, 16, o + <usize>(3 * a) * tap, tap);
    }
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

/** Option A: y[n,i,j,c] = x[n,s·i,s·j,c] for c < C, 0 for C ≤ c < K (§3.3: zero-padded, no parameters); s is 1 or 2. */
export function subsample_pad(x: usize, N: i32, H: i32, W: i32, C: i32, K: i32, s: i32, y: usize, tid: i32, nth: i32): void {
  const Ho = H / s, Wo = W / s;
  const rows = N * Ho;
  const r0 = lo(rows, tid, nth), r1 = hi(rows, tid, nth);
  const z = f32x4.splat(0);
  for (let r = r0; r < r1; r++) {
    const n = r / Ho, i = r % Ho;
    for (let j = 0; j < Wo; j++) {
      const src = x + f(((n * H + s * i) * W + s * j) * C);
      const dst = y + f((r * Wo + j) * K);
      memory.copy(dst, src, f(C));
      for (let c = C; c < K; c += 4) v128.store(dst + f(c), z);
    }
  }
}

/** The gradient of option A: dx[n,s·i,s·j,c] += dy[n,i,j,c] for c < C. */
export function subsample_pad_bwd(dy: usize, N: i32, H: i32, W: i32, C: i32, K: i32, s: i32, dx: usize, tid: i32, nth: i32): void {
  const Ho = H / s, Wo = W / s;
  const rows = N * Ho;
  const r0 = lo(rows, tid, nth), r1 = hi(rows, tid, nth);
  for (let r = r0; r < r1; r++) {
    const n = r / Ho, i = r % Ho;
    for (let j = 0; j < Wo; j++) {
      const dst = dx + f(((n * H + s * i) * W + s * j) * C);
      const src = dy + f((r * Wo + j) * K);
      for (let c = 0; c < C; c += 4) v128.store(dst + f(c), f32x4.add(v128.load(dst + f(c)), v128.load(src + f(c))));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// the highway block's gate: y = ReLU(T·F + (1 − T)·c), T = σ(g + b) where g is a 1×1 conv of x

/** t ← σ(t + b[k]) over M rows of K channels. */
export function gate_sigmoid(t: usize, b: usize, M: i32, K: i32, tid: i32, nth: i32): void {
  const m0 = lo(M, tid, nth), m1 = hi(M, tid, nth);
  for (let m = m0; m < m1; m++) {
    const row = t + f(m * K);
    for (let k = 0; k < K; k++) {
      const p = row + f(k);
      store<f32>(p, <f32>1 / (<f32>1 + Mathf.exp(-(load<f32>(p) + load<f32>(b + f(k))))));
    }
  }
}

/** y ← max(0, t·fx + (1 − t)·c), n floats. */
export function highway_fwd(t: usize, fx: usize, c: usize, n: i32, y: usize, tid: i32, nth: i32): void {
  const q0 = lo(n >> 2, tid, nth), q1 = hi(n >> 2, tid, nth);
  const zero = f32x4.splat(0);
  for (let q = q0; q < q1; q++) {
    const off = <usize>q << 4;
    const T = v128.load(t + off), C = v128.load(c + off);
    v128.store(y + off, f32x4.max(zero, f32x4.add(C, f32x4.mul(T, f32x4.sub(v128.load(fx + off), C)))));
  }
}

/**
 * From ds (the gradient of the sum, ReLU mask applied): dF = ds·t, the gate's pre-sigmoid gradient
 * dg = ds·(fx − c)·t·(1 − t), and the carry's gradient ds·(1 − t), written over ds.
 */
export function highway_bwd(ds: usize, t: usize, fx: usize, c: usize, n: i32, df: usize, dg: usize, tid: i32, nth: i32): void {
  const q0 = lo(n >> 2, tid, nth), q1 = hi(n >> 2, tid, nth);
  const one = f32x4.splat(1);
  for (let q = q0; q < q1; q++) {
    const off = <usize>q << 4;
    const D = v128.load(ds + off), T = v128.load(t + off);
    const U = f32x4.sub(one, T);
    v128.store(df + off, f32x4.mul(D, T));
    v128.store(dg + off, f32x4.mul(f32x4.mul(D, f32x4.sub(v128.load(fx + off), v128.load(c + off))), f32x4.mul(T, U)));
    v128.store(ds + off, f32x4.mul(D, U));
  }
}

/** gb[k] = Σ_m dg[m, k]: the gate bias's gradient; threads split the channels (4 at a time). */
export function gate_bias_grad(dg: usize, M: i32, K: i32, gb: usize, tid: i32, nth: i32): void {
  const q0 = lo(K >> 2, tid, nth), q1 = hi(K >> 2, tid, nth);
  for (let q = q0; q < q1; q++) {
    let acc = f32x4.splat(0);
    for (let m = 0; m < M; m++) acc = f32x4.add(acc, v128.load(dg + f(m * K + 4 * q)));
    v128.store(gb + f(4 * q), acc);
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
