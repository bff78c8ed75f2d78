// A tiny conv forward + backward pass, computed on the active backend and again on tfjs's CPU
// backend, so a wrong GPU kernel (WebGPU errors do not throw: they return garbage) is caught
// before a user trusts a curve.
import * as tf from './tf';
import { loadBackendModule } from './backend';

export interface ConvSelfTest {
  backend: string;
  /** Largest absolute difference over y, dL/dx and dL/dw between the active backend and CPU. */
  maxAbsDiff: number;
  /** Largest |Δ| divided by the largest |value| of the same tensor on CPU. */
  maxRelDiff: number;
  /** Sum of |y|, to show the test computed something non-trivial. */
  outputL1: number;
}

function convFwdBwd(): { y: tf.Tensor; dx: tf.Tensor; dw: tf.Tensor } {
  // Deterministic, non-symmetric inputs of order 0.1-1, made in JavaScript so both backends get
  // the very same bits (a GPU's sin() of a large argument differs from the CPU's): a 2×6×6×3
  // image batch and a 3×3×3×4 filter.
  const x = tf.tensor4d(
    Float32Array.from({ length: 2 * 6 * 6 * 3 }, (_, i) => 0.5 * Math.sin(0.37 * i)),
    [2, 6, 6, 3],
  );
  const w = tf.tensor4d(
    Float32Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => 0.2 * Math.cos(0.23 * i)),
    [3, 3, 3, 4],
  );
  const f = (xs: tf.Tensor, ws: tf.Tensor) => tf.conv2d(xs as tf.Tensor4D, ws as tf.Tensor4D, 1, 'same');
  const y = f(x, w);
  // Loss = Σ y²/2 + Σ y·t with a fixed t, so the gradient is not just y.
  const [dx, dw] = tf.grads((xs: tf.Tensor, ws: tf.Tensor) => {
    const out = f(xs, ws);
    const target = tf.tensor(
      Float32Array.from({ length: out.size }, (_, i) => -1 + (2 * i) / (out.size - 1)),
      out.shape,
    );
    return tf.add(tf.sum(tf.mul(tf.square(out), 0.5)), tf.sum(tf.mul(out, target)));
  })([x, w]);
  x.dispose();
  w.dispose();
  return { y, dx, dw };
}

async function readAll(t: { y: tf.Tensor; dx: tf.Tensor; dw: tf.Tensor }): Promise<Float32Array[]> {
  // await data(), never dataSync(): dataSync on WebGPU returned wrong values (TFJS-NOTES).
  const out = [await t.y.data(), await t.dx.data(), await t.dw.data()] as Float32Array[];
  t.y.dispose();
  t.dx.dispose();
  t.dw.dispose();
  return out;
}

/** Run the self-test on the active backend, then on CPU, and restore the active backend. */
export async function convSelfTest(): Promise<ConvSelfTest> {
  const active = tf.getBackend();
  const onActive = await readAll(convFwdBwd());
  await loadBackendModule('cpu');
  await tf.setBackend('cpu');
  const onCpu = await readAll(convFwdBwd());
  if (active !== 'cpu') await tf.setBackend(active);
  let maxAbsDiff = 0;
  let maxRelDiff = 0;
  onActive.forEach((a, k) => {
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - onCpu[k][i]));
      scale = Math.max(scale, Math.abs(onCpu[k][i]));
    }
    maxAbsDiff = Math.max(maxAbsDiff, diff);
    maxRelDiff = Math.max(maxRelDiff, diff / (scale || 1));
  });
  const outputL1 = onActive[0].reduce((s, v) => s + Math.abs(v), 0);
  return { backend: active, maxAbsDiff, maxRelDiff, outputL1 };
}
