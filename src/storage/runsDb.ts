// IndexedDB (through `idb`): saved runs, their metric points as they stream, checkpoints, and the
// decoded dataset. This module is the schema and the reads; the page reads through it. Every write
// is in ./runsWrite.ts, which only the worker imports (a lint rule keeps the page out): the worker
// is the one writer, so a rename or delete cannot race a training run's saves.
import { openDB } from 'idb';
import type { DBSchema, IDBPDatabase, IDBPTransaction } from 'idb';
import type { ExperimentConfig } from '../core/config';
import { validateConfig } from '../core/config';
import type { ChannelStats, DataSource, LabeledImages } from '../core/data/cifar10';
import type { Checkpoint } from '../core/experiment';
import { checkpointIteration, checkpointProblem } from '../core/checkpoint';
import type { NetInfo, NetSeries, Progress } from '../core/metrics';
import { appendSeries, emptySeries } from '../core/metrics';
import type { RunFile, RunStatus } from '../core/runFile';
import { RUN_FORMAT, RUN_VERSION } from '../core/runFile';
import type { RunLandscape } from '../core/landscape';

export interface RunRecord {
  id: string;
  name: string;
  createdAt: string;
  updatedAt: string;
  config: ExperimentConfig;
  status: RunStatus;
  backend: string;
  dataset: string;
  nets: NetInfo[];
  progress: Progress;
  /** The iteration of the last checkpoint, or null. */
  checkpointIteration: number | null;
  error?: string;
  /** 'lab' for runs trained here; 'import' for runs loaded from a file. */
  origin: 'lab' | 'import';
  /** The last loss landscape computed for this run (issue #27), if any. */
  landscape?: RunLandscape;
}

export interface StoredDataset {
  slot: 'current';
  key: string;
  source: DataSource;
  description: string;
  classNames: string[];
  stats: ChannelStats;
  train: LabeledImages;
  test: LabeledImages;
}

/** A stored checkpoint. A run keeps its newest two (by `seq`, the order they were written in). */
interface Snapshot {
  runId: string;
  seq: number;
  iteration: number;
  checkpoint: Checkpoint;
}

interface LabDb extends DBSchema {
  runs: { key: string; value: RunRecord };
  chunks: { key: number; value: { runId: string; nets: Record<string, NetSeries> }; indexes: { runId: string } };
  /** Since version 2 (version 1 kept one checkpoint per run, in 'checkpoints'). */
  snapshots: { key: [string, number]; value: Snapshot; indexes: { runId: string } };
  datasets: { key: string; value: StoredDataset };
}

const DB_NAME = 'degradation-lab';
export const DB_VERSION = 2;
let dbPromise: Promise<IDBPDatabase<LabDb>> | null = null;

/** Who hears about storage trouble (another tab blocking an upgrade, the browser closing the database). */
let onProblem: (message: string) => void = () => undefined;
export function onStorageProblem(listener: (message: string) => void): void {
  onProblem = listener;
}

/**
 * The database, opened once and upgraded step by step from whatever version is stored. If another
 * tab needs a newer version, or the browser closes the connection, it is dropped and reopened on
 * the next use.
 */
export function db(): Promise<IDBPDatabase<LabDb>> {
  dbPromise ??= openDB<LabDb>(DB_NAME, DB_VERSION, {
    async upgrade(d, oldVersion, _newVersion, tx) {
      if (oldVersion < 1) {
        d.createObjectStore('runs', { keyPath: 'id' });
        d.createObjectStore('chunks', { autoIncrement: true }).createIndex('runId', 'runId');
        d.createObjectStore('datasets', { keyPath: 'slot' });
      }
      if (oldVersion < 2) {
        const snapshots = d.createObjectStore('snapshots', { keyPath: ['runId', 'seq'] });
        snapshots.createIndex('runId', 'runId');
        if (oldVersion === 1) {
          // version 1: one checkpoint per run, keyed by runId; each becomes the run's first snapshot
          const old = (tx as unknown as IDBPTransaction<unknown, string[], 'versionchange'>).objectStore('checkpoints');
          const rows = (await old.getAll()) as { runId: string; checkpoint: Checkpoint }[];
          for (const { runId, checkpoint } of rows) await snapshots.put({ runId, seq: 1, iteration: checkpointIteration(checkpoint), checkpoint });
          d.deleteObjectStore('checkpoints' as never);
        }
      }
    },
    blocked() {
      onProblem('Another tab of the lab has the saved runs open with an older version: close it to continue.');
    },
    blocking() {
      // a newer version of the lab opened in another tab: let it upgrade, and reopen on next use
      void dbPromise?.then((d) => d.close());
      dbPromise = null;
    },
    terminated() {
      dbPromise = null;
      onProblem('The browser closed the saved-runs database unexpectedly; it is reopened on the next save.');
    },
  });
  return dbPromise;
}

/** Close the database (tests, and a tab handing over to a newer version). */
export async function closeDb(): Promise<void> {
  const p = dbPromise;
  dbPromise = null;
  if (p) (await p).close();
}

const RUN_STATUSES: readonly string[] = ['running', 'paused', 'stopped', 'done', 'failed'];

/**
 * Why a stored run record cannot be used, or null. Records are checked when read: storage can be
 * damaged, or written by an older or newer version of the lab, and one bad record must not take
 * the page down.
 */
function runRecordProblem(rec: unknown): string | null {
  if (typeof rec !== 'object' || rec === null) return 'the record is not an object';
  const r = rec as Record<string, unknown>;
  for (const k of ['id', 'name', 'createdAt'] as const) if (typeof r[k] !== 'string') return `its ${k} is not text`;
  if (!RUN_STATUSES.includes(r.status as string)) return `its status ${JSON.stringify(r.status)} is unknown`;
  const config = validateConfig(r.config).issues.find((i) => i.level === 'error');
  if (config) return `its config is invalid (${config.message})`;
  if (!Array.isArray(r.nets) || r.nets.some((n) => typeof n !== 'object' || n === null || typeof (n as { id?: unknown }).id !== 'string'))
    return 'its list of nets is damaged';
  const p = r.progress as Record<string, unknown> | null;
  if (typeof p !== 'object' || p === null || !Number.isFinite(p.iteration) || !Number.isFinite(p.iterations)) return 'its progress is damaged';
  return null;
}

class DamagedRunError extends Error {
  constructor(id: string, problem: string) {
    super(`the saved run ${id} is damaged: ${problem}`);
    this.name = 'DamagedRunError';
  }
}

/** A saved run; throws DamagedRunError if its record does not pass runRecordProblem. */
export async function getRun(id: string): Promise<RunRecord | undefined> {
  const rec = await (await db()).get('runs', id);
  if (rec === undefined) return undefined;
  const problem = runRecordProblem(rec);
  if (problem) throw new DamagedRunError(id, problem);
  return rec;
}

/** Every saved run that passes the checks, newest first, and the ones that do not, with why. */
export async function listRuns(): Promise<{ runs: RunRecord[]; damaged: { id: string; problem: string }[] }> {
  const all = (await (await db()).getAll('runs')) as unknown[];
  const runs: RunRecord[] = [];
  const damaged: { id: string; problem: string }[] = [];
  for (const rec of all) {
    const problem = runRecordProblem(rec);
    if (problem) damaged.push({ id: String((rec as { id?: unknown })?.id ?? '?'), problem });
    else runs.push(rec as RunRecord);
  }
  return { runs: runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt)), damaged };
}

export async function loadSeries(runId: string): Promise<Record<string, NetSeries>> {
  const chunks = await (await db()).getAllFromIndex('chunks', 'runId', runId);
  const out: Record<string, NetSeries> = {};
  for (const c of chunks) for (const [id, s] of Object.entries(c.nets)) appendSeries((out[id] ??= emptySeries()), s);
  return out;
}

/** A run's stored checkpoints, newest first. */
export async function listSnapshots(runId: string): Promise<Snapshot[]> {
  const all = await (await db()).getAllFromIndex('snapshots', 'runId', runId);
  return all.sort((a, b) => b.seq - a.seq);
}

/** The newest checkpoint of a run that passes the checks (complete, finite weights), or undefined. */
export async function loadCheckpoint(runId: string): Promise<Checkpoint | undefined> {
  for (const s of await listSnapshots(runId)) if (!checkpointProblem(s.checkpoint)) return s.checkpoint;
  return undefined;
}

export async function loadDataset(): Promise<StoredDataset | undefined> {
  return (await db()).get('datasets', 'current');
}

/** A saved run as a run file (for export, and for the page's view of it). */
export function runFileOf(rec: RunRecord, series: Record<string, NetSeries>): RunFile {
  return {
    format: RUN_FORMAT,
    version: RUN_VERSION,
    name: rec.name,
    createdAt: rec.createdAt,
    config: rec.config,
    backend: rec.backend,
    dataset: rec.dataset,
    status: rec.status,
    progress: rec.progress,
    nets: rec.nets,
    series,
    ...(rec.landscape ? { landscape: rec.landscape } : {}),
  };
}
