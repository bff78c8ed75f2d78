// The head (global average pooling, FC, softmax cross-entropy) and the optimiser (SGD with momentum and
// weight decay).
import { fma, splat, lo, hi, f } from './helpers';

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
