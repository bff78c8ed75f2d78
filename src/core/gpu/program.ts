// A net's training step on the lab WebGPU engine as data: the fixed list of kernel dispatches of a
// step, a gradient computation, an evaluation chunk or a response measurement, each with its
// uniform values and the buffers it binds, by name. Pure: ./engine.ts creates the buffers, the
// uniform blocks and the bind groups once per program and replays the list every step.
//
// Buffers by name: per net P (parameters), G (gradients), M (momentum), R (BN running statistics),
// S (batch statistics and backward sums), ctrl (lr and the update flag), metrics ([Σ loss, errors]
// of the last step, then of the evaluation); shared by the engine's nets (one net runs at a time
// on the GPU queue): the inputs and labels, every activation (named by its role, sized for the
// largest net), the gradient scratch and the weight-gradient partial sums.
import type { BlockSpec, ConvSpec, NetSpec } from '../nets';
import { NUM_CLASSES, blockOutSize, bnStatNames, sizeOf } from '../nets';
import type { BnApplyShortcut, KernelName } from './kernels';
import { BN_APPLY_SHORTCUT, CHUNK_ALIGN, ELEMENTWISE, WG, gemmKernel, gemmTile } from './kernels';

interface Dispatch {
  kernel: KernelName;
  /** Uniform values by field name (./kernels.ts FIELDS); missing fields are 0. */
  u: Record<string, number>;
  /** Buffer names for bindings 1, 2, …; binding 0 is the dispatch's own uniform block. */
  bind: string[];
  groups: [number, number, number];
}

export interface GpuProgram {
  dispatches: Dispatch[];
  /** The shared workspace buffers it uses, and the bytes each needs. */
  workspace: Map<string, number>;
}

/** Where a net's tensors sit in its per-net buffers (float offsets). */
export interface GpuLayout {
  /** Parameter offsets in P (and G, M). */
  param: Map<string, number>;
  paramFloats: number;
  /** Running mean / variance offsets in R, by statistic name (`${conv}.bn.mean`, `${conv}.bn.var`). */
  stat: Map<string, number>;
  statFloats: number;
  /** Per conv: offsets in S of the batch mean, invstd and the two backward sums (2K). */
  scratch: Map<string, { mean: number; invstd: number; sums: number }>;
  scratchFloats: number;
}

export function layoutNet(spec: NetSpec): GpuLayout {
  const param = new Map<string, number>();
  let at = 0;
  for (const p of spec.params) {
    param.set(p.name, at);
    at += sizeOf(p.shape);
  }
  const stat = new Map<string, number>();
  let s = 0;
  for (const b of bnStatNames(spec)) {
    stat.set(b.mean, s);
    stat.set(b.variance, s + b.channels);
    s += 2 * b.channels;
  }
  const scratch = new Map<string, { mean: number; invstd: number; sums: number }>();
  let k = 0;
  for (const c of spec.convs) {
    scratch.set(c.name, { mean: k, invstd: k + c.outC, sums: k + 2 * c.outC });
    k += 4 * c.outC;
  }
  return { param, paramFloats: at, stat, statFloats: s, scratch, scratchFloats: k };
}

/** Most workgroups one dimension of a dispatch may have (WebGPU's default limit). */
const MAX_GROUPS = 65535;

/** Split-K for the weight gradient: at most this many partial sums per weight. */
const MAX_SPLITS = 32;

export type ProgramKind = 'step' | 'grads' | 'eval' | 'responses' | 'eval-responses';

/** Builds one program; `N` images of size `spec.options.inputSize`. */
class Builder {
  readonly dispatches: Dispatch[] = [];
  readonly workspace = new Map<string, number>();

  constructor(
    readonly spec: NetSpec,
    readonly layout: GpuLayout,
    readonly N: number,
  ) {}

  /** A shared workspace buffer of at least `floats` floats. */
  ws(name: string, floats: number): string {
    this.workspace.set(name, Math.max(this.workspace.get(name) ?? 16, 4 * floats));
    return name;
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

  act(name: string, size: number, channels: number): string {
    return this.ws(`a:${name}`, this.N * size * size * channels);
  }

  param(name: string): number {
    const at = this.layout.param.get(name);
    if (at === undefined) throw new Error(`no parameter ${name}`);
    return at;
  }

  private convU(c: ConvSpec, extra: Record<string, number>): Record<string, number> {
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

  conv(c: ConvSpec, x: string, z: string): void {
    const rows = this.N * c.outSize * c.outSize;
    const red = c.k * c.k * c.inC;
    const { m: tm, n: tn } = gemmTile('conv_fwd', c.outC);
    this.push(
      gemmKernel('conv_fwd', c.outC, c.inC % 4 === 0),
      this.convU(c, { rows, cols: c.outC, red, chunk: red }),
      [x, 'P', z],
      [Math.ceil(c.outC / tn), Math.ceil(rows / tm), 1],
    );
  }

  /** ∂L/∂x of a conv into dx (added to what is there when acc). */
  convDgrad(c: ConvSpec, dz: string, dx: string, acc: boolean): void {
    const H = c.outSize * c.stride;
    const rows = this.N * H * H;
    const red = c.k * c.k * c.outC;
    const { m: tm, n: tn } = gemmTile('conv_dgrad', c.inC);
    this.push(
      gemmKernel('conv_dgrad', c.inC, c.outC % 4 === 0),
      this.convU(c, { rows, cols: c.inC, red, chunk: red, acc: acc ? 1 : 0 }),
      [dz, 'P', dx],
      [Math.ceil(c.inC / tn), Math.ceil(rows / tm), 1],
    );
  }

  /** ∂L/∂w of a conv into G: split over the output pixels, then the pieces added. */
  convWgrad(c: ConvSpec, x: string, dz: string): void {
    const rows = c.k * c.k * c.inC;
    const red = this.N * c.outSize * c.outSize;
    const pieces = Math.min(MAX_SPLITS, Math.max(1, Math.ceil(red / 256)));
    const chunk = Math.ceil(Math.ceil(red / pieces) / CHUNK_ALIGN) * CHUNK_ALIGN;
    const splits = Math.ceil(red / chunk);
    const partials = this.ws('partials', splits * rows * c.outC);
    const { m: tm, n: tn } = gemmTile('conv_wgrad', c.outC);
    this.push(
      gemmKernel('conv_wgrad', c.outC, c.inC % 4 === 0),
      this.convU(c, { rows, cols: c.outC, red, chunk }),
      [x, dz, partials],
      [Math.ceil(c.outC / tn), Math.ceil(rows / tm), splits],
    );
    this.elementwise('wgrad_reduce', rows * c.outC, { len: rows * c.outC, splits, gOff: this.param(c.name) }, [partials, 'G']);
  }

  /** A conv's BN offsets (S: batch statistics; R: running averages; P: γ and β); the backward sums are `scratch.sums`. */
  private bnU(c: ConvSpec): { mean: number; invstd: number; rmean: number; rvar: number; gamma: number; beta: number } {
    const s = this.layout.scratch.get(c.name)!;
    return {
      mean: s.mean,
      invstd: s.invstd,
      rmean: this.layout.stat.get(`${c.name}.bn.mean`)!,
      rvar: this.layout.stat.get(`${c.name}.bn.var`)!,
      gamma: this.param(`${c.name}.bn.gamma`),
      beta: this.param(`${c.name}.bn.beta`),
    };
  }

  /** The batch statistics of a conv's output (training mode; the running averages move when ctrl.update is set). */
  bnStats(c: ConvSpec, z: string): void {
    const b = this.bnU(c);
    this.push(
      'bn_stats',
      { count: this.N * c.outSize * c.outSize, K: c.outC, mean: b.mean, invstd: b.invstd, rmean: b.rmean, rvar: b.rvar },
      ['ctrl', z, 'S', 'R'],
      [c.outC, 1, 1],
    );
  }

  /** out = [ReLU](BN(z) + shortcut). */
  bnApply(
    c: ConvSpec,
    z: string,
    out: string,
    evalMode: boolean,
    relu: boolean,
    sc: { kind: BnApplyShortcut; x?: string; block?: BlockSpec } = { kind: 'none' },
  ): void {
    const b = this.bnU(c);
    const p = sc.kind === 'projection' ? this.bnU(sc.block!.projection!) : null;
    const total = this.N * c.outSize * c.outSize * c.outC;
    this.elementwise(
      'bn_apply',
      total,
      {
        total,
        K: c.outC,
        evalMode: evalMode ? 1 : 0,
        ...b,
        relu: relu ? 1 : 0,
        sc: BN_APPLY_SHORTCUT[sc.kind],
        H: sc.block?.size ?? 0,
        W: sc.block?.size ?? 0,
        inC: sc.block?.inC ?? 0,
        OW: c.outSize,
        stride: sc.block?.stride ?? 1,
        ...(p ? { pMean: p.mean, pInvstd: p.invstd, pRmean: p.rmean, pRvar: p.rvar, pGamma: p.gamma, pBeta: p.beta } : {}),
      },
      [z, evalMode ? 'R' : 'S', 'P', sc.x ?? 'dummy', out],
    );
  }

  /** BN backward: g (masked by ReLU where a is given) → ∂L/∂z in dz, ∂L/∂γ and ∂L/∂β in G. */
  bnBackward(c: ConvSpec, g: string, mask: string | null, z: string, dz: string): void {
    const b = { ...this.bnU(c), sums: this.layout.scratch.get(c.name)!.sums };
    const count = this.N * c.outSize * c.outSize;
    const hasMask = mask ? 1 : 0;
    this.push(
      'bn_bwd_sums',
      { count, K: c.outC, mean: b.mean, invstd: b.invstd, sums: b.sums, gGamma: b.gamma, gBeta: b.beta, hasMask },
      [g, mask ?? 'dummy', z, 'S', 'G'],
      [c.outC, 1, 1],
    );
    const total = count * c.outC;
    this.elementwise('bn_bwd_dx', total, { total, K: c.outC, count, mean: b.mean, invstd: b.invstd, sums: b.sums, gamma: b.gamma, hasMask }, [
      g,
      mask ?? 'dummy',
      z,
      'S',
      'P',
      dz,
    ]);
  }

  /**
   * The forward pass; returns the last activation's name. `stats`: each BN's batch statistics into
   * S (training always; in evaluation mode only for Fig. 7 (a), which reads them beside the running
   * averages the pass normalises with).
   */
  forward(evalMode: boolean, input: string, stats = !evalMode): string {
    const { spec, N } = this;
    const stem = spec.stem;
    this.ws(input, N * stem.outSize * stem.outSize * 3);
    const z = this.act('stem.z', stem.outSize, stem.outC);
    this.conv(stem, input, z);
    if (stats) this.bnStats(stem, z);
    let x = this.act('stem.out', stem.outSize, stem.outC);
    this.bnApply(stem, z, x, evalMode, true);
    for (const b of spec.blocks) {
      const size = blockOutSize(b);
      // the branch: conv-BN-ReLU … conv, whose BN is applied with the shortcut and the ReLU
      let h = x;
      const last = b.branch.length - 1;
      b.branch.forEach((c, i) => {
        const z = this.act(`${b.name}.z${i + 1}`, c.outSize, c.outC);
        this.conv(c, h, z);
        if (stats) this.bnStats(c, z);
        if (i < last) {
          h = this.act(`${b.name}.h${i + 1}`, c.outSize, c.outC);
          this.bnApply(c, z, h, evalMode, true);
        }
      });
      const zLast = `a:${b.name}.z${last + 1}`;
      const out = this.act(`${b.name}.out`, size, b.outC);
      if (b.gate) {
        // highway: F = BN(z), T = σ(1×1 conv of x + b) (over the gate's z), carry = x or its
        // projection, y = ReLU(T·F + (1 − T)·carry)
        const fx = this.act(`${b.name}.f`, size, b.outC);
        this.bnApply(b.branch[last], zLast, fx, evalMode, false);
        const zg = this.act(`${b.name}.zg`, size, b.outC);
        this.conv(b.gate, x, zg);
        let carry = x;
        if (b.projection) {
          const zp = this.act(`${b.name}.zp`, size, b.outC);
          this.conv(b.projection, x, zp);
          if (stats) this.bnStats(b.projection, zp);
          carry = this.act(`${b.name}.carry`, size, b.outC);
          this.bnApply(b.projection, zp, carry, evalMode, false);
        }
        const total = N * size * size * b.outC;
        this.elementwise('gate_fwd', total, { total, K: b.outC, bOff: this.param(`${b.gate.name}.bias`) }, [zg, 'P', fx, carry, out]);
      } else if (b.projection) {
        const zp = this.act(`${b.name}.zp`, size, b.outC);
        this.conv(b.projection, x, zp);
        if (stats) this.bnStats(b.projection, zp);
        this.bnApply(b.branch[last], zLast, out, evalMode, true, { kind: 'projection', x: zp, block: b });
      } else {
        const kind = b.shortcut === 'identity' || b.shortcut === 'subsample-pad' ? b.shortcut : 'none';
        this.bnApply(b.branch[last], zLast, out, evalMode, true, { kind, x: kind === 'none' ? undefined : x, block: b });
      }
      x = out;
    }
    return x;
  }

  lastSize(): { HW: number; C: number } {
    const last = this.spec.blocks[this.spec.blocks.length - 1];
    const size = last ? blockOutSize(last) : this.spec.stem.outSize;
    return { HW: size * size, C: this.spec.fc.inC };
  }

  /** Pooling, FC, softmax cross-entropy: per-image loss and error, ∂L/∂logits; their sums into metrics[slot]. */
  head(a: string, labels: string, slot: number, acc: boolean): void {
    const { N } = this;
    const { HW, C } = this.lastSize();
    this.ws(labels, N);
    this.push(
      'head_fwd',
      { N, HW, C, wOff: this.param('fc.weight'), bOff: this.param('fc.bias') },
      [a, 'P', labels, this.ws('pooled', N * C), this.ws('dlogits', N * NUM_CLASSES), this.ws('perImage', 2 * N)],
      [Math.ceil(N / 64), 1, 1],
    );
    this.push('head_sum', { N, slot, acc: acc ? 1 : 0 }, ['perImage', 'metrics'], [1, 1, 1]);
  }

  /** The backward pass from ∂L/∂logits to every gradient in G. */
  backward(input: string): void {
    const { spec, N } = this;
    const { HW, C } = this.lastSize();
    const maxAct = Math.max(
      spec.stem.outSize ** 2 * spec.stem.outC,
      ...spec.convs.map((c) => (c.outSize * c.stride) ** 2 * c.inC),
      ...spec.convs.map((c) => c.outSize ** 2 * c.outC),
    );
    const grads = [this.ws('g0', N * maxAct), this.ws('g1', N * maxAct)];
    const dz = this.ws('dz', N * maxAct);
    const dh = this.ws('dh', N * maxAct);
    this.elementwise('gap_bwd', N * HW * C, { total: N * HW * C, HW, C, wOff: this.param('fc.weight'), N }, ['dlogits', 'P', grads[0]]);
    this.push(
      'head_bwd',
      { N, C, gwOff: this.param('fc.weight'), gbOff: this.param('fc.bias') },
      ['pooled', 'dlogits', 'G'],
      [Math.ceil(((C + 1) * NUM_CLASSES) / 64), 1, 1],
    );
    let g = 0;
    for (let i = spec.blocks.length - 1; i >= 0; i--) {
      const b = spec.blocks[i];
      const x = i > 0 ? `a:${spec.blocks[i - 1].name}.out` : 'a:stem.out';
      const out = `a:${b.name}.out`;
      const gOut = grads[g];
      const gIn = grads[1 - g];
      const parameterFree = b.shortcut === 'identity' || b.shortcut === 'subsample-pad';
      let free = parameterFree;
      // highway: the branch starts from ∂L/∂F (the ReLU's mask applied), the carry from its own gradient
      let top = gOut;
      let topMask: string | null = out;
      const carryGrad = b.gate ? this.ws('gate:dc', N * maxAct) : '';
      if (b.gate) {
        const total = N * blockOutSize(b) ** 2 * b.outC;
        top = this.ws('gate:df', N * maxAct);
        topMask = null;
        this.elementwise('gate_bwd', total, { total }, [
          gOut,
          out,
          `a:${b.name}.zg`,
          `a:${b.name}.f`,
          b.projection ? `a:${b.name}.carry` : x,
          top,
          this.ws('gate:dg', N * maxAct),
          carryGrad,
        ]);
        if (!b.projection) {
          // the identity carry's gradient is the block input's first term
          this.elementwise('shortcut_bwd', total, { total, mode: 1, H: b.size, W: b.size, C: b.inC, OW: blockOutSize(b), K: b.outC, stride: 1 }, [
            carryGrad,
            out,
            gIn,
          ]);
          free = true;
        }
      }
      if (parameterFree) {
        const total = N * b.size * b.size * b.inC;
        this.elementwise(
          'shortcut_bwd',
          total,
          { total, mode: b.shortcut === 'identity' ? 1 : 2, H: b.size, W: b.size, C: b.inC, OW: blockOutSize(b), K: b.outC, stride: b.stride },
          [gOut, out, gIn],
        );
      }
      // the branch, last conv to first: ∂L/∂(a conv's input) goes to dh, then to the block input
      for (let j = b.branch.length - 1; j >= 0; j--) {
        const c = b.branch[j];
        const input = j > 0 ? `a:${b.name}.h${j}` : x;
        const last = j === b.branch.length - 1;
        this.bnBackward(c, last ? top : dh, last ? topMask : `a:${b.name}.h${j + 1}`, `a:${b.name}.z${j + 1}`, dz);
        this.convWgrad(c, input, dz);
        if (j > 0) this.convDgrad(c, dz, dh, false);
        else this.convDgrad(c, dz, gIn, free);
      }
      if (b.projection) {
        // a projection shortcut takes ∂L/∂y through the ReLU; a highway block's projected carry, its own gradient
        const zp = `a:${b.name}.zp`;
        this.bnBackward(b.projection, b.gate ? carryGrad : gOut, b.gate ? null : out, zp, dz);
        this.convWgrad(b.projection, x, dz);
        this.convDgrad(b.projection, dz, gIn, true);
      }
      if (b.gate) {
        // the gate: its bias's gradient, its weight's, and its input gradient added to the block input's
        const dg = 'gate:dg';
        this.push('gate_bias_grad', { count: N * blockOutSize(b) ** 2, K: b.outC, gOff: this.param(`${b.gate.name}.bias`) }, [dg, 'G'], [b.outC, 1, 1]);
        this.convWgrad(b.gate, x, dg);
        this.convDgrad(b.gate, dg, gIn, true);
      }
      g = 1 - g;
    }
    this.bnBackward(spec.stem, grads[g], 'a:stem.out', 'a:stem.z', dz);
    this.convWgrad(spec.stem, input, dz);
  }

  sgd(): void {
    const len = this.layout.paramFloats;
    this.elementwise('sgd', len, { len }, ['ctrl', 'P', 'G', 'M']);
  }
}

/** Slots in a net's metrics buffer: the last step's [Σ loss, errors], then the evaluation's. */
export const METRIC_SLOTS = { train: 0, eval: 2 } as const;

/**
 * The dispatches of one program for N images:
 * - 'step': forward (batch statistics), loss, backward, SGD;
 * - 'grads': the same without SGD (the control block's update flag is then off);
 * - 'eval': forward with the running statistics, loss and errors added into the eval slot;
 * - 'responses': forward with batch statistics only (the Fig. 7 measurement reads S);
 * - 'eval-responses': forward with the running statistics, each BN's batch statistics into S (Fig. 7 (a)).
 */
export function buildProgram(spec: NetSpec, layout: GpuLayout, N: number, kind: ProgramKind): GpuProgram {
  const b = new Builder(spec, layout, N);
  b.ws('dummy', 4);
  if (kind === 'eval') {
    const last = b.forward(true, 'evalInput');
    b.head(last, 'evalLabels', METRIC_SLOTS.eval, true);
  } else if (kind === 'responses') {
    b.forward(false, 'evalInput');
  } else if (kind === 'eval-responses') {
    b.forward(true, 'evalInput', true);
  } else {
    const last = b.forward(false, 'input');
    b.head(last, 'labels', METRIC_SLOTS.train, false);
    b.backward('input');
    if (kind === 'step') b.sgd();
  }
  return { dispatches: b.dispatches, workspace: b.workspace };
}
