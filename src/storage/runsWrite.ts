// Every write to the lab's IndexedDB (./runsDb.ts holds the schema and the reads). Only the worker
// imports this module: it trains the runs, so it is the one writer of their records, and the page's
// rename, delete and import reach it as protocol commands (src/worker/protocol.ts).
import type { NetSeries } from '../core/metrics';
import { chunkSeries } from '../core/metrics';
import type { Checkpoint } from '../core/experiment';
import { checkpointIteration } from '../core/checkpoint';
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
  const tx = d.transaction(['runs', 'chunks', 'snapshots'], 'readwrite');
  await tx.objectStore('runs').delete(id);
  for (const k of await tx.objectStore('snapshots').index('runId').getAllKeys(id)) await tx.objectStore('snapshots').delete(k);
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

/** Checkpoints kept per run: the newest, and the one before it in case the newest turns out bad. */
export const SNAPSHOTS_KEPT = 2;

/**
 * Write a checkpoint and the run record that points at it in one transaction, then drop all but
 * the newest SNAPSHOTS_KEPT: either all of it is stored or none. `fault` (tests) throws after the
 * checkpoint is written and before the record is, as a failing write would.
 */
export async function saveCheckpoint(run: RunRecord, checkpoint: Checkpoint, fault?: () => void): Promise<void> {
  const d = await db();
  const tx = d.transaction(['snapshots', 'runs'], 'readwrite');
  try {
    const snapshots = tx.objectStore('snapshots');
    const existing = await snapshots.index('runId').getAll(run.id);
    const seq = Math.max(0, ...existing.map((s) => s.seq)) + 1;
    const iteration = checkpointIteration(checkpoint);
    await snapshots.put({ runId: run.id, seq, iteration, checkpoint });
    fault?.();
    await tx.objectStore('runs').put({ ...run, checkpointIteration: iteration, updatedAt: new Date().toISOString() });
    const old = existing.sort((a, b) => b.seq - a.seq).slice(SNAPSHOTS_KEPT - 1);
    for (const s of old) await snapshots.delete([s.runId, s.seq]);
    await tx.done;
  } catch (err) {
    try {
      tx.abort();
    } catch {
      // already finished or aborted
    }
    await tx.done.catch(() => undefined);
    throw err;
  }
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
    ...(file.landscape ? { landscape: file.landscape } : {}),
  };
}
