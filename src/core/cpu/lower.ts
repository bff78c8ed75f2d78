// The step IR (../ir/step.ts) lowered to the lab CPU engine's kernels: one rule per IR node, each a few named
// kernel calls (./kernelArgs.ts). The memory plan (./program.ts) gives every tensor its address: saved activations
// in the workspace's activation area, gradients in its gradient slots (../ir/step.ts planGradients, in place where a
// node is element-wise), and the kernels' scratch (padded inputs, Winograd buffers, the shortcut's output).
//
// Fusion on this engine: a ReLU's mask is folded into a BN backward that reads it alone; a gradient that a block's
// branch and its shortcut both read is masked once, in place (relu_mask). The head's forward and backward are one
// kernel. Pure: it computes calls and touches no memory; ./engine.ts runs them.
import type { ConvSpec } from '../nets';
import { blockOutSize } from '../nets';
import type { Node, Op, ProgramKind, StepIR } from '../ir/step';
import { INPUT, LABELS, foldMasks, onTrainingBatch, planActivations, planGradients, stepIR, tensorFloats } from '../ir/step';
import { BN_EPSILON, BN_MOMENTUM, MOMENTUM, WEIGHT_DECAY } from '../train';
import { align, f32 } from './heap';
import { argIndex, kernelCall } from './kernelArgs';
import type { Call } from './kernelArgs';
import type { ConvKernels, NetPlan, Workspace } from './program';
import { IN_C, gradAt, paramAt, winograd } from './program';

/** The nodes whose kernels take a ReLU's mask (BN's backward sums and input gradient). */
const MASKED = new Set<Op>(['bnBackward']);

/** A program's IR on this engine: masks folded as its kernels take them. */
const cpuIR = (spec: NetPlan['spec'], kind: ProgramKind): StepIR => foldMasks(stepIR(spec, kind), MASKED, false);

/** Gradient slots a step of this net needs (the workspace is planned for the largest). */
export const gradientSlots = (spec: NetPlan['spec']): number => planGradients(cpuIR(spec, 'step'), true).slots;

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

/** Addresses of the forward pass's saved activations for a batch of N, in the order the IR creates them. */
function activationAddresses(ir: StepIR, ws: Workspace, N: number): Map<string, number> {
  const at = new Map<string, number>();
  let next = ws.activations;
  for (const [name, info] of ir.tensors) {
    if (info.role !== 'activation') continue;
    at.set(name, next);
    next += align(f32(tensorFloats(info, N)));
  }
  return at;
}

/**
 * An evaluation's activations: a few slots reused as the pass goes (../ir/step.ts planActivations), each the size of
 * the largest activation, inside the area planned for keeping them all; where the slots would not fit (never for the
 * lab's nets), every activation in its own place.
 */
function evalAddresses(ir: StepIR, ws: Workspace, N: number): Map<string, number> {
  const plan = planActivations(ir);
  const all = [...ir.tensors.values()].filter((info) => info.role === 'activation').map((info) => align(f32(tensorFloats(info, N))));
  const slot = Math.max(0, ...all);
  if (plan.slots * slot > all.reduce((s, b) => s + b, 0)) return activationAddresses(ir, ws, N);
  return new Map([...plan.slot].map(([t, s]) => [t, ws.activations + s * slot]));
}

/** What a lowering rule sees: the net, the workspace, the batch, and every tensor's address. */
interface Lowering {
  net: NetPlan;
  ws: Workspace;
  N: number;
  threads: number;
  kernels: ConvKernels;
  at(tensor: string): number;
  /** A tensor's floats for this batch. */
  floats(tensor: string): number;
  calls: Call[];
  program: Program;
}

type Rule<K extends Op> = (n: Extract<Node, { op: K }>, l: Lowering) => void;

const convPlan = (l: Lowering, c: ConvSpec) => {
  const p = l.net.convs.get(c.name);
  if (!p) throw new Error(`no BN plan for ${c.name}`);
  return p;
};

/** The conv's weights and its shape as the kernels see it (the stem's 3 channels padded to 4). */
const convShape = (l: Lowering, c: ConvSpec) => ({
  w: paramAt(l.net, c.name),
  gw: gradAt(l.net, c.name),
  inC: c.inC === 3 ? IN_C : c.inC,
  inSize: c.outSize * c.stride,
});

/**
 * A stride-1 3×3 convolution of ws.padded (C channels, H×H once unpadded) into y (K channels, added when accumulate)
 * with Winograd variant wv: weights w, or with `flipped` the flipped, transposed kernel (the input gradient, where C
 * and K are the conv's output and input channels).
 */
function winogradConv(l: Lowering, wv: 'F2' | 'F4', w: number, flipped: boolean, C: number, K: number, H: number, y: number, accumulate: boolean): void {
  const { calls, ws, N } = l;
  // the weight transform takes the conv's own channel order: (input, output) = (K, C) when flipped
  const [wc, wk] = flipped ? [K, C] : [C, K];
  const flip = flipped ? 1 : 0;
  calls.push(
    wv === 'F4'
      ? kernelCall('wino4_weights', { w, C: wc, K: wk, flip, U: ws.winoU, scratch: ws.winoScratch, sstride: ws.winoStride })
      : kernelCall('wino_weights', { w, C: wc, K: wk, flip, U: ws.winoU }),
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

const conv: Rule<'conv'> = (n, l) => {
  const { calls, ws, N } = l;
  const s = n.conv;
  const { w, inC, inSize } = convShape(l, s);
  const [x, z, Ho] = [l.at(n.x), l.at(n.z), s.outSize];
  if (s.k === 1) {
    calls.push(kernelCall('conv_fwd', { xp: x, Hp: inSize, Wp: inSize, C: inC, w, k: 1, s: s.stride, y: z, N, Ho, Wo: Ho, K: s.outC, acc: 0 }));
    return;
  }
  calls.push(kernelCall('dilate_pad', { x, N, H: inSize, W: inSize, C: inC, s: 1, pad: 1, dst: ws.padded }));
  const wv = s.stride === 1 ? winograd('forward', inC, s.outC, Ho, l.kernels) : null;
  if (wv) winogradConv(l, wv, w, false, inC, s.outC, Ho, z, false);
  else
    calls.push(kernelCall('conv_fwd', { xp: ws.padded, Hp: inSize + 2, Wp: inSize + 2, C: inC, w, k: 3, s: s.stride, y: z, N, Ho, Wo: Ho, K: s.outC, acc: 0 }));
};

const bnStats: Rule<'bnStats'> = (n, l) => {
  const c = convPlan(l, n.conv);
  const { calls, ws, threads } = l;
  const [z, M, C] = [l.at(n.z), l.N * n.conv.outSize ** 2, n.conv.outC];
  if (n.measure) calls.push(kernelCall('chan_sums', { z, M, C, partial: ws.partials }));
  if (n.stats === 'batch') {
    calls.push(
      kernelCall('bn_finalize', {
        partial: ws.partials,
        nth: threads,
        M,
        C,
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
  } else {
    calls.push(
      kernelCall('bn_eval_affine', { rmean: c.rmean, rvar: c.rvar, C, eps: BN_EPSILON, gamma: c.gamma, beta: c.beta, scale: c.scale, shift: c.shift }),
    );
  }
};

// Fig. 7: the moments of y = scale·z + shift from the batch's Σz, Σz² (with its own statistics, or the running averages)
const responseTap: Rule<'responseTap'> = (n, l) => {
  const c = convPlan(l, n.conv);
  const M = l.N * n.conv.outSize ** 2;
  l.calls.push(
    kernelCall('bn_response_moments', {
      partial: l.ws.partials,
      nth: l.threads,
      M,
      C: n.conv.outC,
      scale: c.scale,
      shift: c.shift,
      z: l.at(n.z),
      out: l.ws.taps + 16 * n.layer,
    }),
  );
};

// ‖F(x)‖/‖x‖: Σ F, Σ F² from the chan sums of z its statistics left in the partials (F = scale·z + shift), then Σ x,
// Σ x² from x's own chan sums through the identity map (ws.ones, ws.zeros); into ws.residuals [4 f64 per block]
const residualTap: Rule<'residualTap'> = (n, l) => {
  const c = convPlan(l, n.conv);
  const { calls, ws, N, threads } = l;
  const out = ws.residuals + 32 * n.index;
  const b = n.block;
  const [x, Mx] = [l.at(n.x), N * b.size ** 2];
  calls.push(
    kernelCall('bn_response_moments', {
      partial: ws.partials,
      nth: threads,
      M: N * n.conv.outSize ** 2,
      C: n.conv.outC,
      scale: c.scale,
      shift: c.shift,
      z: l.at(n.z),
      out,
    }),
  );
  calls.push(kernelCall('chan_sums', { z: x, M: Mx, C: b.inC, partial: ws.partials }));
  calls.push(kernelCall('bn_response_moments', { partial: ws.partials, nth: threads, M: Mx, C: b.inC, scale: ws.ones, shift: ws.zeros, z: x, out: out + 16 }));
};

const bnApply: Rule<'bnApply'> = (n, l) => {
  const c = convPlan(l, n.conv);
  const { calls, ws, N } = l;
  const [M, C] = [N * n.conv.outSize ** 2, n.conv.outC];
  let res = 0;
  if (n.add?.kind === 'identity') res = l.at(n.add.x);
  else if (n.add?.kind === 'subsample-pad') {
    // option A: every s-th row and column, zero channels appended
    const b = n.add.block;
    calls.push(kernelCall('subsample_pad', { x: l.at(n.add.x), N, H: b.size, W: b.size, C: b.inC, K: C, s: b.stride, y: ws.shortcut }));
    res = ws.shortcut;
  } else if (n.add?.kind === 'projection') {
    // options B and C: BN of the 1×1 conv, then added
    const p = convPlan(l, n.add.conv);
    calls.push(kernelCall('bn_apply', { z: l.at(n.add.z), M, C, scale: p.scale, shift: p.shift, res: 0, relu: 0, y: ws.shortcut }));
    res = ws.shortcut;
  }
  calls.push(kernelCall('bn_apply', { z: l.at(n.z), M, C, scale: c.scale, shift: c.shift, res, relu: n.relu ? 1 : 0, y: l.at(n.y) }));
};

const highway: Rule<'highway'> = (n, l) => {
  const M = l.N * blockOutSize(n.block) ** 2;
  const K = n.block.outC;
  l.calls.push(kernelCall('gate_sigmoid', { t: l.at(n.zg), b: paramAt(l.net, `${n.gate.name}.bias`), M, K }));
  l.calls.push(kernelCall('highway_fwd', { t: l.at(n.zg), fx: l.at(n.f), c: l.at(n.carry), n: M * K, y: l.at(n.y) }));
};

const head: Rule<'head'> = (n, l) => {
  const { net, ws, N } = l;
  const last = net.spec.blocks[net.spec.blocks.length - 1];
  const size = last ? blockOutSize(last) : net.spec.stem.outSize;
  // without a gradient the head writes none: dA, dW and db are 0 (null pointers)
  const grads = n.dx ? { dA: l.at(n.dx), dW: gradAt(net, 'fc.weight'), db: gradAt(net, 'fc.bias') } : { dA: 0, dW: 0, db: 0 };
  l.calls.push(
    kernelCall('head', {
      a: l.at(n.x),
      N,
      HW: size * size,
      C: net.spec.fc.inC,
      fcw: paramAt(net, 'fc.weight'),
      fcb: paramAt(net, 'fc.bias'),
      labels: l.at(n.labels),
      out: net.out,
      g: ws.g,
      probs: ws.probs,
      ...grads,
    }),
  );
};

/** Where the kernel works in place, the plan must have put its output over its input. */
function sameSlot(l: Lowering, out: string, input: string, kernel: string): number {
  if (l.at(out) !== l.at(input)) throw new Error(`${kernel} works in place, but ${out} and ${input} are in different slots`);
  return l.at(out);
}

const reluBackward: Rule<'reluBackward'> = (n, l) => {
  l.calls.push(kernelCall('relu_mask', { d: sameSlot(l, n.dx, n.dy, 'relu_mask'), a: l.at(n.y), n: l.floats(n.y) }));
};

const bnBackward: Rule<'bnBackward'> = (n, l) => {
  const c = convPlan(l, n.conv);
  const { calls, ws } = l;
  const [M, K] = [l.N * n.conv.outSize ** 2, n.conv.outC];
  const [dy, z, mask] = [l.at(n.dy), l.at(n.z), n.mask ? l.at(n.mask) : 0];
  calls.push(kernelCall('bn_bwd_sums', { dy, mask, z, M, C: K, partial: ws.partials }));
  calls.push(
    kernelCall('bn_bwd_finalize', {
      partial: ws.partials,
      nth: l.threads,
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
  calls.push(kernelCall('bn_bwd_dx', { dy, mask, z, M, C: K, coefA: c.coefA, coefB: c.coefB, coefD: c.coefD, dz: l.at(n.dz) }));
};

/** The weight gradient: Winograd at stride 1 where it pays, else the direct kernel. */
function weightGradient(l: Lowering, s: ConvSpec, x: number, dZ: number): void {
  const { calls, ws, N } = l;
  const { gw, inC, inSize } = convShape(l, s);
  const [Ho, K] = [s.outSize, s.outC];
  if (s.k === 1) {
    calls.push(kernelCall('conv_bwd_filter', { xp: x, Hp: inSize, Wp: inSize, C: inC, dy: dZ, N, Ho, Wo: Ho, K, k: 1, s: s.stride, dw: gw }));
    return;
  }
  calls.push(kernelCall('dilate_pad', { x, N, H: inSize, W: inSize, C: inC, s: 1, pad: 1, dst: ws.padded }));
  const wv = s.stride === 1 ? winograd('filter', inC, K, Ho, l.kernels) : null;
  if (!wv) {
    calls.push(kernelCall('conv_bwd_filter', { xp: ws.padded, Hp: inSize + 2, Wp: inSize + 2, C: inC, dy: dZ, N, Ho, Wo: Ho, K, k: 3, s: s.stride, dw: gw }));
    return;
  }
  // F(4×4) and F(2×2) take the same arguments; F(4×4)'s finish also needs the scratch
  const scratch = { scratch: ws.winoScratch, sstride: ws.winoStride };
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
      ...scratch,
    }),
  );
  const finish = { dU: ws.winoDU, parts: l.threads, C: inC, K, dw: gw };
  calls.push(wv === 'F4' ? kernelCall('wino4_filter_finish', { ...finish, ...scratch }) : kernelCall('wino_filter_finish', finish));
}

/**
 * The input gradient, a convolution of the padded output gradient with the flipped, transposed kernel: Winograd at
 * stride 1 where it pays, a direct kernel at stride 2, and otherwise (or with 'direct' kernels) a stride-1
 * convolution over the spread, padded gradient.
 */
function inputGradient(l: Lowering, s: ConvSpec, dZ: number, dx: number, accumulate: boolean): void {
  const { calls, ws, N } = l;
  const { w, inC, inSize } = convShape(l, s);
  const [Ho, K, acc] = [s.outSize, s.outC, accumulate ? 1 : 0];
  const pad = s.k === 3 ? 1 : 0;
  const wv = s.k === 3 && s.stride === 1 ? winograd('forward', K, inC, inSize, l.kernels) : null;
  if (wv) {
    calls.push(kernelCall('dilate_pad', { x: dZ, N, H: Ho, W: Ho, C: K, s: 1, pad: 1, dst: ws.padded }));
    winogradConv(l, wv, w, true, K, inC, inSize, dx, accumulate);
    return;
  }
  calls.push(kernelCall('flip_weights', { w, k: s.k, C: inC, K, wt: ws.flip }));
  if (s.stride === 2 && l.kernels === 'auto') {
    // direct: each input pixel takes only the taps that reach it (no zero-spread gradient)
    calls.push(kernelCall('dilate_pad', { x: dZ, N, H: Ho, W: Ho, C: K, s: 1, pad: 1, dst: ws.padded }));
    calls.push(kernelCall('conv_bwd_data_s2', { dyp: ws.padded, Hp: Ho + 2, Wp: Ho + 2, K, wt: ws.flip, k: s.k, C: inC, dx, N, H: inSize, W: inSize, acc }));
    return;
  }
  if (s.stride === 1 && pad === 0) {
    calls.push(kernelCall('conv_fwd', { xp: dZ, Hp: Ho, Wp: Ho, C: K, w: ws.flip, k: 1, s: 1, y: dx, N, Ho: inSize, Wo: inSize, K: inC, acc }));
    return;
  }
  calls.push(kernelCall('dilate_pad', { x: dZ, N, H: Ho, W: Ho, C: K, s: s.stride, pad, dst: ws.padded }));
  const P = s.stride * Ho + 2 * pad;
  calls.push(kernelCall('conv_fwd', { xp: ws.padded, Hp: P, Wp: P, C: K, w: ws.flip, k: s.k, s: 1, y: dx, N, Ho: inSize, Wo: inSize, K: inC, acc }));
}

const convBackward: Rule<'convBackward'> = (n, l) => {
  weightGradient(l, n.conv, l.at(n.x), l.at(n.dz));
  if (n.dx) inputGradient(l, n.conv, l.at(n.dz), l.at(n.dx), n.acc);
};

/** This engine's shortcut kernels take no mask: masks stay their own pass here (MASKED). */
function unmasked(n: { mask: string | null; op: Op }): void {
  if (n.mask) throw new Error(`${n.op} takes no mask on the lab CPU engine`);
}

const identityBackward: Rule<'identityBackward'> = (n, l) => {
  unmasked(n);
  l.calls.push(kernelCall('add_inplace', { dst: l.at(n.dx), src: l.at(n.dy), n: l.floats(n.dx) }));
};

const subsamplePadBackward: Rule<'subsamplePadBackward'> = (n, l) => {
  unmasked(n);
  const b = n.block;
  l.calls.push(kernelCall('subsample_pad_bwd', { dy: l.at(n.dy), N: l.N, H: b.size, W: b.size, C: b.inC, K: b.outC, s: b.stride, dx: l.at(n.dx) }));
};

// ∂loss/∂(T·F + (1 − T)·carry): ∂F into df, the gate's pre-sigmoid gradient into dg, the carry's over dy
const highwayBackward: Rule<'highwayBackward'> = (n, l) => {
  unmasked(n);
  const ds = sameSlot(l, n.dc, n.dy, 'highway_bwd');
  l.calls.push(kernelCall('highway_bwd', { ds, t: l.at(n.t), fx: l.at(n.f), c: l.at(n.carry), n: l.floats(n.dy), df: l.at(n.df), dg: l.at(n.dg) }));
};

const gateBiasBackward: Rule<'gateBiasBackward'> = (n, l) => {
  l.calls.push(kernelCall('gate_bias_grad', { dg: l.at(n.dg), M: l.N * n.gate.outSize ** 2, K: n.gate.outC, gb: gradAt(l.net, `${n.gate.name}.bias`) }));
};

// one call over the whole parameter block: weights, gradients and momentum are three copies of one layout
const sgd: Rule<'sgd'> = (_n, l) => {
  const { net } = l;
  l.calls.push(
    kernelCall('sgd', {
      w: net.base,
      g: net.base + f32(net.blockFloats),
      v: net.base + f32(2 * net.blockFloats),
      n: net.blockFloats,
      lr: 0,
      mom: MOMENTUM,
      wd: WEIGHT_DECAY,
    }),
  );
  l.program.args.lr = { call: l.calls.length - 1, index: argIndex('sgd', 'lr') };
};

const bnRunning: Rule<'bnRunning'> = (n, l) => {
  const c = convPlan(l, n.conv);
  l.calls.push(
    kernelCall('bn_running', {
      rmean: c.rmean,
      rvar: c.rvar,
      mean: c.mean,
      variance: c.variance,
      C: n.conv.outC,
      m: BN_MOMENTUM,
      M: l.N * n.conv.outSize ** 2,
    }),
  );
};

/** The lowering: one rule per IR node. */
const RULES: { [K in Op]: Rule<K> } = {
  conv,
  bnStats,
  responseTap,
  residualTap,
  bnApply,
  highway,
  head,
  reluBackward,
  bnBackward,
  convBackward,
  identityBackward,
  subsamplePadBackward,
  highwayBackward,
  gateBiasBackward,
  sgd,
  bnRunning,
};

/** The kernel calls of a program of N images on this engine. */
export function cpuProgram(net: NetPlan, ws: Workspace, N: number, kind: ProgramKind, threads: number, kernels: ConvKernels = 'auto'): Program {
  const ir = cpuIR(net.spec, kind);
  const activations = kind === 'eval' ? evalAddresses(ir, ws, N) : activationAddresses(ir, ws, N);
  const gradients = planGradients(ir, true);
  if (gradients.slots > ws.grads.length) throw new Error(`${net.spec.label} needs ${gradients.slots} gradient slots; the workspace has ${ws.grads.length}`);
  const train = onTrainingBatch(kind);
  const fixed = new Map([
    [INPUT, train ? ws.input : ws.evalInput],
    [LABELS, train ? ws.labels : ws.evalLabels],
  ]);
  const at = (t: string) => {
    const a = fixed.get(t) ?? activations.get(t) ?? (gradients.slot.has(t) ? ws.grads[gradients.slot.get(t)!] : undefined);
    if (a === undefined) throw new Error(`no address for ${t}`);
    return a;
  };
  const calls: Call[] = [];
  const program: Program = { calls, args: {} };
  const l: Lowering = { net, ws, N, threads, kernels, at, floats: (t) => tensorFloats(ir.tensors.get(t)!, N), calls, program };
  // a training program sums its loss and errors afresh (the engine zeroes an evaluation's before its chunks)
  if (train) calls.push(kernelCall('zero', { p: net.out, n: 4 }));
  for (const n of ir.nodes) (RULES[n.op] as Rule<typeof n.op>)(n as never, l);
  return program;
}

/** Where a forward pass of n images leaves each highway gate's values T (after a 'responses' program, for their means). */
export function gateValuesAt(net: NetPlan, ws: Workspace, n: number): { at: number; count: number }[] {
  const ir = cpuIR(net.spec, 'responses');
  const at = activationAddresses(ir, ws, n);
  return ir.nodes.flatMap((node) => (node.op === 'highway' ? [{ at: at.get(node.zg)!, count: tensorFloats(ir.tensors.get(node.zg)!, n) }] : []));
}
