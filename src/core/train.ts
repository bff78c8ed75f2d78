// The training recipe of §4.2 and the contract every engine implements.
//
// One step, on every engine:
//   logits   = net(x)                       BN uses the batch's own mean and variance
//   loss     = mean softmax cross-entropy(logits, labels)
//   g        = ∂loss/∂w + WEIGHT_DECAY · w   for every trainable parameter (as PyTorch's SGD does)
//   v        = MOMENTUM · v + g
//   w        = w − lr · v
//   BN running mean/var ← (1 − BN_MOMENTUM) · running + BN_MOMENTUM · batch (unbiased variance)
// A loss that is NaN or infinite is reported as a divergence of that net; it is not thrown.
import type { LayerTap, NetSeries } from './metrics';
import type { NetSpec, Tensors } from './nets';
import { initBnStats, initParams } from './nets';
import type { ScheduleConfig } from './schedule';
import { PAPER_WARMUP_ERROR, PAPER_WARMUP_MIN_SAMPLES, learningRate } from './schedule';

export const MOMENTUM = 0.9;
export const WEIGHT_DECAY = 1e-4;
export const BATCH_SIZE = 128;
export const BASE_LR = 0.1;
/** BN's ε and the weight of a new batch in the running averages (PyTorch's defaults). */
export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

/**
 * The compute engines, one row each: the lab's own WebGPU and WebAssembly CPU engines and the tfjs
 * backends. Every list of engines derives from this table: the names, the choices a config offers (in
 * the form's order), the short names of the speed figures, and the engine a failed run resumes on.
 */
export const ENGINES = {
  'lab-webgpu': { choice: true, short: 'WebGPU', next: 'lab-cpu' },
  webgpu: { choice: true, short: 'tfjs WebGPU', next: 'webgl' },
  webgl: { choice: true, short: 'tfjs WebGL', next: 'lab-cpu' },
  'lab-cpu': { choice: true, short: 'CPU', next: 'cpu' },
  cpu: { choice: true, short: 'tfjs CPU', next: 'lab-cpu' },
  wasm: { choice: false, short: 'tfjs WASM', next: 'lab-cpu' },
} as const satisfies Record<string, { choice: boolean; short: string; next: string }>;
export type EngineName = keyof typeof ENGINES;
export const ENGINE_NAMES = Object.keys(ENGINES) as EngineName[];
/** The engines a config may name (the tfjs WASM backend is probed, never chosen). */
export type ChoosableEngine = { [K in EngineName]: (typeof ENGINES)[K]['choice'] extends true ? K : never }[EngineName];

/** A batch of normalised images, NHWC float32 [size, imageSize, imageSize, 3], and their labels. */
export interface ImageBatch {
  x: Float32Array;
  labels: Uint8Array;
  size: number;
  /** 32 for CIFAR-10. */
  imageSize: number;
}

export interface StepResult {
  loss: number;
  /** Mini-batch images classified wrongly (train-mode BN, before the update). */
  errors: number;
  size: number;
  /** L2 norm of each layer's weight gradient, in `gradNormLayers` order; only when asked for. */
  gradNorms?: number[];
}

export interface EvalResult {
  loss: number;
  errors: number;
  count: number;
  /**
   * Fig. 7, variant (b), the BN readout: the std of each 3×3 layer's response (after BN, before
   * addition/ReLU) on the first RESPONSE_IMAGES images of the evaluated batch, with BN normalising
   * by that batch's own statistics, as in training. Each channel's output then has mean β and std
   * γ·√(v/(v+ε)) ≈ γ, so this is √(mean γ² + var β) over the layer's channels: a readout of the BN
   * parameters, in which the images enter only through ε (src/core/fig7.ts).
   */
  layerStd: number[];
  /**
   * Fig. 7, variant (a): the same responses as a trained net computes them, BN in evaluation mode
   * (running averages). Early in a run, or in a plain net whose running averages lag its weights,
   * a layer's std can be far from 1 (a hundred has been seen): that is what the net computes then.
   */
  layerStdEval: number[];
  /**
   * How many images the responses above (and the gates, and ‖F(x)‖/‖x‖ below) were measured on: the first
   * min(batch, RESPONSE_IMAGES), or fewer where a lab engine's evaluation chunk is smaller (a net of more than 300
   * layers: train.ts evalChunk). Absent when responses were not asked for.
   */
  responseImages?: number;
  /** Highway nets: the mean gate value T of each block, on the same images and pass as layerStd. */
  gateMeans?: number[];
  /**
   * How close each block with a shortcut stays to the identity (issue #27): ‖F(x)‖/‖x‖, F its branch's output (after
   * its last BN, before the addition) and x its input, over the response images with BN's running averages (as the
   * trained net computes, like Fig. 7 (a)); in block order. Absent for a plain net.
   */
  residualRatios?: number[];
}

/** Images in the fixed batch whose layer responses are measured (Fig. 7), the first of the test subset. */
export const RESPONSE_IMAGES = 128;

/**
 * How many test images the responses (Fig. 7, the gates, ‖F(x)‖/‖x‖) are measured on: as the run's latest recorded
 * evaluation says (the engines report it: fewer than RESPONSE_IMAGES for a thousand layers on the lab engines), else
 * (a run saved before they did, or none recorded yet) RESPONSE_IMAGES, or all of a smaller test subset.
 */
export function responseImages(testSize: number, series: Readonly<Record<string, Pick<NetSeries, 'taps'>>> = {}): number {
  let latest: LayerTap | undefined;
  for (const s of Object.values(series)) {
    const tap = s.taps.at(-1);
    if (tap?.images !== undefined && (!latest || tap.it >= latest.it)) latest = tap;
  }
  return latest?.images ?? Math.min(RESPONSE_IMAGES, testSize);
}

/** Images per evaluation pass: the test subset is evaluated in chunks of this many… */
const EVAL_CHUNK = 128;
/** …unless 128 images' saved activations would pass this many bytes (nets of a thousand layers: 2.8 GiB at width ×0.25). */
const EVAL_CHUNK_BYTES = 2 ** 30;

/**
 * The evaluation's chunk: 128 images, or for nets too large for that (`activationBytes(n)`: the largest net's
 * activations for n images), the training batch's size, so that a test never needs more memory than a training step
 * does (or, before the first batch, as many images as EVAL_CHUNK_BYTES holds). Both engines use it.
 */
export function evalChunk(activationBytes: (n: number) => number, trainBatch: number): number {
  if (activationBytes(EVAL_CHUNK) <= EVAL_CHUNK_BYTES) return EVAL_CHUNK;
  const fits = Math.floor(EVAL_CHUNK_BYTES / Math.max(1, activationBytes(1)));
  return Math.max(1, Math.min(EVAL_CHUNK, trainBatch > 0 ? trainBatch : fits));
}

export interface EvalOptions {
  /** false: the loss and errors only. */
  responses?: boolean;
}

/** Everything that defines a net's training state, by parameter name. */
export interface NetState {
  params: Tensors;
  momentum: Tensors;
  bnStats: Tensors;
}

export interface GradientResult {
  loss: number;
  /** ∂loss/∂w without weight decay, by parameter name. */
  grads: Tensors;
}

export interface EngineNet {
  readonly spec: NetSpec;
  /** One SGD step on the engine's current batch. */
  step(lr: number, withGradNorms?: boolean): Promise<StepResult>;
  /**
   * Loss, errors and layer responses on images, in chunks of at most the batch size, BN in eval mode. With
   * `{ responses: false }` an engine may skip Fig. 7's responses (layerStd and layerStdEval then empty): a loss
   * landscape evaluates hundreds of times and needs only the loss (the lab CPU and tfjs engines skip them).
   */
  evaluate(batch: ImageBatch, options?: EvalOptions): Promise<EvalResult>;
  /** The loss and its gradient on the current batch, changing nothing (for checks). */
  gradients(): Promise<GradientResult>;
  /** The loss on the current batch as a step computes it (BN with the batch's statistics), without its gradient, changing nothing (finite differences). */
  loss(): Promise<number>;
  getState(): Promise<NetState>;
  setState(state: NetState): void;
  dispose(): void;
}

export interface EngineMemory {
  bytes: number;
  /** Live tensors (tfjs engines) or live buffers (the lab CPU engine). */
  tensors: number;
}

/** One net's step in a group step. */
export interface StepRequest {
  net: EngineNet;
  lr: number;
  withGradNorms?: boolean;
}

export interface Engine {
  readonly name: EngineName;
  /** Upload the batch every net of the experiment trains on next; replaces the previous one. */
  setBatch(batch: ImageBatch): void;
  /**
   * One step of several nets of this engine on the current batch, at the same time where the
   * engine can (the lab CPU engine's 'nets' schedule); each result equals that net's own `step`.
   */
  stepMany?(requests: readonly StepRequest[]): Promise<StepResult[]>;
  /**
   * Rounds of `stepMany` an experiment may keep in flight before it reads their results (the lab
   * WebGPU engine: the GPU queue then never waits for a loss to come back). The learning rate of a
   * step is then chosen from the errors known when it is issued: the paper's warmup rule switches up
   * to this many iterations later (experiment.test.ts shows what that changes). 0 or absent: none.
   * A pipelined engine's stepMany takes the current batch before it returns (the next round's
   * setBatch follows at once).
   */
  readonly pipelineDepth?: number;
  createNet(spec: NetSpec, state: NetState): EngineNet;
  memory(): EngineMemory;
  dispose(): void;
}

/** The layers whose weight-gradient norm is tracked: the 3×3 layers in order, then the FC layer. */
export function gradNormLayers(spec: NetSpec): string[] {
  return [...spec.layers3x3.map((c) => c.name), 'fc.weight'];
}

/** A net's state before its first step: He-initialised weights (seeded, paired by name), no momentum, fresh BN averages. */
export function initialState(spec: NetSpec, seed: number): NetState {
  const params = initParams(spec, seed);
  return { params, momentum: zerosLike(params), bnStats: initBnStats(spec) };
}

/** Zero momentum buffers shaped like the parameters. */
function zerosLike(t: Tensors): Tensors {
  const out: Tensors = {};
  for (const [k, v] of Object.entries(t)) out[k] = new Float32Array(v.length);
  return out;
}

/** Mini-batches in the running training error (the lab's smoothed curve and the paper's warmup rule). */
export const RUNNING_WINDOW = 50;

type NetStatus = 'training' | 'diverged';

interface StepRecord {
  iteration: number;
  lr: number;
  loss: number;
  /** Mini-batch training error, 0..1. */
  error: number;
  /** Mean mini-batch error over the last RUNNING_WINDOW iterations. */
  runningError: number;
  gradNorms?: number[];
}

/**
 * One net's training run: picks each step's learning rate from the schedule (with the paper's
 * warmup rule fed by this net's own errors), steps the engine, and marks a NaN or infinite loss
 * as a divergence instead of throwing.
 */
export class NetTrainer {
  status: NetStatus = 'training';
  divergedAt: number | null = null;
  /** The first iteration whose running error was below 80% (paper warmup), or null. */
  warmupEnd: number | null = null;
  private readonly errors: number[] = [];
  private windowSum = 0;
  /** Steps issued to the engine whose results have not come back (a pipelined experiment). */
  private inFlight = 0;

  constructor(
    readonly net: EngineNet,
    readonly schedule: ScheduleConfig,
  ) {}

  /** The iteration whose result comes next (the steps recorded so far). */
  get iteration(): number {
    return this.errors.length;
  }

  /** The iteration the next step issued will train: after the recorded ones and those in flight. */
  get nextIteration(): number {
    return this.errors.length + this.inFlight;
  }

  /**
   * Issue the next step before the results of the steps in flight are known: its learning rate,
   * from the schedule and the errors recorded so far. `complete` records its result, in order.
   */
  issue(): number {
    const lr = this.lrAt(this.nextIteration);
    this.inFlight += 1;
    return lr;
  }

  lrAt(iteration: number): number {
    return learningRate(iteration, this.schedule, this.warmupEnd);
  }

  runningError(): number {
    const count = Math.min(this.errors.length, RUNNING_WINDOW);
    return count === 0 ? 1 : this.windowSum / count;
  }

  /** Train one step on the engine's current batch; null once the net has diverged. */
  async step(withGradNorms = false): Promise<StepRecord | null> {
    if (this.status === 'diverged') return null;
    const lr = this.lrAt(this.iteration);
    return this.complete(lr, await this.net.step(lr, withGradNorms));
  }

  /** Record a step the engine took at learning rate lr (see `stepTogether`). */
  complete(lr: number, r: StepResult): StepRecord | null {
    if (this.inFlight > 0) this.inFlight -= 1;
    // a step issued before the divergence came to light: nothing more to record
    if (this.status === 'diverged') return null;
    const iteration = this.iteration;
    if (!Number.isFinite(r.loss)) {
      this.status = 'diverged';
      this.divergedAt = iteration;
      return null;
    }
    this.record(r.errors / r.size);
    return { iteration, lr, loss: r.loss, error: r.errors / r.size, runningError: this.runningError(), gradNorms: r.gradNorms };
  }

  /** The mini-batch errors recorded so far (for a checkpoint). */
  errorHistory(): number[] {
    return this.errors.slice();
  }

  /** Replay recorded mini-batch errors (after a checkpoint restore), so the warmup rule and the running mean continue exactly. */
  restoreErrors(miniBatchErrors: ArrayLike<number>): void {
    this.errors.length = 0;
    this.windowSum = 0;
    this.warmupEnd = null;
    for (let i = 0; i < miniBatchErrors.length; i++) this.record(miniBatchErrors[i]);
  }

  private record(error: number): void {
    this.errors.push(error);
    this.windowSum += error;
    if (this.errors.length > RUNNING_WINDOW) this.windowSum -= this.errors[this.errors.length - 1 - RUNNING_WINDOW];
    if (this.warmupEnd === null && this.errors.length >= PAPER_WARMUP_MIN_SAMPLES && this.runningError() < PAPER_WARMUP_ERROR) {
      this.warmupEnd = this.errors.length - 1;
    }
  }
}

/**
 * One step of several nets (all at the same iteration) on the engine's current batch: together
 * through `engine.stepMany` when the engine has it, else one after another. The records are what
 * each trainer's own `step` would give; a diverged net gets null.
 */
export async function stepTogether(engine: Engine, trainers: readonly NetTrainer[], withGradNorms: boolean): Promise<(StepRecord | null)[]> {
  if (!engine.stepMany) {
    const out: (StepRecord | null)[] = [];
    for (const t of trainers) out.push(await t.step(withGradNorms));
    return out;
  }
  const live = trainers.filter((t) => t.status !== 'diverged');
  const lrs = live.map((t) => t.lrAt(t.iteration));
  const results = await engine.stepMany(live.map((t, i) => ({ net: t.net, lr: lrs[i], withGradNorms })));
  const byTrainer = new Map(live.map((t, i) => [t, t.complete(lrs[i], results[i])]));
  return trainers.map((t) => byTrainer.get(t) ?? null);
}
