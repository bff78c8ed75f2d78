// What the architecture view shows of a net, as data: the stem, each stage (its blocks, their
// shortcut kinds, the output map, parameters and multiply-adds) and the head, from the same net
// description the engines train (./nets.ts). architecture.test.ts checks that the parts add up to
// the whole: paramCount and multiplyAdds of the net.
import type { BlockSpec, ConvSpec, NetSpec, ShortcutKind } from './nets';
import { blockOutSize, convMultiplyAdds, paramCount, multiplyAdds } from './nets';

export interface ArchPart {
  /** 'stem', 's1' … 's3', 'head'. */
  key: string;
  blocks: BlockSpec[];
  /** The output map: size × size × channels. */
  size: number;
  channels: number;
  params: number;
  multiplyAdds: number;
}

export interface Architecture {
  spec: NetSpec;
  stem: ArchPart;
  stages: ArchPart[];
  head: ArchPart;
  params: number;
  multiplyAdds: number;
  /** How many blocks have each shortcut kind. */
  shortcuts: Partial<Record<ShortcutKind, number>>;
}

/** Weights, BN γ and β of a conv with its BN. */
const convBnParams = (c: ConvSpec) => c.k * c.k * c.inC * c.outC + 2 * c.outC;
/** Weights and bias of a highway gate. */
const gateParams = (c: ConvSpec) => c.inC * c.outC + c.outC;

function blockCost(b: BlockSpec): { params: number; multiplyAdds: number } {
  const convs = [...b.branch, ...(b.projection ? [b.projection] : [])];
  return {
    params: convs.reduce((s, c) => s + convBnParams(c), 0) + (b.gate ? gateParams(b.gate) : 0),
    multiplyAdds: [...convs, ...(b.gate ? [b.gate] : [])].reduce((s, c) => s + convMultiplyAdds(c), 0),
  };
}

export function architecture(spec: NetSpec): Architecture {
  const stem: ArchPart = {
    key: 'stem',
    blocks: [],
    size: spec.stem.outSize,
    channels: spec.stem.outC,
    params: convBnParams(spec.stem),
    multiplyAdds: convMultiplyAdds(spec.stem),
  };
  const stages = [1, 2, 3].map((s): ArchPart => {
    const blocks = spec.blocks.filter((b) => b.name.startsWith(`s${s}.`));
    const last = blocks[blocks.length - 1];
    const costs = blocks.map(blockCost);
    return {
      key: `s${s}`,
      blocks,
      size: blockOutSize(last),
      channels: last.outC,
      params: costs.reduce((a, c) => a + c.params, 0),
      multiplyAdds: costs.reduce((a, c) => a + c.multiplyAdds, 0),
    };
  });
  const fc = spec.fc;
  const head: ArchPart = { key: 'head', blocks: [], size: 1, channels: fc.outC, params: fc.inC * fc.outC + fc.outC, multiplyAdds: fc.inC * fc.outC };
  const shortcuts: Partial<Record<ShortcutKind, number>> = {};
  for (const b of spec.blocks) shortcuts[b.shortcut] = (shortcuts[b.shortcut] ?? 0) + 1;
  return { spec, stem, stages, head, params: paramCount(spec), multiplyAdds: multiplyAdds(spec), shortcuts };
}

/** Blocks drawn once for a run of identical ones: the first block of the run and how many there are. */
export interface BlockRun {
  block: BlockSpec;
  count: number;
}

/** What makes two blocks look the same in a drawing: their branch's convs, stride, shortcut and projection. */
const drawnAs = (b: BlockSpec) =>
  [
    b.branch.map((c) => `${c.k}:${c.outC}:${c.stride}`).join(','),
    b.inC,
    b.outC,
    b.stride,
    b.shortcut,
    b.projection ? `${b.projection.outC}:${b.projection.stride}` : '',
    b.gate ? 'gate' : '',
  ].join('|');

/** A stage's blocks folded into runs of identical consecutive blocks (ResNet-56's stage 2: one stride-2 block, then 8 alike). */
export function foldBlocks(blocks: readonly BlockSpec[]): BlockRun[] {
  const runs: BlockRun[] = [];
  for (const b of blocks) {
    const last = runs[runs.length - 1];
    if (last && drawnAs(last.block) === drawnAs(b)) last.count++;
    else runs.push({ block: b, count: 1 });
  }
  return runs;
}
