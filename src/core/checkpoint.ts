// What makes a checkpoint trustworthy: the checks run before one is written and again before a
// run resumes from it (src/storage/runsWrite.ts, src/storage/runsDb.ts).
import type { Checkpoint } from './experiment';

/** The iteration a checkpoint resumes from: the furthest net's. */
export function checkpointIteration(cp: Checkpoint): number {
  return Math.max(0, ...Object.values(cp.nets).map((n) => n.iteration));
}

/**
 * Why a checkpoint cannot be trusted, or null: it must hold at least one net, and every net that
 * has not diverged must have finite weights, momentum and BN statistics (a diverged net's NaNs are
 * its result, and it trains no more).
 */
export function checkpointProblem(cp: Checkpoint): string | null {
  const nets = Object.entries(cp?.nets ?? {});
  if (nets.length === 0) return 'the checkpoint holds no nets';
  for (const [id, n] of nets) {
    if (!n?.state || !Number.isFinite(n.iteration)) return `the checkpoint of ${id} is incomplete`;
    if (n.status === 'diverged') continue;
    for (const [part, tensors] of Object.entries(n.state)) {
      for (const [name, values] of Object.entries(tensors as Record<string, Float32Array>)) {
        for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return `${id}: ${part} ${name}[${i}] is ${values[i]}`;
      }
    }
  }
  return null;
}
