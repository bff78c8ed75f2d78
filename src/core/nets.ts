// The CIFAR-10 nets of He et al. 2015, §4.2, as a plain description that every engine executes.
//
//   layers   6n+2:  20 (n=3), 32 (n=5), 44 (n=7), 56 (n=9), 110 (n=18)
//   stem     3×3 conv, 16 filters                                  → 32×32×16
//   stage 1  n blocks, 16 filters                                  → 32×32×16
//   stage 2  n blocks, 32 filters, first conv stride 2            → 16×16×32
//   stage 3  n blocks, 64 filters, first conv stride 2            →  8× 8×64
//   head     global average pooling, 10-way fully connected layer
//
// A basic block is conv-BN-ReLU-conv-BN (two 3×3 convs). A bottleneck block (§4.1, "Deeper
// Bottleneck Architectures") is 1×1 (reduce) - 3×3 - 1×1 (expand ×4), each conv with its BN and a
// ReLU between; its nets have 9n+2 layers (29, 47, 56, 83, 110, 164 …), the stages' widths are the
// 3×3 convs' (16/32/64) and the blocks output 4× that (64/128/256). The stride-2 of a stage's first
// bottleneck block is on its 3×3 conv (torchvision's convention; see imagenet.ts for the paper's).
//
// Three families share the blocks: the residual block adds its shortcut, then applies ReLU (Fig. 2);
// the plain block applies ReLU with nothing added; the highway block (Srivastava et al. 2015) gates
// the shortcut: y = ReLU(T·F(x) + (1 − T)·x) with T = σ(W_T x + b_T), a 1×1 conv with a bias
// initialised negative (so that the block starts by carrying its input), and a 1×1 projection of x
// where the shape changes.
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
// Bottlenecks (9n+2 layers; about the parameters of the basic net with the same n):
//   | layers | A (= plain) |     B     |     C     |
//   |   29   |   270,234   |  313,114  |  486,938  |
//   |   47   |   455,706   |  498,586  |  846,234  |
//   |   83   |   826,650   |  869,530  | 1,564,826 |
//   |  164   | 1,661,274   | 1,704,154 | 3,181,658 |   (ResNet-164, He et al. 2016: 1.7M)
// Highway nets of 20/56/110 layers: 286,378 / 902,602 / 1,826,938.
// Every count is checked exactly against the PyTorch definition lab_train.py (scripts/cifar-variants-reference.test.ts).
import { Rng } from './rng';

/** The paper's shortcut options (§3.3): A identity with zero-padding, B projections where the shape changes, C projections everywhere. */
export const SHORTCUTS = ['A', 'B', 'C'] as const;
export type Shortcut = (typeof SHORTCUTS)[number];
/** The families of nets the lab trains side by side. */
export const NET_FAMILIES = ['plain', 'residual', 'highway'] as const;
export type NetFamily = (typeof NET_FAMILIES)[number];
/** Block types: two 3×3 convs, or the bottleneck 1×1-3×3-1×1. */
export const BLOCK_TYPES = ['basic', 'bottleneck'] as const;
export type BlockType = (typeof BLOCK_TYPES)[number];
/**
 * The highway gate's initial bias: negative, so T = σ(−2) ≈ 0.12 and a new block mostly carries its input
 * (Srivastava et al. used −1 to −3). The block is the "exclusive gating" of He et al. 2016 (Identity
 * Mappings, Fig. 2c), whose results depended strongly on this bias (best near −6): a config field.
 */
export const HIGHWAY_GATE_BIAS = -2;

export interface NetOptions {
  /** Blocks per stage; the net has 6n+2 layers (basic) or 9n+2 (bottleneck). */
  n: number;
  /** Residual (true) or plain (false); `family` says it for all three families and wins when given. */
  residual?: boolean;
  family?: NetFamily;
  shortcut: Shortcut;
  block?: BlockType;
  /** Width multiplier on 16/32/64 filters; 1 is the paper's net. */
  width?: number;
  /** Input height and width: 32 for CIFAR-10; smaller (8) only for quick tests. */
  inputSize?: number;
  /** Highway nets: the gates' initial bias (default HIGHWAY_GATE_BIAS). */
  gateBias?: number;
}

/** NetOptions with every choice made. */
interface ResolvedNetOptions {
  n: number;
  residual: boolean;
  family: NetFamily;
  shortcut: Shortcut;
  block: BlockType;
  width: number;
  inputSize: number;
  gateBias: number;
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

/**
 * How a block's input reaches its output: nothing (plain), identity, option A's pad (subsample by the
 * block's stride, zero channels appended), a projection, or a highway gate (carrying the input, or its
 * projection where the shape changes).
 */
export type ShortcutKind = 'none' | 'identity' | 'subsample-pad' | 'projection' | 'gated';

export interface BlockSpec {
  name: string;
  inC: number;
  outC: number;
  stride: 1 | 2;
  /** Input spatial size (32, 16 or 8); the output's is size / stride. */
  size: number;
  /** The residual branch F: conv-BN, with ReLU between them (2 convs basic, 3 bottleneck). */
  branch: ConvSpec[];
  shortcut: ShortcutKind;
  /** The 1×1 projection (conv + BN) of options B and C, and of a highway block whose shape changes. */
  projection?: ConvSpec;
  /** A highway block's gate: a 1×1 conv (weight `${name}`, bias `${name}.bias`, no BN) then a sigmoid. */
  gate?: ConvSpec;
}

type ParamKind = 'conv' | 'bn-gamma' | 'bn-beta' | 'fc-weight' | 'fc-bias' | 'gate-bias';

interface ParamSpec {
  name: string;
  shape: number[];
  kind: ParamKind;
  /** Inputs feeding one output (k·k·C for a conv), for He initialisation. */
  fanIn: number;
}

export interface NetSpec {
  options: ResolvedNetOptions;
  depth: number;
  /** A short label, e.g. "plain-20" or "ResNet-56 (B)". */
  label: string;
  /** The stages' widths (the 3×3 convs' filters). */
  channels: [number, number, number];
  stem: ConvSpec;
  blocks: BlockSpec[];
  fc: { name: string; inC: number; outC: number };
  /** Every trainable parameter, in a fixed order. */
  params: ParamSpec[];
  /** Every conv followed by a BN, in forward order (branch convs and projections; not gates). */
  convs: ConvSpec[];
  /** The highway gates, in forward order. */
  gates: ConvSpec[];
  /** The 3×3 layers in forward order: the paper's "layer index" of Fig. 7. */
  layers3x3: ConvSpec[];
}

export const NUM_CLASSES = 10;
const IMAGE_SIZE = 32;
const BASE_WIDTHS = [16, 32, 64] as const;
/** Layers per block: 2 for basic blocks, 3 for bottlenecks. */
const layersPerBlock = (block: BlockType): 2 | 3 => (block === 'basic' ? 2 : 3);

/** Depth of the CIFAR net with n blocks per stage: 6n+2 (basic) or 9n+2 (bottleneck). */
const depthOf = (n: number, block: BlockType = 'basic'): number => 3 * layersPerBlock(block) * n + 2;
/** Blocks per stage for a depth: (depth − 2) / 6 for basic blocks, / 9 for bottlenecks; not an integer when the depth does not fit. */
export const blocksFor = (depth: number, block: BlockType = 'basic'): number => (depth - 2) / (3 * layersPerBlock(block));
/** Whether a depth is one the block type builds (6n+2 or 9n+2, n ≥ 1). */
export const fitsBlock = (depth: number, block: BlockType): boolean => Number.isInteger(blocksFor(depth, block)) && blocksFor(depth, block) >= 1;

function stageChannels(width: number): [number, number, number] {
  const c = BASE_WIDTHS.map((b) => Math.round(b * width)) as [number, number, number];
  if (c.some((x) => x < 4 || x % 4 !== 0)) {
    throw new Error(`width ${width} gives ${c.join('/')} filters; each must be a multiple of 4 (use a multiple of 0.25)`);
  }
  return c;
}

function netLabel(o: ResolvedNetOptions): string {
  // The width is the experiment's, the same for every net: the charts say it once, not per line.
  const depth = depthOf(o.n, o.block);
  const base = o.family === 'residual' ? `ResNet-${depth}` : o.family === 'highway' ? `Highway-${depth}` : `plain-${depth}`;
  const bottleneck = o.block === 'bottleneck' ? ' bottleneck' : '';
  return o.family === 'residual' && o.shortcut !== 'A' ? `${base}${bottleneck} (${o.shortcut})` : base + bottleneck;
}

/**
 * The convolutions of one block's branch F: basic (3×3, 3×3) or bottleneck (1×1 to `width`, 3×3,
 * 1×1 to 4·width). `size` is the input map size; the stride-2 is on the first 3×3 for basic blocks,
 * and for bottlenecks on the 3×3 ('torchvision') or the first 1×1 ('paper', the ImageNet models of
 * Table 1). Shared by the CIFAR nets here and the ImageNet nets of ./imagenet.ts.
 */
export function branchConvs(
  name: string,
  block: BlockType,
  inC: number,
  width: number,
  size: number,
  stride: 1 | 2,
  strideAt: 'paper' | 'torchvision' = 'torchvision',
): { convs: ConvSpec[]; outC: number } {
  const out = size / stride;
  const conv = (suffix: string, cin: number, cout: number, k: 1 | 3, s: 1 | 2, outSize: number): ConvSpec => ({
    name: `${name}.${suffix}`,
    inC: cin,
    outC: cout,
    k,
    stride: s,
    outSize,
  });
  if (block === 'basic') return { convs: [conv('conv1', inC, width, 3, stride, out), conv('conv2', width, width, 3, 1, out)], outC: width };
  const s1: 1 | 2 = strideAt === 'paper' ? stride : 1;
  const s2: 1 | 2 = strideAt === 'paper' ? 1 : stride;
  return {
    convs: [conv('conv1', inC, width, 1, s1, size / s1), conv('conv2', width, width, 3, s2, out), conv('conv3', width, 4 * width, 1, 1, out)],
    outC: 4 * width,
  };
}

/** Build the description of a CIFAR net (§4.2; bottleneck §4.1; highway as above). */
export function cifarNet(options: NetOptions): NetSpec {
  const family: NetFamily = options.family ?? (options.residual ? 'residual' : 'plain');
  const o: ResolvedNetOptions = {
    n: options.n,
    family,
    residual: family === 'residual',
    shortcut: options.shortcut,
    block: options.block ?? 'basic',
    width: options.width ?? 1,
    inputSize: options.inputSize ?? IMAGE_SIZE,
    gateBias: options.gateBias ?? HIGHWAY_GATE_BIAS,
  };
  if (!Number.isInteger(o.n) || o.n < 1 || o.n > 200) throw new Error(`n must be an integer from 1 to 200, got ${o.n}`);
  if (!Number.isInteger(o.inputSize / 4) || o.inputSize < 4) throw new Error(`inputSize must be a multiple of 4, got ${o.inputSize}`);
  if (!(BLOCK_TYPES as readonly string[]).includes(o.block)) throw new Error(`block must be one of ${BLOCK_TYPES.join(', ')}, got ${String(o.block)}`);
  const channels = stageChannels(o.width);
  const conv = (name: string, inC: number, outC: number, k: 1 | 3, stride: 1 | 2, outSize: number): ConvSpec => ({ name, inC, outC, k, stride, outSize });

  const stem = conv('stem.conv', 3, channels[0], 3, 1, o.inputSize);
  const blocks: BlockSpec[] = [];
  let inC = channels[0];
  let size = o.inputSize;
  channels.forEach((width, s) => {
    for (let b = 0; b < o.n; b++) {
      const stride: 1 | 2 = s > 0 && b === 0 ? 2 : 1;
      const name = `s${s + 1}.b${b}`;
      const { convs: branch, outC } = branchConvs(name, o.block, inC, width, size, stride);
      const reshapes = stride !== 1 || inC !== outC;
      let shortcut: ShortcutKind = 'none';
      let projection: ConvSpec | undefined;
      let gate: ConvSpec | undefined;
      if (o.family === 'residual') {
        if (o.shortcut === 'C' || (o.shortcut === 'B' && reshapes)) {
          shortcut = 'projection';
          projection = conv(`${name}.proj`, inC, outC, 1, stride, size / stride);
        } else {
          shortcut = reshapes ? 'subsample-pad' : 'identity';
        }
      } else if (o.family === 'highway') {
        shortcut = 'gated';
        gate = conv(`${name}.gate`, inC, outC, 1, stride, size / stride);
        if (reshapes) projection = conv(`${name}.proj`, inC, outC, 1, stride, size / stride);
      }
      blocks.push({ name, inC, outC, stride, size, branch, shortcut, projection, gate });
      inC = outC;
      size = size / stride;
    }
  });
  const fc = { name: 'fc', inC, outC: NUM_CLASSES };

  const convs: ConvSpec[] = [stem];
  const gates: ConvSpec[] = [];
  for (const b of blocks) {
    convs.push(...b.branch);
    if (b.projection) convs.push(b.projection);
    if (b.gate) gates.push(b.gate);
  }
  const params: ParamSpec[] = [];
  for (const c of convs) {
    params.push({ name: c.name, shape: [c.k, c.k, c.inC, c.outC], kind: 'conv', fanIn: c.k * c.k * c.inC });
    params.push({ name: `${c.name}.bn.gamma`, shape: [c.outC], kind: 'bn-gamma', fanIn: 1 });
    params.push({ name: `${c.name}.bn.beta`, shape: [c.outC], kind: 'bn-beta', fanIn: 1 });
  }
  for (const g of gates) {
    params.push({ name: g.name, shape: [1, 1, g.inC, g.outC], kind: 'conv', fanIn: g.inC });
    params.push({ name: `${g.name}.bias`, shape: [g.outC], kind: 'gate-bias', fanIn: g.inC });
  }
  params.push({ name: 'fc.weight', shape: [fc.inC, fc.outC], kind: 'fc-weight', fanIn: fc.inC });
  params.push({ name: 'fc.bias', shape: [fc.outC], kind: 'fc-bias', fanIn: fc.inC });

  return {
    options: o,
    depth: depthOf(o.n, o.block),
    label: netLabel(o),
    channels,
    stem,
    blocks,
    fc,
    params,
    convs,
    gates,
    layers3x3: convs.filter((c) => c.k === 3),
  };
}

/** A block's output map size. */
export const blockOutSize = (b: BlockSpec): number => b.size / b.stride;

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** Number of trainable parameters. */
export function paramCount(spec: NetSpec): number {
  return spec.params.reduce((sum, p) => sum + sizeOf(p.shape), 0);
}

/** Multiply-adds of one conv for one image: outSize²·k²·inC·outC. */
export const convMultiplyAdds = (c: ConvSpec): number => c.outSize * c.outSize * c.k * c.k * c.inC * c.outC;

/** Multiply-adds of one forward pass for one image: every conv and gate, and the FC layer. */
export function multiplyAdds(spec: NetSpec): number {
  return [...spec.convs, ...spec.gates].reduce((sum, c) => sum + convMultiplyAdds(c), 0) + spec.fc.inC * spec.fc.outC;
}

/** The BN layers' running statistics: not trained, but part of a net's state. */
export function bnStatNames(spec: NetSpec): { mean: string; variance: string; channels: number }[] {
  return spec.convs.map((c) => ({ mean: `${c.name}.bn.mean`, variance: `${c.name}.bn.var`, channels: c.outC }));
}

export type Tensors = Record<string, Float32Array>;

/**
 * Initial weights. He initialisation (§3.4, [13]): conv, gate and FC weights ~ N(0, 2/fan_in); BN γ = 1,
 * β = 0; FC bias 0; a highway gate's bias the net's gateBias (HIGHWAY_GATE_BIAS unless chosen). Each parameter draws from its own substream named by the seed and the
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
    } else if (p.kind === 'gate-bias') {
      v.fill(spec.options.gateBias);
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
