// Named experiments. Each preset is just an ExperimentConfig.
import type { ExperimentConfig } from './config';
import { DEFAULT_CONFIG } from './config';

export type PresetId = 'classroom' | 'fig6' | 'shortcuts' | 'warmup110';

export interface Preset {
  id: PresetId;
  name: string;
  nameZh: string;
  blurb: string;
  config: ExperimentConfig;
}

/**
 * Classroom demo: the fastest setting that still shows the effect clearly. Tuned on the real data
 * (docs/benchmarks.md, `npm run bench -- --degradation`): 8, 20 and 56 layers at width ×0.25,
 * lr 0.1, batch 64, the first 10k training images, no augmentation (the effect is about fitting
 * the training set, and augmentation slows the first few hundred iterations), 500 iterations.
 * Over seeds 1–4 the deepest plain net stayed ≥ 3 points above the shallowest, and ResNet-56 ≥ 3
 * points below plain-56, from iteration 86–200 on; a run takes about two minutes on two cores.
 */
export const CLASSROOM: ExperimentConfig = {
  ...DEFAULT_CONFIG,
  depths: [8, 20, 56],
  families: 'both',
  shortcuts: ['A'],
  warmup: 'off',
  lr: 0.1,
  batchSize: 64,
  iterations: 500,
  trainSize: 10_000,
  testSize: 500,
  augment: false,
  width: 0.25,
  evalEvery: 50,
};

export const PRESETS: Preset[] = [
  {
    id: 'classroom',
    name: 'Classroom demo',
    nameZh: '课堂演示',
    blurb: '8, 20 and 56 layers, plain and residual, narrow and short: the effect in about two minutes on any machine.',
    config: CLASSROOM,
  },
  {
    id: 'fig6',
    name: 'Paper Fig. 6',
    nameZh: '论文图 6',
    blurb: '20/32/44/56 layers, plain and residual, the full recipe: 64k iterations, batch 128, all the data.',
    config: { ...DEFAULT_CONFIG, depths: [20, 32, 44, 56], iterations: 64_000, trainSize: 50_000, testSize: 10_000, augment: true, width: 1, evalEvery: 1000 },
  },
  {
    id: 'shortcuts',
    name: 'Shortcuts A/B/C',
    nameZh: '捷径 A/B/C',
    blurb: 'One depth, the three shortcut options side by side, with the plain net for reference.',
    config: { ...DEFAULT_CONFIG, depths: [32], families: 'both', shortcuts: ['A', 'B', 'C'], iterations: 2000, evalEvery: 100 },
  },
  {
    id: 'warmup110',
    name: 'Warmup on ResNet-110',
    nameZh: 'ResNet-110 预热',
    blurb: 'ResNet-110 with the paper’s warmup: lr 0.01 until training error is below 80%, then 0.1.',
    config: { ...DEFAULT_CONFIG, depths: [110], families: 'residual', warmup: 'paper', iterations: 2000, evalEvery: 100 },
  },
];

export function presetById(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}
