import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './config';
import type { ExperimentConfig } from './config';
import { MEMORY_LIMIT, POINTS_LIMIT, addedNetFits, costProblem, expectedMs, experimentCost, formatBytes, measuredSpeed } from './cost';
import { CLASSROOM, FIG6 } from './presets';
import { PRESETS } from './presets';
import { netSpecOf, netsOf } from './experimentNets';
import { activationBytes } from './cpu/program';

describe('experiment cost', () => {
  it('lets every preset run', () => {
    for (const p of PRESETS) expect(costProblem(p.config), p.id).toBeNull();
  });

  it('names the memory of a thousand layers: ResNet-1202 and plain-1202 at width ×0.25, batch 64 fit, with one workspace; at width ×1 they are refused', () => {
    const thousand = { ...CLASSROOM, depths: [110, 1202], families: ['plain', 'residual'] as ExperimentConfig['families'] };
    const c = experimentCost(thousand);
    // ~1.2 MiB of saved activations per layer at batch 64 (docs/thousand-layers.md), kept once: a net over 300 layers
    // trains with both threads on one shared workspace (bench/depth.ts measured 1,425 MiB for ResNet-1202 alone)
    expect(c.memory).toBeGreaterThan(1.3 * 2 ** 30);
    expect(c.memory).toBeLessThan(2 * 1.3 * 2 ** 30);
    expect(formatBytes(c.memory)).toMatch(/^1\.\d GB$/);
    // a shallow config keeps a workspace per thread: its activations count twice
    const shallow = { ...CLASSROOM, depths: [110], families: ['plain', 'residual'] as ExperimentConfig['families'] };
    expect(experimentCost(shallow).memory).toBeGreaterThan(2 * activationBytes(netSpecOf(netsOf(shallow)[1], shallow), shallow.batchSize));
    expect(costProblem({ ...thousand, width: 1 })).toMatch(/needs about \d+\.\d GB of memory to train \(4 nets at width ×1, batch 64\); the limit is 3\.0 GB/);
    expect(formatBytes(5 * 2 ** 20)).toBe('5 MB');
  });

  it('lets a net join a running experiment only where its memory still fits', () => {
    const resnet1202 = (c: ExperimentConfig) => netsOf({ ...c, depths: [1202], families: ['residual'] })[0];
    expect(addedNetFits(CLASSROOM, netsOf(CLASSROOM), resnet1202(CLASSROOM))).toBe(true);
    expect(addedNetFits(DEFAULT_CONFIG, netsOf(DEFAULT_CONFIG), resnet1202(DEFAULT_CONFIG))).toBe(false); // width ×1, batch 128
    expect(addedNetFits(DEFAULT_CONFIG, netsOf(DEFAULT_CONFIG), netsOf({ ...DEFAULT_CONFIG, depths: [110] })[0])).toBe(true);
  });

  it('grows with nets, width and batch', () => {
    const one = experimentCost({ ...DEFAULT_CONFIG, depths: [20], families: ['plain'] });
    const two = experimentCost({ ...DEFAULT_CONFIG, depths: [20], families: ['plain', 'residual'] });
    const wide = experimentCost({ ...DEFAULT_CONFIG, depths: [20], families: ['plain'], width: 2 });
    expect(two.memory).toBeGreaterThan(one.memory);
    expect(two.points).toBe(2 * one.points);
    expect(wide.memory).toBeGreaterThan(1.9 * one.memory);
    // ResNet-20: 0.27M parameters, three copies (weights, gradients, momentum) of 4 bytes, plus activations
    expect(one.memory).toBeGreaterThan(3 * 4 * 269_722);
  });

  it('refuses a config too large for memory, with the figure and the limit', () => {
    const huge = { ...DEFAULT_CONFIG, depths: [8, 14, 20, 32, 44, 56, 110], shortcuts: ['A', 'B', 'C'] as ('A' | 'B' | 'C')[], width: 4, batchSize: 512 };
    expect(experimentCost(huge).memory).toBeGreaterThan(MEMORY_LIMIT);
    expect(costProblem(huge)).toMatch(/^this experiment needs about \d+\.\d GB of memory to train \(28 nets at width ×4, batch 512\); the limit is 3\.0 GB/);
  });

  it('refuses a config that would record too many points', () => {
    const long = {
      ...DEFAULT_CONFIG,
      depths: [8, 14, 20, 32, 44, 56, 110],
      shortcuts: ['A', 'B', 'C'] as ('A' | 'B' | 'C')[],
      width: 0.25,
      batchSize: 16,
      iterations: 200_000,
    };
    expect(experimentCost(long).points).toBeGreaterThan(POINTS_LIMIT);
    expect(costProblem(long)).toMatch(/^this experiment would record \d+\.\d million numbers \(28 nets × 200,000 iterations\); the limit is 25\.0 million/);
  });
});

describe('expected time', () => {
  it('turns a run’s throughput into a speed, and back into the same run’s duration', () => {
    // the Classroom preset at 90 images/s (all six nets together)
    const speed = measuredSpeed(CLASSROOM, 90);
    const roundMs = (6 * CLASSROOM.batchSize * 1000) / 90;
    expect(expectedMs(CLASSROOM, speed)).toBeCloseTo(CLASSROOM.iterations * roundMs, 3);
    // the Fig. 6 recipe is about four thousand times the work
    expect(expectedMs(FIG6, speed) / expectedMs(CLASSROOM, speed)).toBeGreaterThan(1000);
    expect(expectedMs(CLASSROOM, 0)).toBe(Number.POSITIVE_INFINITY);
  });
});
