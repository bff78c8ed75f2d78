// The nets an experiment trains, from its config: one entry per depth, block type, warmup variant and
// family (a residual net per shortcut option, a highway net per gate bias), their specs and labels.
import type { ExperimentConfig } from './config';
import type { BlockType, NetFamily, NetSpec, Shortcut } from './nets';
import { HIGHWAY_GATE_BIAS, blocksFor, cifarNet, fitsBlock } from './nets';
import type { WarmupMode } from './schedule';

/** One net of an experiment: its depth, family, shortcut option, block type and warmup variant. */
export interface NetEntry {
  id: string;
  depth: number;
  family: NetFamily;
  /** family === 'residual' (kept: charts and older saved runs group by it). */
  residual: boolean;
  shortcut: Shortcut;
  block: BlockType;
  /** The warmup this net trains with (before warmupForDepth: 'paper-110' is resolved per depth). */
  warmup: WarmupMode;
  /** Highway nets: the gates' initial bias (absent: HIGHWAY_GATE_BIAS, as in runs saved before the field). */
  gateBias?: number;
}

/**
 * The nets an experiment trains: per depth and per block type that the depth fits, per warmup
 * variant, a plain net, a residual net per shortcut option and a highway net, as chosen. Ids keep
 * their old form (plain-20, resnet-20-A) for basic blocks and one warmup, so old runs still read.
 */
export function netsOf(config: ExperimentConfig): NetEntry[] {
  const out: NetEntry[] = [];
  const variants = config.warmup.length > 1;
  for (const depth of config.depths) {
    for (const block of config.blocks) {
      if (!fitsBlock(depth, block)) continue;
      const suffix = block === 'bottleneck' ? '-bottleneck' : '';
      for (const warmup of config.warmup) {
        const w = variants ? `-warmup-${warmup}` : '';
        const add = (id: string, family: NetFamily, shortcut: Shortcut) =>
          out.push({ id: `${id}${suffix}${w}`, depth, family, residual: family === 'residual', shortcut, block, warmup });
        if (config.families.includes('plain')) add(`plain-${depth}`, 'plain', 'A');
        if (config.families.includes('residual')) for (const s of config.shortcuts) add(`resnet-${depth}-${s}`, 'residual', s);
        if (config.families.includes('highway')) {
          const biases = config.gateBias ?? [HIGHWAY_GATE_BIAS];
          for (const gateBias of biases) {
            // one bias: the old ids (highway-56); several: one net each (highway-56-gate-6)
            const g = biases.length > 1 ? `-gate${gateBias}` : '';
            out.push({ id: `highway-${depth}${g}${suffix}${w}`, depth, family: 'highway', residual: false, shortcut: 'A', block, warmup, gateBias });
          }
        }
      }
    }
  }
  return out;
}

/** The net spec of one of an experiment's nets: its depth, family, shortcut and block type, at the experiment's width. */
export function netSpecOf(
  entry: Pick<NetEntry, 'depth' | 'shortcut'> & Partial<Pick<NetEntry, 'family' | 'residual' | 'block' | 'gateBias'>>,
  config: Pick<ExperimentConfig, 'width'>,
): NetSpec {
  const block = entry.block ?? 'basic';
  return cifarNet({
    n: blocksFor(entry.depth, block),
    family: entry.family ?? (entry.residual ? 'residual' : 'plain'),
    shortcut: entry.shortcut,
    block,
    width: config.width,
    gateBias: entry.gateBias,
  });
}

/** A net's label in charts and tables: the spec's ("ResNet-56 (B)"), with the gate bias and the warmup where the experiment compares several. */
export function netLabelOf(entry: NetEntry, config: Pick<ExperimentConfig, 'width' | 'warmup'> & Partial<Pick<ExperimentConfig, 'gateBias'>>): string {
  let label = netSpecOf(entry, config).label;
  if (entry.family === 'highway' && (config.gateBias?.length ?? 1) > 1) label += ` (gate bias ${entry.gateBias ?? HIGHWAY_GATE_BIAS})`;
  return config.warmup.length > 1 ? `${label}, warmup ${entry.warmup}` : label;
}
