// The training worker: owns tfjs and everything heavy, so the page stays responsive.
import { probeBackends } from '../core/backend';
import { convSelfTest } from '../core/selftest';
import type { Command, WorkerEvent } from './protocol';

const post = (event: WorkerEvent) => (self as unknown as Worker).postMessage(event);

function reportError(during: string, err: unknown) {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: 'error', during, message: e.message, stack: e.stack });
}

self.addEventListener('error', (e) => reportError('worker', (e as ErrorEvent).error ?? (e as ErrorEvent).message));
self.addEventListener('unhandledrejection', (e) => reportError('worker', (e as PromiseRejectionEvent).reason));

async function handle(cmd: Command): Promise<void> {
  switch (cmd.type) {
    case 'probe':
      post({ type: 'backend', report: await probeBackends() });
      return;
    case 'selftest':
      post({ type: 'selftest', result: await convSelfTest() });
      return;
  }
}

self.addEventListener('message', (e: MessageEvent<Command>) => {
  handle(e.data).catch((err) => reportError(e.data.type, err));
});
