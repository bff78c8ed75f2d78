// The lab WebGPU engine: the nets of ../nets.ts trained with the WGSL kernels of ./kernels.ts.
// A net's step is a fixed list of dispatches (the step IR lowered by ./lower.ts); this file creates, once per program,
// the buffers, uniform blocks and bind groups it needs, then replays it: one command encoder, one
// compute pass and one submit per step (for all the nets of a `stepMany`), no buffer created after
// warm-up, and the losses read back with one mapAsync per step of all the nets together.
// The maths is the recipe of ../train.ts; engine.gpu.test.ts checks it by the engine contract and
// against the lab CPU engine.
import type { ConvSpec, NetSpec, Tensors } from '../nets';
import { blockOutSize, bnStatNames, sizeOf } from '../nets';
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
import { BN_EPSILON, RESPONSE_IMAGES, gradNormLayers } from '../train';
import { netsEvalChunk } from '../cpu/program';
import type { KernelName } from './kernels';
import { FIELDS, kernelSource } from './kernels';
import type { ProgramKind } from '../ir/step';
import { tappedBlocks } from '../ir/step';
import type { GpuLayout, GpuProgram } from './program';
import { layoutNet } from './program';
import { METRIC_SLOTS, buildProgram, residualTapOffsets } from './lower';

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;

/** What a step costs the GPU queue: for the benchmark's table. */
interface GpuCounters {
  dispatches: number;
  submits: number;
  /** Buffers created (bytes) since the counters were reset. */
  bytesAllocated: number;
  buffersCreated: number;
}

/** A program made ready to replay: pipelines and bind groups resolved, uniform blocks written. */
interface Compiled {
  program: GpuProgram;
  generation: number;
  steps: { pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; groups: [number, number, number] }[];
  uniforms: GPUBuffer[];
}

interface LabGpuOptions {
  /** An adapter chosen elsewhere; else navigator.gpu's default (high-performance). */
  adapter?: GPUAdapter;
}

/** The page's device for the lab engines, with its pipelines (see LabGpuEngine.create). */
let shared: { device: GPUDevice; info: GPUAdapterInfo; lost: boolean } | null = null;
const PIPELINES = new WeakMap<GPUDevice, Map<KernelName, GPUComputePipeline>>();

function pipelinesOf(device: GPUDevice): Map<KernelName, GPUComputePipeline> {
  let m = PIPELINES.get(device);
  if (!m) PIPELINES.set(device, (m = new Map()));
  return m;
}

/** The lab's own WebGPU engine. */
export class LabGpuEngine implements Engine {
  readonly name: EngineName = 'lab-webgpu';
  /** Rounds an experiment keeps in flight: the next steps are queued while a round's losses come back. */
  readonly pipelineDepth = 2;
  private readonly pipelines: Map<KernelName, GPUComputePipeline>;
  private readonly stopListening = new AbortController();
  /** The workspace shared by every net (see ./program.ts): buffers by name, grown when a program needs more. */
  private readonly workspace = new Map<string, GPUBuffer>();
  /** Bumped when a workspace buffer is replaced: every compiled program is then rebuilt. */
  generation = 0;
  private readonly nets = new Set<LabGpuNet>();
  private readonly staging: GPUBuffer[] = [];
  private readonly live = new Set<GPUBuffer>();
  private readonly tensors = new Set<GPUBuffer>();
  private batchSize = 0;
  private error: string | null = null;
  lostMessage: string | null = null;
  readonly counters: GpuCounters = { dispatches: 0, submits: 0, bytesAllocated: 0, buffersCreated: 0 };

  private constructor(
    readonly device: GPUDevice,
    readonly adapterInfo: GPUAdapterInfo,
  ) {
    this.pipelines = pipelinesOf(device);
    device.addEventListener(
      'uncapturederror',
      (e) => {
        this.error ??= (e as GPUUncapturedErrorEvent).error.message;
      },
      { signal: this.stopListening.signal },
    );
    void device.lost.then((info) => {
      this.lostMessage = `the GPU device was lost (${info.reason}): ${info.message}`;
    });
  }

  /** A kernel's pipeline, compiled when a program first needs it (a CPU-emulated adapter takes a while per shader). */
  pipeline(name: KernelName): GPUComputePipeline {
    let p = this.pipelines.get(name);
    if (!p) {
      const module = this.device.createShaderModule({ label: name, code: kernelSource(name) });
      p = this.device.createComputePipeline({ label: name, layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.pipelines.set(name, p);
    }
    return p;
  }

  /**
   * An engine on the default adapter's device. The device and its compiled pipelines are shared by
   * every engine of the page until the device is lost (a CPU-emulated adapter takes about half a
   * second per shader; the page keeps one engine anyway, tests make many).
   */
  static async create(options: LabGpuOptions = {}): Promise<LabGpuEngine> {
    if (typeof navigator === 'undefined' || !navigator.gpu) throw new Error('WebGPU is not available in this browser');
    if (!options.adapter && shared && !shared.lost) return new LabGpuEngine(shared.device, shared.info);
    const adapter = options.adapter ?? (await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' }));
    if (!adapter) throw new Error('WebGPU is available, but no GPU adapter was found');
    const device = await adapter.requestDevice({
      // timestamp queries, where the adapter has them, for profileStep (the GPU kit's per-kernel times)
      requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
      requiredLimits: {
        maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
        maxBufferSize: adapter.limits.maxBufferSize,
      },
    });
    if (!options.adapter) {
      const entry = { device, info: adapter.info, lost: false };
      shared = entry;
      void device.lost.then(() => {
        entry.lost = true;
      });
    }
    return new LabGpuEngine(device, adapter.info);
  }

  /** "swiftshader", or the GPU's vendor and architecture. */
  get adapterName(): string {
    const i = this.adapterInfo;
    return [i.vendor, i.architecture, i.description].filter(Boolean).join(' ') || 'unknown adapter';
  }

  /** Throw a validation error or device loss seen since the last call (WebGPU errors do not throw by themselves). */
  check(): void {
    if (this.lostMessage) throw new Error(this.lostMessage);
    if (this.error) throw new Error(`WebGPU error in the lab engine: ${this.error}`);
  }

  /**
   * A buffer, counted in memory(): its bytes always, and as a live tensor unless it is a program's
   * uniform block (programs are compiled once per batch size, like the CPU engine's, and cached).
   */
  createBuffer(bytes: number, usage: number, label: string, uniformBlock = false): GPUBuffer {
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    const buffer = this.device.createBuffer({ size, usage, label });
    this.live.add(buffer);
    if (!uniformBlock) this.tensors.add(buffer);
    this.counters.bytesAllocated += size;
    this.counters.buffersCreated += 1;
    return buffer;
  }

  destroyBuffer(buffer: GPUBuffer): void {
    this.live.delete(buffer);
    this.tensors.delete(buffer);
    buffer.destroy();
  }

  /** A shared workspace buffer of at least `bytes`; replacing a smaller one invalidates every compiled program. */
  workspaceBuffer(name: string, bytes: number): GPUBuffer {
    const current = this.workspace.get(name);
    if (current && current.size >= bytes) return current;
    if (current) {
      this.destroyBuffer(current);
      this.generation += 1;
    }
    const buffer = this.createBuffer(bytes, STORAGE, name);
    this.workspace.set(name, buffer);
    return buffer;
  }

  /** Resolve a program's buffers and write its uniform blocks: done once per program. */
  compile(program: GpuProgram, netBuffers: Record<string, GPUBuffer>): Compiled {
    for (const [name, bytes] of program.workspace) this.workspaceBuffer(name, bytes);
    const generation = this.generation;
    const uniforms: GPUBuffer[] = [];
    const steps = program.dispatches.map((d) => {
      const fields = FIELDS[d.kernel];
      const values = new Uint32Array(Math.ceil(fields.length / 4) * 4);
      fields.forEach((f, i) => {
        const v = d.u[f] ?? 0;
        if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`${d.kernel}.${f} = ${v} is not a u32`);
        values[i] = v;
      });
      const unknown = Object.keys(d.u).filter((k) => !fields.includes(k));
      if (unknown.length) throw new Error(`${d.kernel} has no uniform field ${unknown.join(', ')}`);
      const ub = this.createBuffer(values.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, `${d.kernel} uniforms`, true);
      this.device.queue.writeBuffer(ub, 0, values);
      uniforms.push(ub);
      const pipeline = this.pipeline(d.kernel);
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: ub } }];
      d.bind.forEach((name, i) => {
        const buffer = netBuffers[name] ?? this.workspace.get(name);
        if (!buffer) throw new Error(`${d.kernel}: no buffer ${name}`);
        entries.push({ binding: i + 1, resource: { buffer } });
      });
      const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
      return { pipeline, bindGroup, groups: d.groups };
    });
    return { program, generation, steps, uniforms };
  }

  /** Record a compiled program's dispatches into a compute pass. */
  encode(pass: GPUComputePassEncoder, c: Compiled): void {
    for (const s of c.steps) {
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroup);
      pass.dispatchWorkgroups(...s.groups);
    }
    this.counters.dispatches += c.steps.length;
  }

  submit(encoder: GPUCommandEncoder): void {
    this.device.queue.submit([encoder.finish()]);
    this.counters.submits += 1;
  }

  /** Copy buffer ranges into one mappable buffer (from a pool: none created after warm-up), submit, and read them. */
  async readBack(encoder: GPUCommandEncoder, ranges: { buffer: GPUBuffer; offset: number; bytes: number }[]): Promise<Float32Array[]> {
    const total = ranges.reduce((s, r) => s + Math.ceil(r.bytes / 4) * 4, 0);
    const fits = this.staging.findIndex((b) => b.size >= total);
    let buffer: GPUBuffer;
    if (fits >= 0) buffer = this.staging.splice(fits, 1)[0];
    else {
      // replace a free buffer that is too small rather than add one: reads in sequence share one buffer
      const small = this.staging.pop();
      if (small) this.destroyBuffer(small);
      buffer = this.createBuffer(Math.max(4096, total), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 'readback');
    }
    let at = 0;
    const offsets: number[] = [];
    for (const r of ranges) {
      offsets.push(at);
      encoder.copyBufferToBuffer(r.buffer, r.offset, buffer, at, Math.ceil(r.bytes / 4) * 4);
      at += Math.ceil(r.bytes / 4) * 4;
    }
    this.submit(encoder);
    try {
      await buffer.mapAsync(GPUMapMode.READ, 0, Math.max(4, total));
    } catch (e) {
      this.check();
      throw e;
    }
    const data = new Float32Array(buffer.getMappedRange(0, Math.max(4, total)).slice(0));
    buffer.unmap();
    this.staging.push(buffer);
    this.check();
    return ranges.map((r, i) => data.subarray(offsets[i] / 4, offsets[i] / 4 + r.bytes / 4));
  }

  // --- Engine -----------------------------------------------------------------------------------

  setBatch(batch: ImageBatch): void {
    this.check();
    const px = batch.size * batch.imageSize * batch.imageSize * 3;
    this.batchSize = batch.size;
    this.device.queue.writeBuffer(this.workspaceBuffer('input', px * 4), 0, batch.x as Float32Array<ArrayBuffer>, 0, px);
    this.device.queue.writeBuffer(this.workspaceBuffer('labels', batch.size * 4), 0, Uint32Array.from(batch.labels.subarray(0, batch.size)));
    // the evaluation's inputs exist from the first batch on (grown, not added, by a larger evaluation chunk)
    this.workspaceBuffer('evalInput', px * 4);
    this.workspaceBuffer('evalLabels', batch.size * 4);
  }

  /** Write evaluation images [start, start + count) into the evaluation input. */
  writeEvalImages(batch: ImageBatch, start: number, count: number): void {
    const px = batch.imageSize * batch.imageSize * 3;
    this.device.queue.writeBuffer(this.workspaceBuffer('evalInput', count * px * 4), 0, batch.x as Float32Array<ArrayBuffer>, start * px, count * px);
    this.device.queue.writeBuffer(this.workspaceBuffer('evalLabels', count * 4), 0, Uint32Array.from(batch.labels.subarray(start, start + count)));
  }

  /** The current training batch's size; 0 before the first. */
  get trainBatchSize(): number {
    return this.batchSize;
  }

  /** The evaluation's chunk for this engine's nets, as the lab CPU engine's (train.ts's evalChunk). */
  evalChunk(): number {
    return netsEvalChunk(
      [...this.nets].map((n) => n.spec),
      this.batchSize,
    );
  }

  currentBatchSize(): number {
    if (this.batchSize === 0) throw new Error('no training batch: call setBatch first');
    return this.batchSize;
  }

  createNet(spec: NetSpec, state: NetState): EngineNet {
    this.check();
    const net = new LabGpuNet(this, spec);
    this.nets.add(net);
    net.setState(state);
    return net;
  }

  forget(net: LabGpuNet): void {
    this.nets.delete(net);
  }

  /** One step of several nets: one encoder, one pass, one submit, one read-back of every loss. */
  async stepMany(requests: readonly StepRequest[]): Promise<StepResult[]> {
    this.check();
    const nets = requests.map((r) => {
      if (!(r.net instanceof LabGpuNet) || !this.nets.has(r.net)) throw new Error('stepMany: a net of another engine');
      return r.net;
    });
    const N = this.currentBatchSize();
    const compiled = nets.map((net) => net.compiled('step', N));
    nets.forEach((net, i) => net.writeControl(requests[i].lr, true));
    const encoder = this.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    for (const c of compiled) this.encode(pass, c);
    pass.end();
    const ranges = nets.flatMap((net, i) => [
      { buffer: net.buffers.metrics, offset: METRIC_SLOTS.train * 4, bytes: 8 },
      ...(requests[i].withGradNorms ? [{ buffer: net.buffers.G, offset: 0, bytes: net.layout.paramFloats * 4 }] : []),
    ]);
    const data = await this.readBack(encoder, ranges);
    let k = 0;
    return nets.map((net, i) => {
      const m = data[k++];
      const out: StepResult = { loss: m[0] / N, errors: m[1], size: N };
      if (requests[i].withGradNorms) out.gradNorms = net.gradNorms(data[k++]);
      return out;
    });
  }

  /**
   * One training step of `net` with every dispatch in a compute pass of its own, timed on the GPU by
   * timestamp queries: nanoseconds summed by kernel, slowest first. Null where the device has no
   * timestamp queries. The step is a real one (the weights move); the query set and its buffers are
   * made for the call and destroyed after it, outside the engine's accounting.
   */
  async profileStep(net: EngineNet, lr: number): Promise<{ kernel: KernelName; dispatches: number; ns: number }[] | null> {
    this.check();
    if (!this.device.features.has('timestamp-query')) return null;
    if (!(net instanceof LabGpuNet) || !this.nets.has(net)) throw new Error('profileStep: a net of another engine');
    const c = net.compiled('step', this.currentBatchSize());
    net.writeControl(lr, true);
    const count = 2 * c.steps.length;
    const querySet = this.device.createQuerySet({ type: 'timestamp', count });
    const resolved = this.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const read = this.device.createBuffer({ size: count * 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const encoder = this.device.createCommandEncoder();
    c.steps.forEach((s, i) => {
      const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
      pass.setPipeline(s.pipeline);
      pass.setBindGroup(0, s.bindGroup);
      pass.dispatchWorkgroups(...s.groups);
      pass.end();
    });
    encoder.resolveQuerySet(querySet, 0, count, resolved, 0);
    encoder.copyBufferToBuffer(resolved, 0, read, 0, count * 8);
    this.submit(encoder);
    try {
      await read.mapAsync(GPUMapMode.READ);
      const t = new BigUint64Array(read.getMappedRange().slice(0));
      const byKernel = new Map<KernelName, { kernel: KernelName; dispatches: number; ns: number }>();
      c.program.dispatches.forEach((d, i) => {
        const row = byKernel.get(d.kernel) ?? { kernel: d.kernel, dispatches: 0, ns: 0 };
        row.dispatches += 1;
        row.ns += t[2 * i + 1] > t[2 * i] ? Number(t[2 * i + 1] - t[2 * i]) : 0;
        byKernel.set(d.kernel, row);
      });
      this.check();
      return [...byKernel.values()].sort((a, b) => b.ns - a.ns);
    } finally {
      querySet.destroy();
      resolved.destroy();
      read.destroy();
    }
  }

  memory(): EngineMemory {
    let bytes = 0;
    for (const b of this.live) bytes += b.size;
    return { bytes, tensors: this.tensors.size };
  }

  dispose(): void {
    for (const n of [...this.nets]) n.dispose();
    for (const b of [...this.live]) this.destroyBuffer(b);
    this.workspace.clear();
    this.staging.length = 0;
    this.stopListening.abort();
    // the device stays for the page's next engine (see create); an engine on its own adapter's device ends it
    if (shared?.device !== this.device) this.device.destroy();
  }
}

/** One net on the lab WebGPU engine: its buffers, its compiled programs, its state in and out. */
class LabGpuNet implements EngineNet {
  readonly layout: GpuLayout;
  readonly buffers: Record<'P' | 'G' | 'M' | 'R' | 'S' | 'ctrl' | 'metrics', GPUBuffer>;
  private readonly programs = new Map<string, Compiled>();
  private disposed = false;

  constructor(
    private readonly engine: LabGpuEngine,
    readonly spec: NetSpec,
  ) {
    this.layout = layoutNet(spec);
    const e = engine;
    // the evaluation's ‖F(x)‖/‖x‖ sums exist from the first net on (grown, not added, by a deeper one)
    e.workspaceBuffer('residuals', residualTapOffsets(spec).total * 4);
    const p = this.layout.paramFloats * 4;
    this.buffers = {
      P: e.createBuffer(p, STORAGE, `${spec.label} P`),
      G: e.createBuffer(p, STORAGE, `${spec.label} G`),
      M: e.createBuffer(p, STORAGE, `${spec.label} M`),
      R: e.createBuffer(this.layout.statFloats * 4, STORAGE, `${spec.label} R`),
      S: e.createBuffer(this.layout.scratchFloats * 4, STORAGE, `${spec.label} S`),
      ctrl: e.createBuffer(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, `${spec.label} ctrl`),
      metrics: e.createBuffer(16, STORAGE, `${spec.label} metrics`),
    };
  }

  private check(): void {
    if (this.disposed) throw new Error('this net was disposed');
    this.engine.check();
  }

  /** A program for N images, compiled once (again only when the shared workspace was replaced). */
  compiled(kind: ProgramKind, N: number): Compiled {
    const key = `${kind}:${N}`;
    const cached = this.programs.get(key);
    if (cached && cached.generation === this.engine.generation) return cached;
    if (cached) for (const u of cached.uniforms) this.engine.destroyBuffer(u);
    let c = this.engine.compile(buildProgram(this.spec, this.layout, N, kind), this.buffers);
    if (c.generation !== this.engine.generation) {
      // compiling grew the workspace under its own earlier bindings: once more, now that it is big enough
      for (const u of c.uniforms) this.engine.destroyBuffer(u);
      c = this.engine.compile(c.program, this.buffers);
    }
    this.programs.set(key, c);
    return c;
  }

  writeControl(lr: number, update: boolean): void {
    const ctrl = new ArrayBuffer(16);
    new Float32Array(ctrl, 0, 1)[0] = lr;
    new Uint32Array(ctrl, 4, 1)[0] = update ? 1 : 0;
    this.engine.device.queue.writeBuffer(this.buffers.ctrl, 0, ctrl);
  }

  gradNorms(G: Float32Array): number[] {
    return gradNormLayers(this.spec).map((name) => {
      const at = this.layout.param.get(name)!;
      const n = sizeOf(this.spec.params.find((p) => p.name === name)!.shape);
      let s = 0;
      for (let i = at; i < at + n; i++) s += G[i] * G[i];
      return Math.sqrt(s);
    });
  }

  // --- EngineNet --------------------------------------------------------------------------------

  async step(lr: number, withGradNorms = false): Promise<StepResult> {
    this.check();
    return (await this.engine.stepMany([{ net: this, lr, withGradNorms }]))[0];
  }

  /** Run a program alone and read ranges back. */
  private async run(kind: ProgramKind, N: number, ranges: { buffer: GPUBuffer; offset: number; bytes: number }[]): Promise<Float32Array[]> {
    const c = this.compiled(kind, N);
    const encoder = this.engine.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    this.engine.encode(pass, c);
    pass.end();
    return this.engine.readBack(encoder, ranges);
  }

  async gradients(): Promise<GradientResult> {
    this.check();
    const N = this.engine.currentBatchSize();
    this.writeControl(0, false);
    const [m, G] = await this.run('grads', N, [
      { buffer: this.buffers.metrics, offset: METRIC_SLOTS.train * 4, bytes: 8 },
      { buffer: this.buffers.G, offset: 0, bytes: this.layout.paramFloats * 4 },
    ]);
    return { loss: m[0] / N, grads: this.unpack(G) };
  }

  async loss(): Promise<number> {
    this.check();
    const N = this.engine.currentBatchSize();
    this.writeControl(0, false);
    const [m] = await this.run('loss', N, [{ buffer: this.buffers.metrics, offset: METRIC_SLOTS.train * 4, bytes: 8 }]);
    return m[0] / N;
  }

  /** Responses are read back with the loss in one pass, so `{ responses: false }` changes nothing here. */
  async evaluate(batch: ImageBatch, _options?: EvalOptions): Promise<EvalResult> {
    this.check();
    // chunks as the lab CPU engine's: the training batch size, or up to 128 images (fewer for a thousand layers)
    const capacity = Math.max(1, this.engine.trainBatchSize, Math.min(batch.size, this.engine.evalChunk()));
    const q = this.engine.device.queue;
    q.writeBuffer(this.buffers.metrics, METRIC_SLOTS.eval * 4, new Float32Array(2));
    this.writeControl(0, false);
    for (let start = 0; start < batch.size; start += capacity) {
      const n = Math.min(capacity, batch.size - start);
      this.engine.writeEvalImages(batch, start, n);
      const c = this.compiled('eval', n);
      const encoder = this.engine.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      this.engine.encode(pass, c);
      pass.end();
      this.engine.submit(encoder);
    }
    // Fig. 7: the first images' responses with BN normalising by their own statistics. A layer's
    // response γ·x̂ + β has, per channel, mean β and mean square γ²·v/(v + ε) + β² (x̂ has mean 0 and
    // variance v/(v + ε) over the batch), so the batch statistics give each layer's std exactly.
    const r = Math.min(batch.size, RESPONSE_IMAGES, capacity);
    this.engine.writeEvalImages(batch, 0, r);
    const [m, S, P] = await this.run('responses', r, [
      { buffer: this.buffers.metrics, offset: METRIC_SLOTS.eval * 4, bytes: 8 },
      { buffer: this.buffers.S, offset: 0, bytes: this.layout.scratchFloats * 4 },
      { buffer: this.buffers.P, offset: 0, bytes: this.layout.paramFloats * 4 },
    ]);
    const layerStd = this.spec.layers3x3.map((c) => {
      const s = this.layout.scratch.get(c.name)!;
      const gamma = this.layout.param.get(`${c.name}.bn.gamma`)!;
      const beta = this.layout.param.get(`${c.name}.bn.beta`)!;
      let mean = 0;
      let square = 0;
      for (let k = 0; k < c.outC; k++) {
        const invstd = S[s.invstd + k];
        const ratio = 1 - BN_EPSILON * invstd * invstd; // v / (v + ε)
        mean += P[beta + k];
        square += P[gamma + k] ** 2 * ratio + P[beta + k] ** 2;
      }
      mean /= c.outC;
      return Math.sqrt(Math.max(0, square / c.outC - mean * mean));
    });
    // highway nets: each gate's mean T, from the values the responses pass left over its z
    const gates = this.spec.blocks.filter((b) => b.gate);
    const gateMeans: number[] = [];
    if (gates.length) {
      const values = await this.engine.readBack(
        this.engine.device.createCommandEncoder(),
        gates.map((b) => {
          const bytes = 4 * r * blockOutSize(b) ** 2 * b.outC;
          return { buffer: this.engine.workspaceBuffer(`a:${b.name}.zg`, bytes), offset: 0, bytes };
        }),
      );
      for (const v of values) gateMeans.push(v.reduce((a, x) => a + x, 0) / v.length);
    }
    // Fig. 7 (a): the same images through the net as it is used, BN with the running averages. A
    // channel's response is then y = a·z + b (a = γ/√(running var + ε), b = β − a·running mean), so
    // its moments follow from z's batch mean μ and variance 1/invstd² − ε, which the pass leaves in S.
    const tapped = tappedBlocks(this.spec);
    const taps = residualTapOffsets(this.spec);
    const [S2, R, X] = await this.run('eval-responses', r, [
      { buffer: this.buffers.S, offset: 0, bytes: this.layout.scratchFloats * 4 },
      { buffer: this.buffers.R, offset: 0, bytes: this.layout.statFloats * 4 },
      ...(tapped.length ? [{ buffer: this.engine.workspaceBuffer('residuals', taps.total * 4), offset: 0, bytes: taps.total * 4 }] : []),
    ]);
    /** Σ over channels of a conv's response mean and mean square, BN with the running averages. */
    const evalMoments = (c: ConvSpec) => {
      const s = this.layout.scratch.get(c.name)!;
      const gamma = this.layout.param.get(`${c.name}.bn.gamma`)!;
      const beta = this.layout.param.get(`${c.name}.bn.beta`)!;
      const rmean = this.layout.stat.get(`${c.name}.bn.mean`)!;
      const rvar = this.layout.stat.get(`${c.name}.bn.var`)!;
      let mean = 0;
      let square = 0;
      for (let k = 0; k < c.outC; k++) {
        const mu = S2[s.mean + k];
        const variance = Math.max(0, 1 / S2[s.invstd + k] ** 2 - BN_EPSILON);
        const a = P[gamma + k] / Math.sqrt(R[rvar + k] + BN_EPSILON);
        const b = P[beta + k] - a * R[rmean + k];
        mean += a * mu + b;
        square += a * a * (variance + mu * mu) + 2 * a * b * mu + b * b;
      }
      return { mean, square };
    };
    const layerStdEval = this.spec.layers3x3.map((c) => {
      const { mean, square } = evalMoments(c);
      return Math.sqrt(Math.max(0, square / c.outC - (mean / c.outC) ** 2));
    });
    // each block's ‖F(x)‖/‖x‖: Σ F² over the r images from its last conv's moments, Σ x² from the residual taps
    const residualRatios = tapped.map((b, i) => {
      const last = b.branch[b.branch.length - 1];
      const f2 = r * last.outSize ** 2 * evalMoments(last).square;
      let x2 = 0;
      for (let k = 0; k < b.inC; k++) x2 += X[taps.at[i] + k];
      return Math.sqrt(f2 / x2);
    });
    return {
      loss: m[0] / Math.max(1, batch.size),
      errors: m[1],
      count: batch.size,
      layerStd,
      layerStdEval,
      responseImages: r,
      ...(gateMeans.length ? { gateMeans } : {}),
      ...(residualRatios.length ? { residualRatios } : {}),
    };
  }

  /** Split a whole-block read (P, G or M layout) into tensors by name. */
  private unpack(block: Float32Array): Tensors {
    const out: Tensors = {};
    for (const p of this.spec.params) {
      const at = this.layout.param.get(p.name)!;
      out[p.name] = block.slice(at, at + sizeOf(p.shape));
    }
    return out;
  }

  private pack(values: Tensors): Float32Array<ArrayBuffer> {
    const block = new Float32Array(this.layout.paramFloats);
    for (const p of this.spec.params) {
      const v = values[p.name];
      if (!v || v.length !== sizeOf(p.shape)) throw new Error(`state for ${p.name} is missing or has the wrong size`);
      block.set(v, this.layout.param.get(p.name)!);
    }
    return block;
  }

  async getState(): Promise<NetState> {
    this.check();
    const bytes = this.layout.paramFloats * 4;
    const [P, M, R] = await this.engine.readBack(this.engine.device.createCommandEncoder(), [
      { buffer: this.buffers.P, offset: 0, bytes },
      { buffer: this.buffers.M, offset: 0, bytes },
      { buffer: this.buffers.R, offset: 0, bytes: this.layout.statFloats * 4 },
    ]);
    const bnStats: Tensors = {};
    for (const b of bnStatNames(this.spec)) {
      for (const name of [b.mean, b.variance]) {
        const at = this.layout.stat.get(name)!;
        bnStats[name] = R.slice(at, at + b.channels);
      }
    }
    return { params: this.unpack(P), momentum: this.unpack(M), bnStats };
  }

  setState(state: NetState): void {
    this.check();
    const q = this.engine.device.queue;
    const P = this.pack(state.params);
    const M = this.pack(state.momentum);
    const R = new Float32Array(this.layout.statFloats);
    for (const b of bnStatNames(this.spec)) {
      for (const name of [b.mean, b.variance]) {
        const v = state.bnStats[name];
        if (!v || v.length !== b.channels) throw new Error(`state for ${name} is missing or has the wrong size`);
        R.set(v, this.layout.stat.get(name)!);
      }
    }
    q.writeBuffer(this.buffers.P, 0, P);
    q.writeBuffer(this.buffers.M, 0, M);
    q.writeBuffer(this.buffers.R, 0, R);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const c of this.programs.values()) for (const u of c.uniforms) this.engine.destroyBuffer(u);
    this.programs.clear();
    for (const b of Object.values(this.buffers)) this.engine.destroyBuffer(b);
    this.engine.forget(this);
  }
}
