// The nets on tfjs (WebGPU, WebGL, or tfjs's CPU backend), with tfjs's automatic differentiation.
// The forward pass below is §4.2 read top to bottom; the step is the recipe in ../train.ts.
import * as tf from '../tf';
import type { BlockSpec, ConvSpec, NetSpec } from '../nets';
import { NUM_CLASSES, bnStatNames, sizeOf } from '../nets';
import type { Engine, EngineMemory, EngineName, EngineNet, EvalOptions, EvalResult, GradientResult, ImageBatch, NetState, StepResult } from '../train';
import { BN_EPSILON, BN_MOMENTUM, MOMENTUM, RESPONSE_IMAGES, WEIGHT_DECAY, gradNormLayers } from '../train';

type Mode = 'train' | 'eval';

/** What a forward pass records besides the logits. */
interface Recorder {
  /** Train mode: each BN's batch mean and variance (kept alive for the running averages). */
  batchStats?: { name: string; outSize: number; mean: tf.Tensor; variance: tf.Tensor }[];
  /** Σy and Σy² of each 3×3 layer's response, for its std (Fig. 7). */
  responses?: tf.Tensor[];
  /** ΣT of each highway gate (the gate values' mean, once divided by their count). */
  gates?: tf.Tensor[];
  /** Σ F(x)² and Σ x² of each block with a shortcut (its residual branch's output, and its input): ‖F(x)‖/‖x‖. */
  residuals?: tf.Tensor[];
  /** For tests: each block's input and output, kept alive for the caller to dispose. */
  blocks?: { input: tf.Tensor4D; output: tf.Tensor4D }[];
}

/** Option A's subsampling x[:, ::2, ::2, :], written with rank-2 reshapes and slices, which have
 * gradients on every backend (stridedSlice has none, and rank-6 reshapes break WGSL). */
function subsample2(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const evenRows = tf.slice(tf.reshape(x, [(n * h) / 2, 2 * w * c]), [0, 0], [-1, w * c]);
  const evenCols = tf.slice(tf.reshape(evenRows, [(n * h * w) / 4, 2 * c]), [0, 0], [-1, c]);
  return tf.reshape(evenCols, [n, h / 2, w / 2, c]);
}

export class TfjsNet implements EngineNet {
  private readonly params = new Map<string, tf.Variable>();
  private readonly momentum = new Map<string, tf.Variable>();
  private readonly bnStats = new Map<string, tf.Variable>();
  private readonly trainables: tf.Variable[] = [];

  constructor(
    readonly spec: NetSpec,
    state: NetState,
    private readonly engine: TfjsEngine,
    id: string,
  ) {
    // Variable names are global in tfjs, so each net's carry its own id.
    const variable = (values: Float32Array, shape: number[], trainable: boolean, name: string) => {
      const initial = tf.tensor(values, shape);
      const v = tf.variable(initial, trainable, `${id}/${name}`);
      initial.dispose();
      return v;
    };
    for (const p of spec.params) {
      const v = variable(state.params[p.name], p.shape, true, p.name);
      this.params.set(p.name, v);
      this.trainables.push(v);
      this.momentum.set(p.name, variable(state.momentum[p.name], p.shape, false, `${p.name}.momentum`));
    }
    for (const s of bnStatNames(spec)) {
      for (const name of [s.mean, s.variance]) this.bnStats.set(name, variable(state.bnStats[name], [s.channels], false, name));
    }
  }

  private p(name: string): tf.Tensor {
    return this.params.get(name)!;
  }

  /** Conv (padding 1 for 3×3, as in the paper and PyTorch, not TF's 'same') followed by BN. */
  private convBn(c: ConvSpec, x: tf.Tensor4D, mode: Mode, rec: Recorder): tf.Tensor4D {
    const pad = c.k === 3 ? 1 : 0;
    const z = tf.conv2d(x, this.p(c.name) as tf.Tensor4D, c.stride, [
      [0, 0],
      [pad, pad],
      [pad, pad],
      [0, 0],
    ]);
    const gamma = this.p(`${c.name}.bn.gamma`);
    const beta = this.p(`${c.name}.bn.beta`);
    let mean: tf.Tensor;
    let variance: tf.Tensor;
    if (mode === 'train') {
      mean = tf.mean(z, [0, 1, 2]);
      variance = tf.mean(tf.square(tf.sub(z, mean)), [0, 1, 2]);
      rec.batchStats?.push({ name: c.name, outSize: c.outSize, mean: tf.keep(mean), variance: tf.keep(variance) });
    } else {
      mean = this.bnStats.get(`${c.name}.bn.mean`)!;
      variance = this.bnStats.get(`${c.name}.bn.var`)!;
    }
    const y = tf.add(tf.mul(tf.mul(tf.sub(z, mean), tf.rsqrt(tf.add(variance, BN_EPSILON))), gamma), beta) as tf.Tensor4D;
    if (c.k === 3 && rec.responses) rec.responses.push(tf.stack([tf.sum(y), tf.sum(tf.square(y))]));
    return y;
  }

  private shortcut(b: BlockSpec, x: tf.Tensor4D, mode: Mode, rec: Recorder): tf.Tensor4D {
    switch (b.shortcut) {
      case 'identity':
        return x;
      case 'subsample-pad': // option A: no parameters; new channels are zero
        return tf.pad(b.stride === 2 ? subsample2(x) : x, [
          [0, 0],
          [0, 0],
          [0, 0],
          [0, b.outC - b.inC],
        ]);
      case 'projection': // options B and C
        return this.convBn(b.projection!, x, mode, rec);
      case 'gated':
      case 'none':
        throw new Error(`a ${b.shortcut} block has no plain shortcut`);
    }
  }

  /** A highway block's output before its ReLU: T·F + (1 − T)·carry, T = σ(1×1 conv of x + bias). */
  private highway(b: BlockSpec, x: tf.Tensor4D, f: tf.Tensor4D, mode: Mode, rec: Recorder): tf.Tensor4D {
    const g = b.gate!;
    const t = tf.sigmoid(tf.add(tf.conv2d(x, this.p(g.name) as tf.Tensor4D, g.stride, 'valid'), this.p(`${g.name}.bias`))) as tf.Tensor4D;
    if (rec.gates) rec.gates.push(tf.sum(t));
    const carry = b.projection ? this.convBn(b.projection, x, mode, rec) : x;
    return tf.add(tf.mul(t, f), tf.mul(tf.sub(1, t), carry)) as tf.Tensor4D;
  }

  /** §4.2: stem, three stages of blocks, global average pooling, FC. Returns logits. */
  forward(x: tf.Tensor4D, mode: Mode, rec: Recorder = {}): tf.Tensor2D {
    let a = tf.relu(this.convBn(this.spec.stem, x, mode, rec));
    for (const b of this.spec.blocks) {
      // the branch F: conv-BN, with ReLU between
      let f = a;
      b.branch.forEach((c, i) => {
        f = this.convBn(c, f, mode, rec);
        if (i < b.branch.length - 1) f = tf.relu(f);
      });
      if (rec.residuals && b.shortcut !== 'none') rec.residuals.push(tf.stack([tf.sum(tf.square(f)), tf.sum(tf.square(a))]));
      const sum = b.shortcut === 'none' ? f : b.shortcut === 'gated' ? this.highway(b, a, f, mode, rec) : tf.add(f, this.shortcut(b, a, mode, rec));
      const out = tf.relu(sum) as tf.Tensor4D;
      rec.blocks?.push({ input: tf.keep(a), output: tf.keep(out) });
      a = out;
    }
    const pooled = tf.mean(a, [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, this.p('fc.weight') as tf.Tensor2D), this.p('fc.bias'));
  }

  private static crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
    const oneHot = tf.oneHot(labels, NUM_CLASSES);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
  }

  private static errorCount(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
    return tf.sum(tf.cast(tf.notEqual(tf.argMax(logits, 1), labels), 'float32'));
  }

  /** Forward in train mode and backward; the caller owns every returned tensor. */
  private lossAndGrads(): { loss: tf.Scalar; errors: tf.Scalar; grads: tf.NamedTensorMap; stats: NonNullable<Recorder['batchStats']> } {
    const { x, y } = this.engine.currentBatch();
    const stats: NonNullable<Recorder['batchStats']> = [];
    let errors: tf.Scalar | null = null;
    try {
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.forward(x, 'train', { batchStats: stats });
        errors = tf.keep(TfjsNet.errorCount(logits, y));
        return TfjsNet.crossEntropy(logits, y);
      }, this.trainables);
      return { loss: value, errors: errors!, grads, stats };
    } catch (err) {
      // a backend that cannot compute a gradient (tfjs wasm) must not leave our kept tensors behind
      tf.dispose([...(errors ? [errors] : []), ...stats.flatMap((s) => [s.mean, s.variance])]);
      throw err;
    }
  }

  async step(lr: number, withGradNorms = false): Promise<StepResult> {
    const size = this.engine.currentBatch().x.shape[0];
    const { loss, errors, grads, stats } = this.lossAndGrads();
    const readout = tf.tidy(() => {
      const norms = withGradNorms ? gradNormLayers(this.spec).map((n) => tf.norm(grads[this.params.get(n)!.name])) : [];
      // SGD with momentum and weight decay (PyTorch's form): v = μv + (g + λw); w = w − lr·v.
      for (const [name, w] of this.params) {
        const v = this.momentum.get(name)!;
        const g = tf.add(grads[w.name], tf.mul(w, WEIGHT_DECAY));
        const vNew = tf.add(tf.mul(v, MOMENTUM), g);
        v.assign(vNew);
        w.assign(tf.sub(w, tf.mul(vNew, lr)));
      }
      // BN running averages; the variance is made unbiased over the m = N·H·W values per channel.
      for (const s of stats) {
        const rm = this.bnStats.get(`${s.name}.bn.mean`)!;
        const rv = this.bnStats.get(`${s.name}.bn.var`)!;
        const count = size * s.outSize * s.outSize;
        rm.assign(tf.add(tf.mul(rm, 1 - BN_MOMENTUM), tf.mul(s.mean, BN_MOMENTUM)));
        rv.assign(tf.add(tf.mul(rv, 1 - BN_MOMENTUM), tf.mul(s.variance, (BN_MOMENTUM * count) / Math.max(1, count - 1))));
      }
      return tf.concat([tf.stack([loss, errors]), ...(norms.length ? [tf.stack(norms)] : [])]);
    });
    tf.dispose([loss, errors, ...Object.values(grads)]);
    for (const s of stats) tf.dispose([s.mean, s.variance]);
    const values = await readout.data();
    readout.dispose();
    return {
      loss: values[0],
      errors: values[1],
      size,
      ...(withGradNorms ? { gradNorms: Array.from(values.subarray(2)) } : {}),
    };
  }

  async gradients(): Promise<GradientResult> {
    const { loss, errors, grads, stats } = this.lossAndGrads();
    const out: Record<string, Float32Array> = {};
    for (const [name, w] of this.params) out[name] = (await grads[w.name].data()) as Float32Array;
    const lossValue = (await loss.data())[0];
    tf.dispose([loss, errors, ...Object.values(grads)]);
    for (const s of stats) tf.dispose([s.mean, s.variance]);
    return { loss: lossValue, grads: out };
  }

  /**
   * How close each block stays to the identity (issue #27): ‖F(x)‖/‖x‖ per block with a shortcut, over these images,
   * F being the residual branch's output (after its last BN, before the addition) and x the block's input, BN with the
   * running statistics (as the trained net computes). Empty for a plain net.
   */
  async residualRatios(batch: ImageBatch): Promise<number[]> {
    const px = batch.imageSize * batch.imageSize * 3;
    const sums = tf.tidy(() => {
      const residuals: tf.Tensor[] = [];
      this.forward(tf.tensor4d(batch.x.subarray(0, batch.size * px), [batch.size, batch.imageSize, batch.imageSize, 3]), 'eval', { residuals });
      return residuals.length ? tf.stack(residuals) : tf.zeros([0, 2]);
    });
    const v = await sums.data();
    sums.dispose();
    return Array.from({ length: v.length / 2 }, (_, i) => Math.sqrt(v[2 * i] / v[2 * i + 1]));
  }

  async evaluate(batch: ImageBatch, options: EvalOptions = {}): Promise<EvalResult> {
    const chunk = Math.max(1, this.engine.evalChunk);
    const layers = this.spec.layers3x3.length;
    const sums = new Float64Array(2 * layers);
    let loss = 0;
    let errors = 0;
    let elements = 0;
    for (let start = 0; start < batch.size; start += chunk) {
      const n = Math.min(chunk, batch.size - start);
      const out = tf.tidy(() => {
        const px = batch.imageSize * batch.imageSize * 3;
        const x = tf.tensor4d(batch.x.subarray(start * px, (start + n) * px), [n, batch.imageSize, batch.imageSize, 3]);
        const y = tf.tensor1d(Int32Array.from(batch.labels.subarray(start, start + n)), 'int32');
        const logits = this.forward(x, 'eval');
        const ce = tf.mul(TfjsNet.crossEntropy(logits, y), n);
        return tf.stack([ce, TfjsNet.errorCount(logits, y)]);
      });
      const v = await out.data();
      out.dispose();
      loss += v[0];
      errors += v[1];
      elements += n;
    }
    if (options.responses === false) return { loss: loss / Math.max(1, elements), errors, count: elements, layerStd: [], layerStdEval: [] };
    // Fig. 7: the responses of a fixed batch, (b) BN with that batch's statistics (running averages
    // untouched), and (a) BN with the running averages, as the trained net computes them
    const r = Math.min(batch.size, RESPONSE_IMAGES);
    const pass = (mode: 'train' | 'eval') =>
      tf.tidy(() => {
        const px = batch.imageSize * batch.imageSize * 3;
        const rec: Recorder = { responses: [], gates: [] };
        this.forward(tf.tensor4d(batch.x.subarray(0, r * px), [r, batch.imageSize, batch.imageSize, 3]), mode, rec);
        return tf.concat([...rec.responses!, ...rec.gates!.map((g) => tf.reshape(g, [1]))]);
      });
    const stds = (values: ArrayLike<number>) =>
      this.spec.layers3x3.map((c, i) => {
        const count = r * c.outSize * c.outSize * c.outC;
        const mean = values[2 * i] / count;
        return Math.sqrt(Math.max(0, values[2 * i + 1] / count - mean * mean));
      });
    const responses = pass('train');
    const values = await responses.data();
    responses.dispose();
    sums.set(values.subarray(0, 2 * layers));
    const gateMeans = this.spec.gates.map((g, i) => values[2 * layers + i] / (r * g.outSize * g.outSize * g.outC));
    const layerStd = stds(sums);
    const evalResponses = pass('eval');
    const layerStdEval = stds(await evalResponses.data());
    evalResponses.dispose();
    return { loss: loss / Math.max(1, elements), errors, count: elements, layerStd, layerStdEval, ...(gateMeans.length ? { gateMeans } : {}) };
  }

  async getState(): Promise<NetState> {
    const read = async (m: Map<string, tf.Variable>) => {
      const out: Record<string, Float32Array> = {};
      for (const [name, v] of m) out[name] = new Float32Array((await v.data()) as Float32Array);
      return out;
    };
    return { params: await read(this.params), momentum: await read(this.momentum), bnStats: await read(this.bnStats) };
  }

  setState(state: NetState): void {
    const write = (m: Map<string, tf.Variable>, src: Record<string, Float32Array>) => {
      for (const [name, v] of m) {
        const values = src[name];
        if (!values || values.length !== sizeOf(v.shape)) throw new Error(`state for ${name} is missing or has the wrong size`);
        tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
      }
    };
    write(this.params, state.params);
    write(this.momentum, state.momentum);
    write(this.bnStats, state.bnStats);
  }

  dispose(): void {
    for (const m of [this.params, this.momentum, this.bnStats]) for (const v of m.values()) v.dispose();
    this.params.clear();
    this.engine.forget(this);
  }
}

let nextNetId = 0;

/** Nets on the active tfjs backend. */
export class TfjsEngine implements Engine {
  private x: tf.Tensor4D | null = null;
  private y: tf.Tensor1D | null = null;
  private readonly nets = new Set<TfjsNet>();
  /** Images per evaluation chunk: at most one batch of images on the device at a time. */
  evalChunk = 128;

  constructor(readonly name: EngineName = tf.getBackend() as EngineName) {}

  setBatch(batch: ImageBatch): void {
    this.disposeBatch();
    const s = batch.imageSize;
    this.x = tf.tensor4d(batch.x.subarray(0, batch.size * s * s * 3), [batch.size, s, s, 3]);
    this.y = tf.tensor1d(Int32Array.from(batch.labels.subarray(0, batch.size)), 'int32');
    this.evalChunk = batch.size;
  }

  private disposeBatch(): void {
    this.x?.dispose();
    this.y?.dispose();
    this.x = this.y = null;
  }

  currentBatch(): { x: tf.Tensor4D; y: tf.Tensor1D } {
    if (!this.x || !this.y) throw new Error('no training batch: call setBatch first');
    return { x: this.x, y: this.y };
  }

  createNet(spec: NetSpec, state: NetState): EngineNet {
    const net = new TfjsNet(spec, state, this, `net${nextNetId++}`);
    this.nets.add(net);
    return net;
  }

  forget(net: TfjsNet): void {
    this.nets.delete(net);
  }

  memory(): EngineMemory {
    const m = tf.memory();
    return { bytes: m.numBytes, tensors: m.numTensors };
  }

  dispose(): void {
    for (const n of [...this.nets]) n.dispose();
    this.disposeBatch();
  }
}
