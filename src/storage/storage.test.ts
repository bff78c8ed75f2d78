// The saved-runs database on fake-indexeddb: the schema upgrade from version 1, checkpoints (the
// newest two, written with their record in one transaction, never half-written, checked on read),
// and series stored in bounded chunks.
import 'fake-indexeddb/auto';
import { IDBFactory, forceCloseDatabase } from 'fake-indexeddb';
import { unwrap } from 'idb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../core/config';
import type { Checkpoint } from '../core/experiment';
import { emptySeries } from '../core/metrics';
import type { RunRecord } from './runsDb';
import { DB_VERSION, closeDb, db, getRun, listRuns, listSnapshots, loadCheckpoint, loadSeries, onStorageProblem } from './runsDb';
import { SNAPSHOTS_KEPT, deleteRun, replaceSeries, saveCheckpoint, saveRun } from './runsWrite';

function record(id = 'run-1'): RunRecord {
  return {
    id,
    name: 'a run',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    config: DEFAULT_CONFIG,
    status: 'running',
    backend: 'lab-cpu',
    dataset: 'fixture',
    nets: [],
    progress: { iteration: 0, iterations: 100, imagesPerSec: 0, elapsedMs: 0, etaMs: null },
    checkpointIteration: null,
    origin: 'lab',
  };
}

function checkpoint(iteration: number, weight = 0.5, status: 'training' | 'diverged' = 'training'): Checkpoint {
  const t = (v: number) => ({ w: Float32Array.from([v, v, v]) });
  return {
    nets: {
      'plain-8': {
        entry: { id: 'plain-8', depth: 8, family: 'plain', residual: false, shortcut: 'A', block: 'basic', warmup: 'off' },
        iteration,
        state: { params: t(weight), momentum: t(0), bnStats: {} },
        errors: [],
        status,
        divergedAt: null,
      },
    },
    createdAt: iteration,
  };
}

beforeEach(async () => {
  await closeDb();
  globalThis.indexedDB = new IDBFactory();
});

describe('checkpoints', () => {
  it(`keeps the newest ${SNAPSHOTS_KEPT}, each written with its run record`, async () => {
    for (const it of [10, 20, 30]) await saveCheckpoint(record(), checkpoint(it));
    expect((await listSnapshots('run-1')).map((s) => s.iteration)).toEqual([30, 20]);
    expect((await getRun('run-1'))!.checkpointIteration).toBe(30);
    expect((await loadCheckpoint('run-1'))!.nets['plain-8'].iteration).toBe(30);
  });

  it('a write that fails midway changes nothing: the previous checkpoints and the record stay', async () => {
    await saveCheckpoint(record(), checkpoint(10));
    await saveCheckpoint(record(), checkpoint(20));
    await expect(
      saveCheckpoint(record(), checkpoint(30), () => {
        throw new Error('disk full (simulated)');
      }),
    ).rejects.toThrow('disk full');
    expect((await listSnapshots('run-1')).map((s) => s.iteration)).toEqual([20, 10]);
    expect((await getRun('run-1'))!.checkpointIteration).toBe(20);
  });

  it('resume takes the newest checkpoint that passes the checks: a stored one with NaN weights is skipped', async () => {
    await saveCheckpoint(record(), checkpoint(10));
    // written behind the checks' back (a corrupted store), the newest has a NaN weight
    await (await db()).put('snapshots', { runId: 'run-1', seq: 99, iteration: 20, checkpoint: checkpoint(20, Number.NaN) });
    expect((await loadCheckpoint('run-1'))!.nets['plain-8'].iteration).toBe(10);
  });

  it('a diverged net’s NaN weights are its result, not damage', async () => {
    await saveCheckpoint(record(), checkpoint(10, Number.NaN, 'diverged'));
    expect((await loadCheckpoint('run-1'))!.nets['plain-8'].status).toBe('diverged');
  });

  it('deleting a run deletes its checkpoints and points', async () => {
    await saveCheckpoint(record(), checkpoint(10));
    await replaceSeries('run-1', { a: emptySeries() });
    await deleteRun('run-1');
    expect(await getRun('run-1')).toBeUndefined();
    expect(await listSnapshots('run-1')).toEqual([]);
    expect(await loadSeries('run-1')).toEqual({});
  });
});

describe('the schema', () => {
  it(`upgrades a version-1 database to version ${DB_VERSION}, keeping its runs, points and checkpoint`, async () => {
    // version 1 as the lab created it: one checkpoint per run, keyed by runId
    await new Promise<void>((resolve, reject) => {
      const open = indexedDB.open('degradation-lab', 1);
      open.onupgradeneeded = () => {
        const d = open.result;
        d.createObjectStore('runs', { keyPath: 'id' }).put(record());
        const chunks = d.createObjectStore('chunks', { autoIncrement: true });
        chunks.createIndex('runId', 'runId');
        chunks.put({ runId: 'run-1', nets: { a: { ...emptySeries(), train: { it: [1], loss: [2], err: [0.9], runErr: [0.9], lr: [0.1] } } } });
        d.createObjectStore('checkpoints', { keyPath: 'runId' }).put({ runId: 'run-1', checkpoint: checkpoint(40) });
        d.createObjectStore('datasets', { keyPath: 'slot' });
      };
      open.onsuccess = () => {
        open.result.close();
        resolve();
      };
      open.onerror = () => reject(open.error);
    });
    const d = await db();
    expect(d.version).toBe(DB_VERSION);
    expect([...d.objectStoreNames].sort()).toEqual(['chunks', 'datasets', 'runs', 'snapshots']);
    expect((await getRun('run-1'))!.name).toBe('a run');
    expect((await loadSeries('run-1')).a.train.it).toEqual([1]);
    expect((await loadCheckpoint('run-1'))!.nets['plain-8'].iteration).toBe(40);
    // and the next checkpoint joins it
    await saveRun(record());
    await saveCheckpoint(record(), checkpoint(50));
    expect((await listSnapshots('run-1')).map((s) => s.iteration)).toEqual([50, 40]);
  });
});

describe('storage trouble reaches the page', () => {
  /** A version-1 database held open by an old tab that does not close when asked. */
  function oldTab(): Promise<IDBDatabase> {
    return new Promise((resolve, reject) => {
      const open = indexedDB.open('degradation-lab', 1);
      open.onupgradeneeded = () => {
        const d = open.result;
        d.createObjectStore('runs', { keyPath: 'id' });
        d.createObjectStore('chunks', { autoIncrement: true }).createIndex('runId', 'runId');
        d.createObjectStore('checkpoints', { keyPath: 'runId' });
        d.createObjectStore('datasets', { keyPath: 'slot' });
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
  }

  it('says so when an old tab blocks the upgrade, and opens once that tab closes', async () => {
    const problems: string[] = [];
    onStorageProblem((m) => problems.push(m));
    const old = await oldTab();
    const opening = db();
    await expect.poll(() => problems).toEqual(['Another tab of the lab has the saved runs open with an older version: close it to continue.']);
    old.close();
    expect((await opening).version).toBe(DB_VERSION);
    expect((await listRuns()).runs).toEqual([]);
  });

  it('says so when the browser closes the database, and reopens it on the next use', async () => {
    const problems: string[] = [];
    onStorageProblem((m) => problems.push(m));
    const first = await db();
    // (fake-indexeddb types its argument as the IDBDatabase class, though it takes a connection)
    forceCloseDatabase(unwrap(first) as unknown as typeof IDBDatabase);
    await expect.poll(() => problems).toEqual(['The browser closed the saved-runs database unexpectedly; it is reopened on the next save.']);
    const again = await db();
    expect(again).not.toBe(first);
    await saveRun(record('run-2'));
    expect((await getRun('run-2'))!.id).toBe('run-2');
  });
});
