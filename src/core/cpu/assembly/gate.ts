// The highway block's gate: sigmoid, the gated mix and its backward, and the gate bias's gradient.
import { splat, lo, hi, f } from './helpers';

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
