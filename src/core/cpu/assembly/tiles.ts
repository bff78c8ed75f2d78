// The direct convolution's register micro-tiles (4 output pixels × 8 or 4 output channels, and 1 × 4), shared
// by the direct kernels (./conv.ts) and Winograd's products (./winograd.ts). Inlined where used.
import { fma, splat, f } from './helpers';

@inline export function conv_tile_4x8(xp: usize, pix: usize, row: usize, C: i32, w: usize, k: i32, K: i32, y: usize, acc: i32): void {
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

@inline export function conv_tile_4x4(xp: usize, pix: usize, row: usize, C: i32, w: usize, k: i32, K: i32, y: usize, acc: i32): void {
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

@inline export function conv_tile_1x4(xp: usize, row: usize, C: i32, w: usize, k: i32, K: i32, y: usize, acc: i32): void {
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
