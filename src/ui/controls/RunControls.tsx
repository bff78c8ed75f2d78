// Start / Pause / Resume / Stop, and the share link.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { pauseRun, resumeRun, startRun, stopRun } from '../labController';
import { useLab } from '../store';

export function RunControls({ compact = false }: { compact?: boolean }) {
  const { t } = useTranslation();
  const run = useLab((s) => s.run);
  const ready = useLab((s) => s.data.status === 'ready');
  const [copied, setCopied] = useState(false);
  const state = run?.state ?? 'idle';
  const active = state === 'running' || state === 'starting';
  const paused = state === 'paused';
  return (
    <div className={compact ? 'run-controls compact' : 'run-controls'} role="group" aria-label="Run">
      {!active && !paused && (
        <button type="button" className="primary" onClick={() => startRun()} disabled={!ready} title={ready ? undefined : t('run.needData')}>
          {run ? t('run.again') : t('run.start')}
        </button>
      )}
      {active && (
        <button type="button" className="primary" onClick={pauseRun} disabled={state === 'starting'}>
          {t('run.pause')}
        </button>
      )}
      {paused && (
        <button type="button" className="primary" onClick={() => resumeRun()} disabled={!ready}>
          {t('run.resume')}
        </button>
      )}
      {(active || paused) && (
        <button type="button" onClick={stopRun}>
          {t('run.stop')}
        </button>
      )}
      {!compact && (
        <button
          type="button"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(location.href);
              setCopied(true);
              setTimeout(() => setCopied(false), 2000);
            } catch {
              // clipboard blocked: the URL bar holds the same link
              window.prompt(t('run.copyLink'), location.href);
            }
          }}
        >
          {copied ? t('run.copied') : t('run.copyLink')}
        </button>
      )}
      <span className="run-state" data-testid="run-state" data-state={state}>
        {t(`run.state.${state}`)}
      </span>
    </div>
  );
}
