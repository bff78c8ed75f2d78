// The step IR (../ir/step.ts) lowered to the lab WebGPU engine's dispatches: one rule per IR node, each a few
// dispatches with their uniform values by field name (./kernels.ts FIELDS) and their bindings by buffer name
// (./program.ts). Activations are workspace buffers named `a:` and the IR's name; gradients take the slots of the
// IR's gradient plan (`grad0`, `grad1`, …; never in place: WebGPU does not bind one buffer twice for writing).
//
// Fusion on this engine: every ReLU mask is folded into the nodes that read it (BN's backward, the shortcut's and
// the gate's take it); a projection's BN is applied in the block's last bn_apply; the gate's sigmoid is fused into
// its combination; the BN running averages move in bn_stats (under the control block's update flag).
import type { ConvSpec, NetSpec } from '../nets';
import { NUM_CLASSES, blockOutSize } from '../nets';
import type { Node, Op, ProgramKind, StepIR } from '../ir/step';
import { INPUT, LABELS, foldMasks, onTrainingBatch, planGradients, stepIR, tappedBlocks, tensorFloats } from '../ir/step';
import type { BnApplyShortcut, KernelName } from './kernels';
import { BN_APPLY_SHORTCUT, CHUNK_ALIGN, ELEMENTWISE, WG, gemmKernel, gemmTile } from './kernels';
import type { Dispatch, GpuLayout, GpuProgram } from './program';

/** Most workgroups one dimension of a dispatch may have (WebGPU's default limit). */
const MAX_GROUPS = 65535;

/** Split-K for the weight gradient: at most this many partial sums per weight. */
const MAX_SPLITS = 32;

/** Slots in a net's metrics buffer: the last step's [Σ loss, errors], then the evaluation's. */
export const METRIC_SLOTS = { train: 0, eval: 2 } as const;

/** The nodes whose kernels take a ReLU's mask. */
const MASKED = new Set<Op>(['bnBackward', 'identityBackward', 'subsamplePadBackward', 'highwayBackward']);

/** What a rule sees: the net, the batch, the dispatches so far, and every tensor's buffer. */
class Lowering {
  readonly dispatches: Dispatch[] = [];
  readonly workspace = new Map<string, number>();
  private readonly slots: Map<string, number>;
  /** Where each tapped block's Σ x² sits in the `residuals` buffer (residual taps). */
  readonly residuals: { at: number[]; total: number };

  constructor(
    readonly ir: StepIR,
    readonly layout: GpuLayout,
    readonly N: number,
  ) {
    this.slots = planGradients(ir, false).slot;
    this.residuals = residualTapOffsets(ir.spec);
    this.ws('dummy', 4);
  }

  /** A shared workspace buffer of at least `floats` floats. */
  ws(name: string, floats: number): string {
    this.workspace.set(name, Math.max(this.workspace.get(name) ?? 16, 4 * floats));
    return name;
  }

  /** The buffer holding a tensor of the IR (sized for it). */
  at(tensor: string): string {
    const evalInputs = !onTrainingBatch(this.ir.kind);
    if (tensor === LABELS) return this.ws(evalInputs ? 'evalLabels' : 'labels', this.N);
    const info = this.ir.tensors.get(tensor);
    if (!info) throw new Error(`no tensor ${tensor}`);
    const floats = tensorFloats(info, this.N);
    if (tensor === INPUT) return this.ws(evalInputs ? 'evalInput' : 'input', floats);
    if (info.role === 'activation') return this.ws(`a:${tensor}`, floats);
    return this.ws(`grad${this.slots.get(tensor)!}`, floats);
  }

  floats(tensor: string): number {
    return tensorFloats(this.ir.tensors.get(tensor)!, this.N);
  }

  push(kernel: KernelName, u: Record<string, number>, bind: string[], groups: [number, number, number]): void {
    this.dispatches.push({ kernel, u, bind, groups });
  }

  /** An element-wise kernel over `total` items: a 2-D grid of workgroups, `span` threads per row. */
  elementwise(kernel: KernelName, total: number, u: Record<string, number>, bind: string[]): void {
    if (!ELEMENTWISE.has(kernel)) throw new Error(`${kernel} is not element-wise`);
    const groups = Math.max(1, Math.ceil(total / WG));
    const x = Math.min(groups, MAX_GROUPS);
    this.push(kernel, { ...u, span: x * WG }, bind, [x, Math.ceil(groups / x), 1]);
  }

  param(name: string): number {
    const at = this.layout.param.get(name);
    if (at === undefined) throw new Error(`no parameter ${name}`);
    return at;
  }

  convU(c: ConvSpec, extra: Record<string, number>): Record<string, number> {
    const H = c.outSize * c.stride;
    return {
      H,
      W: H,
      C: c.inC,
      OH: c.outSize,
      OW: c.outSize,
      K: c.outC,
      stride: c.stride,
      ks: c.k,
      pad: c.k === 3 ? 1 : 0,
      wOff: this.param(c.name),
      ...extra,
    };
  }

  /** A conv's BN offsets (S: batch statistics and backward sums; R: running averages; P: γ and β). */
  bnU(c: ConvSpec) {
    const s = this.layout.scratch.get(c.name)!;
    return {
      mean: s.mean,
      invstd: s.invstd,
      sums: s.sums,
      rmean: this.layout.stat.get(`${c.name}.bn.mean`)!,
      rvar: this.layout.stat.get(`${c.name}.bn.var`)!,
      gamma: this.param(`${c.name}.bn.gamma`),
      beta: this.param(`${c.name}.bn.beta`),
    };
  }
}

type Rule<K extends Op> = (n: Extract<Node, { op: K }>, l: Lowering) => void;

const conv: Rule<'conv'> = (n, l) => {
  const c = n.conv;
  const rows = l.N * c.outSize * c.outSize;
  const red = c.k * c.k * c.inC;
  const { m: tm, n: tn } = gemmTile('conv_fwd', c.outC);
  l.push(
    gemmKernel('conv_fwd', c.outC, c.inC % 4 === 0),
    l.convU(c, { rows, cols: c.outC, red, chunk: red }),
    [l.at(n.x), 'P', l.at(n.z)],
    [Math.ceil(c.outC / tn), Math.ceil(rows / tm), 1],
  );
};

// the batch statistics (the running averages move when ctrl.update is set); with the running averages, measured
// only for Fig. 7 (a), which reads them beside the averages the pass normalises with
const bnStats: Rule<'bnStats'> = (n, l) => {
  if (!n.measure) return;
  const b = l.bnU(n.conv);
  l.push(
    'bn_stats',
    { count: l.N * n.conv.outSize ** 2, K: n.conv.outC, mean: b.mean, invstd: b.invstd, rmean: b.rmean, rvar: b.rvar },
    ['ctrl', l.at(n.z), 'S', 'R'],
    [n.conv.outC, 1, 1],
  );
};

/** Where each tapped block's Σ x² per channel sits in the `residuals` buffer, and its length. */
export function residualTapOffsets(spec: NetSpec): { at: number[]; total: number } {
  let total = 0;
  const at = tappedBlocks(spec).map((b) => {
    const o = total;
    total += b.inC;
    return o;
  });
  return { at, total: Math.max(1, total) };
}

// ‖F(x)‖/‖x‖: Σ x² of the block input, per channel, here; Σ F² follows from the statistics of the block's last conv
// that this pass measured (F = a·z + b per channel: the engine reads z's mean and variance from S)
const residualTap: Rule<'residualTap'> = (n, l) => {
  const b = n.block;
  const { at, total } = l.residuals;
  l.push('sum_squares', { count: l.N * b.size ** 2, K: b.inC, slot: at[n.index] }, [l.at(n.x), l.ws('residuals', total)], [b.inC, 1, 1]);
};

const bnApply: Rule<'bnApply'> = (n, l) => {
  const { sums: _sums, ...b } = l.bnU(n.conv);
  const total = l.N * n.conv.outSize ** 2 * n.conv.outC;
  const kind: BnApplyShortcut = n.add?.kind ?? 'none';
  const block = n.add && n.add.kind !== 'identity' ? n.add.block : null;
  const shape = n.add ? { H: n.conv.outSize * (block?.stride ?? 1), inC: block?.inC ?? n.conv.outC, stride: block?.stride ?? 1 } : { H: 0, inC: 0, stride: 1 };
  let x = 'dummy';
  let projection = {};
  if (n.add?.kind === 'projection') {
    const p = l.bnU(n.add.conv);
    x = l.at(n.add.z);
    projection = { pMean: p.mean, pInvstd: p.invstd, pRmean: p.rmean, pRvar: p.rvar, pGamma: p.gamma, pBeta: p.beta };
  } else if (n.add) x = l.at(n.add.x);
  l.elementwise(
    'bn_apply',
    total,
    {
      total,
      K: n.conv.outC,
      evalMode: n.stats === 'running' ? 1 : 0,
      ...b,
      relu: n.relu ? 1 : 0,
      sc: BN_APPLY_SHORTCUT[kind],
      H: shape.H,
      W: shape.H,
      inC: shape.inC,
      OW: n.conv.outSize,
      stride: shape.stride,
      ...projection,
    },
    [l.at(n.z), n.stats === 'running' ? 'R' : 'S', 'P', x, l.at(n.y)],
  );
};

const highway: Rule<'highway'> = (n, l) => {
  const total = l.floats(n.y);
  l.elementwise('gate_fwd', total, { total, K: n.block.outC, bOff: l.param(`${n.gate.name}.bias`) }, [l.at(n.zg), 'P', l.at(n.f), l.at(n.carry), l.at(n.y)]);
};

// pooling, FC, softmax cross-entropy: per-image loss and error, ∂L/∂logits; their sums into the metrics (a step's
// into the train slot, an evaluation's added into the eval slot); then, for a step, back to ∂L/∂x and the FC's gradients
const head: Rule<'head'> = (n, l) => {
  const { N } = l;
  const spec = l.ir.spec;
  const last = spec.blocks[spec.blocks.length - 1];
  const size = last ? blockOutSize(last) : spec.stem.outSize;
  const [HW, C] = [size * size, spec.fc.inC];
  l.push(
    'head_fwd',
    { N, HW, C, wOff: l.param('fc.weight'), bOff: l.param('fc.bias') },
    [l.at(n.x), 'P', l.at(n.labels), l.ws('pooled', N * C), l.ws('dlogits', N * NUM_CLASSES), l.ws('perImage', 2 * N)],
    [Math.ceil(N / 64), 1, 1],
  );
  const train = onTrainingBatch(l.ir.kind);
  l.push('head_sum', { N, slot: train ? METRIC_SLOTS.train : METRIC_SLOTS.eval, acc: train ? 0 : 1 }, ['perImage', 'metrics'], [1, 1, 1]);
  if (!n.dx) return;
  l.elementwise('gap_bwd', N * HW * C, { total: N * HW * C, HW, C, wOff: l.param('fc.weight'), N }, ['dlogits', 'P', l.at(n.dx)]);
  l.push(
    'head_bwd',
    { N, C, gwOff: l.param('fc.weight'), gbOff: l.param('fc.bias') },
    ['pooled', 'dlogits', 'G'],
    [Math.ceil(((C + 1) * NUM_CLASSES) / 64), 1, 1],
  );
};

const reluBackward: Rule<'reluBackward'> = (n) => {
  throw new Error(`the lab WebGPU engine folds every ReLU mask into its readers; ${n.dx} was left unfolded`);
};

const bnBackward: Rule<'bnBackward'> = (n, l) => {
  const b = l.bnU(n.conv);
  const count = l.N * n.conv.outSize ** 2;
  const hasMask = n.mask ? 1 : 0;
  const [g, mask, z] = [l.at(n.dy), n.mask ? l.at(n.mask) : 'dummy', l.at(n.z)];
  l.push(
    'bn_bwd_sums',
    { count, K: n.conv.outC, mean: b.mean, invstd: b.invstd, sums: b.sums, gGamma: b.gamma, gBeta: b.beta, hasMask },
    [g, mask, z, 'S', 'G'],
    [n.conv.outC, 1, 1],
  );
  const total = count * n.conv.outC;
  l.elementwise('bn_bwd_dx', total, { total, K: n.conv.outC, count, mean: b.mean, invstd: b.invstd, sums: b.sums, gamma: b.gamma, hasMask }, [
    g,
    mask,
    z,
    'S',
    'P',
    l.at(n.dz),
  ]);
};

/** ∂L/∂w of a conv into G: split over the output pixels, then the pieces added. */
function weightGradient(l: Lowering, c: ConvSpec, x: string, dz: string): void {
  const rows = c.k * c.k * c.inC;
  const red = l.N * c.outSize * c.outSize;
  const pieces = Math.min(MAX_SPLITS, Math.max(1, Math.ceil(red / 256)));
  const chunk = Math.ceil(Math.ceil(red / pieces) / CHUNK_ALIGN) * CHUNK_ALIGN;
  const splits = Math.ceil(red / chunk);
  const partials = l.ws('partials', splits * rows * c.outC);
  const { m: tm, n: tn } = gemmTile('conv_wgrad', c.outC);
  l.push(
    gemmKernel('conv_wgrad', c.outC, c.inC % 4 === 0),
    l.convU(c, { rows, cols: c.outC, red, chunk }),
    [x, dz, partials],
    [Math.ceil(c.outC / tn), Math.ceil(rows / tm), splits],
  );
  l.elementwise('wgrad_reduce', rows * c.outC, { len: rows * c.outC, splits, gOff: l.param(c.name) }, [partials, 'G']);
}

/** ∂L/∂x of a conv into dx (added to what is there when acc). */
function inputGradient(l: Lowering, c: ConvSpec, dz: string, dx: string, acc: boolean): void {
  const H = c.outSize * c.stride;
  const rows = l.N * H * H;
  const red = c.k * c.k * c.outC;
  const { m: tm, n: tn } = gemmTile('conv_dgrad', c.inC);
  l.push(
    gemmKernel('conv_dgrad', c.inC, c.outC % 4 === 0),
    l.convU(c, { rows, cols: c.inC, red, chunk: red, acc: acc ? 1 : 0 }),
    [dz, 'P', dx],
    [Math.ceil(c.inC / tn), Math.ceil(rows / tm), 1],
  );
}

const convBackward: Rule<'convBackward'> = (n, l) => {
  weightGradient(l, n.conv, l.at(n.x), l.at(n.dz));
  if (n.dx) inputGradient(l, n.conv, l.at(n.dz), l.at(n.dx), n.acc);
};

/** A parameter-free shortcut's gradient, added to the block input's: mode 1 identity, mode 2 option A. */
function shortcutBackward(l: Lowering, n: Extract<Node, { op: 'identityBackward' | 'subsamplePadBackward' }>, mode: 1 | 2): void {
  const b = n.block;
  const total = l.floats(n.dx);
  const stride = mode === 2 ? b.stride : 1;
  l.elementwise(
    'shortcut_bwd',
    total,
    { total, mode, H: b.size, W: b.size, C: b.inC, OW: b.size / stride, K: mode === 2 ? b.outC : b.inC, stride, acc: 1, hasMask: n.mask ? 1 : 0 },
    [l.at(n.dy), n.mask ? l.at(n.mask) : 'dummy', l.at(n.dx)],
  );
}

const identityBackward: Rule<'identityBackward'> = (n, l) => shortcutBackward(l, n, 1);
const subsamplePadBackward: Rule<'subsamplePadBackward'> = (n, l) => shortcutBackward(l, n, 2);

// from g = ∂L/∂y (through the ReLU) to ∂L/∂F, the gate's pre-sigmoid gradient and the carry's
const highwayBackward: Rule<'highwayBackward'> = (n, l) => {
  if (!n.mask) throw new Error('gate_bwd applies the ReLU of its output: the IR must fold it');
  const total = l.floats(n.df);
  l.elementwise('gate_bwd', total, { total }, [l.at(n.dy), l.at(n.mask), l.at(n.t), l.at(n.f), l.at(n.carry), l.at(n.df), l.at(n.dg), l.at(n.dc)]);
};

const gateBiasBackward: Rule<'gateBiasBackward'> = (n, l) => {
  l.push('gate_bias_grad', { count: l.N * n.gate.outSize ** 2, K: n.gate.outC, gOff: l.param(`${n.gate.name}.bias`) }, [l.at(n.dg), 'G'], [n.gate.outC, 1, 1]);
};

const sgd: Rule<'sgd'> = (_n, l) => {
  const len = l.layout.paramFloats;
  l.elementwise('sgd', len, { len }, ['ctrl', 'P', 'G', 'M']);
};

/** The lowering: one rule per IR node (responseTap and bnRunning need no dispatch of their own: see the header). */
const RULES: { [K in Op]: Rule<K> } = {
  conv,
  bnStats,
  responseTap: () => {},
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
  bnRunning: () => {},
};

/** The IR of a program on this engine: every mask folded into its readers. */
const gpuIR = (spec: NetSpec, kind: ProgramKind): StepIR => foldMasks(stepIR(spec, kind), MASKED, true);

/** The dispatches of one program for N images (../ir/step.ts ProgramKind; 'grads' runs with the update flag off). */
export function buildProgram(spec: NetSpec, layout: GpuLayout, N: number, kind: ProgramKind): GpuProgram {
  const l = new Lowering(gpuIR(spec, kind), layout, N);
  for (const n of l.ir.nodes) (RULES[n.op] as Rule<typeof n.op>)(n as never, l);
  return { dispatches: l.dispatches, workspace: l.workspace };
}
