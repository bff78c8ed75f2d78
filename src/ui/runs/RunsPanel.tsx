// Saved runs: open, compare, rename, delete, export and import as JSON.
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { compareRun, deleteSavedRun, exportRun, importRun, openRun, renameSavedRun } from '../lab/savedRuns';
import { useLab } from '../store';

/** A wall time as h:mm:ss (or m:ss). */
function wallTime(ms: number): string {
  const s = Math.round(ms / 1000);
  const hms = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  return hms[0] ? `${hms[0]}:${String(hms[1]).padStart(2, '0')}:${String(hms[2]).padStart(2, '0')}` : `${hms[1]}:${String(hms[2]).padStart(2, '0')}`;
}

export function RunsPanel() {
  const { t } = useTranslation();
  const runs = useLab((s) => s.savedRuns);
  const current = useLab((s) => s.run?.id);
  const busy = useLab((s) => s.run?.state === 'running' || s.run?.state === 'starting');
  const comparing = useLab((s) => s.compare?.id);
  const [editing, setEditing] = useState<string | null>(null);
  const [name, setName] = useState('');
  const file = useRef<HTMLInputElement>(null);
  return (
    <section className="panel" aria-labelledby="runs-title">
      <h2 id="runs-title">{t('runs.heading')}</h2>
      {runs.length === 0 && <p className="hint">{t('runs.none')}</p>}
      <ul className="runs" data-testid="saved-runs">
        {runs.map((r) => (
          <li key={r.id} data-run-id={r.id} className={r.id === current ? 'current' : undefined}>
            {editing === r.id ? (
              <form
                onSubmit={(e) => {
                  e.preventDefault();
                  void renameSavedRun(r.id, name).then(() => setEditing(null));
                }}
              >
                <label className="sr-only" htmlFor={`rename-${r.id}`}>
                  {t('runs.name')}
                </label>
                <input id={`rename-${r.id}`} value={name} onChange={(e) => setName(e.target.value)} autoFocus />
                <button type="submit">OK</button>
              </form>
            ) : (
              <span className="run-name" title={r.name}>
                {r.name}
              </span>
            )}
            {r.origin === 'import' && (
              <span className="run-meta" data-testid="run-origin">
                {t('runs.importedFrom', { backend: r.backend, time: wallTime(r.progress.elapsedMs) })}
              </span>
            )}
            <span className="run-meta">
              {t(`run.state.${r.status}`)} · {r.progress.iteration.toLocaleString('en')}/{r.progress.iterations.toLocaleString('en')}
            </span>
            <span className="run-actions">
              <button type="button" disabled={busy || r.id === current} onClick={() => void openRun(r.id)}>
                {t('runs.open')}
              </button>
              <button
                type="button"
                disabled={r.id === current}
                aria-pressed={comparing === r.id}
                onClick={() => void compareRun(comparing === r.id ? null : r.id)}
              >
                {comparing === r.id ? t('runs.uncompare') : t('runs.compare')}
              </button>
              <button
                type="button"
                onClick={() => {
                  setEditing(r.id);
                  setName(r.name);
                }}
              >
                {t('runs.rename')}
              </button>
              <button type="button" onClick={() => void exportRun(r.id)}>
                {t('runs.export')}
              </button>
              <button
                type="button"
                disabled={busy && r.id === current}
                onClick={() => {
                  if (window.confirm(t('runs.confirmDelete', { name: r.name }))) void deleteSavedRun(r.id);
                }}
              >
                {t('runs.delete')}
              </button>
            </span>
          </li>
        ))}
      </ul>
      <button type="button" onClick={() => file.current?.click()}>
        {t('runs.import')}
      </button>
      <StorageLine />
      <input
        ref={file}
        type="file"
        accept=".json,.gz,application/json,application/gzip"
        hidden
        data-testid="import-run-input"
        aria-label={t('runs.import')}
        onChange={(e) => {
          const f = e.target.files?.[0];
          if (f) void importRun(f);
          e.target.value = '';
        }}
      />
    </section>
  );
}

/** How much the lab stores, of what the browser allows it, and whether the browser will keep it. */
function StorageLine() {
  const { t, i18n } = useTranslation();
  const storage = useLab((s) => s.storage);
  if (!storage || !storage.quota) return null;
  const mb = (n: number) => (n / 2 ** 20).toLocaleString(i18n.language, { maximumFractionDigits: n < 10 * 2 ** 20 ? 1 : 0 });
  return (
    <p className="hint" data-testid="storage-usage">
      {t('runs.storage', { used: mb(storage.usage), quota: mb(storage.quota) })} {storage.persisted ? t('runs.persisted') : t('runs.notPersisted')}
    </p>
  );
}
