// The CIFAR-10 nets of He et al. 2015, §4.2, as a plain description that every engine executes.
//
//   layers   6n+2:  20 (n=3), 32 (n=5), 44 (n=7), 56 (n=9), 110 (n=18)
//   stem     3×3 conv, 16 filters                                  → 32×32×16
//   stage 1  n blocks, 16 filters                                  → 32×32×16
//   stage 2  n blocks, 32 filters, first conv stride 2            → 16×16×32
//   stage 3  n blocks, 64 filters, first conv stride 2            →  8× 8×64
//   head     global average pooling, 10-way fully connected layer
//
// A block is conv-BN-ReLU-conv-BN. The residual block adds its shortcut, then applies ReLU (Fig. 2);
// the plain block applies ReLU with nothing added. Plain and residual are one builder with one flag.
// Shortcuts (§3.3): A = identity, and where the shape changes, subsample by 2 and zero-pad the new
// channels (no parameters); B = a 1×1 projection (conv + BN) only where the shape changes;
// C = a 1×1 projection on every block.
//
// Trainable parameters (conv and FC weights, FC bias, BN γ and β), checked by nets.test.ts:
//   | layers | A (= plain) |     B     |     C     |
//   |   20   |   269,722   |  272,474  |  283,962  |
//   |   32   |   464,154   |  466,906  |  489,594  |
//   |   44   |   658,586   |  661,338  |  695,226  |
//   |   56   |   853,018   |  855,770  |  900,858  |
//   |  110   | 1,727,962   | 1,730,714 | 1,826,202 |
import { Rng } from './rng';

/** The paper's shortcut options (§3.3): A identity with zero-padding, B projections where the shape changes, C projections everywhere. */
export const SHORTCUTS = ['A', 'B', 'C'] as const;
export type Shortcut = (typeof SHORTCUTS)[number];

export interface NetOptions {
  /** Blocks per stage; the net has 6n+2 layers. */
  n: number;
  residual: boolean;
  shortcut: Shortcut;
  /** Width multiplier on 16/32/64 filters; 1 is the paper's net. */
  width?: number;
  /** Input height and width: 32 for CIFAR-10; smaller (8) only for quick tests. */
  inputSize?: number;
}

export interface ConvSpec {
  /** The conv weight's parameter name; its BN is `${name}.bn`. */
  name: string;
  inC: number;
  outC: number;
  k: 1 | 3;
  stride: 1 | 2;
  /** Spatial size of the output map (32, 16 or 8). */
  outSize: number;
}

/** How a block's input reaches its output: nothing (plain), identity, option A's pad, or a projection. */
export type ShortcutKind = 'none' | 'identity' | 'subsample-pad' | 'projection';

export interface BlockSpec {
  name: string;
  inC: number;
  outC: number;
  stride: 1 | 2;
  /** Input spatial size (32, 16 or 8). */
  size: number;
  conv1: ConvSpec;
  conv2: ConvSpec;
  shortcut: ShortcutKind;
  /** The 1×1 projection of options B and C. */
  projection?: ConvSpec;
}

export type ParamKind = 'conv' | 'bn-gamma' | 'bn-beta' | 'fc-weight' | 'fc-bias';

export interface ParamSpec {
  name: string;
  shape: number[];
  kind: ParamKind;
  /** Inputs feeding one output (k·k·C for a conv), for He initialisation. */
  fanIn: number;
}

export interface NetSpec {
  options: Required<NetOptions>;
  depth: number;
  /** A short label, e.g. "plain-20" or "ResNet-56 (B)". */
  label: string;
  channels: [number, number, number];
  stem: ConvSpec;
  blocks: BlockSpec[];
  fc: { name: string; inC: number; outC: number };
  /** Every trainable parameter, in a fixed order. */
  params: ParamSpec[];
  /** Every conv followed by a BN, in forward order (3×3 layers and projections). */
  convs: ConvSpec[];
  /** The 3×3 layers in forward order: the paper's "layer index" of Fig. 7. */
  layers3x3: ConvSpec[];
}

export const NUM_CLASSES = 10;
export const IMAGE_SIZE = 32;
export const BASE_WIDTHS = [16, 32, 64] as const;

/** Depth of the CIFAR net with n blocks per stage. */
export const depthOf = (n: number): number => 6 * n + 2;
/** Blocks per stage for a depth of 6n+2 layers. */
export const blocksFor = (depth: number): number => (depth - 2) / 6;

export function stageChannels(width: number): [number, number, number] {
  const c = BASE_WIDTHS.map((b) => Math.round(b * width)) as [number, number, number];
  if (c.some((x) => x < 4 || x % 4 !== 0)) {
    throw new Error(`width ${width} gives ${c.join('/')} filters; each must be a multiple of 4 (use a multiple of 0.25)`);
  }
  return c;
}

export function netLabel(o: Required<NetOptions>): string {
  // The width is the experiment's, the same for every net: the charts say it once, not per line.
  const depth = depthOf(o.n);
  const base = o.residual ? `ResNet-${depth}` : `plain-${depth}`;
  return o.residual && o.shortcut !== 'A' ? `${base} (${o.shortcut})` : base;
}

/** Build the description of the 6n+2-layer CIFAR net (§4.2). */
export function cifarNet(options: NetOptions): NetSpec {
  const o: Required<NetOptions> = { width: 1, inputSize: IMAGE_SIZE, ...options };
  if (!Number.isInteger(o.n) || o.n < 1 || o.n > 200) throw new Error(`n must be an integer from 1 to 200, got ${o.n}`);
  if (!Number.isInteger(o.inputSize / 4) || o.inputSize < 4) throw new Error(`inputSize must be a multiple of 4, got ${o.inputSize}`);
  const channels = stageChannels(o.width);
  const conv = (name: string, inC: number, outC: number, k: 1 | 3, stride: 1 | 2, outSize: number): ConvSpec => ({
    name,
    inC,
    outC,
    k,
    stride,
    outSize,
  });

  const stem = conv('stem.conv', 3, channels[0], 3, 1, o.inputSize);
  const blocks: BlockSpec[] = [];
  let inC = channels[0];
  let size = o.inputSize;
  channels.forEach((outC, s) => {
    for (let b = 0; b < o.n; b++) {
      const stride: 1 | 2 = s > 0 && b === 0 ? 2 : 1;
      const name = `s${s + 1}.b${b}`;
      const reshapes = stride !== 1 || inC !== outC;
      let shortcut: ShortcutKind = 'none';
      let projection: ConvSpec | undefined;
      if (o.residual) {
        if (o.shortcut === 'C' || (o.shortcut === 'B' && reshapes)) {
          shortcut = 'projection';
          projection = conv(`${name}.proj`, inC, outC, 1, stride, size / stride);
        } else {
          shortcut = reshapes ? 'subsample-pad' : 'identity';
        }
      }
      blocks.push({
        name,
        inC,
        outC,
        stride,
        size,
        conv1: conv(`${name}.conv1`, inC, outC, 3, stride, size / stride),
        conv2: conv(`${name}.conv2`, outC, outC, 3, 1, size / stride),
        shortcut,
        projection,
      });
      inC = outC;
      size = size / stride;
    }
  });
  const fc = { name: 'fc', inC: channels[2], outC: NUM_CLASSES };

  const convs: ConvSpec[] = [stem];
  for (const b of blocks) {
    convs.push(b.conv1, b.conv2);
    if (b.projection) convs.push(b.projection);
  }
  const params: ParamSpec[] = [];
  for (const c of convs) {
    params.push({ name: c.name, shape: [c.k, c.k, c.inC, c.outC], kind: 'conv', fanIn: c.k * c.k * c.inC });
    params.push({ name: `${c.name}.bn.gamma`, shape: [c.outC], kind: 'bn-gamma', fanIn: 1 });
    params.push({ name: `${c.name}.bn.beta`, shape: [c.outC], kind: 'bn-beta', fanIn: 1 });
  }
  params.push({ name: 'fc.weight', shape: [fc.inC, fc.outC], kind: 'fc-weight', fanIn: fc.inC });
  params.push({ name: 'fc.bias', shape: [fc.outC], kind: 'fc-bias', fanIn: fc.inC });

  return {
    options: o,
    depth: depthOf(o.n),
    label: netLabel(o),
    channels,
    stem,
    blocks,
    fc,
    params,
    convs,
    layers3x3: convs.filter((c) => c.k === 3),
  };
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Number of trainable parameters. */
export function paramCount(spec: NetSpec): number {
  return spec.params.reduce((sum, p) => sum + sizeOf(p.shape), 0);
}

/** Multiply-adds of one forward pass for one image: every conv (outSize²·k²·inC·outC) and the FC layer. */
export function multiplyAdds(spec: NetSpec): number {
  return spec.convs.reduce((sum, c) => sum + c.outSize * c.outSize * c.k * c.k * c.inC * c.outC, 0) + spec.fc.inC * spec.fc.outC;
}

/** The BN layers' running statistics: not trained, but part of a net's state. */
export function bnStatNames(spec: NetSpec): { mean: string; variance: string; channels: number }[] {
  return spec.convs.map((c) => ({ mean: `${c.name}.bn.mean`, variance: `${c.name}.bn.var`, channels: c.outC }));
}

export type Tensors = Record<string, Float32Array>;

/**
 * Initial weights. He initialisation (§3.4, [13]): conv and FC weights ~ N(0, 2/fan_in); BN γ = 1,
 * β = 0; FC bias 0. Each parameter draws from its own substream named by the seed and the
 * parameter's name, so a plain and a residual net of one depth (same names, same shapes) start
 * from identical weights, and adding a projection to a net changes no other weight.
 */
export function initParams(spec: NetSpec, seed: number): Tensors {
  const out: Tensors = {};
  for (const p of spec.params) {
    const v = new Float32Array(sizeOf(p.shape));
    if (p.kind === 'conv' || p.kind === 'fc-weight') {
      const rng = new Rng(seed, `init:${p.name}:${p.shape.join('x')}`);
      const std = Math.sqrt(2 / p.fanIn);
      for (let i = 0; i < v.length; i++) v[i] = rng.normal() * std;
    } else if (p.kind === 'bn-gamma') {
      v.fill(1);
    }
    out[p.name] = v;
  }
  return out;
}

/** Fresh BN running statistics: mean 0, variance 1 (PyTorch's convention). */
export function initBnStats(spec: NetSpec): Tensors {
  const out: Tensors = {};
  for (const s of bnStatNames(spec)) {
    out[s.mean] = new Float32Array(s.channels);
    out[s.variance] = new Float32Array(s.channels).fill(1);
  }
  return out;
}
