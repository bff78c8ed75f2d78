// The nets on tfjs (WebGPU, WebGL, or tfjs's CPU backend), with tfjs's automatic differentiation: the reference the
// lab engines are checked against. The forward pass is the step IR's (../ir/step.ts), the one description of §4.2 that
// every engine runs; tfjs takes its gradients, where the lab engines lower the IR's derived backward pass. The step
// is the recipe in ../train.ts.
import * as tf from '../tf';
import type { ConvSpec, NetSpec } from '../nets';
import type { StepIR } from '../ir/step';
import { INPUT, blockOutputs, stepIR, tappedBlocks } from '../ir/step';
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
    this.programs = { train: stepIR(spec, 'responses'), eval: stepIR(spec, 'eval-responses') };
    this.outputs = blockOutputs(spec);
  }

  private p(name: string): tf.Tensor {
    return this.params.get(name)!;
  }

  /** The forward programs this net runs, built once: forward only, each 3×3 layer's response tapped. */
  private readonly programs: Record<Mode, StepIR>;
  /** Each block's output tensor, its block and its input (for the tests' record of block inputs and outputs). */
  private readonly outputs: ReturnType<typeof blockOutputs>;

  /**
   * §4.2 as the step IR describes it (../ir/step.ts: the same forward pass the lab engines lower), each node a few
   * tfjs ops, then global average pooling and the FC layer; tfjs differentiates it. Returns logits.
   */
  forward(x: tf.Tensor4D, mode: Mode, rec: Recorder = {}): tf.Tensor2D {
    const t = new Map<string, tf.Tensor4D>([[INPUT, x]]);
    const get = (name: string) => {
      const v = t.get(name);
      if (!v) throw new Error(`${name} is read before it is computed`);
      return v;
    };
    const stats = new Map<string, { mean: tf.Tensor; variance: tf.Tensor }>();
    const normed = new Map<string, tf.Tensor4D>();
    /** BN(z) of a conv, once per pass (its response tap and its apply share it). */
    const bn = (c: ConvSpec, z: string) => {
      let y = normed.get(c.name);
      if (!y) {
        const { mean, variance } = stats.get(c.name)!;
        y = tf.add(
          tf.mul(tf.mul(tf.sub(get(z), mean), tf.rsqrt(tf.add(variance, BN_EPSILON))), this.p(`${c.name}.bn.gamma`)),
          this.p(`${c.name}.bn.beta`),
        ) as tf.Tensor4D;
        normed.set(c.name, y);
      }
      return y;
    };
    const sumSquares = (v: tf.Tensor) => tf.sum(tf.square(v));
    /** A block's output, recorded for the tests. */
    const blockOut = (name: string, y: tf.Tensor4D) => {
      const o = this.outputs.get(name);
      if (o) rec.blocks?.push({ input: tf.keep(get(o.input)), output: tf.keep(y) });
      t.set(name, y);
    };
    for (const n of this.programs[mode].nodes) {
      switch (n.op) {
        case 'conv': {
          // padding 1 for 3×3, as in the paper and PyTorch (not TF's 'same')
          const pad = n.conv.k === 3 ? 1 : 0;
          const pads: [[number, number], [number, number], [number, number], [number, number]] = [
            [0, 0],
            [pad, pad],
            [pad, pad],
            [0, 0],
          ];
          t.set(n.z, tf.conv2d(get(n.x), this.p(n.conv.name) as tf.Tensor4D, n.conv.stride, pads));
          break;
        }
        case 'bnStats': {
          const c = n.conv;
          if (mode === 'train') {
            const z = get(n.z);
            const mean = tf.mean(z, [0, 1, 2]);
            const variance = tf.mean(tf.square(tf.sub(z, mean)), [0, 1, 2]);
            rec.batchStats?.push({ name: c.name, outSize: c.outSize, mean: tf.keep(mean), variance: tf.keep(variance) });
            stats.set(c.name, { mean, variance });
          } else stats.set(c.name, { mean: this.bnStats.get(`${c.name}.bn.mean`)!, variance: this.bnStats.get(`${c.name}.bn.var`)! });
          break;
        }
        case 'responseTap':
          if (rec.responses) {
            const y = bn(n.conv, n.z);
            rec.responses.push(tf.stack([tf.sum(y), sumSquares(y)]));
          }
          break;
        case 'residualTap':
          if (rec.residuals) rec.residuals.push(tf.stack([sumSquares(bn(n.conv, n.z)), sumSquares(get(n.x))]));
          break;
        case 'bnApply': {
          const f = bn(n.conv, n.z);
          let y = f;
          if (n.add?.kind === 'identity') y = tf.add(f, get(n.add.x));
          else if (n.add?.kind === 'subsample-pad') {
            // option A: no parameters; new channels are zero
            const b = n.add.block;
            const x = get(n.add.x);
            y = tf.add(
              f,
              tf.pad(b.stride === 2 ? subsample2(x) : x, [
                [0, 0],
                [0, 0],
                [0, 0],
                [0, b.outC - b.inC],
              ]),
            );
          } else if (n.add?.kind === 'projection') y = tf.add(f, bn(n.add.conv, n.add.z));
          if (n.relu) y = tf.relu(y);
          blockOut(n.y, y);
          break;
        }
        case 'highway': {
          // T·F + (1 − T)·carry, T = σ(1×1 conv of x + bias), then the ReLU
          const gate = tf.sigmoid(tf.add(get(n.zg), this.p(`${n.gate.name}.bias`))) as tf.Tensor4D;
          if (rec.gates) rec.gates.push(tf.sum(gate));
          const f = get(n.f);
          blockOut(n.y, tf.relu(tf.add(tf.mul(gate, f), tf.mul(tf.sub(1, gate), get(n.carry)))) as tf.Tensor4D);
          break;
        }
        default:
          throw new Error(`the tfjs engine runs forward programs; ${n.op} is the lab engines' (tfjs takes the gradients)`);
      }
    }
    const pooled = tf.mean(get(this.programs[mode].last), [1, 2]) as tf.Tensor2D;
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

  async loss(): Promise<number> {
    const { x, y } = this.engine.currentBatch();
    const loss = tf.tidy(() => TfjsNet.crossEntropy(this.forward(x, 'train'), y));
    const value = (await loss.data())[0];
    loss.dispose();
    return value;
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
        const rec: Recorder = { responses: [], gates: [], residuals: [] };
        this.forward(tf.tensor4d(batch.x.subarray(0, r * px), [r, batch.imageSize, batch.imageSize, 3]), mode, rec);
        return tf.concat([...rec.responses!, ...rec.gates!.map((g) => tf.reshape(g, [1])), ...rec.residuals!]);
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
    const evalValues = await evalResponses.data();
    evalResponses.dispose();
    const layerStdEval = stds(evalValues);
    // each block's ‖F(x)‖/‖x‖ (the 'eval-responses' program's residual taps: Σ F², Σ x²), after the gates' sums
    const at = 2 * layers + this.spec.gates.length;
    const residualRatios = tappedBlocks(this.spec).map((_, i) => Math.sqrt(evalValues[at + 2 * i] / evalValues[at + 2 * i + 1]));
    return {
      loss: loss / Math.max(1, elements),
      errors,
      count: elements,
      layerStd,
      layerStdEval,
      responseImages: r,
      ...(gateMeans.length ? { gateMeans } : {}),
      ...(residualRatios.length ? { residualRatios } : {}),
    };
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
