import { describe, expect, it } from 'vitest';
import { CHECKPOINT_MAX_MS, CHECKPOINT_SHARE, checkpointDue, type CheckpointClock } from './checkpointPolicy';

const clock = (over: Partial<CheckpointClock> = {}): CheckpointClock => ({
  checkpointAsked: false,
  checkpointAt: 100,
  lastCheckpoint: 1_000,
  checkpointMs: 10,
  iteration: 104,
  evalEvery: 50,
  ...over,
});

describe('when a run is checkpointed', () => {
  it('spaces checkpoints by what they cost: one that takes 10 ms is taken every 200 ms, no sooner', () => {
    expect(checkpointDue(clock(), 1_000 + CHECKPOINT_SHARE * 10 - 1)).toBe(false);
    expect(checkpointDue(clock(), 1_000 + CHECKPOINT_SHARE * 10)).toBe(true);
  });

  it('never waits longer than CHECKPOINT_MAX_MS, however slow a checkpoint is', () => {
    expect(checkpointDue(clock({ checkpointMs: 5_000 }), 1_000 + CHECKPOINT_MAX_MS - 1)).toBe(false);
    expect(checkpointDue(clock({ checkpointMs: 5_000 }), 1_000 + CHECKPOINT_MAX_MS)).toBe(true);
  });

  it('takes one at once when the page asks (it is hidden or unloading), and after every evaluation', () => {
    expect(checkpointDue(clock({ checkpointAsked: true }), 1_001)).toBe(true);
    // iteration 150 is an evaluation (every 50): the checkpoint at 104 came before it
    expect(checkpointDue(clock({ iteration: 149 }), 1_001)).toBe(false);
    expect(checkpointDue(clock({ iteration: 150 }), 1_001)).toBe(true);
    expect(checkpointDue(clock({ checkpointAt: 150, iteration: 151 }), 1_001)).toBe(false);
  });
});
