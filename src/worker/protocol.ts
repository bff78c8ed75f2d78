// The one typed message protocol between the page and the training worker.
// The page sends Commands; the worker answers with Events. Nothing else crosses the boundary.
import type { BackendReport } from '../core/backend';
import type { ConvSelfTest } from '../core/selftest';

export type Command =
  | { type: 'probe' }
  | { type: 'selftest' };

export type WorkerEvent =
  | { type: 'backend'; report: BackendReport }
  | { type: 'selftest'; result: ConvSelfTest }
  /** Any failure in the worker reaches the page with its cause; the worker never dies silently. */
  | { type: 'error'; during: string; message: string; stack?: string };
