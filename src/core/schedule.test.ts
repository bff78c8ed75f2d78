import { describe, expect, it } from 'vitest';
import { learningRate, stepSchedule, warmupForDepth } from './schedule';
import type { EngineNet, StepResult } from './train';
import { NetTrainer } from './train';
import type { ScheduleConfig } from './schedule';

/** Compare learning rates to 12 significant digits (0.1 · 0.1 is 0.010000000000000002). */
const round = (xs: number[]) => xs.map((x) => Number(x.toPrecision(12)));

const paper: ScheduleConfig = { lr: 0.1, iterations: 64_000, warmup: 'off', iterationsPerEpoch: 391 };

describe('the step schedule', () => {
  it('divides lr by 10 at 32k and 48k of 64k iterations', () => {
    expect(round([0, 31_999, 32_000, 47_999, 48_000, 63_999].map((t) => stepSchedule(t, 0.1, 64_000)))).toEqual([0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
  });

  it('scales to a run’s length: a 1,000-iteration run drops at 500 and 750', () => {
    expect(round([499, 500, 749, 750].map((t) => stepSchedule(t, 0.1, 1000)))).toEqual([0.1, 0.01, 0.01, 0.001]);
  });
});

describe('warmup modes', () => {
  it('off: the step schedule from the first iteration', () => {
    expect(learningRate(0, paper)).toBe(0.1);
  });

  it('paper: 0.01 until the running error is below 80%, then back to 0.1', () => {
    const cfg = { ...paper, warmup: 'paper' as const };
    expect(round([learningRate(0, cfg, null)])).toEqual([0.01]);
    expect(round([learningRate(5_000, cfg, null)])).toEqual([0.01]); // still above 80% error: still warming up
    expect(round([learningRate(400, cfg, 400)])).toEqual([0.01]); // the iteration that crossed 80% trained at 0.01
    expect(learningRate(401, cfg, 400)).toBe(0.1);
    expect(learningRate(40_000, cfg, 400)).toBeCloseTo(0.01); // and the step schedule applies after
  });

  it('paper: a net whose error never falls below 80% gets exactly the step schedule’s rates after the first drop', () => {
    // the bug this pins: such a net used to keep 0.01 to the end, while its neighbours went to 0.001
    const cfg = { ...paper, iterations: 1000, warmup: 'paper' as const };
    const never = (t: number) => learningRate(t, cfg, null);
    expect(round([0, 499].map(never))).toEqual([0.01, 0.01]);
    for (const t of [500, 600, 749, 750, 999]) expect(never(t), `iteration ${t}`).toBe(stepSchedule(t, 0.1, 1000));
    expect(round([500, 750].map(never))).toEqual([0.01, 0.001]);
    // the same cap in every warmup mode: no warmup rate above the step schedule's
    const short = { ...cfg, iterations: 100, iterationsPerEpoch: 391 };
    for (const warmup of ['paper', 'constant', 'linear'] as const) {
      for (let t = 0; t < 100; t++) expect(learningRate(t, { ...short, warmup }, null)).toBeLessThanOrEqual(stepSchedule(t, 0.1, 100));
    }
  });

  it('constant: 0.01 for the first epoch', () => {
    const cfg = { ...paper, warmup: 'constant' as const };
    expect(round([0, 390, 391].map((t) => learningRate(t, cfg)))).toEqual([0.01, 0.01, 0.1]);
  });

  it('linear: a ramp from 0 to the base rate over the first epoch', () => {
    const cfg = { ...paper, warmup: 'linear' as const, iterationsPerEpoch: 100 };
    expect(learningRate(0, cfg)).toBeCloseTo(0.001);
    expect(learningRate(49, cfg)).toBeCloseTo(0.05);
    expect(learningRate(99, cfg)).toBeCloseTo(0.1);
    expect(learningRate(100, cfg)).toBe(0.1);
  });
});

describe('the paper’s warmup rule in training', () => {
  /** A net whose mini-batch error is scripted: 95% for its first `slow` steps, then 40% (from step `start` on). */
  const scripted = (slow: number, start = 0) => {
    let step = start;
    const seen: number[] = [];
    const net = {
      step: async (lr: number): Promise<StepResult> => {
        seen.push(lr);
        return { loss: 1, errors: (step++ < slow ? 0.95 : 0.4) * 10, size: 10 };
      },
    } as unknown as EngineNet;
    return { net, seen };
  };

  it('warms up at lr/10 until the running error (50 batches) is below 80%, then trains at the base rate', async () => {
    const { net, seen } = scripted(30);
    const trainer = new NetTrainer(net, { ...paper, iterations: 1000, warmup: 'paper' });
    for (let i = 0; i < 120; i++) await trainer.step();
    // running error after k ≥ 30 steps: (30·0.95 + (k−30)·0.4)/k < 0.8 first at k = 42 (iteration 41)
    expect(trainer.warmupEnd).toBe(41);
    expect(round(seen.slice(0, 42))).toEqual(new Array(42).fill(0.01));
    expect(seen.slice(42).every((lr) => lr === 0.1)).toBe(true);
  });

  it('resumes with the same warmup state from the recorded errors', async () => {
    const { net, seen } = scripted(30);
    const whole = new NetTrainer(net, { ...paper, iterations: 1000, warmup: 'paper' });
    for (let i = 0; i < 60; i++) await whole.step();
    const first = scripted(30);
    const before = new NetTrainer(first.net, { ...paper, iterations: 1000, warmup: 'paper' });
    for (let i = 0; i < 40; i++) await before.step(); // still warming up at the checkpoint
    const after = scripted(30, 40);
    const resumed = new NetTrainer(after.net, { ...paper, iterations: 1000, warmup: 'paper' });
    resumed.restoreErrors(before.errorHistory());
    expect(resumed.warmupEnd).toBeNull();
    for (let i = 40; i < 60; i++) await resumed.step();
    expect(after.seen).toEqual(seen.slice(40, 60));
    expect(resumed.warmupEnd).toBe(whole.warmupEnd);
  });

  it('"paper-110" warms up nets of 110 layers or more only, as the paper did', () => {
    expect(warmupForDepth('paper-110', 56)).toBe('off');
    expect(warmupForDepth('paper-110', 110)).toBe('paper');
    for (const m of ['off', 'paper', 'constant', 'linear'] as const) expect(warmupForDepth(m, 20)).toBe(m);
  });
});
