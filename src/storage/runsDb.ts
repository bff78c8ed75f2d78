// IndexedDB (through `idb`): saved runs, their metric points as they stream, checkpoints, and the
// decoded dataset. The worker writes as it trains; the page reads, renames, deletes and imports.
import { openDB } from 'idb';
import type { DBSchema, IDBPDatabase } from 'idb';
import type { ExperimentConfig } from '../core/config';
import type { ChannelStats, DataSource, LabeledImages } from '../core/data/cifar10';
import type { Checkpoint } from '../core/experiment';
import type { NetInfo, NetSeries, Progress } from '../core/metrics';
import { appendSeries, emptySeries } from '../core/metrics';
import type { RunStatus } from '../core/runFile';

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

export async function saveRun(run: RunRecord): Promise<void> {
  await (await db()).put('runs', { ...run, updatedAt: new Date().toISOString() });
}

export async function getRun(id: string): Promise<RunRecord | undefined> {
  return (await db()).get('runs', id);
}

export async function listRuns(): Promise<RunRecord[]> {
  const runs = await (await db()).getAll('runs');
  return runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

export async function renameRun(id: string, name: string): Promise<void> {
  const d = await db();
  const run = await d.get('runs', id);
  if (!run) throw new Error(`no saved run ${id}`);
  await d.put('runs', { ...run, name: name.trim() || run.name, updatedAt: new Date().toISOString() });
}

export async function deleteRun(id: string): Promise<void> {
  const d = await db();
  const tx = d.transaction(['runs', 'chunks', 'checkpoints'], 'readwrite');
  await tx.objectStore('runs').delete(id);
  await tx.objectStore('checkpoints').delete(id);
  const keys = await tx.objectStore('chunks').index('runId').getAllKeys(id);
  for (const k of keys) await tx.objectStore('chunks').delete(k);
  await tx.done;
}

/** Append the points of one flush. Chunks keep insertion order (auto-increment keys). */
export async function appendPoints(runId: string, nets: Record<string, NetSeries>): Promise<void> {
  if (Object.keys(nets).length === 0) return;
  await (await db()).add('chunks', { runId, nets });
}

export async function loadSeries(runId: string): Promise<Record<string, NetSeries>> {
  const chunks = await (await db()).getAllFromIndex('chunks', 'runId', runId);
  const out: Record<string, NetSeries> = {};
  for (const c of chunks) for (const [id, s] of Object.entries(c.nets)) appendSeries((out[id] ??= emptySeries()), s);
  return out;
}

/** Replace every stored point of a run (after an import, or when resuming from a checkpoint). */
export async function replaceSeries(runId: string, nets: Record<string, NetSeries>): Promise<void> {
  const d = await db();
  const tx = d.transaction('chunks', 'readwrite');
  const keys = await tx.store.index('runId').getAllKeys(runId);
  for (const k of keys) await tx.store.delete(k);
  await tx.store.add({ runId, nets });
  await tx.done;
}

export async function saveCheckpoint(runId: string, checkpoint: Checkpoint): Promise<void> {
  await (await db()).put('checkpoints', { runId, checkpoint });
}

export async function loadCheckpoint(runId: string): Promise<Checkpoint | undefined> {
  return (await (await db()).get('checkpoints', runId))?.checkpoint;
}

export async function saveDataset(ds: StoredDataset): Promise<void> {
  await (await db()).put('datasets', ds);
}

export async function loadDataset(): Promise<StoredDataset | undefined> {
  return (await db()).get('datasets', 'current');
}
