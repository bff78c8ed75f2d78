// This machine's training speed, for the times the form expects before Start: from a run that ran here
// long enough, or on a first visit from a few timed steps.
import { measuredSpeed } from '../../core/cost';
import { median } from '../../core/fig7';
import { cifarNet, multiplyAdds } from '../../core/nets';
import type { BenchSpec } from '../../worker/protocol';
import { saveSpeed, useLab } from '../store';
import { own, runBench } from './channel';

/** Iterations a run must have trained for its throughput to stand for this machine's speed. */
const SPEED_MIN_ITERATIONS = 30;

/** Keep this machine's training speed from a run that ran here long enough (for expected times before Start). */
export function rememberSpeed(runId: string): void {
  const run = useLab.getState().run;
  if (!run || run.id !== runId || run.id !== own.runId || !run.progress || run.progress.iteration < SPEED_MIN_ITERATIONS || !(run.progress.imagesPerSec > 0))
    return;
  saveSpeed({ macsPerSec: measuredSpeed(run.config, run.progress.imagesPerSec), engine: run.engine });
}

/**
 * The net a first visit times to say how long an experiment will take here before any run has
 * measured this machine: ResNet-20 at the Classroom width and batch, a few steps of one copy per thread
 * of the lab CPU engine stepped together, as a run of several nets trains (about a second). The first
 * run that trains long enough replaces the figure (rememberSpeed).
 */
const ESTIMATE_SPEC: BenchSpec = {
  backend: 'lab-cpu',
  n: 3,
  residual: true,
  width: 0.25,
  batch: 64,
  reps: 3,
  budgetMs: 1500,
  schedule: 'nets',
  copies: 'threads',
};
let estimating = false;

export async function estimateSpeed(): Promise<void> {
  if (estimating || useLab.getState().speed || useLab.getState().run?.state === 'running') return;
  estimating = true;
  const r = await runBench(ESTIMATE_SPEC);
  if (!r.ok || !r.stepMs?.length || useLab.getState().speed) return;
  const stepMs = median(r.stepMs);
  const macs = multiplyAdds(cifarNet({ n: ESTIMATE_SPEC.n, residual: ESTIMATE_SPEC.residual, shortcut: 'A', width: ESTIMATE_SPEC.width }));
  saveSpeed({ macsPerSec: ((r.copies ?? 1) * ESTIMATE_SPEC.batch * macs) / (stepMs / 1000), engine: r.engine ?? 'lab CPU engine', estimated: true });
}
