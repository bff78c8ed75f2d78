// The ImageNet ResNets of the paper's Table 1 (18/34 with basic blocks, 50/101/152 with bottleneck
// blocks), described as data: stages, blocks, every convolution, and what they cost. The lab trains
// the CIFAR nets of ./nets.ts; these are for the architecture view's table, built from the same
// block description (a list of convolutions, each with its BN, as ConvSpec), so the counts come from one rule:
// parameters = convolution weights + BN γ and β + the FC layer; multiply-adds = Σ over convolutions
// of outSize² · k² · inC · outC, plus the FC layer.
//
// Two published conventions differ in one detail of the bottleneck block: the paper (and its Caffe
// models) put the stride-2 of a stage's first block on the first 1×1 convolution; torchvision puts it
// on the 3×3 ("ResNet v1.5"), which costs more multiply-adds and the same parameters. Table 1's
// FLOPs are the paper's convention; imagenet.test.ts checks both against the published figures and
// against the PyTorch definitions in bench/reference/imagenet_resnet.py.
import type { BlockType, ConvSpec } from './nets';
import { branchConvs } from './nets';

/** A convolution of these nets: a ConvSpec (./nets.ts) whose kernel may also be the stem's 7×7. */
type ImagenetConv = Omit<ConvSpec, 'k'> & { k: 1 | 3 | 7 };

export const IMAGENET_DEPTHS = [18, 34, 50, 101, 152] as const;
type ImagenetDepth = (typeof IMAGENET_DEPTHS)[number];
type BlockKind = BlockType;

/** Blocks per stage (conv2_x … conv5_x), Table 1. */
const IMAGENET_LAYOUT: Record<ImagenetDepth, { block: BlockKind; blocks: [number, number, number, number] }> = {
  18: { block: 'basic', blocks: [2, 2, 2, 2] },
  34: { block: 'basic', blocks: [3, 4, 6, 3] },
  50: { block: 'bottleneck', blocks: [3, 4, 6, 3] },
  101: { block: 'bottleneck', blocks: [3, 4, 23, 3] },
  152: { block: 'bottleneck', blocks: [3, 8, 36, 3] },
};

/** Where a bottleneck block's stride goes: the paper's first 1×1, or torchvision's 3×3. */
export type StrideAt = 'paper' | 'torchvision';

interface StageSummary {
  name: string;
  blocks: number;
  /** Output map size and channels, e.g. 56 and 256. */
  size: number;
  channels: number;
  params: number;
  multiplyAdds: number;
}

interface ImagenetNet {
  depth: ImagenetDepth;
  block: BlockKind;
  convs: ImagenetConv[];
  stages: StageSummary[];
  params: number;
  multiplyAdds: number;
}

const BASE = [64, 128, 256, 512] as const;
const NUM_CLASSES = 1000;

const convParams = (c: ImagenetConv) => c.k * c.k * c.inC * c.outC + 2 * c.outC; // weights, BN γ and β
const convMacs = (c: ImagenetConv) => c.outSize * c.outSize * c.k * c.k * c.inC * c.outC;

/**
 * A block's convolutions: the branch of ./nets.ts's `branchConvs` (the CIFAR nets' own block code),
 * and the projection of its shortcut where the shape changes (option B, as in the paper's ImageNet
 * models). `size` is the input map size; stride 1 or 2.
 */
function blockConvs(
  name: string,
  kind: BlockKind,
  inC: number,
  width: number,
  size: number,
  stride: 1 | 2,
  strideAt: StrideAt = 'paper',
): { convs: ImagenetConv[]; outC: number } {
  const { convs, outC } = branchConvs(name, kind, inC, width, size, stride, strideAt);
  const all: ImagenetConv[] = [...convs];
  if (stride !== 1 || inC !== outC) all.push({ name: `${name}.proj`, inC, outC, k: 1, stride, outSize: size / stride });
  return { convs: all, outC };
}

/** ResNet-18 … 152 for 224×224 inputs: stem (7×7/2 conv, 3×3/2 max pool), four stages, global average pool, FC to 1000. */
export function imagenetResNet(depth: ImagenetDepth, strideAt: StrideAt = 'paper'): ImagenetNet {
  const layout = IMAGENET_LAYOUT[depth];
  if (!layout) throw new Error(`ImageNet ResNet depth must be one of ${IMAGENET_DEPTHS.join(', ')}, got ${depth}`);
  const stem: ImagenetConv = { name: 'conv1', inC: 3, outC: 64, k: 7, stride: 2, outSize: 112 };
  const convs: ImagenetConv[] = [stem];
  const stages: StageSummary[] = [];
  let inC = 64;
  let size = 56; // after the 3×3/2 max pool
  layout.blocks.forEach((count, s) => {
    const first = convs.length;
    for (let b = 0; b < count; b++) {
      const stride: 1 | 2 = s > 0 && b === 0 ? 2 : 1;
      const block = blockConvs(`conv${s + 2}_${b + 1}`, layout.block, inC, BASE[s], size, stride, strideAt);
      convs.push(...block.convs);
      inC = block.outC;
      size /= stride;
    }
    const mine = convs.slice(first);
    stages.push({
      name: `conv${s + 2}_x`,
      blocks: count,
      size,
      channels: inC,
      params: mine.reduce((a, c) => a + convParams(c), 0),
      multiplyAdds: mine.reduce((a, c) => a + convMacs(c), 0),
    });
  });
  const fc = inC * NUM_CLASSES;
  const params = convs.reduce((a, c) => a + convParams(c), 0) + fc + NUM_CLASSES;
  const multiplyAdds = convs.reduce((a, c) => a + convMacs(c), 0) + fc;
  return { depth, block: layout.block, convs, stages, params, multiplyAdds };
}
