// The page's event reducer (./events.ts) and mergeSeries (./store.ts): what each worker event does
// to the page's state, without a browser.
import { describe, expect, it } from 'vitest';
import { CLASSROOM } from '../core/presets';
import type { NetInfo, NetSeries } from '../core/metrics';
import { emptySeries } from '../core/metrics';
import type { WorkerEvent } from '../worker/protocol';
import { MAX_ERRORS, reduceEvent, withError } from './events';
import type { LabState, RunView } from './store';
import { landscapeTimeLeft, mergeSeries, useLab } from './store';

const info = (id: string): NetInfo => ({ id, label: id, depth: 8, residual: false, shortcut: 'A', params: 100, status: 'training', divergedAt: null });

function trainPoints(from: number, count: number): NetSeries {
  const s = emptySeries();
  for (let i = from; i < from + count; i++) {
    s.train.it.push(i);
    s.train.loss.push(2);
    s.train.err.push(0.9);
    s.train.runErr.push(0.9);
    s.train.lr.push(0.1);
  }
  return s;
}

function runView(over: Partial<RunView> = {}): RunView {
  return {
    id: 'r1',
    name: 'run',
    state: 'running',
    engine: 'lab-cpu',
    config: CLASSROOM,
    nets: [info('plain-8')],
    series: {},
    progress: null,
    checkpointIteration: null,
    ...over,
  };
}

function state(over: Partial<LabState> = {}): LabState {
  return { ...useLab.getState(), run: runView(), ...over };
}

const metrics = (runId: string, nets: Record<string, NetSeries>, infos = [info('plain-8')]): WorkerEvent => ({
  type: 'metrics',
  runId,
  delta: { nets, infos, progress: { iteration: 10, iterations: 100, imagesPerSec: 50, elapsedMs: 1000, etaMs: 9000 }, memory: { tensors: 3, bytes: 1024 } },
});

describe('reduceEvent', () => {
  it('appends streamed points to the run on screen, and ignores another run’s', () => {
    const s = state();
    const change = reduceEvent(s, metrics('r1', { 'plain-8': trainPoints(0, 5) }))!;
    expect(change.run!.series['plain-8'].train.it).toEqual([0, 1, 2, 3, 4]);
    expect(change.run!.progress!.iteration).toBe(10);
    expect(change.memory).toEqual({ tensors: 3, bytes: 1024 });
    // the nets did not change: the same array, so memoised charts skip work
    expect(change.run!.nets).toBe(s.run!.nets);
    expect(reduceEvent(s, metrics('other', { 'plain-8': trainPoints(0, 5) }))).toBeNull();
  });

  it('takes the new net list when a net was added', () => {
    const s = state();
    const infos = [info('plain-8'), info('plain-20')];
    expect(reduceEvent(s, metrics('r1', {}, infos))!.run!.nets).toEqual(infos);
  });

  it('follows the run’s state; running again clears "interrupted"', () => {
    const s = state({ run: runView({ state: 'paused', interrupted: true }) });
    const running = reduceEvent(s, { type: 'run', runId: 'r1', state: 'running', engine: 'lab CPU engine' })!;
    expect(running.run).toMatchObject({ state: 'running', engine: 'lab CPU engine', interrupted: false });
    // stopped, it is no longer an interrupted run waiting to resume; failed, it still is
    const stopped = reduceEvent(s, { type: 'run', runId: 'r1', state: 'stopped' })!;
    expect(stopped.run).toMatchObject({ state: 'stopped', engine: 'lab-cpu', interrupted: false });
    expect(reduceEvent(s, { type: 'run', runId: 'r1', state: 'failed' })!.run).toMatchObject({ state: 'failed', interrupted: true });
    expect(reduceEvent(s, { type: 'run', runId: 'r2', state: 'done' })).toBeNull();
  });

  it('replaces every point after a resume, and records checkpoints', () => {
    const s = state({
      run: runView({ series: { 'plain-8': trainPoints(0, 50) }, progress: { iteration: 50, iterations: 100, imagesPerSec: 5, elapsedMs: 10, etaMs: 10 } }),
    });
    const change = reduceEvent(s, { type: 'series', runId: 'r1', nets: { 'plain-8': trainPoints(0, 20) }, infos: [info('plain-8')], iteration: 19 })!;
    expect(change.run!.series['plain-8'].train.it.length).toBe(20);
    expect(change.notice).toBe('Resumed from the checkpoint at iteration 19.');
    expect(change.run!.progress!.iteration).toBe(19);
    expect(reduceEvent(s, { type: 'checkpoint', runId: 'r1', iteration: 40 })!.run!.checkpointIteration).toBe(40);
  });

  it('keeps a loaded dataset when a drop fails, and says why', () => {
    const ready = state({ data: { status: 'ready', summary: {} as never }, errors: [] });
    const change = reduceEvent(ready, { type: 'dataError', message: 'not a CIFAR-10 file' })!;
    expect(change.data).toBeUndefined();
    expect(change.errors).toEqual(['not a CIFAR-10 file']);
    const loading = state({ data: { status: 'loading' } });
    expect(reduceEvent(loading, { type: 'dataError', message: 'bad' })!.data).toEqual({ status: 'error', message: 'bad' });
  });

  it('a drop that fails after loading started brings back the dataset loaded before it', () => {
    const ready = { status: 'ready' as const, summary: { trainCount: 500 } as never };
    let s = state({ data: { status: 'loading', file: 'x.tar.gz', previous: ready }, errors: [] });
    s = { ...s, ...reduceEvent(s, { type: 'dataProgress', file: 'x.tar.gz', loaded: 10, total: 100 }) };
    expect(s.data).toMatchObject({ status: 'loading', previous: ready });
    const change = reduceEvent(s, { type: 'dataError', message: 'x.tar.gz is not a valid gzip file' })!;
    expect(change.data).toBe(ready);
    expect(change.errors).toEqual(['x.tar.gz is not a valid gzip file']);
  });

  it('Stopping… lasts until the worker answers: its state event, or its refusal', () => {
    const s = state({ run: runView({ pending: 'stopping' }) });
    expect(reduceEvent(s, { type: 'run', runId: 'r1', state: 'stopped' })!.run).toMatchObject({ state: 'stopped', pending: undefined });
    expect(reduceEvent(s, { type: 'error', during: 'stop', message: 'no saved run r1' })!.run!.pending).toBeUndefined();
    expect(reduceEvent(s, { type: 'error', during: 'training', message: 'x' })!.run).toBeUndefined();
  });

  it('grows a landscape row by row as it streams in, then takes the saved result; a cancel keeps the one before, a failure says why', () => {
    const partial = { iteration: 20, seed: 1, grid: 2, span: 1, sample: 8, nets: [{ id: 'plain-8', label: 'plain-8', loss: [], err: [], seconds: 0 }] };
    const before = {
      ...partial,
      nets: [
        {
          ...partial.nets[0],
          loss: [
            [1, 2],
            [3, 4],
          ],
          err: [
            [0, 0],
            [0, 0],
          ],
        },
      ],
    };
    let s = state({ run: runView({ state: 'done', landscape: before, landscapeJob: { partial, done: 0, total: 2, startedAt: 0, stepAt: 0 } }) });
    const row = (r: number): WorkerEvent => ({
      type: 'landscapeRow',
      runId: 'r1',
      net: 'plain-8',
      index: 0,
      row: r,
      rows: 2,
      loss: [2.3, null],
      err: [0.9, 1],
    });
    s = { ...s, ...reduceEvent(s, row(0), 3000) };
    expect(s.run!.landscapeJob!.done).toBe(1);
    expect(s.run!.landscapeJob!.stepAt).toBe(3000);
    // a step in 3 s, one to go
    expect(landscapeTimeLeft(s.run!.landscapeJob!)).toBe(3000);
    expect(s.run!.landscapeJob!.partial.nets[0].loss).toEqual([[2.3, null]]);
    expect(reduceEvent(s, { ...row(1), runId: 'other' } as WorkerEvent)).toBeNull();
    const cancelled = { ...s, ...reduceEvent(s, { type: 'landscapeEnded', runId: 'r1', outcome: 'cancelled' }) };
    expect(cancelled.run!.landscapeJob).toBeUndefined();
    expect(cancelled.run!.landscape).toBe(before);
    expect(cancelled.errors).toEqual([]);
    const failed = { ...s, ...reduceEvent(s, { type: 'landscapeEnded', runId: 'r1', outcome: 'failed', message: 'no net x' }) };
    expect(failed.errors).toEqual(['Loss landscape: no net x']);
    const done = { ...s, ...reduceEvent(s, { type: 'landscape', runId: 'r1', landscape: partial }) };
    expect(done.run!.landscape).toBe(partial);
    expect(done.run!.landscapeJob).toBeUndefined();
  });

  it('estimates a landscape job’s time left at its own pace so far, and none before its first step', () => {
    expect(landscapeTimeLeft({ done: 0, total: 48, startedAt: 1000, stepAt: 1000 })).toBeNull();
    // 6 steps in 12 s: 2 s a step, 42 to go
    expect(landscapeTimeLeft({ done: 6, total: 48, startedAt: 1000, stepAt: 13_000 })).toBe(84_000);
    expect(landscapeTimeLeft({ done: 48, total: 48, startedAt: 1000, stepAt: 99_000 })).toBe(0);
  });

  it('keeps only the newest errors', () => {
    let s = state({ errors: [] });
    for (let i = 0; i < MAX_ERRORS + 3; i++) s = { ...s, ...reduceEvent(s, { type: 'error', during: 'training', message: `e${i}` }) };
    expect(s.errors.length).toBe(MAX_ERRORS);
    expect(s.errors.at(-1)).toBe(`training: e${MAX_ERRORS + 2}`);
  });

  it('says storage trouble in its own words, once, though the page and the worker both meet it', () => {
    const message = 'Another tab of the lab has the saved runs open with an older version: close it to continue.';
    let s = state({ errors: [] });
    s = { ...s, ...reduceEvent(s, { type: 'error', during: 'storage', message }) };
    expect(s.errors).toEqual([message]);
    s = { ...s, ...reduceEvent(s, { type: 'error', during: 'storage', message }) };
    expect(s.errors).toEqual([message]);
    expect(withError(s, 'another').errors).toEqual([message, 'another']);
  });

  it('leaves the state alone for answers that only wake a waiting request', () => {
    expect(reduceEvent(state(), { type: 'savedRun', requestId: 1, runId: 'r1', ok: true })).toBeNull();
  });
});

describe('mergeSeries', () => {
  it('appends in order, gives changed nets a new wrapper, and keeps untouched nets as they were', () => {
    const a = trainPoints(0, 3);
    const b = trainPoints(0, 2);
    const into = { a, b };
    const out = mergeSeries(into, { a: trainPoints(3, 2), c: trainPoints(0, 1) });
    expect(out.a.train.it).toEqual([0, 1, 2, 3, 4]);
    expect(out.a).not.toBe(a);
    expect(out.b).toBe(b);
    expect(out.c.train.it).toEqual([0]);
    expect(Object.keys(out).sort()).toEqual(['a', 'b', 'c']);
  });
});
