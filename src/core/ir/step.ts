// A net's training step as data, built once from its NetSpec and lowered to each engine's kernels (../cpu/lower.ts,
// ../gpu/lower.ts). Pure: no memory, no kernels.
//
// - `stepIR(spec, kind)`: the forward pass as typed nodes over named tensors, then, for a step, the backward pass
//   derived from it (`backward`: block by block, last first: the ReLU and gate at a block's output, its branch, then
//   its shortcut), then SGD.
// - `foldMasks`: the one fusion decision, made on the IR: a ReLU's backward (∂y · [y > 0]) is folded into the nodes
//   that read it where the backend's kernels take the mask themselves; otherwise it is its own pass.
// - `planGradients`: the memory plan of the backward pass: each gradient tensor gets a slot from a pool, reused once
//   its last reader has run (liveness), and overwritten in place by an element-wise node that reads it last;
//   `planActivations` the same for a forward-only program's activations.
// - `io`: what each node reads and writes; the plan and the tests read it.
//
// Adding an operation (see ARCHITECTURE.md): one node here, its adjoint in `backward`, its reads and writes in `io`,
// and one rule in each lowering.
import type { BlockSpec, ConvSpec, NetSpec } from '../nets';
import { blockOutSize } from '../nets';

/** BN normalises with the batch's own statistics (training) or with the running averages (evaluation). */
type Stats = 'batch' | 'running';

/** What is added to a block's last BN before its ReLU: its shortcut. */
export type Add =
  | { kind: 'identity'; x: string }
  | { kind: 'subsample-pad'; x: string; block: BlockSpec }
  | { kind: 'projection'; conv: ConvSpec; z: string; block: BlockSpec };

export type Node =
  // forward
  | { op: 'conv'; conv: ConvSpec; x: string; z: string }
  /** The per-channel affine map BN applies: from this batch's statistics, or from the running averages (then measured too when `measure`). */
  | { op: 'bnStats'; conv: ConvSpec; z: string; stats: Stats; measure: boolean }
  /** Fig. 7: the moments of a 3×3 layer's BN output, into the response taps (`layer` is its index in spec.layers3x3). */
  | { op: 'responseTap'; conv: ConvSpec; z: string; layer: number }
  /**
   * How close a block stays to the identity (issue #27): Σ F² of its branch's output F = BN(z) of its last conv, and
   * Σ x² of its input x, into residual tap `index` (the block's place among those with a shortcut). Right after the
   * last conv's statistics, which an engine may read for F.
   */
  | { op: 'residualTap'; block: BlockSpec; conv: ConvSpec; z: string; x: string; index: number }
  /** y = [ReLU](BN(z) + shortcut). */
  | { op: 'bnApply'; conv: ConvSpec; z: string; y: string; stats: Stats; relu: boolean; add?: Add }
  /** A highway gate: T = σ(zg + bias), written over zg; y = ReLU(T·F + (1 − T)·carry). */
  | { op: 'highway'; block: BlockSpec; gate: ConvSpec; zg: string; f: string; carry: string; y: string }
  /** Pooling, FC and softmax cross-entropy: Σ loss and errors; and ∂L/∂x when dx is set. */
  | { op: 'head'; x: string; labels: string; dx: string | null }
  // backward
  /** dx = dy · [y > 0]. */
  | { op: 'reluBackward'; dy: string; y: string; dx: string }
  /** BN's backward from dy (· [mask > 0] where mask is set): ∂γ, ∂β, and ∂L/∂z into dz. */
  | { op: 'bnBackward'; conv: ConvSpec; z: string; dy: string; mask: string | null; dz: string }
  /** A conv's weight gradient from dz, and ∂L/∂x into dx (added to it when acc) unless dx is null. */
  | { op: 'convBackward'; conv: ConvSpec; x: string; dz: string; dx: string | null; acc: boolean }
  /** An identity shortcut's gradient: dx += dy (· [mask > 0]). */
  | { op: 'identityBackward'; block: BlockSpec; dy: string; mask: string | null; dx: string }
  /** Option A's gradient: dx += dy at every stride-th pixel, on the first inC channels (· [mask > 0]). */
  | { op: 'subsamplePadBackward'; block: BlockSpec; dy: string; mask: string | null; dx: string }
  /** The gate's backward from dy (· [mask > 0]): ∂F = dy·T, the pre-sigmoid ∂zg = dy·(F − carry)·T(1 − T), ∂carry = dy·(1 − T). */
  | { op: 'highwayBackward'; block: BlockSpec; dy: string; mask: string | null; t: string; f: string; carry: string; df: string; dg: string; dc: string }
  /** The gate bias's gradient: Σ over pixels of dg. */
  | { op: 'gateBiasBackward'; gate: ConvSpec; dg: string }
  // the update
  /** SGD with momentum and weight decay over every parameter; the learning rate is the program's argument. */
  | { op: 'sgd' }
  /** A BN's running averages move towards this batch's statistics. */
  | { op: 'bnRunning'; conv: ConvSpec };

export type Op = Node['op'];

/** A tensor's shape per image, and its role: the input, a saved activation, or a gradient. */
interface TensorInfo {
  size: number;
  channels: number;
  role: 'input' | 'activation' | 'gradient';
}

/**
 * The programs an engine runs:
 * - 'step': forward with batch statistics, loss, backward, SGD and the BN running averages;
 * - 'grads': the same without the update;
 * - 'loss': forward with batch statistics and the loss only (a step's loss without its gradient: finite differences);
 * - 'eval': forward with the running averages, loss and errors;
 * - 'responses': forward with batch statistics, each 3×3 layer's response moments (Fig. 7); nothing is learned;
 * - 'eval-responses': forward with the running averages, each 3×3 layer's response moments (Fig. 7 (a)), and each
 *   block with a shortcut's Σ F² and Σ x² (‖F(x)‖/‖x‖, as the trained net computes).
 */
export type ProgramKind = 'step' | 'grads' | 'loss' | 'eval' | 'responses' | 'eval-responses';

/** Whether a program reads the training batch (the rest read the evaluation's images). */
export const onTrainingBatch = (kind: ProgramKind) => kind === 'step' || kind === 'grads' || kind === 'loss';

export interface StepIR {
  spec: NetSpec;
  kind: ProgramKind;
  nodes: Node[];
  tensors: Map<string, TensorInfo>;
  /** The last block's output (the head's input). */
  last: string;
}

/** The names of a block's tensors (the GPU engine's workspace names them the same way). */
const blockTensors = (b: BlockSpec) => ({
  z: (i: number) => `${b.name}.z${i + 1}`,
  h: (i: number) => `${b.name}.h${i + 1}`,
  zp: `${b.name}.zp`,
  f: `${b.name}.f`,
  zg: `${b.name}.zg`,
  carry: `${b.name}.carry`,
  out: `${b.name}.out`,
});

/** Each block's output tensor, with its block and its input tensor. */
export const blockOutputs = (spec: NetSpec) =>
  new Map(spec.blocks.map((b, i) => [blockTensors(b).out, { block: b, input: i > 0 ? blockTensors(spec.blocks[i - 1]).out : STEM.out }]));

/** The blocks whose ‖F(x)‖/‖x‖ an 'eval-responses' program taps, in tap order. */
export const tappedBlocks = (spec: NetSpec) => spec.blocks.filter((b) => b.shortcut !== 'none');

export const INPUT = 'input';
export const LABELS = 'labels';
const STEM = { z: 'stem.z', out: 'stem.out' } as const;
/** The gradient of a tensor. */
export const grad = (name: string) => `d:${name}`;

/** Build a program's IR. */
export function stepIR(spec: NetSpec, kind: ProgramKind): StepIR {
  const nodes: Node[] = [];
  const tensors = new Map<string, TensorInfo>();
  const tensor = (name: string, size: number, channels: number, role: TensorInfo['role'] = 'activation') => {
    tensors.set(name, { size, channels, role });
    return name;
  };
  const stats: Stats = kind === 'eval' || kind === 'eval-responses' ? 'running' : 'batch';
  const taps = kind === 'responses' || kind === 'eval-responses';
  const layers = new Map(spec.layers3x3.map((c, i) => [c.name, i]));
  tensor(INPUT, spec.stem.outSize * spec.stem.stride, 3, 'input');

  /** conv, then BN's statistics (and a response tap for a 3×3 layer); BN itself is applied by the caller. */
  const convBn = (c: ConvSpec, x: string, z: string) => {
    tensor(z, c.outSize, c.outC);
    nodes.push({ op: 'conv', conv: c, x, z });
    nodes.push({ op: 'bnStats', conv: c, z, stats, measure: stats === 'batch' || taps });
    const layer = layers.get(c.name);
    if (taps && layer !== undefined) nodes.push({ op: 'responseTap', conv: c, z, layer });
  };

  convBn(spec.stem, INPUT, STEM.z);
  nodes.push({ op: 'bnApply', conv: spec.stem, z: STEM.z, y: tensor(STEM.out, spec.stem.outSize, spec.stem.outC), stats, relu: true });
  let a: string = STEM.out;
  let residuals = 0;
  for (const b of spec.blocks) {
    const t = blockTensors(b);
    const size = blockOutSize(b);
    // the branch F: conv-BN-ReLU … conv-BN (the last BN is applied with the shortcut)
    let x = a;
    const last = b.branch.length - 1;
    b.branch.forEach((c, i) => {
      convBn(c, x, t.z(i));
      if (i === last && kind === 'eval-responses' && b.shortcut !== 'none')
        nodes.push({ op: 'residualTap', block: b, conv: c, z: t.z(i), x: a, index: residuals++ });
      if (i < last) {
        nodes.push({ op: 'bnApply', conv: c, z: t.z(i), y: tensor(t.h(i), c.outSize, c.outC), stats, relu: true });
        x = t.h(i);
      }
    });
    const lastConv = b.branch[last];
    const out = tensor(t.out, size, b.outC);
    if (b.gate) {
      // highway: F = BN(z), T = σ(1×1 conv of the input + bias), carry = the input or its projection
      nodes.push({ op: 'bnApply', conv: lastConv, z: t.z(last), y: tensor(t.f, size, b.outC), stats, relu: false });
      nodes.push({ op: 'conv', conv: b.gate, x: a, z: tensor(t.zg, size, b.outC) });
      let carry = a;
      if (b.projection) {
        convBn(b.projection, a, t.zp);
        carry = tensor(t.carry, size, b.outC);
        nodes.push({ op: 'bnApply', conv: b.projection, z: t.zp, y: carry, stats, relu: false });
      }
      nodes.push({ op: 'highway', block: b, gate: b.gate, zg: t.zg, f: t.f, carry, y: out });
    } else {
      let add: Add | undefined;
      if (b.shortcut === 'identity') add = { kind: 'identity', x: a };
      else if (b.shortcut === 'subsample-pad') add = { kind: 'subsample-pad', x: a, block: b };
      else if (b.shortcut === 'projection') {
        convBn(b.projection!, a, t.zp);
        add = { kind: 'projection', conv: b.projection!, z: t.zp, block: b };
      }
      nodes.push({ op: 'bnApply', conv: lastConv, z: t.z(last), y: out, stats, relu: true, ...(add ? { add } : {}) });
    }
    a = out;
  }
  const ir: StepIR = { spec, kind, nodes, tensors, last: a };
  if (kind === 'eval' || kind === 'loss') nodes.push({ op: 'head', x: a, labels: LABELS, dx: null });
  if (kind === 'step' || kind === 'grads') {
    const info = tensors.get(a)!;
    nodes.push({ op: 'head', x: a, labels: LABELS, dx: tensor(grad(a), info.size, info.channels, 'gradient') });
    backward(ir);
    if (kind === 'step') {
      nodes.push({ op: 'sgd' });
      for (const c of spec.convs) nodes.push({ op: 'bnRunning', conv: c });
    }
  }
  return ir;
}

/**
 * The backward pass, derived from the forward graph block by block, last first: the ReLU (and a highway gate) at the
 * block's output, the branch from its last conv to its first, then the shortcut (or the carry, then the gate). Where
 * a gradient has several sources the first writes it and the others add, in that order.
 */
function backward(ir: StepIR): void {
  const { spec, nodes, tensors } = ir;
  const gradient = (of: string) => {
    const name = grad(of);
    tensors.set(name, { ...tensors.get(of)!, role: 'gradient' });
    return name;
  };
  const written = new Set<string>([grad(ir.last)]);
  const into = (x: string) => {
    const acc = written.has(x);
    written.add(x);
    return acc;
  };
  /** ∂L/∂(pre-ReLU) from ∂L/∂y. */
  const relu = (y: string) => {
    const dx = `${grad(y)}.pre`;
    tensors.set(dx, { ...tensors.get(y)!, role: 'gradient' });
    nodes.push({ op: 'reluBackward', dy: grad(y), y, dx });
    return dx;
  };
  /** A conv's backward from dz: its weight gradient, and ∂L/∂x unless x is the net's input. */
  const convBackward = (c: ConvSpec, x: string, dz: string) => {
    const dx = tensors.get(x)!.role === 'input' ? null : gradient(x);
    nodes.push({ op: 'convBackward', conv: c, x, dz, dx, acc: dx ? into(dx) : false });
  };
  /** BN's backward from dy (at BN's output), then the conv's. */
  const convBnBackward = (c: ConvSpec, z: string, x: string, dy: string) => {
    const dz = `dz:${c.name}`;
    tensors.set(dz, { size: c.outSize, channels: c.outC, role: 'gradient' });
    nodes.push({ op: 'bnBackward', conv: c, z, dy, mask: null, dz });
    convBackward(c, x, dz);
  };
  for (let i = spec.blocks.length - 1; i >= 0; i--) {
    const b = spec.blocks[i];
    const t = blockTensors(b);
    const a = i > 0 ? blockTensors(spec.blocks[i - 1]).out : STEM.out;
    const last = b.branch.length - 1;
    const dSum = relu(t.out);
    let dy = dSum;
    let dc = '';
    let dg = '';
    if (b.gate) {
      const carry = b.projection ? t.carry : a;
      [dy, dg] = [gradient(t.f), gradient(t.zg)];
      dc = `${grad(t.out)}.carry`;
      tensors.set(dc, { ...tensors.get(t.out)!, role: 'gradient' });
      nodes.push({ op: 'highwayBackward', block: b, dy: dSum, mask: null, t: t.zg, f: t.f, carry, df: dy, dg, dc });
    }
    for (let j = last; j >= 0; j--) {
      convBnBackward(b.branch[j], t.z(j), j > 0 ? t.h(j - 1) : a, dy);
      if (j > 0) dy = relu(t.h(j - 1));
    }
    // the shortcut's gradient joins the branch's (a highway block's carry's, then its gate's)
    const toShortcut = b.gate ? dc : dSum;
    if (b.projection) convBnBackward(b.projection, t.zp, a, toShortcut);
    else if (b.shortcut === 'identity' || b.gate) {
      const dx = gradient(a);
      into(dx);
      nodes.push({ op: 'identityBackward', block: b, dy: toShortcut, mask: null, dx });
    } else if (b.shortcut === 'subsample-pad') {
      const dx = gradient(a);
      into(dx);
      nodes.push({ op: 'subsamplePadBackward', block: b, dy: dSum, mask: null, dx });
    }
    if (b.gate) {
      nodes.push({ op: 'gateBiasBackward', gate: b.gate, dg });
      convBackward(b.gate, a, dg);
    }
  }
  convBnBackward(spec.stem, STEM.z, INPUT, relu(STEM.out));
}

/** The tensors a node reads and writes (an accumulating write reads its target too). */
export function io(n: Node): { reads: string[]; writes: string[] } {
  switch (n.op) {
    case 'conv':
      return { reads: [n.x], writes: [n.z] };
    case 'bnStats':
    case 'responseTap':
      return { reads: [n.z], writes: [] };
    case 'residualTap':
      return { reads: [n.z, n.x], writes: [] };
    case 'bnApply': {
      const add = n.add ? [n.add.kind === 'projection' ? n.add.z : n.add.x] : [];
      return { reads: [n.z, ...add], writes: [n.y] };
    }
    case 'highway':
      return { reads: [n.zg, n.f, n.carry], writes: [n.zg, n.y] };
    case 'head':
      return { reads: [n.x, n.labels], writes: n.dx ? [n.dx] : [] };
    case 'reluBackward':
      return { reads: [n.dy, n.y], writes: [n.dx] };
    case 'bnBackward':
      return { reads: [n.dy, n.z, ...(n.mask ? [n.mask] : [])], writes: [n.dz] };
    case 'convBackward':
      return { reads: [n.x, n.dz, ...(n.dx && n.acc ? [n.dx] : [])], writes: n.dx ? [n.dx] : [] };
    case 'identityBackward':
    case 'subsamplePadBackward':
      return { reads: [n.dy, n.dx, ...(n.mask ? [n.mask] : [])], writes: [n.dx] };
    case 'highwayBackward':
      return { reads: [n.dy, n.t, n.f, n.carry, ...(n.mask ? [n.mask] : [])], writes: [n.df, n.dg, n.dc] };
    case 'gateBiasBackward':
      return { reads: [n.dg], writes: [] };
    case 'sgd':
    case 'bnRunning':
      return { reads: [], writes: [] };
  }
}

/** Nodes that take a ReLU's mask themselves. */
type Maskable = Extract<Node, { mask: string | null }>;
const MASKABLE = new Set<Op>(['bnBackward', 'identityBackward', 'subsamplePadBackward', 'highwayBackward']);

/**
 * Fold each ReLU backward into the nodes that read its output, where the backend takes the mask in those nodes
 * (`accepts`). With `shared` false, only a ReLU backward read by one node is folded: a gradient read twice (a block's
 * branch and its shortcut) is masked once, in its own pass, rather than twice.
 */
export function foldMasks(ir: StepIR, accepts: ReadonlySet<Op>, shared: boolean): StepIR {
  const nodes: Node[] = [];
  const folds = new Map<string, { dy: string; y: string }>();
  for (const n of ir.nodes) {
    if (n.op !== 'reluBackward') continue;
    const readers = ir.nodes.filter((m) => m !== n && io(m).reads.includes(n.dx));
    const fits = readers.every((m) => MASKABLE.has(m.op) && accepts.has(m.op) && (m as Maskable).dy === n.dx && (m as Maskable).mask === null);
    if (readers.length > 0 && fits && (shared || readers.length === 1)) folds.set(n.dx, { dy: n.dy, y: n.y });
  }
  for (const n of ir.nodes) {
    if (n.op === 'reluBackward' && folds.has(n.dx)) continue;
    if (MASKABLE.has(n.op)) {
      const m = n as Maskable;
      const fold = folds.get(m.dy);
      nodes.push(fold ? ({ ...m, dy: fold.dy, mask: fold.y } as Node) : n);
    } else nodes.push(n);
  }
  return { ...ir, nodes };
}

/** Tensors' slots (gradients, or a forward-only program's activations): `slots` buffers of the largest one's size, reused. */
interface SlotPlan {
  slot: Map<string, number>;
  slots: number;
}

/** Element-wise nodes that may write an output over an input they read last: [output, input]. */
const IN_PLACE: Partial<Record<Op, (n: Node) => [string, string][]>> = {
  reluBackward: (n) => [[(n as Extract<Node, { op: 'reluBackward' }>).dx, (n as Extract<Node, { op: 'reluBackward' }>).dy]],
  bnBackward: (n) => [[(n as Extract<Node, { op: 'bnBackward' }>).dz, (n as Extract<Node, { op: 'bnBackward' }>).dy]],
  highwayBackward: (n) => [[(n as Extract<Node, { op: 'highwayBackward' }>).dc, (n as Extract<Node, { op: 'highwayBackward' }>).dy]],
};

/**
 * Assign each gradient tensor a slot, in node order: a new gradient takes the lowest free slot, or, with `inPlace`,
 * the slot of the input an element-wise node overwrites when that node is the input's last reader. A slot is free
 * once its tensor's last reader has run (and never to a node that still reads it).
 */
export function planGradients(ir: StepIR, inPlace: boolean): SlotPlan {
  return planSlots(ir, 'gradient', inPlace);
}

/**
 * The same plan for a forward-only program's activations: each takes a slot from a pool, free again once its last
 * reader has run. An evaluation then cycles through a few buffers instead of writing every layer's output to memory of
 * its own (what a step must keep for its backward pass), so its working set stays in cache.
 */
export function planActivations(ir: StepIR): SlotPlan {
  if (ir.nodes.some((n) => n.op === 'bnBackward')) throw new Error('a step keeps every activation for its backward pass');
  return planSlots(ir, 'activation', false);
}

function planSlots(ir: StepIR, role: TensorInfo['role'], inPlace: boolean): SlotPlan {
  const isGrad = (t: string) => ir.tensors.get(t)?.role === role;
  const lastUse = new Map<string, number>();
  ir.nodes.forEach((n, i) => {
    const { reads, writes } = io(n);
    for (const t of [...reads, ...writes]) if (isGrad(t)) lastUse.set(t, i);
  });
  const slot = new Map<string, number>();
  const busy: (string | null)[] = [];
  ir.nodes.forEach((n, i) => {
    const { reads, writes } = io(n);
    const fresh = writes.filter((t) => isGrad(t) && !slot.has(t));
    const pairs = inPlace ? (IN_PLACE[n.op]?.(n) ?? []) : [];
    for (const t of fresh) {
      const pair = pairs.find(([out, input]) => out === t && lastUse.get(input) === i && slot.has(input) && busy[slot.get(input)!] === input);
      if (pair) {
        const s = slot.get(pair[1])!;
        busy[s] = t;
        slot.set(t, s);
        continue;
      }
      let s = busy.findIndex((b) => b === null);
      if (s < 0) s = busy.push(null) - 1;
      busy[s] = t;
      slot.set(t, s);
    }
    for (const t of new Set([...reads, ...writes])) {
      if (isGrad(t) && lastUse.get(t) === i && busy[slot.get(t)!] === t) busy[slot.get(t)!] = null;
    }
  });
  return { slot, slots: busy.length };
}

/** Floats of a tensor for a batch of N. */
export const tensorFloats = (info: TensorInfo, N: number) => N * info.size * info.size * info.channels;
