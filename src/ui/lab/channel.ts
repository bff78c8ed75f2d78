// The page's one line to the worker: the client, the requests that wait for an answer (a bench case,
// a saved-run edit), and the page's error messages. Every other module of the page that talks to the
// worker goes through here.
import type { BenchResult, BenchSpec, Command, WorkerEvent } from '../../worker/protocol';
import { withError } from '../events';
import { LabClient } from '../labClient';
import { useLab } from '../store';

export const client = new LabClient();

/** Add a message to the page's errors. */
export function addError(message: string): void {
  useLab.setState((s) => withError(s, message));
}

/** The run this tab's worker trains (or was last asked to), if any. */
export const own: { runId: string | null } = { runId: null };

const benchWaiters = new Map<number, (r: BenchResult) => void>();
let benchIds = 0;

/** Time one benchmark case in the worker (bench/run.ts drives this through the automation API). */
export function runBench(spec: BenchSpec): Promise<BenchResult> {
  const id = ++benchIds;
  return new Promise((resolve) => {
    benchWaiters.set(id, resolve);
    client.send({ type: 'bench', id, spec });
  });
}

let requestIds = 0;
const savedRunWaiters = new Map<number, (e: Extract<WorkerEvent, { type: 'savedRun' }>) => void>();

/** Ask the worker (the one writer of saved runs) for an edit, and wait for its answer. */
export function savedRunRequest(
  make: (requestId: number) => Extract<Command, { type: 'renameRun' | 'deleteRun' | 'importRun' }>,
  transfer: Transferable[] = [],
): Promise<Extract<WorkerEvent, { type: 'savedRun' }>> {
  const requestId = ++requestIds;
  return new Promise((resolve) => {
    savedRunWaiters.set(requestId, resolve);
    client.send(make(requestId), transfer);
  });
}

/** Wake the request an answer belongs to; whether the event was one. */
export function answer(e: WorkerEvent): boolean {
  if (e.type === 'benchResult') {
    benchWaiters.get(e.id)?.(e.result);
    benchWaiters.delete(e.id);
    return true;
  }
  if (e.type === 'savedRun') {
    savedRunWaiters.get(e.requestId)?.(e);
    savedRunWaiters.delete(e.requestId);
    return true;
  }
  return false;
}
