// Start / Pause / Resume / Stop, and the share link.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ALL_DEPTHS, FAMILIES } from '../../core/config';
import { addedNetFits } from '../../core/cost';
import { netLabelOf, netsOf } from '../../core/experimentNets';
import type { NetEntry } from '../../core/experimentNets';
import { BLOCK_TYPES, SHORTCUTS } from '../../core/nets';
import { addNet, pauseRun, resumeRun, startRun, stopRun } from '../labController';
import { exportTorchJob } from '../lab/torchJob';
import { useLab } from '../store';

export function RunControls({ compact = false }: { compact?: boolean }) {
  const { t } = useTranslation();
  const run = useLab((s) => s.run);
  const ready = useLab((s) => s.data.status === 'ready');
  const [copied, setCopied] = useState(false);
  const state = run?.state ?? 'idle';
  const elsewhere = run?.elsewhere === true;
  const active = !elsewhere && (state === 'running' || state === 'starting');
  const paused = !elsewhere && state === 'paused';
  const pending = run?.pending;
  // a run that has not reported its first step yet is still starting (a preset warming up), not "Running"
  const shown = pending ?? (state === 'running' && !run?.progress ? 'starting' : state);
  return (
    <div className={compact ? 'run-controls compact' : 'run-controls'} role="group" aria-label={t('run.group')}>
      {elsewhere && (
        <span className="run-elsewhere" data-testid="elsewhere">
          {t('run.elsewhere')}
        </span>
      )}
      {!active && !paused && !elsewhere && (
        <button type="button" className="primary" onClick={() => startRun()} disabled={!ready} title={ready ? undefined : t('run.needData')}>
          {run ? t('run.again') : t('run.start')}
        </button>
      )}
      {active && (
        <button type="button" className="primary" onClick={pauseRun} disabled={state === 'starting' || pending !== undefined}>
          {pending === 'pausing' ? t('run.pausing') : t('run.pause')}
        </button>
      )}
      {paused && (
        <button type="button" className="primary" onClick={() => resumeRun()} disabled={!ready}>
          {t('run.resume')}
        </button>
      )}
      {(active || paused) && (
        <button type="button" onClick={stopRun} disabled={pending === 'stopping'}>
          {pending === 'stopping' ? t('run.stopping') : t('run.stop')}
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
      {!compact && (
        <button type="button" onClick={exportTorchJob} title={t('run.fullScaleHint')}>
          {t('run.fullScale')}
        </button>
      )}
      <span className="run-state" data-testid="run-state" data-state={state}>
        {t(`run.state.${shown}`)}
      </span>
      {!compact && (active || paused) && run && <AddNet />}
    </div>
  );
}

/** Add a net to the running experiment: honest only from iteration 0, on the same batch sequence. */
function AddNet() {
  const { t } = useTranslation();
  const run = useLab((s) => s.run)!;
  const [choice, setChoice] = useState('');
  const have = new Set(run.nets.map((n) => n.id));
  // every net this experiment could hold: each offered depth, family, shortcut, block type and warmup variant
  const all: NetEntry[] = netsOf({
    ...run.config,
    depths: [...ALL_DEPTHS],
    families: [...FAMILIES],
    shortcuts: [...SHORTCUTS],
    blocks: [...BLOCK_TYPES],
  });
  // the nets not yet in the run whose memory it can still hold (a thousand layers at width ×1 cannot join)
  const held = all.filter((e) => have.has(e.id));
  const options = all.filter((e) => !have.has(e.id) && addedNetFits(run.config, held, e));
  const label = (e: NetEntry) => {
    const l = netLabelOf(e, run.config);
    return e.family === 'residual' && e.shortcut === 'A' ? l.replace(/^(ResNet-\d+( bottleneck)?)/, '$1 (A)') : l;
  };
  return (
    <div className="add-net">
      <label htmlFor="add-net">{t('run.addNet')}</label>
      <select id="add-net" value={choice} onChange={(e) => setChoice(e.target.value)}>
        <option value="">—</option>
        {options.map((e) => (
          <option key={e.id} value={e.id}>
            {label(e)}
          </option>
        ))}
      </select>
      <button
        type="button"
        disabled={!choice}
        onClick={() => {
          const entry = options.find((e) => e.id === choice);
          if (entry) addNet(entry);
          setChoice('');
        }}
      >
        {t('run.add')}
      </button>
      <p className="hint">{t('run.addNetHint')}</p>
    </div>
  );
}
