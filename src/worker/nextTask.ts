// Yield the worker's thread for a turn of its event loop, so that the page's commands (Pause, Stop, Cancel) queued
// while it computed are heard before it goes on.
//
// Not a bare setTimeout(0): a timer set from inside a timer's task nests, and from the fifth level on the browser
// holds it for at least 4 ms (HTML's timer clamping). The training loop and the landscape yield after every round or
// point, on the lab CPU engine each from inside the previous yield's timer task, so setTimeout cost 4 ms every time:
// measured in the page, 4.0–4.3 ms a landscape point (of about 140 ms); a training round's yield is the same chain
// (the Classroom preset's 200 iterations: medians 35.0 s before, 33.6 s after, docs/landscape.md). Here the yield
// first hops through a MessageChannel (a message's task is not a timer's, so the nesting starts again) and then sets
// its timer, which is never clamped. The timer, not the message alone, is what lets other tasks in: a port that
// messages itself can be served ahead of every other queue (Node's ports are: nextTask.test.ts).
const channel = typeof MessageChannel === 'function' ? new MessageChannel() : null;
const waiting: (() => void)[] = [];
if (channel) {
  channel.port1.onmessage = () => setTimeout(waiting.shift()!, 0);
  // Node's ports keep its process alive while referenced; a browser's have no unref
  (channel.port1 as { unref?: () => void }).unref?.();
}

/** Resolve in a later task of the event loop, after the other tasks that are due. */
export function nextTask(): Promise<void> {
  return new Promise((resolve) => {
    if (!channel) {
      setTimeout(resolve, 0);
      return;
    }
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });
}
