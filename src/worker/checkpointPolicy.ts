// When the worker saves a checkpoint of a run (session.ts asks after every training round).
/**
 * A checkpoint of every net's weights and optimiser state: at every evaluation, when the page is
 * hidden or unloads (it asks), at pause and stop, and in between as often as costs at most a
 * twentieth of the training time (CHECKPOINT_SHARE times what the last one took, and at least every
 * CHECKPOINT_MAX_MS). A reload mid-run (the worker dies with the page, so the page's last request
 * may never be served) then loses a few iterations, not half a minute of them.
 */
export const CHECKPOINT_MAX_MS = 30_000;
export const CHECKPOINT_SHARE = 20;

export interface CheckpointClock {
  /** The page asked for one (it is being hidden or unloaded). */
  checkpointAsked: boolean;
  /** The run's iteration at the last checkpoint. */
  checkpointAt: number;
  /** When the last checkpoint began (performance.now()). */
  lastCheckpoint: number;
  /** How long the last checkpoint took (ms). */
  checkpointMs: number;
  /** The run's iteration now. */
  iteration: number;
  evalEvery: number;
}

/** Whether a checkpoint is due after this round (see CHECKPOINT_SHARE). */
export function checkpointDue(run: CheckpointClock, now = performance.now()): boolean {
  if (run.checkpointAsked) return true;
  if (Math.floor(run.iteration / run.evalEvery) > Math.floor(run.checkpointAt / run.evalEvery)) return true;
  const spacing = Math.min(CHECKPOINT_MAX_MS, CHECKPOINT_SHARE * run.checkpointMs);
  return now - run.lastCheckpoint >= spacing;
}
