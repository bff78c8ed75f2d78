// What the GPU kit measures, as data: scripts/gpu-kit.ts writes it into the kit (cases.json) for the
// PyTorch side (torch_kit.py), and kit.ts runs it on the lab WebGPU engine. Full mode is the issue's
// list; short mode (npm test, on a software Vulkan) is the same code on tiny nets and few steps.
import type { ExperimentConfig } from '../../src/core/config';
import type { NetOptions } from '../../src/core/nets';
import { CLASSROOM } from '../../src/core/presets';

export type KitMode = 'full' | 'short';

export interface AgreementCase {
  name: string;
  options: NetOptions;
  steps: number;
}

/**
 * Nets of the engine contract's agreement test (src/core/gpu/engine.gpu.test.ts): width ×0.5 on 8×8
 * inputs, where its tolerances were measured, and one at width ×1 on 32×32 inputs, the tile shapes of
 * the lab's real nets. Bottleneck and highway nets over 3 steps, as in that test. Plain-20 over 2: a deep
 * plain net's training is chaotic, so rounding alone parts two runs within a few steps. Measured on the
 * lab CPU engine alone, Winograd against direct kernels (the same maths, other rounding), plain-20 at
 * 8×8: losses 4e-2 apart by the 4th step, evaluation losses 300,000× the tolerance after 10; ResNet-20
 * at the same steps: one check at 3.7× (on llvmpipe, the GPU engine's plain-20 drifts the same way).
 */
export const AGREEMENT_CASES: Record<KitMode, AgreementCase[]> = {
  full: [
    { name: 'ResNet-8 (A)', options: { n: 1, family: 'residual', shortcut: 'A', width: 0.5, inputSize: 8 }, steps: 10 },
    { name: 'plain-20', options: { n: 3, family: 'plain', shortcut: 'A', width: 0.5, inputSize: 8 }, steps: 2 },
    { name: 'ResNet-11 bottleneck (B)', options: { n: 1, family: 'residual', shortcut: 'B', block: 'bottleneck', width: 0.5, inputSize: 8 }, steps: 3 },
    { name: 'Highway-14', options: { n: 2, family: 'highway', shortcut: 'A', width: 0.5, inputSize: 8 }, steps: 3 },
    { name: 'ResNet-8 (A), width ×1, 32×32', options: { n: 1, family: 'residual', shortcut: 'A', width: 1, inputSize: 32 }, steps: 2 },
  ],
  short: [
    { name: 'ResNet-8 (A)', options: { n: 1, family: 'residual', shortcut: 'A', width: 0.5, inputSize: 8 }, steps: 3 },
    { name: 'Highway-8', options: { n: 1, family: 'highway', shortcut: 'A', width: 0.5, inputSize: 8 }, steps: 2 },
  ],
};

export interface ThroughputCase {
  name: string;
  /** Every net steps once a round on the same batch (the lab's stepMany), as an experiment does. */
  nets: (NetOptions & { width: number })[];
  batch: number;
  /** Rounds timed at least (after two untimed ones). */
  minReps: number;
  /** PyTorch side: false to time eager mode only (torch.compile of a thousand layers would take minutes of the kit's budget). */
  compile?: false;
}

const resnet = (n: number, width: number) => ({ n, family: 'residual' as const, shortcut: 'A' as const, width });
const pairs = (ns: number[], width: number) => ns.flatMap((n) => [{ ...resnet(n, width), family: 'plain' as const }, resnet(n, width)]);

export const THROUGHPUT_CASES: Record<KitMode, ThroughputCase[]> = {
  full: [
    { name: 'ResNet-20, width ×1', nets: [resnet(3, 1)], batch: 128, minReps: 5 },
    { name: 'ResNet-56, width ×1', nets: [resnet(9, 1)], batch: 128, minReps: 5 },
    { name: 'ResNet-110, width ×1', nets: [resnet(18, 1)], batch: 128, minReps: 5 },
    { name: 'Classroom: plain and ResNet 8/20/56, width ×0.25', nets: pairs([1, 3, 9], 0.25), batch: 64, minReps: 5 },
    // issue #28: a round of the thousand-layer nets (the plain one diverges on its first step in training, so a run costs about ResNet-1202 and the 110s)
    { name: 'A thousand layers: ResNet-1202 with plain and ResNet 110, width ×0.25', nets: [resnet(200, 0.25), ...pairs([18], 0.25)], batch: 64, minReps: 3, compile: false },
  ],
  short: [
    { name: 'ResNet-8, width ×0.25', nets: [resnet(1, 0.25)], batch: 16, minReps: 2 },
    { name: 'plain and ResNet 8, width ×0.25', nets: pairs([1], 0.25), batch: 16, minReps: 2 },
  ],
};

/** The Classroom preset as the kit runs it: unchanged in full mode; short mode trains plain-8 and ResNet-8 a few iterations. */
export function classroomConfig(mode: KitMode): Partial<ExperimentConfig> {
  return mode === 'full' ? { ...CLASSROOM } : { ...CLASSROOM, depths: [8], iterations: 10, trainSize: 128, testSize: 32, evalEvery: 5 };
}
