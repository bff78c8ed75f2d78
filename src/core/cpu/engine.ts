// The lab CPU engine: the nets of ../nets.ts trained with hand-written WebAssembly SIMD kernels
// (./assembly/kernels.ts), on one thread or several sharing one memory. It exists because tfjs's
// CPU paths cannot train these nets at a useful speed (../../../docs/benchmarks.md).
//
// A net's training step is a fixed list of kernel calls (the step IR lowered by ./lower.ts) over a
// fixed memory plan (./program.ts); this file allocates them (./heap.ts), runs them on the threads, and moves weights
// in and out. The maths is the recipe of ../train.ts; engine.test.ts checks it against finite
// differences and against the tfjs engine.
import type { NetSpec, Tensors } from '../nets';
import { bnStatNames, multiplyAdds, sizeOf } from '../nets';
import type {
  Engine,
  EngineMemory,
  EngineName,
  EngineNet,
  EvalOptions,
  EvalResult,
  GradientResult,
  ImageBatch,
  NetState,
  StepRequest,
  StepResult,
} from '../train';
import { RESPONSE_IMAGES, gradNormLayers } from '../train';
import { Heap, MAX_PAGES } from './heap';
import type { Call } from './kernelArgs';
import type { HelperInit, WasmVariant } from './kernels';
import { COMMAND_SLOTS, CONTROL_OFFSET, CTRL, KernelInstance, MODE, barrier, encodeCommands, waitFor } from './kernels';
import type { ConvKernels, NetPlan, Workspace } from './program';
import type { Program } from './lower';
import { cpuProgram, gateValuesAt, gradientSlots, setArg } from './lower';
import { tappedBlocks } from '../ir/step';
import { IN_C, activationBytes, gradAt, momentumAt, netBytes, netsEvalChunk, paramAt, planNet, planWorkspace, trainsAlone } from './program';

const MAX_COMMANDS = 8192;

interface LabCpuOptions {
  module: WebAssembly.Module;
  variant: WasmVariant;
  /** Threads, including the calling one; > 1 needs a shared-memory variant and spawnHelper. */
  threads?: number;
  /** Start helper thread `init.tid`; it must call kernels.runHelper(init). */
  spawnHelper?: (init: HelperInit) => { terminate(): void };
  /** How threads share the work (see `Schedule`); 'ops' unless set. */
  schedule?: Schedule;
  /** A shared counter that every thread bumps after each kernel call (the page's watchdog reads it). */
  heartbeat?: Int32Array;
  /** 'auto' (Winograd where ./program.ts's `winograd` says; the default) or 'direct' convolutions only. */
  convKernels?: ConvKernels;
}

/**
 * How the threads share an experiment's work:
 * - 'ops': every kernel call is split across all threads, with a barrier after each. Right for one
 *   big net, whose ops are large.
 * - 'nets': each thread ("lane") trains whole nets on its own, single-threaded, and the lanes run
 *   at the same time (`stepMany`). Right for several small nets, whose ops are too small to split:
 *   no barrier per op. Each net then runs exactly as on a one-thread engine, so the results are
 *   bit-identical whatever the thread count.
 */
export type Schedule = 'ops' | 'nets';

/**
 * Nets to lanes, longest first onto the least-loaded lane (LPT). Costs are multiply-adds per image.
 * Returns each net's lane and the imbalance: the busiest lane's load over the average (1 = perfect).
 */
export function planLanes(costs: readonly number[], lanes: number): { lane: number[]; imbalance: number } {
  const load = new Array<number>(lanes).fill(0);
  const lane = new Array<number>(costs.length).fill(0);
  const order = costs.map((c, i) => [c, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [c, i] of order) {
    let best = 0;
    for (let l = 1; l < lanes; l++) if (load[l] < load[best]) best = l;
    lane[i] = best;
    load[best] += c;
  }
  const total = load.reduce((a, b) => a + b, 0);
  return { lane, imbalance: total > 0 ? Math.max(...load) / (total / lanes) : 1 };
}

/** The busiest lane may carry at most this much more than the average for 'nets' to beat 'ops'. */
const LANE_IMBALANCE_LIMIT = 1.2;

/**
 * The schedule for a set of nets on `threads` threads: 'nets' when there are at least as many nets
 * as threads and they balance within LANE_IMBALANCE_LIMIT, else 'ops'; always 'ops' with a net of more
 * than OPS_LAYERS layers (program.ts). `npm run bench -- --experiment` measures both.
 */
export function chooseSchedule(specs: readonly NetSpec[], threads: number): Schedule {
  if (threads < 2 || specs.length < threads || specs.some(trainsAlone)) return 'ops';
  return planLanes(specs.map(multiplyAdds), threads).imbalance <= LANE_IMBALANCE_LIMIT ? 'nets' : 'ops';
}

/** The lab's own CPU engine (WebAssembly SIMD, optionally multi-threaded). */
export class LabCpuEngine implements Engine {
  readonly name: EngineName = 'lab-cpu';
  readonly threads: number;
  private readonly heap: Heap;
  private readonly ctrl: Int32Array;
  private commandBuffer = 0;
  /** Lanes mode: each helper lane's command buffer, and the [address, count] table the helpers read. */
  private laneBuffers: number[] = [];
  private laneTable = 0;
  private readonly nets = new Set<LabCpuNet>();
  /** One workspace per lane ('ops' uses lane 0 only). */
  private ws: (Workspace | null)[] = [];
  private lanesDirty = true;
  private batchSize = 0;
  private readonly helpers: { terminate(): void }[] = [];
  private scheduleName: Schedule = 'ops';
  /** The convolution kernels every program of this engine uses. */
  convKernels: ConvKernels = 'auto';

  private constructor(
    readonly wasmMemory: WebAssembly.Memory,
    private readonly kernels: KernelInstance,
    threads: number,
    readonly variant: WasmVariant,
    private readonly heartbeat: Int32Array | null,
  ) {
    this.threads = threads;
    this.heap = new Heap(wasmMemory);
    this.ctrl = new Int32Array(wasmMemory.buffer, CONTROL_OFFSET, 16);
  }

  static async create(options: LabCpuOptions): Promise<LabCpuEngine> {
    const threads = Math.max(1, Math.floor(options.threads ?? 1));
    if (threads > 1 && !(options.variant.shared && options.spawnHelper)) {
      throw new Error('more than one thread needs a shared-memory kernel build and a way to spawn helper threads');
    }
    const memory = new WebAssembly.Memory({ initial: 16, maximum: MAX_PAGES, shared: options.variant.shared });
    const kernels = await KernelInstance.create(options.module, memory);
    const engine = new LabCpuEngine(memory, kernels, threads, options.variant, options.heartbeat ?? null);
    if (options.schedule) engine.setSchedule(options.schedule);
    if (options.convKernels) engine.convKernels = options.convKernels;
    if (threads > 1) {
      engine.commandBuffer = engine.heap.alloc(MAX_COMMANDS * COMMAND_SLOTS * 8);
      engine.laneTable = engine.heap.alloc(8 * threads);
      for (let tid = 1; tid < threads; tid++) engine.laneBuffers.push(engine.heap.alloc(MAX_COMMANDS * COMMAND_SLOTS * 8));
      for (let tid = 1; tid < threads; tid++) {
        engine.helpers.push(options.spawnHelper!({ module: options.module, memory, tid, nth: threads, heartbeat: options.heartbeat }));
      }
      // wait until every helper is listening, so the first run is not lost
      const deadline = Date.now() + 30_000;
      while (Atomics.load(engine.ctrl, CTRL.ready) < threads - 1) {
        if (Date.now() > deadline) throw new Error('the lab CPU engine’s helper threads did not start within 30 s');
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    return engine;
  }

  // --- memory views (recreated when the memory grows) -------------------------------------------

  private viewBuffer: ArrayBufferLike | null = null;
  private f32view = new Float32Array(0);
  private f64view = new Float64Array(0);
  private i32view = new Int32Array(0);

  views(): { f32: Float32Array; f64: Float64Array; i32: Int32Array } {
    const buf = this.wasmMemory.buffer;
    if (buf !== this.viewBuffer || this.f32view.length * 4 !== buf.byteLength) {
      this.viewBuffer = buf;
      this.f32view = new Float32Array(buf);
      this.f64view = new Float64Array(buf);
      this.i32view = new Int32Array(buf);
    }
    return { f32: this.f32view, f64: this.f64view, i32: this.i32view };
  }

  alloc(bytes: number): number {
    return this.heap.alloc(bytes);
  }

  release(at: number): void {
    this.heap.release(at);
  }

  // --- running kernel calls ---------------------------------------------------------------------

  /** When set, run() adds each kernel's wall time (ms) and call count here: a per-op profile. */
  profile: Map<string, { ms: number; calls: number }> | null = null;

  /** Threads that share one kernel call: all of them for 'ops', one for 'nets'. */
  get opThreads(): number {
    return this.scheduleName === 'nets' ? 1 : this.threads;
  }

  /** The schedule now (see chooseSchedule). */
  get schedule(): Schedule {
    return this.scheduleName;
  }

  /** Switch the schedule; every program and workspace is planned again (results do not depend on it beyond summation order). */
  setSchedule(schedule: Schedule): void {
    if (schedule === this.scheduleName) return;
    this.scheduleName = schedule;
    for (const ws of this.ws) if (ws) this.heap.release(ws.base);
    this.ws = [];
    this.lanesDirty = true;
    for (const net of this.nets) net.invalidatePrograms();
  }

  /** Run calls on the calling thread alone ('nets'), or split across every thread ('ops'). */
  run(calls: readonly Call[]): void {
    if (this.profile) {
      this.runProfiled(calls, this.profile);
      return;
    }
    if (this.opThreads === 1) {
      for (const c of calls) this.call(c, 0, 1);
      return;
    }
    for (let start = 0; start < calls.length; start += MAX_COMMANDS) this.runShared(calls.slice(start, start + MAX_COMMANDS));
  }

  /** One kernel call on this thread, counted on the heartbeat. */
  private call(c: Call, tid: number, nth: number): void {
    this.kernels.call(c, tid, nth);
    if (this.heartbeat) Atomics.add(this.heartbeat, 0, 1);
  }

  /** Fault injection (tests): end a helper thread as if it had crashed. The next shared run then never finishes. */
  killHelper(): void {
    const h = this.helpers[0];
    if (!h) throw new Error('the lab CPU engine has no helper thread to end (it runs on one thread here)');
    h.terminate();
  }

  /** One command list per kernel call, so each call's wall time (all threads) is measured alone. */
  private runProfiled(calls: readonly Call[], profile: Map<string, { ms: number; calls: number }>): void {
    for (const c of calls) {
      const t0 = performance.now();
      if (this.opThreads === 1) this.call(c, 0, 1);
      else this.runShared([c]);
      const entry = profile.get(c[0]) ?? { ms: 0, calls: 0 };
      entry.ms += performance.now() - t0;
      entry.calls += 1;
      profile.set(c[0], entry);
    }
  }

  private runShared(calls: readonly Call[]): void {
    encodeCommands(calls, this.views().f64, this.commandBuffer);
    const ctrl = this.ctrl;
    // Every thread passed the previous run's last barrier, so the counter is settled: start from it.
    const base = Atomics.load(ctrl, CTRL.barrier);
    Atomics.store(ctrl, CTRL.count, calls.length);
    Atomics.store(ctrl, CTRL.commands, this.commandBuffer);
    Atomics.store(ctrl, CTRL.base, base);
    Atomics.add(ctrl, CTRL.generation, 1);
    Atomics.notify(ctrl, CTRL.generation);
    calls.forEach((c, i) => {
      this.call(c, 0, this.threads);
      barrier(ctrl, base + this.threads * (i + 1));
    });
  }

  /**
   * Lanes mode: run lists[k] on thread k, all at once, each as a single thread; returns when every
   * lane is done. Lane 0 runs on the calling thread.
   */
  private runLanes(lists: readonly Call[][]): void {
    const longest = Math.max(...lists.map((l) => l.length));
    if (longest > MAX_COMMANDS) {
      // a lane longer than its buffer: run in rounds (each lane's calls stay in order)
      for (let start = 0; start < longest; start += MAX_COMMANDS) this.runLanes(lists.map((l) => l.slice(start, start + MAX_COMMANDS)));
      return;
    }
    const ctrl = this.ctrl;
    const { f64, i32 } = this.views();
    for (let tid = 1; tid < this.threads; tid++) {
      const calls = lists[tid] ?? [];
      encodeCommands(calls, f64, this.laneBuffers[tid - 1]);
      i32[this.laneTable / 4 + 2 * tid] = this.laneBuffers[tid - 1];
      i32[this.laneTable / 4 + 2 * tid + 1] = calls.length;
    }
    const done = Atomics.load(ctrl, CTRL.done);
    Atomics.store(ctrl, CTRL.mode, MODE.lanes);
    Atomics.store(ctrl, CTRL.laneTable, this.laneTable);
    Atomics.add(ctrl, CTRL.generation, 1);
    Atomics.notify(ctrl, CTRL.generation);
    for (const c of lists[0] ?? []) this.call(c, 0, 1);
    waitFor(ctrl, CTRL.done, done + this.threads - 1);
    Atomics.store(ctrl, CTRL.mode, MODE.ops);
  }

  /** Lanes mode: give every net a lane, balanced by multiply-adds (redone when the nets change). */
  assignLanes(): void {
    if (!this.lanesDirty) return;
    this.lanesDirty = false;
    const nets = [...this.nets];
    const lanes = this.scheduleName === 'nets' ? this.threads : 1;
    const { lane } = planLanes(
      nets.map((n) => multiplyAdds(n.spec)),
      lanes,
    );
    nets.forEach((n, i) => n.setLane(lane[i]));
  }

  /**
   * One SGD step of several nets on the current batch. With the 'nets' schedule the lanes run at
   * the same time; each net computes exactly what its own `step` would.
   */
  async stepMany(requests: readonly StepRequest[]): Promise<StepResult[]> {
    if (this.scheduleName !== 'nets' || this.threads === 1 || this.profile) {
      const out: StepResult[] = [];
      for (const r of requests) out.push(await r.net.step(r.lr, r.withGradNorms));
      return out;
    }
    const nets = requests.map((r) => {
      if (!(r.net instanceof LabCpuNet) || !this.nets.has(r.net)) throw new Error('stepMany: a net of another engine');
      return r.net;
    });
    this.assignLanes();
    const lists: Call[][] = Array.from({ length: this.threads }, () => []);
    nets.forEach((net, i) => lists[net.lane].push(...net.stepProgram(requests[i].lr)));
    this.runLanes(lists);
    return nets.map((net, i) => net.stepResult(requests[i].withGradNorms ?? false));
  }

  // --- workspace --------------------------------------------------------------------------------

  /** The workspace for the current batch size, big enough for every net; rebuilt when either grows. */
  /** The smallest batch the workspace is planned for (evaluation chunks before any training batch). */
  private minCapacity = 1;

  /** Make sure the workspace holds batches of n images (evaluation uses chunks of up to 128). */
  ensureCapacity(n: number): void {
    this.minCapacity = Math.max(this.minCapacity, n);
  }

  /** The evaluation's chunk for this engine's nets (train.ts's evalChunk: fewer than 128 images for a thousand layers). */
  evalChunk(): number {
    return netsEvalChunk(
      [...this.nets].map((n) => n.spec),
      this.batchSize,
    );
  }

  /** The workspace of a lane, planned for the nets in that lane ('ops': every net is in lane 0). */
  workspace(lane = 0): Workspace {
    this.assignLanes();
    const capacity = Math.max(1, this.batchSize, this.minCapacity);
    const nets = [...this.nets].filter((n) => n.lane === lane);
    const imageSize = [...this.nets][0]?.spec.options.inputSize ?? 32;
    const need = Math.max(0, ...nets.map((n) => activationBytes(n.spec, capacity)));
    const slots = Math.max(1, ...nets.map((n) => n.gradSlots));
    const current = this.ws[lane] ?? null;
    if (
      current &&
      current.capacity >= capacity &&
      current.size - (current.activations - current.base) >= need &&
      current.imageSize === imageSize &&
      current.grads.length >= slots
    ) {
      return current;
    }
    if (current) this.heap.release(current.base);
    const plan = planWorkspace(
      nets.map((n) => n.spec),
      capacity,
      imageSize,
      this.opThreads,
      need,
      slots,
    );
    const ws = plan.at(this.heap.alloc(plan.size));
    const F = this.views().f32;
    F.fill(1, ws.ones / 4, ws.ones / 4 + ws.channels);
    F.fill(0, ws.zeros / 4, ws.zeros / 4 + ws.channels);
    this.ws[lane] = ws;
    for (const net of nets) net.invalidatePrograms();
    // the new workspace starts empty: put the current training batch back in place
    if (this.pendingBatch) this.copyImages(this.pendingBatch, ws.input, ws.labels, 0, this.pendingBatch.size);
    return ws;
  }

  /** The lanes that hold nets now. */
  private lanesInUse(): number[] {
    this.assignLanes();
    return [...new Set([...this.nets].map((n) => n.lane))].sort((a, b) => a - b);
  }

  // --- Engine -----------------------------------------------------------------------------------

  private pendingBatch: ImageBatch | null = null;

  setBatch(batch: ImageBatch): void {
    this.batchSize = batch.size;
    this.pendingBatch = batch;
    // every lane that holds nets, and every workspace kept from nets since disposed (a net created next reuses it)
    const lanes = new Set([...this.lanesInUse(), ...this.ws.flatMap((w, lane) => (w ? [lane] : []))]);
    for (const lane of lanes) {
      const ws = this.workspace(lane);
      this.copyImages(batch, ws.input, ws.labels, 0, batch.size);
    }
  }

  /** Copy evaluation images into a lane's eval input buffer. */
  writeEvalImages(batch: ImageBatch, lane: number, start: number, count: number): void {
    const ws = this.workspace(lane);
    this.copyImages(batch, ws.evalInput, ws.evalLabels, start, count);
  }

  /** Images as NHWC with 3 channels padded to 4, and labels as int32. */
  private copyImages(batch: ImageBatch, input: number, labels: number, start: number, count: number): void {
    const { f32: F, i32: I } = this.views();
    const px = batch.imageSize * batch.imageSize;
    let o = input / 4;
    let s = start * px * 3;
    for (let p = 0; p < count * px; p++, o += 4, s += 3) {
      F[o] = batch.x[s];
      F[o + 1] = batch.x[s + 1];
      F[o + 2] = batch.x[s + 2];
      F[o + 3] = 0;
    }
    for (let i = 0; i < count; i++) I[labels / 4 + i] = batch.labels[start + i];
  }

  currentBatchSize(): number {
    if (!this.pendingBatch) throw new Error('no training batch: call setBatch first');
    return this.batchSize;
  }

  createNet(spec: NetSpec, state: NetState): EngineNet {
    for (const n of this.nets) {
      if (n.spec.options.inputSize !== spec.options.inputSize) throw new Error('every net of an engine must take the same input size');
    }
    const net = new LabCpuNet(this, spec);
    this.nets.add(net);
    this.lanesDirty = true;
    net.setState(state);
    return net;
  }

  forget(net: LabCpuNet): void {
    this.nets.delete(net);
    this.lanesDirty = true;
  }

  memory(): EngineMemory {
    return { bytes: this.wasmMemory.buffer.byteLength, tensors: this.heap.liveCount };
  }

  dispose(): void {
    for (const n of [...this.nets]) n.dispose();
    for (const ws of this.ws) if (ws) this.heap.release(ws.base);
    this.ws = [];
    if (this.helpers.length) {
      Atomics.store(this.ctrl, CTRL.quit, 1);
      Atomics.add(this.ctrl, CTRL.generation, 1);
      Atomics.notify(this.ctrl, CTRL.generation);
      for (const h of this.helpers) h.terminate();
      this.helpers.length = 0;
    }
  }
}

/** One net on the lab CPU engine: its memory plan (./program.ts), its cached programs, and its state in and out. */
class LabCpuNet implements EngineNet {
  private readonly plan: NetPlan;
  private programs = new Map<string, Program>();
  private disposed = false;
  /** The engine thread that trains this net under the 'nets' schedule (0 under 'ops'). */
  lane = 0;
  /** Gradient slots its step needs in the workspace. */
  readonly gradSlots: number;

  constructor(
    private readonly engine: LabCpuEngine,
    readonly spec: NetSpec,
  ) {
    this.plan = planNet(spec, engine.alloc(netBytes(spec)));
    this.gradSlots = gradientSlots(spec);
  }

  invalidatePrograms(): void {
    this.programs.clear();
  }

  setLane(lane: number): void {
    if (lane === this.lane) return;
    this.lane = lane;
    this.programs.clear();
  }

  /** A program for the current workspace of this net's lane, built once per batch size. */
  private program(key: string, build: (ws: Workspace) => Program): Program {
    const cached = this.programs.get(key);
    if (cached) return cached;
    const program = build(this.engine.workspace(this.lane));
    this.programs.set(key, program);
    return program;
  }

  private trainProgram(N: number, update: boolean): Program {
    return this.program(`train:${N}:${update}`, (ws) =>
      cpuProgram(this.plan, ws, N, update ? 'step' : 'grads', this.engine.opThreads, this.engine.convKernels),
    );
  }

  // --- EngineNet --------------------------------------------------------------------------------

  private check(): void {
    if (this.disposed) throw new Error('this net was disposed');
  }

  private lossAndErrors(N: number): { loss: number; errors: number } {
    const F = this.engine.views().f64;
    return { loss: F[this.plan.out / 8] / N, errors: F[this.plan.out / 8 + 1] };
  }

  /** The calls of one SGD step at learning rate lr (the engine runs them: alone, or in this net's lane). */
  stepProgram(lr: number): readonly Call[] {
    this.check();
    this.engine.assignLanes();
    const program = this.trainProgram(this.engine.currentBatchSize(), true);
    setArg(program, 'lr', lr);
    return program.calls;
  }

  /** What the last step computed. */
  stepResult(withGradNorms: boolean): StepResult {
    const N = this.engine.currentBatchSize();
    const { loss, errors } = this.lossAndErrors(N);
    return { loss, errors, size: N, ...(withGradNorms ? { gradNorms: this.gradNorms() } : {}) };
  }

  async step(lr: number, withGradNorms = false): Promise<StepResult> {
    this.engine.run(this.stepProgram(lr));
    return this.stepResult(withGradNorms);
  }

  private gradNorms(): number[] {
    const F = this.engine.views().f32;
    return gradNormLayers(this.spec).map((name) => {
      const at = gradAt(this.plan, name) / 4;
      const { length } = this.plan.slots.get(name)!;
      let s = 0;
      for (let i = 0; i < length; i++) s += F[at + i] * F[at + i];
      return Math.sqrt(s);
    });
  }

  async gradients(): Promise<GradientResult> {
    this.check();
    const N = this.engine.currentBatchSize();
    this.engine.assignLanes();
    this.engine.run(this.trainProgram(N, false).calls);
    const grads = this.read((name) => gradAt(this.plan, name));
    return { loss: this.lossAndErrors(N).loss, grads };
  }

  async loss(): Promise<number> {
    this.check();
    const N = this.engine.currentBatchSize();
    this.engine.assignLanes();
    this.engine.run(this.program(`loss:${N}`, (ws) => cpuProgram(this.plan, ws, N, 'loss', this.engine.opThreads, this.engine.convKernels)).calls);
    return this.lossAndErrors(N).loss;
  }

  async evaluate(batch: ImageBatch, options: EvalOptions = {}): Promise<EvalResult> {
    this.check();
    this.engine.ensureCapacity(Math.min(batch.size, this.engine.evalChunk()));
    this.engine.assignLanes();
    const ws = this.engine.workspace(this.lane);
    const layers = this.spec.layers3x3.length;
    const out = this.plan.out / 8;
    const F64 = () => this.engine.views().f64;
    F64().fill(0, out, out + 2);
    F64().fill(0, ws.taps / 8, ws.taps / 8 + 2 * layers);
    for (let start = 0; start < batch.size; start += ws.capacity) {
      const n = Math.min(ws.capacity, batch.size - start);
      this.engine.writeEvalImages(batch, this.lane, start, n);
      this.engine.run(this.program(`eval:${n}`, (w) => cpuProgram(this.plan, w, n, 'eval', this.engine.opThreads, this.engine.convKernels)).calls);
    }
    if (options.responses === false) {
      const F = F64();
      return { loss: F[out] / Math.max(1, batch.size), errors: F[out + 1], count: batch.size, layerStd: [], layerStdEval: [] };
    }
    // Fig. 7: the first images' responses, BN with their own statistics (see responseProgram)
    const r = Math.min(batch.size, RESPONSE_IMAGES, ws.capacity);
    this.engine.writeEvalImages(batch, this.lane, 0, r);
    this.engine.run(this.program(`responses:${r}`, (w) => cpuProgram(this.plan, w, r, 'responses', this.engine.opThreads, this.engine.convKernels)).calls);
    const moments = () =>
      this.spec.layers3x3.map((c, i) => {
        const F = F64();
        const count = r * c.outSize * c.outSize * c.outC;
        const mean = F[ws.taps / 8 + 2 * i] / count;
        return Math.sqrt(Math.max(0, F[ws.taps / 8 + 2 * i + 1] / count - mean * mean));
      });
    const layerStd = moments();
    const F32 = this.engine.views().f32;
    const gateMeans = gateValuesAt(this.plan, ws, r).map(({ at, count }) => {
      let sum = 0;
      for (let i = at / 4; i < at / 4 + count; i++) sum += F32[i];
      return sum / count;
    });
    // Fig. 7 (a): the same images through the net as it is used, BN with its running averages; and each block's
    // ‖F(x)‖/‖x‖ (its residual taps: Σ F, Σ F², Σ x, Σ x²)
    const tapped = tappedBlocks(this.spec).length;
    F64().fill(0, ws.taps / 8, ws.taps / 8 + 2 * layers);
    F64().fill(0, ws.residuals / 8, ws.residuals / 8 + 4 * tapped);
    this.engine.run(
      this.program(`eval-responses:${r}`, (w) => cpuProgram(this.plan, w, r, 'eval-responses', this.engine.opThreads, this.engine.convKernels)).calls,
    );
    const layerStdEval = moments();
    const F = F64();
    const residualRatios = Array.from({ length: tapped }, (_, i) => Math.sqrt(F[ws.residuals / 8 + 4 * i + 1] / F[ws.residuals / 8 + 4 * i + 3]));
    return {
      loss: F[out] / Math.max(1, batch.size),
      errors: F[out + 1],
      count: batch.size,
      layerStd,
      layerStdEval,
      responseImages: r,
      ...(gateMeans.length ? { gateMeans } : {}),
      ...(tapped ? { residualRatios } : {}),
    };
  }

  /** Copy every parameter out of the block at `where(name)`, in the canonical shapes of ../nets.ts. */
  private read(where: (name: string) => number): Tensors {
    const F = this.engine.views().f32;
    const out: Tensors = {};
    for (const p of this.spec.params) {
      const at = where(p.name) / 4;
      if (p.name === this.spec.stem.name) out[p.name] = this.stemFromInternal(F.subarray(at, at + this.plan.slots.get(p.name)!.length));
      else out[p.name] = F.slice(at, at + sizeOf(p.shape));
    }
    return out;
  }

  private write(where: (name: string) => number, values: Tensors): void {
    const F = this.engine.views().f32;
    for (const p of this.spec.params) {
      const v = values[p.name];
      if (!v || v.length !== sizeOf(p.shape)) throw new Error(`state for ${p.name} is missing or has the wrong size`);
      const at = where(p.name) / 4;
      if (p.name === this.spec.stem.name) F.set(this.stemToInternal(v), at);
      else F.set(v, at);
    }
  }

  /** The stem's [3,3,3,K] weights in the kernels' [3,3,4,K] layout (the 4th input channel is zero). */
  private stemToInternal(v: Float32Array): Float32Array {
    const K = this.spec.stem.outC;
    const out = new Float32Array(9 * IN_C * K);
    for (let t = 0; t < 9; t++) for (let c = 0; c < 3; c++) out.set(v.subarray((t * 3 + c) * K, (t * 3 + c + 1) * K), (t * IN_C + c) * K);
    return out;
  }

  private stemFromInternal(v: Float32Array): Float32Array {
    const K = this.spec.stem.outC;
    const out = new Float32Array(9 * 3 * K);
    for (let t = 0; t < 9; t++) for (let c = 0; c < 3; c++) out.set(v.subarray((t * IN_C + c) * K, (t * IN_C + c + 1) * K), (t * 3 + c) * K);
    return out;
  }

  async getState(): Promise<NetState> {
    this.check();
    const F = this.engine.views().f32;
    const bnStats: Tensors = {};
    for (const b of bnStatNames(this.spec)) {
      for (const name of [b.mean, b.variance]) {
        const at = this.plan.stats.get(name)! / 4;
        bnStats[name] = F.slice(at, at + b.channels);
      }
    }
    return { params: this.read((n) => paramAt(this.plan, n)), momentum: this.read((n) => momentumAt(this.plan, n)), bnStats };
  }

  setState(state: NetState): void {
    this.check();
    // zero the whole block first, so padding stays zero
    const base = this.plan.base / 4;
    this.engine.views().f32.fill(0, base, base + 3 * this.plan.blockFloats);
    this.write((n) => paramAt(this.plan, n), state.params);
    this.write((n) => momentumAt(this.plan, n), state.momentum);
    const F = this.engine.views().f32;
    for (const b of bnStatNames(this.spec)) {
      for (const name of [b.mean, b.variance]) {
        const v = state.bnStats[name];
        if (!v || v.length !== b.channels) throw new Error(`state for ${name} is missing or has the wrong size`);
        F.set(v, this.plan.stats.get(name)! / 4);
      }
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.engine.release(this.plan.base);
    this.engine.forget(this);
  }
}
