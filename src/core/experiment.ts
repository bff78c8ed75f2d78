// A paired experiment: several nets (plain and residual, several depths) trained side by side on
// one engine. Paired means paired: every net sees the same batches in the same order with the same
// augmentation, and the plain and residual nets of one depth start from the same weights wherever
// their parameters coincide. The nets step round-robin, so all curves advance together.
import type { ExperimentConfig } from './config';
import type { NetEntry } from './experimentNets';
import { netLabelOf, netSpecOf, netsOf } from './experimentNets';
import type { LabeledImages } from './data/cifar10';
import type { InputStats } from './data/augment';
import { BatchSequence, inputStats, makeBatch } from './data/augment';
import type { NetInfo, NetSeries, Progress } from './metrics';
import { emptySeries } from './metrics';
import { paramCount } from './nets';
import type { NetSpec } from './nets';
import type { Engine, EngineMemory, EngineNet, ImageBatch, NetState, StepResult } from './train';
import { warmupForDepth } from './schedule';
import { NetTrainer, initialState, stepTogether } from './train';

export interface ExperimentData {
  /** The training subset: the only images the input normalisation is computed from. */
  train: LabeledImages;
  test: LabeledImages;
}

/** Weights, optimiser state and error history of every net at some iteration. */
export interface Checkpoint {
  nets: Record<string, { entry: NetEntry; iteration: number; state: NetState; errors: number[]; status: NetInfo['status']; divergedAt: number | null }>;
  createdAt: number;
}

/** Iterations before the ETA uses the run's own average time per iteration (before: the last rounds'). */
const ETA_MIN_ITERATIONS = 20;

interface RunningNet {
  entry: NetEntry;
  spec: NetSpec;
  info: NetInfo;
  trainer: NetTrainer;
}

export interface MetricsDelta {
  nets: Record<string, NetSeries>;
  infos: NetInfo[];
  progress: Progress;
  /** The engine's live tensors (tfjs) or buffers (lab CPU engine), and bytes. */
  memory: EngineMemory;
}

/** The spec of one of an experiment's nets (defined beside netsOf, in ./experimentNets.ts). */
export { netSpecOf } from './experimentNets';

export class Experiment {
  readonly sequence: BatchSequence;
  private readonly nets: RunningNet[] = [];
  private delta = new Map<string, NetSeries>();
  private testBatch: ImageBatch | null = null;
  /** The paper's per-pixel mean (and channel scale) of this experiment's training images. */
  readonly inputStats: InputStats;
  private elapsedMs = 0;
  /** Where this session's clock began (a resumed run's earlier time is not its current speed). */
  private etaFrom = { ms: 0, iteration: 0 };
  private imagesPerSec = 0;
  private roundMs = 0;

  constructor(
    readonly config: ExperimentConfig,
    readonly data: ExperimentData,
    readonly engine: Engine,
  ) {
    this.sequence = new BatchSequence(config.seed, data.train.count, Math.min(config.batchSize, data.train.count));
    this.inputStats = inputStats(data.train);
  }

  /** Create the config's nets: fresh (paired initialisation) or from a checkpoint. */
  start(checkpoint?: Checkpoint): void {
    const entries = netsOf(this.config);
    // nets added to the run after it started are in the checkpoint, not in the config
    for (const saved of Object.values(checkpoint?.nets ?? {})) if (!entries.some((e) => e.id === saved.entry.id)) entries.push(saved.entry);
    for (const entry of entries) this.addNet(entry, checkpoint?.nets[entry.id]);
  }

  /** Add a net. Without a saved state it starts at iteration 0 and follows the same batch sequence. */
  addNet(given: NetEntry, saved?: Checkpoint['nets'][string]): void {
    // a checkpoint saved before highway nets, bottlenecks and warmup variants lacks their fields
    const entry: NetEntry = {
      ...given,
      family: given.family ?? (given.residual ? 'residual' : 'plain'),
      block: given.block ?? 'basic',
      warmup: given.warmup ?? this.config.warmup[0],
    };
    if (this.nets.some((n) => n.entry.id === entry.id)) throw new Error(`${entry.id} is already in this experiment`);
    const spec = netSpecOf(entry, this.config);
    const state = saved?.state ?? initialState(spec, this.config.seed);
    const trainer = new NetTrainer(this.engine.createNet(spec, state), {
      lr: this.config.lr,
      iterations: this.config.iterations,
      warmup: warmupForDepth(entry.warmup, entry.depth),
      iterationsPerEpoch: this.sequence.perEpoch,
    });
    if (saved) trainer.restoreErrors(saved.errors);
    const status = saved?.status ?? 'pending';
    if (status === 'diverged') {
      trainer.status = 'diverged';
      trainer.divergedAt = saved!.divergedAt;
    }
    const info: NetInfo = {
      id: entry.id,
      label: netLabelOf(entry, this.config),
      depth: entry.depth,
      residual: entry.residual,
      family: entry.family,
      shortcut: entry.shortcut,
      block: entry.block,
      warmup: entry.warmup,
      params: paramCount(spec),
      status: trainer.iteration >= this.config.iterations && status !== 'diverged' ? 'done' : status,
      divergedAt: saved?.divergedAt ?? null,
    };
    this.nets.push({ entry, spec, info, trainer });
  }

  infos(): NetInfo[] {
    return this.nets.map((n) => ({ ...n.info }));
  }

  specOf(id: string): NetSpec | undefined {
    return this.nets.find((n) => n.entry.id === id)?.spec;
  }

  /** A net of the run by id, on the engine that trains it: the why-views compute on it (src/core/landscape.ts). */
  net(id: string): EngineNet | undefined {
    return this.nets.find((n) => n.entry.id === id)?.trainer.net;
  }

  /** The first n training (or test) images, normalised as training normalises them, without augmentation: a landscape's fixed sample, the ‖F(x)‖/‖x‖ images. */
  imageSample(n: number, set: 'train' | 'test' = 'train'): ImageBatch {
    const images = this.data[set];
    const count = Math.min(n, images.count);
    return makeBatch(
      images,
      Uint32Array.from({ length: count }, (_, i) => i),
      this.inputStats,
      null,
    );
  }

  private series(id: string): NetSeries {
    let s = this.delta.get(id);
    if (!s) this.delta.set(id, (s = emptySeries()));
    return s;
  }

  /** Whether any net still has iterations to train. */
  get active(): boolean {
    return this.nets.some((n) => n.info.status === 'pending' || n.info.status === 'training');
  }

  /** The iteration of the net furthest behind (the experiment's progress). */
  get iteration(): number {
    const live = this.nets.filter((n) => n.info.status !== 'diverged');
    return live.length ? Math.min(...live.map((n) => n.trainer.iteration)) : Math.max(0, ...this.nets.map((n) => n.trainer.iteration));
  }

  private isEval(iteration: number): boolean {
    return iteration % this.config.evalEvery === 0 || iteration === this.config.iterations;
  }

  private getTestBatch(): ImageBatch {
    if (!this.testBatch) {
      const idx = Uint32Array.from({ length: this.data.test.count }, (_, i) => i);
      this.testBatch = makeBatch(this.data.test, idx, this.inputStats, null);
    }
    return this.testBatch;
  }

  /** Evaluate one net on the test subset (BN in eval mode) and record the point. */
  async evaluate(net: RunningNet, gradNorms: number[] = []): Promise<void> {
    const r = await net.trainer.net.evaluate(this.getTestBatch());
    const s = this.series(net.entry.id);
    const it = net.trainer.iteration;
    s.test.it.push(it);
    s.test.err.push(r.errors / Math.max(1, r.count));
    s.test.loss.push(Number.isFinite(r.loss) ? r.loss : null);
    // numbers that overflow float32 are not recorded (a run file holds finite numbers): Fig. 7 (a) of a ResNet of a
    // thousand layers at iteration 0, whose BN layers normalise by their initial running statistics, keeps its readout only
    const finite = (xs: readonly number[] | undefined) => xs !== undefined && xs.every(Number.isFinite);
    if (!finite(r.layerStd) || !finite(gradNorms)) return;
    s.taps.push({
      it,
      layerStd: r.layerStd,
      ...(finite(r.layerStdEval) ? { layerStdEval: r.layerStdEval } : {}),
      gradNorms,
      ...(r.responseImages ? { images: r.responseImages } : {}),
      ...(r.gateMeans && finite(r.gateMeans) ? { gateMeans: r.gateMeans } : {}),
      ...(r.residualRatios && finite(r.residualRatios) ? { residualRatios: r.residualRatios } : {}),
    });
  }

  /**
   * Advance every training net by one iteration, grouped by the iteration they are at (nets added
   * late catch up on their own batches). Returns false when nothing is left to train.
   */
  async round(): Promise<boolean> {
    if ((this.engine.pipelineDepth ?? 0) > 0 && this.engine.stepMany) return this.pipelinedRound();
    const t0 = performance.now();
    const live = this.nets.filter((n) => n.info.status === 'pending' || n.info.status === 'training');
    if (live.length === 0) return false;
    for (const n of live) {
      if (n.info.status === 'pending') {
        n.info.status = 'training';
        if (n.trainer.iteration === 0 && this.data.test.count > 0) await this.evaluate(n);
      }
    }
    let images = 0;
    const byIteration = new Map<number, RunningNet[]>();
    for (const n of live) byIteration.set(n.trainer.iteration, [...(byIteration.get(n.trainer.iteration) ?? []), n]);
    for (const [it, group] of [...byIteration].sort((a, b) => a[0] - b[0])) {
      const batch = makeBatch(
        this.data.train,
        this.sequence.indices(it),
        this.inputStats,
        this.config.augment ? { seed: this.config.seed, iteration: it } : null,
      );
      this.engine.setBatch(batch);
      const evalNow = this.isEval(it + 1);
      const records = await stepTogether(
        this.engine,
        group.map((n) => n.trainer),
        evalNow,
      );
      for (const [k, n] of group.entries()) {
        const rec = records[k];
        if (!rec) {
          n.info.status = 'diverged';
          n.info.divergedAt = n.trainer.divergedAt;
          continue;
        }
        images += batch.size;
        const s = this.series(n.entry.id);
        s.train.it.push(it + 1);
        s.train.loss.push(rec.loss);
        s.train.err.push(rec.error);
        s.train.runErr.push(rec.runningError);
        s.train.lr.push(rec.lr);
        if (evalNow && this.data.test.count > 0) await this.evaluate(n, rec.gradNorms ?? []);
        if (n.trainer.iteration >= this.config.iterations) n.info.status = 'done';
      }
    }
    const ms = performance.now() - t0;
    this.elapsedMs += ms;
    this.roundMs = this.roundMs === 0 ? ms : 0.8 * this.roundMs + 0.2 * ms;
    const rate = images / (ms / 1000);
    this.imagesPerSec = this.imagesPerSec === 0 ? rate : 0.8 * this.imagesPerSec + 0.2 * rate;
    return this.active;
  }

  /** Rounds issued to a pipelined engine whose results are not recorded yet, oldest first. */
  private inFlight: { group: RunningNet[]; it: number; size: number; lrs: number[]; evalNow: boolean; results: Promise<StepResult[]> }[] = [];

  /**
   * A round on a pipelined engine (Engine.pipelineDepth): issue one step of every net that has
   * iterations left, without waiting, then record the oldest rounds until at most pipelineDepth are
   * in flight. Before an evaluation, and at the end, every round in flight is recorded first, so
   * each evaluation sees the weights of its iteration and the series stay in order.
   */
  private async pipelinedRound(): Promise<boolean> {
    const t0 = performance.now();
    const live = this.nets.filter((n) => n.info.status === 'pending' || n.info.status === 'training');
    if (live.length === 0 && this.inFlight.length === 0) return false;
    for (const n of live) {
      if (n.info.status === 'pending') {
        n.info.status = 'training';
        if (n.trainer.iteration === 0 && n.trainer.nextIteration === 0 && this.data.test.count > 0) await this.evaluate(n);
      }
    }
    const toIssue = live.filter((n) => n.trainer.status !== 'diverged' && n.trainer.nextIteration < this.config.iterations);
    const byIteration = new Map<number, RunningNet[]>();
    for (const n of toIssue) byIteration.set(n.trainer.nextIteration, [...(byIteration.get(n.trainer.nextIteration) ?? []), n]);
    let images = 0;
    for (const [it, group] of [...byIteration].sort((a, b) => a[0] - b[0])) {
      const batch = makeBatch(
        this.data.train,
        this.sequence.indices(it),
        this.inputStats,
        this.config.augment ? { seed: this.config.seed, iteration: it } : null,
      );
      this.engine.setBatch(batch);
      const evalNow = this.isEval(it + 1);
      const lrs = group.map((n) => n.trainer.issue());
      const results = this.engine.stepMany!(group.map((n, k) => ({ net: n.trainer.net, lr: lrs[k], withGradNorms: evalNow })));
      this.inFlight.push({ group, it, size: batch.size, lrs, evalNow, results });
      images += batch.size * group.length;
      if (evalNow) await this.drain();
    }
    while (this.inFlight.length > (this.engine.pipelineDepth ?? 0)) await this.recordOldest();
    if (toIssue.length === 0) await this.drain();
    const ms = performance.now() - t0;
    this.elapsedMs += ms;
    this.roundMs = this.roundMs === 0 ? ms : 0.8 * this.roundMs + 0.2 * ms;
    const rate = images / (ms / 1000);
    if (images > 0) this.imagesPerSec = this.imagesPerSec === 0 ? rate : 0.8 * this.imagesPerSec + 0.2 * rate;
    return this.active || this.inFlight.length > 0;
  }

  /** Record the oldest round in flight: its steps' results, and its evaluation when it has one. */
  private async recordOldest(): Promise<void> {
    const f = this.inFlight.shift();
    if (!f) return;
    const results = await f.results;
    for (const [k, n] of f.group.entries()) {
      const rec = n.trainer.complete(f.lrs[k], results[k]);
      if (!rec) {
        n.info.status = 'diverged';
        n.info.divergedAt = n.trainer.divergedAt;
        continue;
      }
      const s = this.series(n.entry.id);
      s.train.it.push(f.it + 1);
      s.train.loss.push(rec.loss);
      s.train.err.push(rec.error);
      s.train.runErr.push(rec.runningError);
      s.train.lr.push(rec.lr);
      if (f.evalNow && this.data.test.count > 0) await this.evaluate(n, rec.gradNorms ?? []);
      if (n.trainer.iteration >= this.config.iterations) n.info.status = 'done';
    }
  }

  /** Record every round in flight (before a checkpoint, a pause, or the end). */
  async drain(): Promise<void> {
    while (this.inFlight.length) await this.recordOldest();
  }

  progress(): Progress {
    const remaining = Math.max(0, this.config.iterations - this.iteration);
    const done = this.iteration - this.etaFrom.iteration;
    return {
      iteration: this.iteration,
      iterations: this.config.iterations,
      imagesPerSec: this.imagesPerSec,
      elapsedMs: this.elapsedMs,
      // the average time per iteration since this session began (evaluations included), not the last
      // rounds': the ETA then settles instead of swinging with every evaluation and chart redraw. A
      // resumed run's earlier time is left out: it may include iterations after its checkpoint that
      // are trained again, and another machine's or engine's speed.
      etaMs: !this.active
        ? 0
        : done >= ETA_MIN_ITERATIONS
          ? remaining * ((this.elapsedMs - this.etaFrom.ms) / done)
          : this.roundMs > 0
            ? remaining * this.roundMs
            : null,
    };
  }

  /** The points recorded since the last call, with every net's status and the progress. */
  takeDelta(): MetricsDelta {
    const nets = Object.fromEntries(this.delta);
    this.delta = new Map();
    return { nets, infos: this.infos(), progress: this.progress(), memory: this.engine.memory() };
  }

  /** Resume the clock from a saved run. */
  restoreElapsed(ms: number): void {
    this.elapsedMs = ms;
    this.etaFrom = { ms, iteration: this.iteration };
  }

  async checkpoint(): Promise<Checkpoint> {
    await this.drain();
    const nets: Checkpoint['nets'] = {};
    for (const n of this.nets) {
      nets[n.entry.id] = {
        entry: n.entry,
        iteration: n.trainer.iteration,
        state: await n.trainer.net.getState(),
        errors: n.trainer.errorHistory(),
        status: n.info.status,
        divergedAt: n.info.divergedAt,
      };
    }
    return { nets, createdAt: Date.now() };
  }

  dispose(): void {
    for (const n of this.nets) n.trainer.net.dispose();
    this.nets.length = 0;
  }
}
