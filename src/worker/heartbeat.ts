// The worker's side of the page's watchdog.

/**
 * The worker's heartbeat: a shared counter bumped four times a second by a timer, and after every
 * kernel call by each lab CPU engine thread. The page watches it (src/ui/lab/watchdog.ts): while a run
 * trains, a counter that stands still for seconds means training hangs (a dead helper thread
 * leaves the others waiting at a barrier forever). Null where shared memory is not available;
 * there the lab CPU engine has no helper threads to lose.
 */
export const heartbeat: Int32Array | null =
  typeof SharedArrayBuffer !== 'undefined' && self.crossOriginIsolated === true ? new Int32Array(new SharedArrayBuffer(4)) : null;
if (heartbeat) setInterval(() => Atomics.add(heartbeat, 0, 1), 250);
