// The residual block's element-wise pieces: ReLU mask, add, and option A's subsample-and-pad shortcut.
import { splat, lo, hi, f } from './helpers';

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
