// Every write to the lab's IndexedDB (./runsDb.ts holds the schema and the reads). Only the worker
// imports this module: it trains the runs, so it is the one writer of their records, and the page's
// rename, delete and import reach it as protocol commands (src/worker/protocol.ts).
import type { NetSeries } from '../core/metrics';
import { chunkSeries } from '../core/metrics';
import type { Checkpoint } from '../core/experiment';
import type { RunFile } from '../core/runFile';
import type { RunRecord, StoredDataset } from './runsDb';
import { db } from './runsDb';

export async function saveRun(run: RunRecord): Promise<void> {
  await (await db()).put('runs', { ...run, updatedAt: new Date().toISOString() });
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

/** Append the points of one flush, in bounded chunks. Chunks keep insertion order (auto-increment keys). */
export async function appendPoints(runId: string, nets: Record<string, NetSeries>): Promise<void> {
  if (Object.keys(nets).length === 0) return;
  const tx = (await db()).transaction('chunks', 'readwrite');
  for (const chunk of chunkSeries(nets)) await tx.store.add({ runId, nets: chunk });
  await tx.done;
}

/** Replace every stored point of a run (after an import, or when resuming from a checkpoint), in bounded chunks, in one transaction. */
export async function replaceSeries(runId: string, nets: Record<string, NetSeries>): Promise<void> {
  const d = await db();
  const tx = d.transaction('chunks', 'readwrite');
  const keys = await tx.store.index('runId').getAllKeys(runId);
  for (const k of keys) await tx.store.delete(k);
  for (const chunk of chunkSeries(nets)) await tx.store.add({ runId, nets: chunk });
  await tx.done;
}

export async function saveCheckpoint(runId: string, checkpoint: Checkpoint): Promise<void> {
  await (await db()).put('checkpoints', { runId, checkpoint });
}

export async function saveDataset(ds: StoredDataset): Promise<void> {
  await (await db()).put('datasets', ds);
}

/** A run file as a new saved run ('import' origin; a run exported mid-training is saved as stopped). */
export function recordOfFile(id: string, file: RunFile): RunRecord {
  return {
    id,
    name: file.name,
    createdAt: file.createdAt,
    updatedAt: new Date().toISOString(),
    config: file.config,
    status: file.status === 'running' ? 'stopped' : file.status,
    backend: file.backend,
    dataset: file.dataset,
    nets: file.nets,
    progress: file.progress,
    checkpointIteration: null,
    origin: 'import',
  };
}
