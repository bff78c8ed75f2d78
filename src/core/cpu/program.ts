// Where a net's tensors live on the lab CPU engine (the memory plan): its parameter block, and the workspace its
// programs share. The programs themselves are the step IR lowered to kernel calls (./lower.ts). Pure: it computes
// addresses and touches no memory; ./engine.ts allocates. program.test.ts checks the plans and the programs;
// engine.test.ts checks the maths they compute.
//
// Parameters, gradients and momentum are three copies of one layout, so one SGD call updates the whole block. The
// forward pass saves every activation the IR names (each conv's output z, each block's activations); the backward
// pass's gradients take the workspace's gradient slots (../ir/step.ts planGradients).
import type { ConvSpec, NetSpec } from '../nets';
import { NUM_CLASSES, bnStatNames, sizeOf } from '../nets';
import { stepIR, tensorFloats } from '../ir/step';
import { evalChunk } from '../train';
import { align, f32 } from './heap';

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

/** Bytes of saved activations for a batch of N: every activation the step IR names (each conv's z, each block's inner activations and output, a highway block's F, T and carry). */
export function activationBytes(spec: NetSpec, N: number): number {
  let bytes = 0;
  for (const info of stepIR(spec, 'eval').tensors.values()) if (info.role === 'activation') bytes += align(f32(tensorFloats(info, N)));
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
  /** The backward pass's gradient slots (../ir/step.ts planGradients), each the largest activation's size. */
  grads: number[];
  partials: number;
  flip: number;
  g: number;
  probs: number;
  out: number; // f64 [2]: Σ loss, errors
  taps: number; // f64 [2·layers]: Σy, Σy² per 3×3 layer
  residuals: number; // f64 [4·blocks]: Σ F, Σ F², Σ x, Σ x² per block with a shortcut (an 'eval-responses' program's residual taps)
  /** `channels` floats of 1 and of 0 (the engine writes them): the identity map for the moments of a block's input. */
  ones: number;
  zeros: number;
  channels: number;
  shortcut: number; // option A's or a projection's output, added by the block's last BN
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
 * sharing each call, `activations` bytes for the largest net's saved activations and `gradSlots`
 * gradient slots (./lower.ts gradientSlots): its size, and its layout once allocated at some base.
 */
export function planWorkspace(
  specs: readonly NetSpec[],
  N: number,
  imageSize: number,
  opThreads: number,
  activations: number,
  gradSlots: number,
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
    residuals: 32 * Math.max(1, ...specs.map((s) => s.blocks.length)),
    ones: f32(maxC),
    zeros: f32(maxC),
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
  size += gradSlots * align(f32(maxAct));
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
      channels: maxC,
      grads: Array.from({ length: gradSlots }, (_, i) => base + gradsAt + i * align(f32(maxAct))),
      activations: base + activationsAt,
    }),
  };
}
