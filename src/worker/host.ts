// What every part of the worker shares: the one way to talk to the page (post), error reports,
// and the worker's state (the backend report, the loaded dataset and the current engine).
import type { BackendReport } from '../core/backend';
import type { ExperimentConfig } from '../core/config';
import type { CifarDataset } from '../core/data/cifar10';
import { DataError } from '../core/data/cifar10';
import type { EngineHandle } from './engines';
import type { AutoWorkload } from './engines';
import { engineFor } from './engines';
import type { WorkerEvent } from './protocol';

export const post = (event: WorkerEvent, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(event, transfer);

export function reportError(during: string, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  post({ type: 'error', during, message: e.message, stack: e.stack });
}

export const errorMessage = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The worker's state outside a run. */
export const lab: { report: BackendReport | null; dataset: CifarDataset | null; handle: EngineHandle | null } = {
  report: null,
  dataset: null,
  handle: null,
};

/** Make `choice` the current engine (a tfjs engine it replaces is disposed; the lab engines are kept for reuse). */
export async function switchEngine(choice: ExperimentConfig['backend'], workload?: AutoWorkload): Promise<EngineHandle> {
  const next = await engineFor(choice, lab.report, workload);
  if (lab.handle && lab.handle.engine !== next.engine && !lab.handle.persistent) lab.handle.engine.dispose();
  lab.handle = next;
  return next;
}

export function requireData(): CifarDataset {
  if (!lab.dataset) throw new DataError('no CIFAR-10 data is loaded yet: load it from the server or drop the archive onto the page');
  return lab.dataset;
}
