// A net's training step on the lab CPU engine as data: where each tensor lives (the memory plan),
// and the fixed list of kernel calls of a training step or an evaluation (the program). Pure: it
// computes addresses and calls, and touches no memory; ./engine.ts allocates and runs them.
// program.test.ts checks the plans and the programs; engine.test.ts checks the maths they compute.
//
// The forward pass saves each conv's output z and each block's activations; the backward pass
// walks the blocks in reverse with three rotating gradient buffers; one SGD call updates the whole
// parameter block (weights, gradients and momentum are three copies of one layout).
import type { BlockSpec, ConvSpec, NetSpec } from '../nets';
import { NUM_CLASSES, blockOutSize, bnStatNames, sizeOf } from '../nets';
import { BN_EPSILON, BN_MOMENTUM, MOMENTUM, WEIGHT_DECAY, evalChunk } from '../train';
import { align, f32 } from './heap';
import { argIndex, kernelCall } from './kernelArgs';
import type { Call } from './kernelArgs';

/** Input channels are padded from 3 to 4 so every channel count is a multiple of the SIMD width. */
export const IN_C = 4;

/** Which convolution kernels a program uses: 'auto' (Winograd where `winograd()` says, the direct stride-2 input gradient) or 'direct' only (benchmarks, tests). */
export type ConvKernels = 'auto' | 'direct';

/**
 * Bytes of one thread's scratch in the Winograd kernels for C input and K output channels: the
 * larger of F(2×2)'s (16 matrices of 64 tiles) and F(4×4)'s (36 of 32 tiles, and a 6×6 buffer),
 * each matrix padded by a cache line (wstride in ./assembly/winograd.ts; checked against the
 * kernels' own wino_scratch_bytes and wino4_scratch_bytes by convKernels.test.ts).
 */
export const winoScratchBytes = (C: number, K: number) => Math.max(16 * (64 * (C + K) + 32) * 4, (36 * (32 * (C + K) + 32) + 144) * 4);

/** A Winograd variant: F(2×2, 3×3) or F(4×4, 3×3); null for the direct kernels. */
export type Winograd = 'F2' | 'F4' | null;

/**
 * Which kernels a stride-1 3×3 convolution with C input and K output channels on H×H maps runs its
 * `pass` with: 'forward' (also the input gradient, a forward convolution of the output gradient
 * with C and K swapped) or 'filter' (the weight gradient). F(2×2) needs even maps, F(4×4) maps
 * divisible by 4. From `bench/winograd.ts` (table in docs/benchmarks.md, the kernels timed in
 * turn, batch 64): F(4×4) is the fastest at every lab shape, in both passes: 1.2× the direct
 * forward at 4 channels, 1.2–1.3× at 8, 1.8–3.1× from 16; 1.35× to 5.9× the direct weight gradient.
 * F(2×2) is the fallback for maps that are even but not divisible by 4, where it pays for the
 * weight gradient always and for the forward from 16 channels (0.8× at 4, 1.0× at 8).
 */
export function winograd(pass: 'forward' | 'filter', C: number, K: number, H: number, kernels: ConvKernels = 'auto'): Winograd {
  if (kernels === 'direct') return null;
  if (H % 4 === 0) return 'F4';
  if (H % 2 === 0 && (pass === 'filter' || Math.min(C, K) >= 16)) return 'F2';
  return null;
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
}

/**
 * A net's memory plan inside its one allocation at `base`: parameters, gradients and momentum
 * (`blockFloats` each, same layout), then the BN running statistics, then per-conv BN scratch,
 * then `out` (f64 [2]: Σ loss and errors of the net's last step or evaluation).
 */
export interface NetPlan {
  spec: NetSpec;
  base: number;
  bytes: number;
  blockFloats: number;
  slots: Map<string, Slot>;
  stats: Map<string, number>;
  convs: Map<string, ConvPlan>;
  out: number;
}

/** Floats a parameter takes in the block: its size, except the stem's, whose 3 input channels are padded to 4. */
function slotLength(spec: NetSpec, name: string, shape: number[]): number {
  return name === spec.stem.name ? 3 * 3 * IN_C * spec.stem.outC : sizeOf(shape);
}

/** Bytes of a net's one allocation (see NetPlan). */
export function netBytes(spec: NetSpec): number {
  const floats = spec.params.reduce((s, p) => s + align(slotLength(spec, p.name, p.shape), 4), 0);
  const statFloats = bnStatNames(spec).reduce((s, b) => s + 2 * align(b.channels, 4), 0);
  const scratchFloats = spec.convs.reduce((s, c) => s + 9 * align(c.outC, 4), 0);
  return f32(3 * floats + statFloats + scratchFloats + 4);
}

/** Lay a net out in the allocation at `base` (netBytes(spec) bytes). */
export function planNet(spec: NetSpec, base: number): NetPlan {
  const slots = new Map<string, Slot>();
  let floats = 0;
  for (const p of spec.params) {
    const length = slotLength(spec, p.name, p.shape);
    slots.set(p.name, { offset: f32(floats), length });
    floats += align(length, 4);
  }
  const blockFloats = floats;
  const param = (name: string) => base + slots.get(name)!.offset;
  const grad = (name: string) => base + f32(blockFloats) + slots.get(name)!.offset;
  const stats = new Map<string, number>();
  let at = base + f32(3 * blockFloats);
  for (const b of bnStatNames(spec)) {
    stats.set(b.mean, at);
    at += f32(align(b.channels, 4));
    stats.set(b.variance, at);
    at += f32(align(b.channels, 4));
  }
  const convs = new Map<string, ConvPlan>();
  for (const c of spec.convs) {
    const K = align(c.outC, 4);
    const next = () => {
      const p = at;
      at += f32(K);
      return p;
    };
    convs.set(c.name, {
      spec: c,
      inC: c.inC === 3 ? IN_C : c.inC,
      inSize: c.outSize * c.stride,
      w: param(c.name),
      gw: grad(c.name),
      gamma: param(`${c.name}.bn.gamma`),
      beta: param(`${c.name}.bn.beta`),
      ggamma: grad(`${c.name}.bn.gamma`),
      gbeta: grad(`${c.name}.bn.beta`),
      rmean: stats.get(`${c.name}.bn.mean`)!,
      rvar: stats.get(`${c.name}.bn.var`)!,
      mean: next(),
      invstd: next(),
      variance: next(),
      scale: next(),
      shift: next(),
      coefA: next(),
      coefB: next(),
      coefD: next(),
    });
    // the ninth per-channel slot is spare, kept so the layout stays a multiple of 4 floats
    next();
  }
  const bytes = netBytes(spec);
  return { spec, base, bytes, blockFloats, slots, stats, convs, out: base + bytes - f32(4) };
}

export const paramAt = (net: NetPlan, name: string) => net.base + net.slots.get(name)!.offset;
export const gradAt = (net: NetPlan, name: string) => net.base + f32(net.blockFloats) + net.slots.get(name)!.offset;
export const momentumAt = (net: NetPlan, name: string) => net.base + f32(2 * net.blockFloats) + net.slots.get(name)!.offset;

/** Bytes of saved activations for a batch of N: each conv's z, each block's inner activations and output, a highway block's F, T and carry. */
export function activationBytes(spec: NetSpec, N: number): number {
  let bytes = align(f32(N * spec.stem.outSize ** 2 * spec.stem.outC)) * 2; // stem z and output
  for (const b of spec.blocks) {
    const act = align(f32(N * blockOutSize(b) ** 2 * b.outC));
    for (const c of b.branch) bytes += align(f32(N * c.outSize ** 2 * c.outC)) * 2; // z, and h (or the output for the last)
    if (b.projection) bytes += act;
    if (b.gate) bytes += 2 * act + (b.projection ? act : 0); // F, T, and the projected carry
  }
  return bytes;
}

/**
 * A net with more 3×3 layers than this trains with 'ops' whatever the balance: its ops are big enough to split (a
 * ResNet-1202 step at width ×0.25, batch 64, took 2.2 s on two threads against 4.0 s on one: bench/depth.ts's machine),
 * the threads share one workspace instead of one each (1.4 GiB instead of 2.8 for ResNet-1202), and a plain net of that
 * depth diverges on its first step (docs/thousand-layers.md), which would leave its lane idle for the rest of the run.
 */
const OPS_LAYERS = 300;

/** Whether a net is deep enough to train with the 'ops' schedule whatever the balance (one shared workspace). */
export const trainsAlone = (spec: NetSpec): boolean => spec.layers3x3.length > OPS_LAYERS;

/** The evaluation's chunk for an engine holding these nets (train.ts's evalChunk on the largest net's activations); both engines use it. */
export function netsEvalChunk(specs: readonly NetSpec[], trainBatch: number): number {
  return evalChunk((n) => Math.max(0, ...specs.map((spec) => activationBytes(spec, n))), trainBatch);
}

/** The engine's shared scratch for one lane: one batch of inputs, the padded-input buffer, gradient buffers. */
export interface Workspace {
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
  /** Winograd: one conv's transformed weights [16 or 36][C][K], the threads' weight-gradient partials, and scratch (winoStride bytes per thread). */
  winoU: number;
  winoDU: number;
  winoScratch: number;
  winoStride: number;
  /** Where each net's saved activations start. */
  activations: number;
}

/**
 * The workspace for batches of N images of `imageSize`² for these nets, with `opThreads` threads
 * sharing each call and `activations` bytes for the largest net's saved activations: its size, and
 * its layout once allocated at some base.
 */
export function planWorkspace(
  specs: readonly NetSpec[],
  N: number,
  imageSize: number,
  opThreads: number,
  activations: number,
): { size: number; at(base: number): Workspace } {
  const maxAct = Math.max(N * imageSize * imageSize * IN_C, ...specs.flatMap((s) => s.convs.map((c) => N * c.outSize * c.outSize * c.outC)));
  const maxPadded = Math.max(
    ...specs.flatMap((s) =>
      s.convs.map((c) => {
        const inSize = c.outSize * c.stride;
        return N * (inSize + 2) * (inSize + 2) * Math.max(c.inC === 3 ? IN_C : c.inC, c.outC);
      }),
    ),
    1,
  );
  const maxC = Math.max(IN_C, ...specs.flatMap((s) => s.convs.map((c) => c.outC)));
  const maxFlip = Math.max(1, ...specs.flatMap((s) => [...s.convs, ...s.gates].map((c) => c.k * c.k * c.inC * c.outC)));
  const maxLayers = Math.max(1, ...specs.map((s) => s.layers3x3.length));
  // Winograd: transformed weights (one conv at a time), per-thread weight-gradient partials and scratch
  const wino = specs.flatMap((s) => s.convs.filter((c) => c.k === 3 && c.stride === 1).map((c) => ({ C: c.inC === 3 ? IN_C : c.inC, K: c.outC })));
  const maxCK = Math.max(1, ...wino.map((c) => c.C * c.K));
  const winoStride = align(Math.max(0, ...wino.map((c) => winoScratchBytes(c.C, c.K))));
  const parts = {
    input: f32(N * imageSize * imageSize * IN_C),
    evalInput: f32(N * imageSize * imageSize * IN_C),
    labels: 4 * N,
    evalLabels: 4 * N,
    padded: f32(maxPadded),
    partials: 8 * opThreads * 2 * maxC,
    flip: f32(maxFlip),
    g: f32(N * maxC),
    probs: f32(N * NUM_CLASSES),
    out: 16,
    taps: 16 * maxLayers,
    shortcut: f32(maxAct),
    winoU: f32(36 * maxCK),
    winoDU: f32(opThreads * 36 * maxCK),
    winoScratch: opThreads * winoStride,
  };
  let size = 0;
  const offsets = {} as Record<keyof typeof parts, number>;
  for (const [name, bytes] of Object.entries(parts) as [keyof typeof parts, number][]) {
    offsets[name] = size;
    size += align(bytes);
  }
  const gradsAt = size;
  size += 3 * align(f32(maxAct));
  const activationsAt = size;
  size += activations;
  return {
    size,
    at: (base) => ({
      base,
      size,
      capacity: N,
      imageSize,
      ...(Object.fromEntries(Object.entries(offsets).map(([k, v]) => [k, base + v])) as Record<keyof typeof parts, number>),
      winoStride,
      grads: [0, 1, 2].map((i) => base + gradsAt + i * align(f32(maxAct))) as [number, number, number],
      activations: base + activationsAt,
    }),
  };
}

/** A highway gate's pointers: a 1×1 conv without BN, and its bias. */
interface GatePlan {
  spec: ConvSpec;
  inC: number;
  inSize: number;
  w: number;
  gw: number;
  bias: number;
  gbias: number;
}

interface BlockPlan {
  spec: BlockSpec;
  /** The branch's convs, and where each inner conv's ReLU(BN(z)) is kept (the last conv's output is the block's). */
  branch: ConvPlan[];
  h: number[];
  projection?: ConvPlan;
  /** Highway: the gate, and the saved F (the branch's BN output), T, and carry (the projection's output; the input itself otherwise). */
  gate?: GatePlan;
  f: number;
  t: number;
  carry: number;
  out: number;
}

/** Where a batch of N's saved activations live in the workspace (every net starts at the same place). */
interface Activations {
  /** Each conv's output z (pre-BN), by conv name. */
  z: Map<string, number>;
  stemOut: number;
  blocks: BlockPlan[];
}

function gatePlan(net: NetPlan, g: ConvSpec): GatePlan {
  return {
    spec: g,
    inC: g.inC,
    inSize: g.outSize * g.stride,
    w: paramAt(net, g.name),
    gw: gradAt(net, g.name),
    bias: paramAt(net, `${g.name}.bias`),
    gbias: gradAt(net, `${g.name}.bias`),
  };
}

function planActivations(net: NetPlan, ws: Workspace, N: number): Activations {
  let at = ws.activations;
  const take = (floats: number) => {
    const p = at;
    at += align(f32(floats));
    return p;
  };
  const z = new Map<string, number>();
  const { spec } = net;
  z.set(spec.stem.name, take(N * spec.stem.outSize ** 2 * spec.stem.outC));
  const stemOut = take(N * spec.stem.outSize ** 2 * spec.stem.outC);
  const blocks = spec.blocks.map((b): BlockPlan => {
    const size = N * blockOutSize(b) ** 2 * b.outC;
    const h: number[] = [];
    let out = 0;
    b.branch.forEach((c, i) => {
      const n = N * c.outSize ** 2 * c.outC;
      z.set(c.name, take(n));
      if (i < b.branch.length - 1) h.push(take(n));
      else out = take(n);
    });
    if (b.projection) z.set(b.projection.name, take(size));
    const highway = b.gate !== undefined;
    const f = highway ? take(size) : 0;
    const t = highway ? take(size) : 0;
    const carry = highway && b.projection ? take(size) : 0;
    return {
      spec: b,
      branch: b.branch.map((c) => net.convs.get(c.name)!),
      h,
      projection: b.projection ? net.convs.get(b.projection.name) : undefined,
      gate: b.gate ? gatePlan(net, b.gate) : undefined,
      f,
      t,
      carry,
      out,
    };
  });
  return { z, stemOut, blocks };
}

/** An argument that changes from run to run of a program: the call it is in, and its index in that call. */
interface ArgRef {
  call: number;
  index: number;
}

/** A list of kernel calls, and the arguments set before each run, by name. */
export interface Program {
  calls: Call[];
  args: { lr?: ArgRef };
}

/** Set a named argument of a program before running it. */
export function setArg(program: Program, name: keyof Program['args'], value: number): void {
  const ref = program.args[name];
  if (!ref) throw new Error(`this program has no '${name}' argument`);
  program.calls[ref.call][ref.index] = value;
}

/** Builds one program: the net, its activations, the workspace and the threads per call. */
class Builder {
  readonly calls: Call[] = [];
  readonly act: Activations;

  constructor(
    readonly net: NetPlan,
    readonly ws: Workspace,
    readonly N: number,
    readonly threads: number,
    readonly kernels: ConvKernels,
  ) {
    this.act = planActivations(net, ws, N);
  }

  z(c: ConvPlan): number {
    return this.act.z.get(c.spec.name)!;
  }

  /**
   * A stride-1 3×3 convolution of ws.padded (C channels, H×H once unpadded) into y (K channels, added
   * when accumulate) with Winograd variant wv: conv c's kernel, or with `flipped` its flipped,
   * transposed kernel (the input gradient, where C and K are the conv's output and input channels).
   */
  winogradConv(wv: 'F2' | 'F4', c: Pick<ConvPlan, 'w'>, flipped: boolean, C: number, K: number, H: number, y: number, accumulate: boolean): void {
    const { calls, ws, N } = this;
    // the weight transform takes the conv's own channel order: (input, output) = (K, C) when flipped
    const [wc, wk] = flipped ? [K, C] : [C, K];
    const flip = flipped ? 1 : 0;
    calls.push(
      wv === 'F4'
        ? kernelCall('wino4_weights', { w: c.w, C: wc, K: wk, flip, U: ws.winoU, scratch: ws.winoScratch, sstride: ws.winoStride })
        : kernelCall('wino_weights', { w: c.w, C: wc, K: wk, flip, U: ws.winoU }),
    );
    calls.push(
      kernelCall(wv === 'F4' ? 'wino4_fwd' : 'wino_fwd', {
        xp: ws.padded,
        Hp: H + 2,
        Wp: H + 2,
        C,
        U: ws.winoU,
        y,
        N,
        Ho: H,
        Wo: H,
        K,
        acc: accumulate ? 1 : 0,
        scratch: ws.winoScratch,
        sstride: ws.winoStride,
      }),
    );
  }

  /** conv then BN statistics (train) or the running-average affine map (eval), into z / scale / shift. */
  convBnForward(c: ConvPlan, x: number, mode: 'train' | 'eval', taps: number | null): void {
    const { calls, ws, N, threads } = this;
    const { spec: s, inC, inSize } = c;
    const Ho = s.outSize;
    const M = N * Ho * Ho;
    const z = this.z(c);
    if (s.k === 3) {
      calls.push(kernelCall('dilate_pad', { x, N, H: inSize, W: inSize, C: inC, s: 1, pad: 1, dst: ws.padded }));
      const wv = s.stride === 1 ? winograd('forward', inC, s.outC, Ho, this.kernels) : null;
      if (wv) {
        this.winogradConv(wv, c, false, inC, s.outC, Ho, z, false);
      } else {
        calls.push(
          kernelCall('conv_fwd', { xp: ws.padded, Hp: inSize + 2, Wp: inSize + 2, C: inC, w: c.w, k: 3, s: s.stride, y: z, N, Ho, Wo: Ho, K: s.outC, acc: 0 }),
        );
      }
    } else {
      calls.push(kernelCall('conv_fwd', { xp: x, Hp: inSize, Wp: inSize, C: inC, w: c.w, k: 1, s: s.stride, y: z, N, Ho, Wo: Ho, K: s.outC, acc: 0 }));
    }
    if (mode === 'train') {
      calls.push(kernelCall('chan_sums', { z, M, C: s.outC, partial: ws.partials }));
      calls.push(
        kernelCall('bn_finalize', {
          partial: ws.partials,
          nth: threads,
          M,
          C: s.outC,
          eps: BN_EPSILON,
          gamma: c.gamma,
          beta: c.beta,
          mean: c.mean,
          invstd: c.invstd,
          variance: c.variance,
          scale: c.scale,
          shift: c.shift,
          z,
        }),
      );
      // Fig. 7: the response's moments, BN with this batch's statistics (see responseProgram)
      if (taps !== null)
        calls.push(kernelCall('bn_response_moments', { partial: ws.partials, nth: threads, M, C: s.outC, scale: c.scale, shift: c.shift, z, out: taps }));
    } else {
      // Fig. 7 (a): the response as a trained net computes it, BN with its running averages: the
      // moments of y = scale·z + shift follow from this batch's Σz, Σz² (see evalResponseProgram)
      if (taps !== null) calls.push(kernelCall('chan_sums', { z, M, C: s.outC, partial: ws.partials }));
      calls.push(
        kernelCall('bn_eval_affine', {
          rmean: c.rmean,
          rvar: c.rvar,
          C: s.outC,
          eps: BN_EPSILON,
          gamma: c.gamma,
          beta: c.beta,
          scale: c.scale,
          shift: c.shift,
        }),
      );
      if (taps !== null)
        calls.push(kernelCall('bn_response_moments', { partial: ws.partials, nth: threads, M, C: s.outC, scale: c.scale, shift: c.shift, z, out: taps }));
    }
  }

  /** The forward pass (§4.2); returns the last block's output. With `taps`, each 3×3 layer's response moments go to ws.taps. */
  forward(mode: 'train' | 'eval', input: number, taps = false): number {
    const { calls, ws, N, act } = this;
    let tap = 0;
    const tapAt = () => (taps ? ws.taps + 16 * tap++ : null);
    const stem = this.net.convs.get(this.net.spec.stem.name)!;
    const M0 = N * stem.spec.outSize ** 2;
    this.convBnForward(stem, input, mode, tapAt());
    calls.push(kernelCall('bn_apply', { z: this.z(stem), M: M0, C: stem.spec.outC, scale: stem.scale, shift: stem.shift, res: 0, relu: 1, y: act.stemOut }));
    let a = act.stemOut;
    for (const b of act.blocks) {
      const M = N * blockOutSize(b.spec) ** 2;
      const K = b.spec.outC;
      // the branch F: conv-BN-ReLU … conv-BN (the last BN is applied with the shortcut, below)
      let x = a;
      b.branch.forEach((c, i) => {
        this.convBnForward(c, x, mode, c.spec.k === 3 ? tapAt() : null);
        if (i < b.branch.length - 1) {
          calls.push(
            kernelCall('bn_apply', { z: this.z(c), M: N * c.spec.outSize ** 2, C: c.spec.outC, scale: c.scale, shift: c.shift, res: 0, relu: 1, y: b.h[i] }),
          );
          x = b.h[i];
        }
      });
      const last = b.branch[b.branch.length - 1];
      let res = 0;
      switch (b.spec.shortcut) {
        case 'identity':
          res = a;
          break;
        case 'subsample-pad': // option A: every s-th row and column, zero channels appended
          calls.push(kernelCall('subsample_pad', { x: a, N, H: b.spec.size, W: b.spec.size, C: b.spec.inC, K, s: b.spec.stride, y: ws.shortcut }));
          res = ws.shortcut;
          break;
        case 'projection': // options B and C: 1×1 conv + BN
          this.convBnForward(b.projection!, a, mode, null);
          calls.push(
            kernelCall('bn_apply', {
              z: this.z(b.projection!),
              M,
              C: K,
              scale: b.projection!.scale,
              shift: b.projection!.shift,
              res: 0,
              relu: 0,
              y: ws.shortcut,
            }),
          );
          res = ws.shortcut;
          break;
        case 'gated': {
          // F = BN(z), T = σ(1×1 conv of the input + bias), carry = the input or its projection; y = ReLU(T·F + (1 − T)·carry)
          const g = b.gate!;
          calls.push(kernelCall('bn_apply', { z: this.z(last), M, C: K, scale: last.scale, shift: last.shift, res: 0, relu: 0, y: b.f }));
          calls.push(
            kernelCall('conv_fwd', {
              xp: a,
              Hp: g.inSize,
              Wp: g.inSize,
              C: g.inC,
              w: g.w,
              k: 1,
              s: g.spec.stride,
              y: b.t,
              N,
              Ho: g.spec.outSize,
              Wo: g.spec.outSize,
              K,
              acc: 0,
            }),
          );
          calls.push(kernelCall('gate_sigmoid', { t: b.t, b: g.bias, M, K }));
          let carry = a;
          if (b.projection) {
            this.convBnForward(b.projection, a, mode, null);
            calls.push(
              kernelCall('bn_apply', { z: this.z(b.projection), M, C: K, scale: b.projection.scale, shift: b.projection.shift, res: 0, relu: 0, y: b.carry }),
            );
            carry = b.carry;
          }
          calls.push(kernelCall('highway_fwd', { t: b.t, fx: b.f, c: carry, n: M * K, y: b.out }));
          a = b.out;
          continue;
        }
        case 'none':
          break;
      }
      // residual: ReLU(BN(last conv) + shortcut); plain: ReLU(BN(last conv))
      calls.push(kernelCall('bn_apply', { z: this.z(last), M, C: K, scale: last.scale, shift: last.shift, res, relu: 1, y: b.out }));
      a = b.out;
    }
    return a;
  }

  /**
   * Backward through a block's branch, last conv to first: from dY (masked by `mask` > 0 when
   * mask ≠ 0) at the branch's output to the gradient at its input, which it returns. Each conv's
   * BN gradient goes to `bufs[0]` and its input gradient to `bufs[1]`, then they swap (dY may be
   * bufs[0] itself: BN's backward works in place).
   */
  branchBackward(blk: BlockPlan, a: number, dY: number, mask: number, bufs: [number, number]): number {
    let [p, q] = bufs;
    for (let i = blk.branch.length - 1; i >= 0; i--) {
      this.convBnBackward(blk.branch[i], i > 0 ? blk.h[i - 1] : a, dY, mask, p, q, false);
      dY = q;
      mask = i > 0 ? blk.h[i - 1] : 0;
      [p, q] = [q, p];
    }
    return dY;
  }

  /** A conv's weight gradient and, when dx ≠ 0, its input gradient (added to dx when accumulate), from dZ. */
  convBackward(c: Pick<ConvPlan, 'spec' | 'inC' | 'inSize' | 'w' | 'gw'>, x: number, dZ: number, dx: number, accumulate: boolean): void {
    const { calls, ws, N } = this;
    const { spec: s, inC, inSize } = c;
    const Ho = s.outSize;
    const K = s.outC;
    if (s.k === 3) {
      calls.push(kernelCall('dilate_pad', { x, N, H: inSize, W: inSize, C: inC, s: 1, pad: 1, dst: ws.padded }));
      const wv = s.stride === 1 ? winograd('filter', inC, K, Ho, this.kernels) : null;
      if (wv) {
        // F(4×4) and F(2×2) take the same arguments; F(4×4)'s finish also needs the scratch
        calls.push(
          kernelCall(wv === 'F4' ? 'wino4_bwd_filter' : 'wino_bwd_filter', {
            xp: ws.padded,
            Hp: inSize + 2,
            Wp: inSize + 2,
            C: inC,
            dy: dZ,
            N,
            Ho,
            Wo: Ho,
            K,
            dU: ws.winoDU,
            scratch: ws.winoScratch,
            sstride: ws.winoStride,
          }),
        );
        const finish = { dU: ws.winoDU, parts: this.threads, C: inC, K, dw: c.gw };
        calls.push(
          wv === 'F4'
            ? kernelCall('wino4_filter_finish', { ...finish, scratch: ws.winoScratch, sstride: ws.winoStride })
            : kernelCall('wino_filter_finish', finish),
        );
      } else {
        calls.push(
          kernelCall('conv_bwd_filter', { xp: ws.padded, Hp: inSize + 2, Wp: inSize + 2, C: inC, dy: dZ, N, Ho, Wo: Ho, K, k: 3, s: s.stride, dw: c.gw }),
        );
      }
    } else {
      calls.push(kernelCall('conv_bwd_filter', { xp: x, Hp: inSize, Wp: inSize, C: inC, dy: dZ, N, Ho, Wo: Ho, K, k: 1, s: s.stride, dw: c.gw }));
    }
    if (!dx) return;
    // The input gradient is a convolution of the padded output gradient with the flipped,
    // transposed kernel: Winograd at stride 1 where it pays, a direct kernel at stride 2, and
    // otherwise (or with 'direct' kernels) a stride-1 convolution over the spread, padded gradient.
    const pad = s.k === 3 ? 1 : 0;
    const wv = s.k === 3 && s.stride === 1 ? winograd('forward', K, inC, inSize, this.kernels) : null;
    if (wv) {
      calls.push(kernelCall('dilate_pad', { x: dZ, N, H: Ho, W: Ho, C: K, s: 1, pad: 1, dst: ws.padded }));
      this.winogradConv(wv, c, true, K, inC, inSize, dx, accumulate);
      return;
    }
    calls.push(kernelCall('flip_weights', { w: c.w, k: s.k, C: inC, K, wt: ws.flip }));
    if (s.stride === 2 && this.kernels === 'auto') {
      // direct: each input pixel takes only the taps that reach it (no zero-spread gradient)
      calls.push(kernelCall('dilate_pad', { x: dZ, N, H: Ho, W: Ho, C: K, s: 1, pad: 1, dst: ws.padded }));
      calls.push(
        kernelCall('conv_bwd_data_s2', {
          dyp: ws.padded,
          Hp: Ho + 2,
          Wp: Ho + 2,
          K,
          wt: ws.flip,
          k: s.k,
          C: inC,
          dx,
          N,
          H: inSize,
          W: inSize,
          acc: accumulate ? 1 : 0,
        }),
      );
      return;
    }
    if (s.stride === 1 && pad === 0) {
      calls.push(
        kernelCall('conv_fwd', { xp: dZ, Hp: Ho, Wp: Ho, C: K, w: ws.flip, k: 1, s: 1, y: dx, N, Ho: inSize, Wo: inSize, K: inC, acc: accumulate ? 1 : 0 }),
      );
    } else {
      calls.push(kernelCall('dilate_pad', { x: dZ, N, H: Ho, W: Ho, C: K, s: s.stride, pad, dst: ws.padded }));
      const P = s.stride * Ho + 2 * pad;
      calls.push(
        kernelCall('conv_fwd', {
          xp: ws.padded,
          Hp: P,
          Wp: P,
          C: K,
          w: ws.flip,
          k: s.k,
          s: 1,
          y: dx,
          N,
          Ho: inSize,
          Wo: inSize,
          K: inC,
          acc: accumulate ? 1 : 0,
        }),
      );
    }
  }

  /**
   * BN and conv backward for one conv: from dY (the gradient of the BN output, masked by `mask > 0`
   * when mask ≠ 0) to the conv's weight gradient and, when dx ≠ 0, its input gradient (added to
   * dx when accumulate). dZ may be dY itself.
   */
  convBnBackward(c: ConvPlan, x: number, dY: number, mask: number, dZ: number, dx: number, accumulate: boolean): void {
    const { calls, ws, N } = this;
    const M = N * c.spec.outSize ** 2;
    const K = c.spec.outC;
    const z = this.z(c);
    calls.push(kernelCall('bn_bwd_sums', { dy: dY, mask, z, M, C: K, partial: ws.partials }));
    calls.push(
      kernelCall('bn_bwd_finalize', {
        partial: ws.partials,
        nth: this.threads,
        M,
        C: K,
        mean: c.mean,
        invstd: c.invstd,
        gamma: c.gamma,
        dgamma: c.ggamma,
        dbeta: c.gbeta,
        coefA: c.coefA,
        coefB: c.coefB,
        coefD: c.coefD,
      }),
    );
    calls.push(kernelCall('bn_bwd_dx', { dy: dY, mask, z, M, C: K, coefA: c.coefA, coefB: c.coefB, coefD: c.coefD, dz: dZ }));
    this.convBackward(c, x, dZ, dx, accumulate);
  }

  head(last: number, labels: number, withGrads: boolean): void {
    const { net, ws, N } = this;
    const fc = net.spec.fc;
    const lastSize = blockOutSize(net.spec.blocks[net.spec.blocks.length - 1]);
    // without gradients the head writes none: dA, dW and db are 0 (null pointers)
    const grads = withGrads ? { dA: ws.grads[0], dW: gradAt(net, 'fc.weight'), db: gradAt(net, 'fc.bias') } : { dA: 0, dW: 0, db: 0 };
    this.calls.push(
      kernelCall('head', {
        a: last,
        N,
        HW: lastSize * lastSize,
        C: fc.inC,
        fcw: paramAt(net, 'fc.weight'),
        fcb: paramAt(net, 'fc.bias'),
        labels,
        out: net.out,
        g: ws.g,
        probs: ws.probs,
        ...grads,
      }),
    );
  }
}

/** Forward, loss, backward; and when `update`, SGD (its learning rate is the 'lr' argument) and the BN running averages. */
export function trainProgram(net: NetPlan, ws: Workspace, N: number, update: boolean, threads: number, kernels: ConvKernels = 'auto'): Program {
  const b = new Builder(net, ws, N, threads, kernels);
  const { calls, act } = b;
  calls.push(kernelCall('zero', { p: net.out, n: 4 }));
  const last = b.forward('train', ws.input);
  b.head(last, ws.labels, true);
  const [g0, g1, g2] = ws.grads;
  // backward through the blocks, last to first; `cur` holds ∂loss/∂(block output)
  let cur = g0;
  let free: [number, number] = [g1, g2];
  for (let i = act.blocks.length - 1; i >= 0; i--) {
    const blk = act.blocks[i];
    const a = i > 0 ? act.blocks[i - 1].out : act.stemOut;
    const M = N * blockOutSize(blk.spec) ** 2;
    const K = blk.spec.outC;
    const [t1, t2] = free;
    const sc = blk.spec.shortcut;
    let dA: number;
    if (sc === 'none') {
      // plain: the ReLU's mask is applied as the last BN's backward reads cur, which it may overwrite
      dA = b.branchBackward(blk, a, cur, blk.out, [cur, t1]);
    } else if (sc === 'gated') {
      // ∂loss/∂(T·F + (1 − T)·carry): dF into t1, the gate's pre-sigmoid gradient into ws.shortcut
      // (free in the backward pass), the carry's gradient over cur
      calls.push(kernelCall('relu_mask', { d: cur, a: blk.out, n: M * K }));
      calls.push(kernelCall('highway_bwd', { ds: cur, t: blk.t, fx: blk.f, c: blk.projection ? blk.carry : a, n: M * K, df: t1, dg: ws.shortcut }));
      dA = b.branchBackward(blk, a, t1, 0, [t1, t2]);
      if (blk.projection) b.convBnBackward(blk.projection, a, cur, 0, cur, dA, true);
      else calls.push(kernelCall('add_inplace', { dst: dA, src: cur, n: M * K }));
      const g = blk.gate!;
      calls.push(kernelCall('gate_bias_grad', { dg: ws.shortcut, M, K, gb: g.gbias }));
      b.convBackward(g, a, ws.shortcut, dA, true);
    } else {
      // ∂loss/∂(pre-ReLU sum) = cur·[out > 0], written: the shortcut needs it too
      calls.push(kernelCall('relu_mask', { d: cur, a: blk.out, n: M * K }));
      dA = b.branchBackward(blk, a, cur, 0, [t1, t2]);
      // the shortcut's gradient joins the branch's
      if (sc === 'identity') calls.push(kernelCall('add_inplace', { dst: dA, src: cur, n: N * blk.spec.size * blk.spec.size * blk.spec.inC }));
      else if (sc === 'subsample-pad')
        calls.push(kernelCall('subsample_pad_bwd', { dy: cur, N, H: blk.spec.size, W: blk.spec.size, C: blk.spec.inC, K, s: blk.spec.stride, dx: dA }));
      else b.convBnBackward(blk.projection!, a, cur, 0, cur, dA, true);
    }
    free = ws.grads.filter((g) => g !== dA) as [number, number];
    cur = dA;
  }
  const stem = net.convs.get(net.spec.stem.name)!;
  b.convBnBackward(stem, ws.input, cur, act.stemOut, cur, 0, false); // the ReLU's mask applied as BN's backward reads cur
  const program: Program = { calls, args: {} };
  if (update) {
    const sgd: Call = kernelCall('sgd', {
      w: net.base,
      g: net.base + f32(net.blockFloats),
      v: net.base + f32(2 * net.blockFloats),
      n: net.blockFloats,
      lr: 0,
      mom: MOMENTUM,
      wd: WEIGHT_DECAY,
    });
    calls.push(sgd);
    program.args.lr = { call: calls.length - 1, index: argIndex('sgd', 'lr') };
    for (const c of net.convs.values()) {
      calls.push(
        kernelCall('bn_running', {
          rmean: c.rmean,
          rvar: c.rvar,
          mean: c.mean,
          variance: c.variance,
          C: c.spec.outC,
          m: BN_MOMENTUM,
          M: N * c.spec.outSize ** 2,
        }),
      );
    }
  }
  return program;
}

/** Evaluation of n images from the workspace's eval input (BN with the running averages): loss and errors into net.out. */
export function evalProgram(net: NetPlan, ws: Workspace, n: number, threads: number, kernels: ConvKernels = 'auto'): Program {
  const b = new Builder(net, ws, n, threads, kernels);
  const last = b.forward('eval', ws.evalInput);
  b.head(last, ws.evalLabels, false);
  return { calls: b.calls, args: {} };
}

/**
 * The layer responses of n images from the eval input (Fig. 7): a forward pass with BN normalising
 * by these images' own statistics, as in training, each 3×3 layer's Σy and Σy² into ws.taps. The
 * running averages are not touched (no bn_running), and nothing is learned.
 */
export function responseProgram(net: NetPlan, ws: Workspace, n: number, threads: number, kernels: ConvKernels = 'auto'): Program {
  const b = new Builder(net, ws, n, threads, kernels);
  b.forward('train', ws.evalInput, true);
  return { calls: b.calls, args: {} };
}

/**
 * The layer responses of n images as a trained net computes them (Fig. 7, variant (a)): a forward
 * pass with BN in evaluation mode (the running averages), each 3×3 layer's Σy and Σy² into ws.taps.
 */
export function evalResponseProgram(net: NetPlan, ws: Workspace, n: number, threads: number, kernels: ConvKernels = 'auto'): Program {
  const b = new Builder(net, ws, n, threads, kernels);
  b.forward('eval', ws.evalInput, true);
  return { calls: b.calls, args: {} };
}

/** Where a forward pass of n images leaves each highway gate's values T (after responseProgram, for their means). */
export function gateValuesAt(net: NetPlan, ws: Workspace, n: number): { at: number; count: number }[] {
  return planActivations(net, ws, n)
    .blocks.filter((b) => b.gate)
    .map((b) => ({ at: b.t, count: n * blockOutSize(b.spec) ** 2 * b.spec.outC }));
}
