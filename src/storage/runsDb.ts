// IndexedDB (through `idb`): saved runs, their metric points as they stream, checkpoints, and the
// decoded dataset. This module is the schema and the reads; the page reads through it. Every write
// is in ./runsWrite.ts, which only the worker imports (a lint rule keeps the page out): the worker
// is the one writer, so a rename or delete cannot race a training run's saves.
import { openDB } from 'idb';
import type { DBSchema, IDBPDatabase } from 'idb';
import type { ExperimentConfig } from '../core/config';
import type { ChannelStats, DataSource, LabeledImages } from '../core/data/cifar10';
import type { Checkpoint } from '../core/experiment';
import type { NetInfo, NetSeries, Progress } from '../core/metrics';
import { appendSeries, emptySeries } from '../core/metrics';
import type { RunFile, RunStatus } from '../core/runFile';
import { RUN_FORMAT, RUN_VERSION } from '../core/runFile';

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

interface LabDb extends DBSchema {
  runs: { key: string; value: RunRecord };
  chunks: { key: number; value: { runId: string; nets: Record<string, NetSeries> }; indexes: { runId: string } };
  checkpoints: { key: string; value: { runId: string; checkpoint: Checkpoint } };
  datasets: { key: string; value: StoredDataset };
}

const DB_NAME = 'degradation-lab';
let dbPromise: Promise<IDBPDatabase<LabDb>> | null = null;

export function db(): Promise<IDBPDatabase<LabDb>> {
  dbPromise ??= openDB<LabDb>(DB_NAME, 1, {
    upgrade(d) {
      d.createObjectStore('runs', { keyPath: 'id' });
      d.createObjectStore('chunks', { autoIncrement: true }).createIndex('runId', 'runId');
      d.createObjectStore('checkpoints', { keyPath: 'runId' });
      d.createObjectStore('datasets', { keyPath: 'slot' });
    },
  });
  return dbPromise;
}

export async function getRun(id: string): Promise<RunRecord | undefined> {
  return (await db()).get('runs', id);
}

export async function listRuns(): Promise<RunRecord[]> {
  const runs = await (await db()).getAll('runs');
  return runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export async function loadSeries(runId: string): Promise<Record<string, NetSeries>> {
  const chunks = await (await db()).getAllFromIndex('chunks', 'runId', runId);
  const out: Record<string, NetSeries> = {};
  for (const c of chunks) for (const [id, s] of Object.entries(c.nets)) appendSeries((out[id] ??= emptySeries()), s);
  return out;
}

export async function loadCheckpoint(runId: string): Promise<Checkpoint | undefined> {
  return (await (await db()).get('checkpoints', runId))?.checkpoint;
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
  };
}
