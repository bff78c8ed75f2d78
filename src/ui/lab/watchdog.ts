// The watchdog: a training run whose heartbeat stands still is recovered (a fresh worker, the run
// interrupted with its saved points, Resume from the last checkpoint).
import type { WorkerEvent } from '../../worker/protocol';
import { withError } from '../events';
import { useLab } from '../store';
import { client, own } from './channel';
import { refreshRuns } from './savedRuns';

/**
 * The watchdog. While a run trains, the worker's heartbeat counter (shared memory: its timer, and
 * every kernel call of every CPU thread, bump it) must move. If it stands still this long, training
 * hangs (a helper thread died, and the others wait at a barrier forever; Pause and Stop cannot get
 * through): the page ends the worker, starts a fresh one, and shows the run as interrupted, with its
 * saved points and a Resume from the last checkpoint. Longer than any single kernel call.
 */
const HANG_MS = 8000;
const watch = { counter: null as Int32Array | null, last: 0, movedAt: 0 };

export function checkHeartbeat(): void {
  const now = performance.now();
  const run = useLab.getState().run;
  if (!watch.counter || run?.state !== 'running') {
    watch.movedAt = now;
    return;
  }
  const beat = Atomics.load(watch.counter, 0);
  if (beat !== watch.last) {
    watch.last = beat;
    watch.movedAt = now;
  } else if (now - watch.movedAt > HANG_MS) {
    recoverFromHang(Math.round((now - watch.movedAt) / 1000));
  }
}

function recoverFromHang(seconds: number): void {
  watch.counter = null;
  own.runId = null;
  client.restart();
  useLab.setState((s) => ({
    run: s.run ? { ...s.run, state: 'paused', interrupted: true } : s.run,
    data: { status: 'loading' },
    ...withError(
      s,
      `Training stopped answering for ${seconds} s (a CPU helper thread may have died), so the lab restarted its worker. Every point saved until then is kept; Resume continues from the last checkpoint.`,
    ),
  }));
  client.send({ type: 'probe' });
  client.send({ type: 'loadData' });
  void refreshRuns();
}

/** The worker's heartbeat counter (shared memory), sent once per worker. */
export function watchHeartbeat(e: Extract<WorkerEvent, { type: 'heartbeat' }>): void {
  watch.counter = e.counter;
  watch.last = Atomics.load(e.counter, 0);
  watch.movedAt = performance.now();
}
