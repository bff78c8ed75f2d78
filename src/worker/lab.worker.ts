// The training worker: owns tfjs, the lab CPU engine, the data and the running experiment, so the
// page only renders. This file is the dispatcher: each command of src/worker/protocol.ts goes to
// its handler: data here, the run session and saved runs in ./session.ts, the benchmark and the
// backend check in ./diagnostics.ts. Every failure reaches the page with its cause.
import { probeBackends } from '../core/backend';
import type { CifarDataset } from '../core/data/cifar10';
import { DATA_GUIDANCE } from '../core/data/guidance';
import { convSelfTest } from '../core/selftest';
import { NoServerData, loadDataset, loadDropped, summarize } from './dataLoader';
import { bench, netCheck } from './diagnostics';
import { heartbeat } from './heartbeat';
import { errorMessage, lab, post, reportError } from './host';
import type { Command } from './protocol';
import * as session from './session';
import { onStorageProblem } from '../storage/runsDb';

self.addEventListener('error', (e) => reportError('worker', (e as ErrorEvent).error ?? (e as ErrorEvent).message));
self.addEventListener('unhandledrejection', (e) => reportError('worker', (e as PromiseRejectionEvent).reason));

function announce(ds: CifarDataset, cacheNote?: string) {
  lab.dataset = ds;
  const summary = summarize(ds, cacheNote);
  post({ type: 'dataset', summary }, [summary.samples.images.buffer]);
}

function progressPoster() {
  let last = 0;
  return (file: string, loaded: number, total: number | null) => {
    const now = performance.now();
    if (now - last < 100 && loaded !== total) return;
    last = now;
    post({ type: 'dataProgress', file, loaded, total });
  };
}

/** Run a saved-run edit and answer its request, with the error's words when it fails. */
async function savedRunEdit(requestId: number, runId: string, edit: () => Promise<string | void>): Promise<void> {
  try {
    const name = await edit();
    post({ type: 'savedRun', requestId, ok: true, runId, name: name ?? undefined });
  } catch (err) {
    post({ type: 'savedRun', requestId, ok: false, runId, message: errorMessage(err) });
  }
}

/** Start or resume a run; if that throws, the run is 'failed' with the reason (the page never waits in 'starting'). */
async function startOrFail(runId: string, open: () => Promise<void>): Promise<void> {
  try {
    await open();
  } catch (err) {
    post({ type: 'run', runId, state: 'failed', message: errorMessage(err) });
    throw err;
  }
}

/** The benchmark timing in flight (a first visit's speed estimate, or bench/run.ts), which a start waits for. */
let benching: Promise<void> = Promise.resolve();

async function dispatch(cmd: Command): Promise<void> {
  switch (cmd.type) {
    case 'probe':
      if (heartbeat) post({ type: 'heartbeat', counter: heartbeat });
      lab.report = await probeBackends();
      post({ type: 'backend', report: lab.report });
      return;
    case 'selftest':
      post({ type: 'selftest', result: await convSelfTest() });
      return;
    case 'loadData':
      try {
        const { dataset: ds, cacheNote } = await loadDataset(progressPoster(), cmd.reload);
        announce(ds, cacheNote);
      } catch (err) {
        if (err instanceof NoServerData) post({ type: 'dataMissing', reason: err.message, guidance: DATA_GUIDANCE });
        else post({ type: 'dataError', message: errorMessage(err) });
      }
      return;
    case 'dropFiles':
      try {
        const { dataset: ds, cacheNote } = await loadDropped(cmd.files);
        announce(ds, cacheNote);
      } catch (err) {
        post({ type: 'dataError', message: errorMessage(err) });
      }
      return;
    case 'start':
      // a run waits for a timing in flight: both would step the one lab CPU engine
      await benching;
      return startOrFail(cmd.runId, () => session.start(cmd));
    case 'pause':
      return session.pause();
    case 'checkpointSoon':
      return session.checkpointSoon();
    case 'stop':
      return session.stop(cmd.runId);
    case 'resume':
      await benching;
      return startOrFail(cmd.runId, () => session.resume(cmd));
    case 'addNet':
      return session.addNet(cmd);
    case 'injectFault':
      return session.injectFault(cmd.kind);
    case 'renameRun':
      return savedRunEdit(cmd.requestId, cmd.runId, () => session.rename(cmd.runId, cmd.name));
    case 'deleteRun':
      return savedRunEdit(cmd.requestId, cmd.runId, () => session.remove(cmd.runId));
    case 'importRun':
      return savedRunEdit(cmd.requestId, cmd.runId, () => session.importFile(cmd.runId, cmd.fileName, cmd.bytes));
    case 'netCheck':
      post(await netCheck());
      return;
    case 'landscape':
      // waits for a benchmark timing in flight, as a start does: both would use the one engine
      await benching;
      return session.landscape(cmd);
    case 'cancelLandscape':
      return session.cancelLandscape();
    case 'bench': {
      const result = bench(cmd.spec);
      benching = result.then(() => undefined);
      post({ type: 'benchResult', id: cmd.id, result: await result });
      return;
    }
  }
}

// the saved-runs database's trouble, met by the worker's reads and writes, goes to the page's messages
onStorageProblem((message) => post({ type: 'error', during: 'storage', message }));

self.addEventListener('message', (e: MessageEvent<Command>) => {
  dispatch(e.data).catch((err) => reportError(e.data.type, err));
});
