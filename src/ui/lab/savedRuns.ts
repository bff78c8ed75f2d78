// Saved runs as the page sees them: the list, opening and comparing a run, and the edits, which are
// requests to the worker (the one writer). A saved record becomes a view through one path: record →
// run file (runFileOf) → view.
import type { RunFile } from '../../core/runFile';
import { runFileName, runFileSizeError } from '../../core/runFile';
import type { RunRecord } from '../../storage/runsDb';
import { getRun, listRuns, loadSeries, runFileOf } from '../../storage/runsDb';
import { runLockHeld } from '../../worker/protocol';
import { download } from '../charts/exportChart';
import { runViewFromFile, showConfig, useLab } from '../store';
import { addError, own, savedRunRequest } from './channel';
import { newRunId } from './runName';

/** Whether another tab's worker owns this run: it holds the run's Web Lock, and this tab does not train it. */
async function ownedByAnotherTab(id: string): Promise<boolean> {
  return id !== own.runId && (await runLockHeld(id));
}

/**
 * Ask the browser to keep the lab's storage (so saved runs are not evicted under pressure), and
 * measure what it uses of the quota, for the saved-runs panel.
 */
export async function measureStorage(persist = false): Promise<void> {
  if (typeof navigator === 'undefined' || !navigator.storage?.estimate) return;
  try {
    const persisted = persist && navigator.storage.persist ? await navigator.storage.persist() : ((await navigator.storage.persisted?.()) ?? false);
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    useLab.setState({ storage: { usage, quota, persisted } });
  } catch {
    // storage estimates are a convenience: without them the panel shows no figure
  }
}

/** Damaged records already reported, so each is named once. */
const reportedDamaged = new Set<string>();

export async function refreshRuns(): Promise<RunRecord[]> {
  try {
    const { runs, damaged } = await listRuns();
    useLab.setState({ savedRuns: runs });
    void measureStorage();
    for (const d of damaged.filter((d) => !reportedDamaged.has(d.id))) {
      reportedDamaged.add(d.id);
      addError(`A saved run could not be read and is hidden: ${d.id}: ${d.problem}.`);
    }
    return runs;
  } catch (err) {
    addError(`saved runs are unavailable: ${err instanceof Error ? err.message : String(err)}`);
    return [];
  }
}

/**
 * Show a saved run (its points from IndexedDB), with the settings that made it in the form and the
 * URL. A run another tab trains is shown read-only; one left 'running' by a page that is gone is
 * shown interrupted, resumable from its checkpoint.
 */
export async function openRun(id: string): Promise<void> {
  const rec = await getRun(id);
  if (!rec) return;
  const file = runFileOf(rec, await loadSeries(id));
  const view = runViewFromFile(id, file, { checkpointIteration: rec.checkpointIteration, message: rec.error });
  const live = rec.status === 'running' || rec.status === 'paused';
  if (live && (await ownedByAnotherTab(id))) view.elsewhere = true;
  else if (rec.status === 'running' && id !== own.runId) Object.assign(view, { state: 'paused', interrupted: true });
  useLab.setState({ run: view, scrubIteration: null });
  showConfig(rec.config);
}

export async function compareRun(id: string | null): Promise<void> {
  if (!id) {
    useLab.setState({ compare: null });
    return;
  }
  const rec = await getRun(id);
  if (!rec) return;
  useLab.setState({ compare: { id, name: rec.name, nets: rec.nets, series: await loadSeries(id) } });
}

export async function renameSavedRun(id: string, name: string): Promise<void> {
  const answer = await savedRunRequest((requestId) => ({ type: 'renameRun', requestId, runId: id, name }));
  if (!answer.ok) {
    addError(`Could not rename the run: ${answer.message}`);
    return;
  }
  const newName = answer.name ?? name;
  useLab.setState((s) => ({ run: s.run && s.run.id === id ? { ...s.run, name: newName } : s.run }));
  await refreshRuns();
}

export async function deleteSavedRun(id: string): Promise<void> {
  const answer = await savedRunRequest((requestId) => ({ type: 'deleteRun', requestId, runId: id }));
  if (!answer.ok) {
    addError(`Could not delete the run: ${answer.message}`);
    return;
  }
  useLab.setState((s) => ({ compare: s.compare?.id === id ? null : s.compare, run: s.run?.id === id ? null : s.run }));
  await refreshRuns();
}

/**
 * A run as a file. The run on screen is exported from the page's own points, which are complete
 * even when storage filled up mid-run; any other run from storage.
 */
export async function runAsFile(id: string): Promise<RunFile> {
  const rec = await getRun(id);
  if (!rec) throw new Error(`no saved run ${id}`);
  const live = useLab.getState().run;
  if (live?.id === id && Object.keys(live.series).length) return runFileOf({ ...rec, nets: live.nets, progress: live.progress ?? rec.progress }, live.series);
  return runFileOf(rec, await loadSeries(id));
}

export async function exportRun(id: string): Promise<void> {
  const file = await runAsFile(id);
  download(JSON.stringify(file), runFileName(file), 'application/json');
}

/**
 * Import a run file. Its bytes move to the worker, which checks the file whole and saves it; a bad
 * file changes nothing and gets a message that names the cause.
 */
export async function importRun(file: File): Promise<boolean> {
  const fail = (why: string) => {
    addError(`Could not import ${file.name}: ${why}`);
    return false;
  };
  const tooBig = runFileSizeError(file.name, file.size);
  if (tooBig) return fail(tooBig);
  let bytes: ArrayBuffer;
  try {
    bytes = await file.arrayBuffer();
  } catch (err) {
    return fail(`the file could not be read (${err instanceof Error ? err.message : String(err)})`);
  }
  const id = newRunId();
  const answer = await savedRunRequest((requestId) => ({ type: 'importRun', requestId, runId: id, fileName: file.name, bytes }), [bytes]);
  if (!answer.ok) return fail(answer.message);
  await refreshRuns();
  if (useLab.getState().run?.state !== 'running') await openRun(id);
  useLab.setState({ notice: `Imported “${answer.name ?? file.name}”.` });
  return true;
}
