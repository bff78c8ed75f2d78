// How the page's state follows the worker's events: a pure function from the state and one event
// to the change, so it is tested without a browser (events.test.ts). labController applies it and
// runs the side effects (answering waiting requests, refreshing the saved-run list).
import type { WorkerEvent } from '../worker/protocol';
import type { LabState } from './store';
import { mergeSeries } from './store';

/** At most this many error messages stay on the page (the newest). */
export const MAX_ERRORS = 5;

/** Add a message to the page's errors; one already shown is not shown twice (the page and the worker may both meet it). */
export function withError(s: Pick<LabState, 'errors'>, message: string): Pick<LabState, 'errors'> {
  if (s.errors.includes(message)) return { errors: s.errors };
  return { errors: [...s.errors.slice(-(MAX_ERRORS - 1)), message] };
}

/**
 * A data load failed. A failed drop leaves the dataset that was loaded before it in place (the
 * worker still trains on it): the panel shows it again, and the message says what was wrong.
 */
export function dataFailed(s: Pick<LabState, 'data' | 'errors'>, message: string): Partial<LabState> {
  if (s.data.status === 'ready') return withError(s, message);
  if (s.data.status === 'loading' && s.data.previous) return { data: s.data.previous, ...withError(s, message) };
  return { data: { status: 'error', message } };
}

/** The state change for one worker event, received at `now` (ms, Date.now()); null when the event changes no state. */
export function reduceEvent(s: LabState, e: WorkerEvent, now = Date.now()): Partial<LabState> | null {
  switch (e.type) {
    case 'backend':
      return { backend: e.report };
    case 'selftest':
      return { selftest: e.result };
    case 'netCheck':
      return { netCheck: { backend: e.backend, maxRelDiff: e.maxRelDiff, worst: e.worst } };
    case 'dataProgress':
      return {
        data: { status: 'loading', file: e.file, loaded: e.loaded, total: e.total, previous: s.data.status === 'loading' ? s.data.previous : undefined },
      };
    case 'dataset':
      return { data: { status: 'ready', summary: e.summary } };
    case 'dataMissing':
      return { data: { status: 'missing', reason: e.reason, guidance: e.guidance } };
    case 'dataError':
      return dataFailed(s, e.message);
    case 'run':
      if (!s.run || s.run.id !== e.runId) return null;
      return {
        run: {
          ...s.run,
          state: e.state,
          engine: e.engine ?? s.run.engine,
          message: e.message,
          interrupted: e.state === 'running' || e.state === 'stopped' ? false : s.run.interrupted,
          pending: undefined,
        },
      };
    case 'metrics':
      if (!s.run || s.run.id !== e.runId) return null;
      return {
        run: {
          ...s.run,
          series: mergeSeries(s.run.series, e.delta.nets),
          // keep the same array while nothing about the nets changed, so memoised charts skip work
          nets: JSON.stringify(s.run.nets) === JSON.stringify(e.delta.infos) ? s.run.nets : e.delta.infos,
          progress: e.delta.progress,
        },
        memory: { tensors: e.delta.memory.tensors, bytes: e.delta.memory.bytes },
      };
    case 'series':
      // sent when a run resumes from a stored checkpoint: its points up to there, and where it is
      return s.run && s.run.id === e.runId
        ? {
            run: {
              ...s.run,
              series: e.nets,
              nets: e.infos,
              checkpointIteration: e.iteration,
              progress: s.run.progress && { ...s.run.progress, iteration: e.iteration },
            },
            notice: `Resumed from the checkpoint at iteration ${e.iteration.toLocaleString('en')}.`,
          }
        : null;
    case 'checkpoint':
      return s.run && s.run.id === e.runId ? { run: { ...s.run, checkpointIteration: e.iteration } } : null;
    case 'storageFull':
      return {
        ...withError(
          s,
          `Storage is full: the saved copy of this run stops at iteration ${e.iteration.toLocaleString('en')}. Training goes on, and every point stays on this page: use Export JSON to keep them, and delete saved runs you no longer need.`,
        ),
        run: s.run && s.run.id === e.runId ? { ...s.run, storageFullAt: e.iteration } : s.run,
      };
    case 'backendFailed':
      return { backendFailure: { runId: e.runId, backend: e.backend, message: e.message, suggestion: e.suggestion } };
    case 'error':
      // a Pause or Stop the worker refused is no longer pending
      // storage trouble is said in its own words, as the page says it when the page meets it (labController's listener)
      return {
        ...withError(s, e.during === 'storage' ? e.message : `${e.during}: ${e.message}`),
        ...((e.during === 'stop' || e.during === 'pause') && s.run?.pending ? { run: { ...s.run, pending: undefined } } : {}),
      };
    case 'landscapeRow': {
      const job = s.run?.id === e.runId ? s.run.landscapeJob : undefined;
      const net = job?.partial.nets[e.index];
      if (!s.run || !job || !net) return null;
      const nets = job.partial.nets.map((n, i) => (i === e.index ? { ...n, loss: [...n.loss, e.loss], err: [...n.err, e.err] } : n));
      return { run: { ...s.run, landscapeJob: { ...job, partial: { ...job.partial, nets }, done: job.done + 1, stepAt: now } } };
    }
    case 'landscapePath': {
      const job = s.run?.id === e.runId ? s.run.landscapeJob : undefined;
      if (!s.run || !job) return null;
      const partial = { ...job.partial, paths: [...(job.partial.paths ?? []), e.path] };
      return { run: { ...s.run, landscapeJob: { ...job, partial, done: job.done + 1, stepAt: now } } };
    }
    case 'landscape':
      return s.run?.id === e.runId ? { run: { ...s.run, landscape: e.landscape, landscapeJob: undefined } } : null;
    case 'landscapeEnded':
      return {
        ...(e.outcome === 'failed' ? withError(s, `Loss landscape: ${e.message ?? 'failed'}`) : {}),
        run: s.run?.id === e.runId ? { ...s.run, landscapeJob: undefined } : s.run,
      };
    case 'benchResult':
    case 'savedRun':
    case 'heartbeat':
      return null;
  }
}
