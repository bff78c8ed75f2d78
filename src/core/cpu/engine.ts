// The lab CPU engine: the nets of ../nets.ts trained with hand-written WebAssembly SIMD kernels
// (./assembly/kernels.ts), on one thread or several sharing one memory. It exists because tfjs's
// CPU paths cannot train these nets at a useful speed (../../../docs/benchmarks.md).
//
// A net's training step is a fixed list of kernel calls over a fixed memory plan: the forward pass
// saves each conv's output z and each block's activations; the backward pass walks the blocks in
// reverse with three rotating gradient buffers; one SGD call updates the whole parameter block.
// The maths is the recipe of ../train.ts; engine.test.ts checks it against finite differences
// and against the tfjs engine.
import type { BlockSpec, ConvSpec, NetSpec, Tensors } from '../nets';
import { NUM_CLASSES, bnStatNames, multiplyAdds, sizeOf } from '../nets';
import type { Engine, EngineMemory, EngineName, EngineNet, EvalResult, GradientResult, ImageBatch, NetState, StepRequest, StepResult } from '../train';
import { BN_EPSILON, BN_MOMENTUM, MOMENTUM, WEIGHT_DECAY, gradNormLayers } from '../train';
import type { Call, HelperInit, WasmVariant } from './kernels';
import { COMMAND_SLOTS, CONTROL_OFFSET, CTRL, KernelInstance, MODE, RESERVED_BYTES, barrier, encodeCommands, waitFor } from './kernels';

const PAGE = 65536;
const ALIGN = 64;
const MAX_PAGES = 65536; // 4 GiB, the wasm32 limit
/** Input channels are padded from 3 to 4 so every channel count is a multiple of the SIMD width. */
const IN_C = 4;
const MAX_COMMANDS = 8192;

const align = (n: number, a = ALIGN) => Math.ceil(n / a) * a;
const f32 = (n: number) => 4 * n;

/** A first-fit allocator over the engine's linear memory, growing it as needed. */
class Heap {
  private top = RESERVED_BYTES;
  private free: { at: number; size: number }[] = [];
  private readonly live = new Map<number, number>();

  constructor(private readonly memory: WebAssembly.Memory) {}

  alloc(bytes: number): number {
    const size = align(Math.max(bytes, ALIGN));
    const i = this.free.findIndex((b) => b.size >= size);
    let at: number;
    if (i >= 0) {
      const b = this.free[i];
      at = b.at;
      if (b.size === size) this.free.splice(i, 1);
      else this.free[i] = { at: b.at + size, size: b.size - size };
    } else {
      at = this.top;
      this.top += size;
      const need = Math.ceil(this.top / PAGE);
      const have = this.memory.buffer.byteLength / PAGE;
      if (need > MAX_PAGES) throw new Error(`the lab CPU engine needs ${(this.top / 2 ** 30).toFixed(2)} GiB, over the 4 GiB WebAssembly limit: use a smaller batch or fewer nets`);
      if (need > have) this.memory.grow(need - have);
    }
    this.live.set(at, size);
    return at;
  }

  release(at: number): void {
    const size = this.live.get(at);
    if (size === undefined) return;
    this.live.delete(at);
    this.free.push({ at, size });
    this.free.sort((a, b) => a.at - b.at);
    // coalesce neighbours, and give the tail back to the bump pointer
    const merged: { at: number; size: number }[] = [];
    for (const b of this.free) {
      const last = merged[merged.length - 1];
      if (last && last.at + last.size === b.at) last.size += b.size;
      else merged.push({ ...b });
    }
    const tail = merged[merged.length - 1];
    if (tail && tail.at + tail.size === this.top) {
      this.top = tail.at;
      merged.pop();
    }
    this.free = merged;
  }

  get liveCount(): number {
    return this.live.size;
  }
}

/** A tensor's place in a net's parameter block; sizes are padded to 4 floats (16 bytes). */
interface Slot {
  offset: number; // bytes from the block start
  length: number; // floats used
}

/** The per-conv pointers a program needs. */
interface ConvPlan {
  spec: ConvSpec;
  inC: number; // channels the kernels see (the stem's 3 padded to 4)
  inSize: number;
  w: number;
  gw: number;
  gamma: number;
  beta: number;
  ggamma: number;
  gbeta: number;
  rmean: number;
  rvar: number;
  mean: number;
  invstd: number;
  variance: number;
  scale: number;
  shift: number;
  coefA: number;
  coefB: number;
  coefD: number;
  /** Workspace offset of the conv's output z (pre-BN). */
  z: number;
}

interface BlockPlan {
  spec: BlockSpec;
  conv1: ConvPlan;
  conv2: ConvPlan;
  projection?: ConvPlan;
  /** Workspace offsets: ReLU(BN(conv1)), and the block output. */
  h: number;
  out: number;
}

/** The engine's shared scratch: one batch of inputs, the padded-input buffer, gradient buffers. */
interface Workspace {
  base: number;
  size: number;
  capacity: number; // batch size it is planned for
  imageSize: number;
  input: number;
  evalInput: number;
  labels: number;
  evalLabels: number;
  padded: number;
  grads: [number, number, number];
  partials: number;
  flip: number;
  g: number;
  probs: number;
  out: number; // f64 [2]: Σ loss, errors
  taps: number; // f64 [2·layers]: Σy, Σy² per 3×3 layer
  shortcut: number; // option A / projection output, forward only
  /** Where each net's saved activations start. */
  activations: number;
}

export interface LabCpuOptions {
  module: WebAssembly.Module;
  variant: WasmVariant;
  /** Threads, including the calling one; > 1 needs a shared-memory variant and spawnHelper. */
  threads?: number;
  /** Start helper thread `init.tid`; it must call kernels.runHelper(init). */
  spawnHelper?: (init: HelperInit) => { terminate(): void };
  /** How threads share the work (see `Schedule`); 'ops' unless set. */
  schedule?: Schedule;
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
export const LANE_IMBALANCE_LIMIT = 1.2;

/**
 * The schedule for a set of nets on `threads` threads: 'nets' when there are at least as many nets
 * as threads and they balance within LANE_IMBALANCE_LIMIT, else 'ops'. `npm run bench -- --experiment`
 * measures both.
 */
export function chooseSchedule(specs: readonly NetSpec[], threads: number): Schedule {
  if (threads < 2 || specs.length < threads) return 'ops';
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

  private constructor(
    readonly wasmMemory: WebAssembly.Memory,
    private readonly kernels: KernelInstance,
    threads: number,
    readonly variant: WasmVariant,
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
    const engine = new LabCpuEngine(memory, kernels, threads, options.variant);
    if (options.schedule) engine.setSchedule(options.schedule);
    if (threads > 1) {
      engine.commandBuffer = engine.heap.alloc(MAX_COMMANDS * COMMAND_SLOTS * 8);
      engine.laneTable = engine.heap.alloc(8 * threads);
      for (let tid = 1; tid < threads; tid++) engine.laneBuffers.push(engine.heap.alloc(MAX_COMMANDS * COMMAND_SLOTS * 8));
      for (let tid = 1; tid < threads; tid++) {
        engine.helpers.push(options.spawnHelper!({ module: options.module, memory, tid, nth: threads }));
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
      for (const c of calls) this.kernels.call(c, 0, 1);
      return;
    }
    for (let start = 0; start < calls.length; start += MAX_COMMANDS) this.runShared(calls.slice(start, start + MAX_COMMANDS));
  }

  /** One command list per kernel call, so each call's wall time (all threads) is measured alone. */
  private runProfiled(calls: readonly Call[], profile: Map<string, { ms: number; calls: number }>): void {
    for (const c of calls) {
      const t0 = performance.now();
      if (this.opThreads === 1) this.kernels.call(c, 0, 1);
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
      this.kernels.call(c, 0, this.threads);
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
    for (const c of lists[0] ?? []) this.kernels.call(c, 0, 1);
    waitFor(ctrl, CTRL.done, done + this.threads - 1);
    Atomics.store(ctrl, CTRL.mode, MODE.ops);
  }

  /** Lanes mode: give every net a lane, balanced by multiply-adds (redone when the nets change). */
  assignLanes(): void {
    if (!this.lanesDirty) return;
    this.lanesDirty = false;
    const nets = [...this.nets];
    const lanes = this.scheduleName === 'nets' ? this.threads : 1;
    const { lane } = planLanes(nets.map((n) => multiplyAdds(n.spec)), lanes);
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

  /** The workspace of a lane, planned for the nets in that lane ('ops': every net is in lane 0). */
  workspace(lane = 0): Workspace {
    this.assignLanes();
    const capacity = Math.max(1, this.batchSize, this.minCapacity);
    const nets = [...this.nets].filter((n) => n.lane === lane);
    const imageSize = [...this.nets][0]?.spec.options.inputSize ?? 32;
    const need = Math.max(0, ...nets.map((n) => n.activationBytes(capacity)));
    const current = this.ws[lane] ?? null;
    if (current && current.capacity >= capacity && current.size - (current.activations - current.base) >= need && current.imageSize === imageSize) {
      return current;
    }
    if (current) this.heap.release(current.base);
    const N = capacity;
    const specs = nets.map((n) => n.spec);
    const maxAct = Math.max(N * imageSize * imageSize * IN_C, ...specs.flatMap((s) => s.convs.map((c) => N * c.outSize * c.outSize * c.outC)));
    const maxPadded = Math.max(
      ...specs.flatMap((s) => s.convs.map((c) => {
        const inSize = c.outSize * c.stride;
        return N * (inSize + 2) * (inSize + 2) * Math.max(c.inC === 3 ? IN_C : c.inC, c.outC);
      })),
      1,
    );
    const maxC = Math.max(IN_C, ...specs.flatMap((s) => s.convs.map((c) => c.outC)));
    const maxFlip = Math.max(1, ...specs.flatMap((s) => s.convs.map((c) => c.k * c.k * c.inC * c.outC)));
    const maxLayers = Math.max(1, ...specs.map((s) => s.layers3x3.length));
    const parts: [keyof Workspace, number][] = [
      ['input', f32(N * imageSize * imageSize * IN_C)],
      ['evalInput', f32(N * imageSize * imageSize * IN_C)],
      ['labels', 4 * N],
      ['evalLabels', 4 * N],
      ['padded', f32(maxPadded)],
      ['partials', 8 * this.opThreads * 2 * maxC],
      ['flip', f32(maxFlip)],
      ['g', f32(N * maxC)],
      ['probs', f32(N * NUM_CLASSES)],
      ['out', 16],
      ['taps', 16 * maxLayers],
      ['shortcut', f32(maxAct)],
    ];
    let size = 0;
    const offsets: Record<string, number> = {};
    for (const [name, bytes] of parts) {
      offsets[name] = size;
      size += align(bytes);
    }
    const gradsAt = size;
    size += 3 * align(f32(maxAct));
    const activationsAt = size;
    size += need;
    const base = this.heap.alloc(size);
    const ws: Workspace = {
      base,
      size,
      capacity: N,
      imageSize,
      input: base + offsets.input,
      evalInput: base + offsets.evalInput,
      labels: base + offsets.labels,
      evalLabels: base + offsets.evalLabels,
      padded: base + offsets.padded,
      partials: base + offsets.partials,
      flip: base + offsets.flip,
      g: base + offsets.g,
      probs: base + offsets.probs,
      out: base + offsets.out,
      taps: base + offsets.taps,
      shortcut: base + offsets.shortcut,
      grads: [0, 1, 2].map((i) => base + gradsAt + i * align(f32(maxAct))) as [number, number, number],
      activations: base + activationsAt,
    };
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
    for (const lane of this.lanesInUse()) {
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

/** One net on the lab CPU engine. */
class LabCpuNet implements EngineNet {
  /** Parameter block layout (the same for weights, gradients and momentum). */
  private readonly slots = new Map<string, Slot>();
  private readonly blockFloats: number;
  /** One allocation: params, grads, momentum, BN running stats and per-BN step scratch. */
  private readonly base: number;
  private readonly stats = new Map<string, number>();
  private readonly convs = new Map<string, ConvPlan>();
  private programs = new Map<string, { calls: Call[]; lrArg?: number }>();
  private disposed = false;
  /** The engine thread that trains this net under the 'nets' schedule (0 under 'ops'). */
  lane = 0;
  /** f64 [2]: Σ loss and errors of this net's last step or evaluation (its own, so lanes never share it). */
  private readonly out: number;

  constructor(
    private readonly engine: LabCpuEngine,
    readonly spec: NetSpec,
  ) {
    let floats = 0;
    for (const p of spec.params) {
      const length = p.name === spec.stem.name ? 3 * 3 * IN_C * spec.stem.outC : sizeOf(p.shape);
      this.slots.set(p.name, { offset: f32(floats), length });
      floats += align(length, 4);
    }
    this.blockFloats = floats;
    const statFloats = bnStatNames(spec).reduce((s, b) => s + 2 * align(b.channels, 4), 0);
    const scratchFloats = spec.convs.reduce((s, c) => s + 9 * align(c.outC, 4), 0);
    this.base = engine.alloc(f32(3 * floats + statFloats + scratchFloats + 4));
    this.out = this.base + f32(3 * floats + statFloats + scratchFloats);
    let at = this.base + f32(3 * floats);
    for (const b of bnStatNames(spec)) {
      this.stats.set(b.mean, at);
      at += f32(align(b.channels, 4));
      this.stats.set(b.variance, at);
      at += f32(align(b.channels, 4));
    }
    for (const c of spec.convs) {
      const K = align(c.outC, 4);
      const next = () => {
        const p = at;
        at += f32(K);
        return p;
      };
      const w = this.param(c.name);
      this.convs.set(c.name, {
        spec: c,
        inC: c.inC === 3 ? IN_C : c.inC,
        inSize: c.outSize * c.stride,
        w,
        gw: this.grad(c.name),
        gamma: this.param(`${c.name}.bn.gamma`),
        beta: this.param(`${c.name}.bn.beta`),
        ggamma: this.grad(`${c.name}.bn.gamma`),
        gbeta: this.grad(`${c.name}.bn.beta`),
        rmean: this.stats.get(`${c.name}.bn.mean`)!,
        rvar: this.stats.get(`${c.name}.bn.var`)!,
        mean: next(),
        invstd: next(),
        variance: next(),
        scale: next(),
        shift: next(),
        coefA: next(),
        coefB: next(),
        coefD: next(),
        z: 0,
      });
      // the ninth per-channel slot is spare, kept so the layout stays a multiple of 4 floats
      next();
    }
  }

  private param(name: string): number {
    return this.base + this.slots.get(name)!.offset;
  }

  private grad(name: string): number {
    return this.base + f32(this.blockFloats) + this.slots.get(name)!.offset;
  }

  private momentumAt(name: string): number {
    return this.base + f32(2 * this.blockFloats) + this.slots.get(name)!.offset;
  }

  /** Bytes of saved activations for a batch of N: each conv's z, and each block's h and output. */
  activationBytes(N: number): number {
    let bytes = align(f32(N * this.spec.stem.outSize ** 2 * this.spec.stem.outC)) * 2; // stem z and output
    for (const b of this.spec.blocks) {
      const act = align(f32(N * b.conv1.outSize ** 2 * b.outC));
      bytes += 4 * act; // z1, h, z2, out
      if (b.projection) bytes += act;
    }
    return bytes;
  }

  invalidatePrograms(): void {
    this.programs.clear();
  }

  setLane(lane: number): void {
    if (lane === this.lane) return;
    this.lane = lane;
    this.programs.clear();
  }

  private ws(): Workspace {
    return this.engine.workspace(this.lane);
  }

  /** Lay this net's saved activations out in the workspace (every net starts at the same place). */
  private layout(ws: Workspace, N: number): { stemOut: number; blocks: BlockPlan[] } {
    let at = ws.activations;
    const take = (floats: number) => {
      const p = at;
      at += align(f32(floats));
      return p;
    };
    const stem = this.convs.get(this.spec.stem.name)!;
    stem.z = take(N * stem.spec.outSize ** 2 * stem.spec.outC);
    const stemOut = take(N * stem.spec.outSize ** 2 * stem.spec.outC);
    const blocks = this.spec.blocks.map((b) => {
      const size = N * b.conv1.outSize ** 2 * b.outC;
      const conv1 = this.convs.get(b.conv1.name)!;
      const conv2 = this.convs.get(b.conv2.name)!;
      const projection = b.projection ? this.convs.get(b.projection.name)! : undefined;
      conv1.z = take(size);
      const h = take(size);
      conv2.z = take(size);
      const out = take(size);
      if (projection) projection.z = take(size);
      return { spec: b, conv1, conv2, projection, h, out };
    });
    return { stemOut, blocks };
  }

  // --- program building -------------------------------------------------------------------------

  /** conv then BN statistics (train) or the running-average affine map (eval), into c.z / c.scale / c.shift. */
  private convBnForward(calls: Call[], c: ConvPlan, x: number, N: number, ws: Workspace, mode: 'train' | 'eval', taps: number | null): void {
    const { spec: s, inC, inSize } = c;
    const Ho = s.outSize;
    const M = N * Ho * Ho;
    if (s.k === 3) {
      calls.push(['dilate_pad', x, N, inSize, inSize, inC, 1, 1, ws.padded]);
      calls.push(['conv_fwd', ws.padded, inSize + 2, inSize + 2, inC, c.w, 3, s.stride, c.z, N, Ho, Ho, s.outC, 0]);
    } else {
      calls.push(['conv_fwd', x, inSize, inSize, inC, c.w, 1, s.stride, c.z, N, Ho, Ho, s.outC, 0]);
    }
    const threads = this.engine.opThreads;
    if (mode === 'train') {
      calls.push(['chan_sums', c.z, M, s.outC, ws.partials]);
      calls.push(['bn_finalize', ws.partials, threads, M, s.outC, BN_EPSILON, c.gamma, c.beta, c.mean, c.invstd, c.variance, c.scale, c.shift]);
    } else {
      calls.push(['bn_eval_affine', c.rmean, c.rvar, s.outC, BN_EPSILON, c.gamma, c.beta, c.scale, c.shift]);
      if (taps !== null) {
        calls.push(['chan_sums', c.z, M, s.outC, ws.partials]);
        calls.push(['bn_response_moments', ws.partials, threads, M, s.outC, c.scale, c.shift, taps]);
      }
    }
  }

  /** The forward pass (§4.2); returns the last block's output. */
  private forward(calls: Call[], ws: Workspace, N: number, mode: 'train' | 'eval', input: number): { plan: ReturnType<LabCpuNet['layout']>; last: number } {
    const plan = this.layout(ws, N);
    let tap = 0;
    const tapAt = () => (mode === 'eval' ? ws.taps + 16 * tap++ : null);
    const stem = this.convs.get(this.spec.stem.name)!;
    const M0 = N * stem.spec.outSize ** 2;
    this.convBnForward(calls, stem, input, N, ws, mode, tapAt());
    calls.push(['bn_apply', stem.z, M0, stem.spec.outC, stem.scale, stem.shift, 0, 1, plan.stemOut]);
    let a = plan.stemOut;
    for (const b of plan.blocks) {
      const M = N * b.spec.conv1.outSize ** 2;
      const K = b.spec.outC;
      this.convBnForward(calls, b.conv1, a, N, ws, mode, tapAt());
      calls.push(['bn_apply', b.conv1.z, M, K, b.conv1.scale, b.conv1.shift, 0, 1, b.h]);
      this.convBnForward(calls, b.conv2, b.h, N, ws, mode, tapAt());
      let res = 0;
      switch (b.spec.shortcut) {
        case 'identity':
          res = a;
          break;
        case 'subsample-pad': // option A: even rows and columns, zero channels appended
          calls.push(['subsample_pad', a, N, b.spec.size, b.spec.size, b.spec.inC, K, ws.shortcut]);
          res = ws.shortcut;
          break;
        case 'projection': // options B and C: 1×1 conv + BN
          this.convBnForward(calls, b.projection!, a, N, ws, mode, null);
          calls.push(['bn_apply', b.projection!.z, M, K, b.projection!.scale, b.projection!.shift, 0, 0, ws.shortcut]);
          res = ws.shortcut;
          break;
        case 'none':
          break;
      }
      // residual: ReLU(BN(conv2) + shortcut); plain: ReLU(BN(conv2))
      calls.push(['bn_apply', b.conv2.z, M, K, b.conv2.scale, b.conv2.shift, res, 1, b.out]);
      a = b.out;
    }
    return { plan, last: a };
  }

  /**
   * BN and conv backward for one conv: from dY (the gradient of the BN output, masked by `mask > 0`
   * when mask ≠ 0) to the conv's weight gradient and, when dx ≠ 0, its input gradient (added to
   * dx when accumulate). dZ may be dY itself.
   */
  private convBnBackward(calls: Call[], c: ConvPlan, x: number, dY: number, mask: number, dZ: number, dx: number, accumulate: boolean, N: number, ws: Workspace): void {
    const { spec: s, inC, inSize } = c;
    const Ho = s.outSize;
    const M = N * Ho * Ho;
    const K = s.outC;
    calls.push(['bn_bwd_sums', dY, mask, c.z, M, K, ws.partials]);
    calls.push(['bn_bwd_finalize', ws.partials, this.engine.opThreads, M, K, c.mean, c.invstd, c.gamma, c.ggamma, c.gbeta, c.coefA, c.coefB, c.coefD]);
    calls.push(['bn_bwd_dx', dY, mask, c.z, M, K, c.coefA, c.coefB, c.coefD, dZ]);
    if (s.k === 3) {
      calls.push(['dilate_pad', x, N, inSize, inSize, inC, 1, 1, ws.padded]);
      calls.push(['conv_bwd_filter', ws.padded, inSize + 2, inSize + 2, inC, dZ, N, Ho, Ho, K, 3, s.stride, c.gw]);
    } else {
      calls.push(['conv_bwd_filter', x, inSize, inSize, inC, dZ, N, Ho, Ho, K, 1, s.stride, c.gw]);
    }
    if (!dx) return;
    // The input gradient is a stride-1 convolution of the (spread, padded) output gradient
    // with the flipped, transposed kernel.
    calls.push(['flip_weights', c.w, s.k, inC, K, ws.flip]);
    const pad = s.k === 3 ? 1 : 0;
    if (s.stride === 1 && pad === 0) {
      calls.push(['conv_fwd', dZ, Ho, Ho, K, ws.flip, 1, 1, dx, N, inSize, inSize, inC, accumulate ? 1 : 0]);
    } else {
      calls.push(['dilate_pad', dZ, N, Ho, Ho, K, s.stride, pad, ws.padded]);
      const P = s.stride * Ho + 2 * pad;
      calls.push(['conv_fwd', ws.padded, P, P, K, ws.flip, s.k, 1, dx, N, inSize, inSize, inC, accumulate ? 1 : 0]);
    }
  }

  /** Forward, loss, backward; and when `update`, SGD and the BN running averages. */
  private trainProgram(N: number, update: boolean): { calls: Call[]; lrArg?: number } {
    const key = `train:${N}:${update}`;
    const cached = this.programs.get(key);
    if (cached) return cached;
    const ws = this.ws();
    const calls: Call[] = [['zero', this.out, 4]];
    const { plan, last } = this.forward(calls, ws, N, 'train', ws.input);
    const fc = this.spec.fc;
    const lastSize = this.spec.blocks[this.spec.blocks.length - 1].conv2.outSize;
    const [g0, g1, g2] = ws.grads;
    calls.push(['head', last, N, lastSize * lastSize, fc.inC, this.param('fc.weight'), this.param('fc.bias'), ws.labels, this.out, ws.g, ws.probs, g0, this.grad('fc.weight'), this.grad('fc.bias')]);
    // backward through the blocks, last to first; `cur` holds ∂loss/∂(block output)
    let cur = g0;
    let free: [number, number] = [g1, g2];
    for (let i = plan.blocks.length - 1; i >= 0; i--) {
      const b = plan.blocks[i];
      const a = i > 0 ? plan.blocks[i - 1].out : plan.stemOut;
      const M = N * b.spec.conv1.outSize ** 2;
      const K = b.spec.outC;
      const [t1, t2] = free;
      calls.push(['relu_mask', cur, b.out, M * K]); // cur = ∂loss/∂(pre-ReLU sum)
      const residual = b.spec.shortcut !== 'none';
      // BN2 + conv2: into t1 (cur is still needed by the shortcut when residual)
      const dZ2 = residual ? t1 : cur;
      this.convBnBackward(calls, b.conv2, b.h, cur, 0, dZ2, t2, false, N, ws);
      // BN1 (through the ReLU, mask h) + conv1: ∂loss/∂h is in t2; the input gradient goes to dA
      const dA = t1; // dZ2 (t1) is spent by the time conv1's input gradient is written
      this.convBnBackward(calls, b.conv1, a, t2, b.h, t2, dA, false, N, ws);
      // the shortcut's gradient joins the branch's
      switch (b.spec.shortcut) {
        case 'identity':
          calls.push(['add_inplace', dA, cur, N * b.spec.size * b.spec.size * b.spec.inC]);
          break;
        case 'subsample-pad':
          calls.push(['subsample_pad_bwd', cur, N, b.spec.size, b.spec.size, b.spec.inC, K, dA]);
          break;
        case 'projection':
          this.convBnBackward(calls, b.projection!, a, cur, 0, cur, dA, true, N, ws);
          break;
        case 'none':
          break;
      }
      free = [cur, t2];
      cur = dA;
    }
    const stem = this.convs.get(this.spec.stem.name)!;
    calls.push(['relu_mask', cur, plan.stemOut, N * stem.spec.outSize ** 2 * stem.spec.outC]);
    this.convBnBackward(calls, stem, ws.input, cur, 0, cur, 0, false, N, ws);
    let lrArg: number | undefined;
    if (update) {
      calls.push(['sgd', this.base, this.base + f32(this.blockFloats), this.base + f32(2 * this.blockFloats), this.blockFloats, 0, MOMENTUM, WEIGHT_DECAY]);
      lrArg = calls.length - 1;
      for (const c of this.convs.values()) {
        calls.push(['bn_running', c.rmean, c.rvar, c.mean, c.variance, c.spec.outC, BN_MOMENTUM, N * c.spec.outSize ** 2]);
      }
    }
    const program = { calls, lrArg };
    this.programs.set(key, program);
    return program;
  }

  private evalProgram(n: number): Call[] {
    const key = `eval:${n}`;
    const cached = this.programs.get(key);
    if (cached) return cached.calls;
    const ws = this.ws();
    const calls: Call[] = [];
    const { last } = this.forward(calls, ws, n, 'eval', ws.evalInput);
    const fc = this.spec.fc;
    const lastSize = this.spec.blocks[this.spec.blocks.length - 1].conv2.outSize;
    calls.push(['head', last, n, lastSize * lastSize, fc.inC, this.param('fc.weight'), this.param('fc.bias'), ws.evalLabels, this.out, ws.g, ws.probs, 0, 0, 0]);
    this.programs.set(key, { calls });
    return calls;
  }

  // --- EngineNet --------------------------------------------------------------------------------

  private check(): void {
    if (this.disposed) throw new Error('this net was disposed');
  }

  private lossAndErrors(N: number): { loss: number; errors: number } {
    const F = this.engine.views().f64;
    return { loss: F[this.out / 8] / N, errors: F[this.out / 8 + 1] };
  }

  /** The calls of one SGD step at learning rate lr (the engine runs them: alone, or in this net's lane). */
  stepProgram(lr: number): readonly Call[] {
    this.check();
    this.engine.assignLanes();
    const program = this.trainProgram(this.engine.currentBatchSize(), true);
    const sgd = program.calls[program.lrArg!];
    sgd[5] = lr;
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
      const at = this.grad(name) / 4;
      const { length } = this.slots.get(name)!;
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
    const grads = this.read((name) => this.grad(name));
    return { loss: this.lossAndErrors(N).loss, grads };
  }

  async evaluate(batch: ImageBatch): Promise<EvalResult> {
    this.check();
    this.engine.ensureCapacity(Math.min(batch.size, 128));
    this.engine.assignLanes();
    const ws = this.ws();
    const layers = this.spec.layers3x3.length;
    const F64 = () => this.engine.views().f64;
    F64().fill(0, this.out / 8, this.out / 8 + 2);
    F64().fill(0, ws.taps / 8, ws.taps / 8 + 2 * layers);
    for (let start = 0; start < batch.size; start += ws.capacity) {
      const n = Math.min(ws.capacity, batch.size - start);
      this.engine.writeEvalImages(batch, this.lane, start, n);
      this.engine.run(this.evalProgram(n));
    }
    const F = F64();
    const layerStd = this.spec.layers3x3.map((c, i) => {
      const count = batch.size * c.outSize * c.outSize * c.outC;
      const mean = F[ws.taps / 8 + 2 * i] / count;
      return Math.sqrt(Math.max(0, F[ws.taps / 8 + 2 * i + 1] / count - mean * mean));
    });
    return { loss: F[this.out / 8] / Math.max(1, batch.size), errors: F[this.out / 8 + 1], count: batch.size, layerStd };
  }

  /** Copy every parameter out of the block at `where(name)`, in the canonical shapes of ../nets.ts. */
  private read(where: (name: string) => number): Tensors {
    const F = this.engine.views().f32;
    const out: Tensors = {};
    for (const p of this.spec.params) {
      const at = where(p.name) / 4;
      if (p.name === this.spec.stem.name) out[p.name] = this.stemFromInternal(F.subarray(at, at + this.slots.get(p.name)!.length));
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
        const at = this.stats.get(name)! / 4;
        bnStats[name] = F.slice(at, at + b.channels);
      }
    }
    return { params: this.read((n) => this.param(n)), momentum: this.read((n) => this.momentumAt(n)), bnStats };
  }

  setState(state: NetState): void {
    this.check();
    // zero the whole block first, so padding stays zero
    this.engine.views().f32.fill(0, this.base / 4, this.base / 4 + 3 * this.blockFloats);
    this.write((n) => this.param(n), state.params);
    this.write((n) => this.momentumAt(n), state.momentum);
    const F = this.engine.views().f32;
    for (const b of bnStatNames(this.spec)) {
      for (const name of [b.mean, b.variance]) {
        const v = state.bnStats[name];
        if (!v || v.length !== b.channels) throw new Error(`state for ${name} is missing or has the wrong size`);
        F.set(v, this.stats.get(name)! / 4);
      }
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.engine.release(this.base);
    this.engine.forget(this);
  }
}
