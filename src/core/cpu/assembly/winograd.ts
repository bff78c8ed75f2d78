// Winograd F(2×2, 3×3) and F(4×4, 3×3) convolutions for the stride-1 3×3 layers, all three passes.
import { fma, splat, lo, hi, f } from './helpers';
import { conv_tile_1x4, conv_tile_4x4, conv_tile_4x8 } from './tiles';

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
