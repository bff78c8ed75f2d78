// The status line: first what is training and how fast (images/s of all nets together),
// iteration, elapsed and ETA; the backend's adapter, its checks, memory and the data behind
// "details". Fixed-width numbers, so nothing shifts while metrics stream.
import { useTranslation } from 'react-i18next';
import type { BackendReport } from '../core/backend';
import type { ConvSelfTest } from '../core/selftest';
import { localizeEngine } from './i18n';
import { verifyBackend } from './labController';
import { useLab } from './store';

function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

function SelfTestResult({ check }: { check: ConvSelfTest | 'running' | null }) {
  const { t } = useTranslation();
  if (check === null) return null;
  if (check === 'running') return <span data-testid="selftest">{t('backend.checking')}</span>;
  const ok = check.maxAbsDiff <= 1e-4;
  return (
    <span data-testid="selftest" data-max-abs-diff={check.maxAbsDiff} className={ok ? 'ok' : 'bad'}>
      {ok ? '✓ ' : '✗ '}
      {t(ok ? 'backend.matches' : 'backend.differs', { backend: check.backend, diff: check.maxAbsDiff.toExponential(1) })}
    </span>
  );
}

function NetCheckResult() {
  const { t } = useTranslation();
  const check = useLab((s) => s.netCheck);
  if (check === null || check === 'running') return null;
  const ok = check.maxRelDiff <= 1e-3;
  return (
    <span data-testid="netcheck" data-max-rel-diff={check.maxRelDiff} className={ok ? 'ok' : 'bad'}>
      {ok ? '✓ ' : '✗ '}
      {t(ok ? 'backend.netMatches' : 'backend.netDiffers', { diff: check.maxRelDiff.toExponential(1), worst: check.worst })}
    </span>
  );
}

function BackendLine({ report }: { report: BackendReport }) {
  const { t } = useTranslation();
  const skipped = report.attempts.filter((a) => !a.ok && !a.reason?.startsWith('not tried'));
  return (
    <span>
      {report.active} {t('backend.on')} <span data-testid="backend-adapter">{localizeEngine(report.adapter)}</span>
      {report.software ? t('backend.softwareLine', { software: t('backend.software'), auto: t('backend.autoCpu') }) : ''}
      {skipped.map((a) => (
        <span key={a.name} className="backend-skip">
          {' · '}
          {t('backend.notUsed', { name: a.name, reason: a.reason })}
        </span>
      ))}
    </span>
  );
}

/** An ETA for a person: minutes and seconds, hours, or days; long ones come with a suggestion. */
export function formatEta(ms: number | null | undefined, t: (k: string, o?: Record<string, unknown>) => string): { text: string; advice: string | null } {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return { text: '–', advice: null };
  const hours = ms / 3_600_000;
  if (hours >= 48) return { text: t('run.etaDays', { days: Math.round(hours / 24) }), advice: t('run.etaAdvice') };
  if (hours >= 2) return { text: t('run.etaHours', { hours: Math.round(hours) }), advice: t('run.etaAdvice') };
  return { text: formatDuration(ms), advice: null };
}

/**
 * The status line's name for an engine: "lab CPU engine (2 threads)", "lab WebGPU engine on …", "tfjs
 * webgl on …". The kernels' variant, the thread schedule and what auto measured go under "details".
 */
export function shortEngine(label: string): string {
  const base = label.split(' — ')[0];
  const threads = /\d+ threads?/.exec(base)?.[0];
  const name = base.replace(/ \(.*\)$/, '');
  return threads ? `${name} (${threads})` : name;
}

export function StatusBar() {
  const { t, i18n } = useTranslation();
  const report = useLab((s) => s.backend);
  const selftest = useLab((s) => s.selftest);
  const run = useLab((s) => s.run);
  const data = useLab((s) => s.data);
  const memory = useLab((s) => s.memory);
  const p = run?.progress;
  const nets = run?.nets.length ?? 0;
  // a time left only while the run trains: a stopped, paused or failed run has none
  const eta = formatEta(run?.state === 'running' || run?.state === 'starting' ? p?.etaMs : null, t);
  return (
    <div className="status" data-testid="backend-line">
      {/* first what is training and how fast; the adapter and checks behind "details" */}
      <div className="status-row run-status" data-testid="run-status" aria-live="polite">
        {run?.engine && (
          <span data-testid="engine">
            {t(run.state === 'running' || run.state === 'starting' ? 'backend.trainingNets' : 'backend.trainedNets', { count: nets })}{' '}
            {localizeEngine(shortEngine(run.engine))}
          </span>
        )}
        <span className="secondary">
          <span className="num" data-testid="images-per-sec">
            {p && p.imagesPerSec > 0 ? p.imagesPerSec.toFixed(0) : '–'}
          </span>{' '}
          {t('run.imagesPerSec')}
          {nets > 1 ? t('run.together', { count: nets }) : ''}
        </span>
        <span>
          {t('run.iteration')}{' '}
          <span className="num" data-testid="iteration">
            {p ? p.iteration.toLocaleString('en') : '–'}
          </span>
          {p ? ` / ${p.iterations.toLocaleString('en')}` : ''}
        </span>
        <span className="secondary">
          {t('run.elapsed')} <span className="num">{formatDuration(p?.elapsedMs)}</span>
        </span>
        <span className="secondary eta">
          {t('run.eta')}{' '}
          <span className="num" data-testid="eta">
            {eta.text}
          </span>
          {eta.advice && (
            <span className="eta-advice" data-testid="eta-advice">
              {' '}
              ({eta.advice})
            </span>
          )}
        </span>
      </div>
      <details className="status-details">
        <summary>
          {t('backend.details')}{' '}
          <span className="secondary">
            {report ? (
              <>
                {t('backend.label')}
                <span data-testid="backend-name">{report.active}</span>
                {t('backend.labelEnd')}
              </>
            ) : (
              t('backend.probing')
            )}
          </span>
        </summary>
        {run?.engine && (
          <div className="status-row" data-testid="engine-detail">
            {localizeEngine(run.engine)}
          </div>
        )}
        <div className="status-row">
          {report && <BackendLine report={report} />}{' '}
          {report && (
            <button type="button" className="small" disabled={selftest === 'running'} onClick={verifyBackend}>
              {t('backend.verify')}
            </button>
          )}{' '}
          <SelfTestResult check={selftest} /> <NetCheckResult />
        </div>
        <div className="status-row">
          {memory && (
            <span>
              {t('run.memory')}{' '}
              <span className="num" data-testid="live-tensors">
                {memory.tensors}
              </span>{' '}
              {t('run.buffers')}, <span className="num">{(memory.bytes / 2 ** 20).toFixed(0)}</span> MB
            </span>
          )}
          <span>
            {t('run.dataset')}:{' '}
            {data.status === 'ready'
              ? t('data.describe', { train: data.summary.trainCount.toLocaleString(i18n.language), test: data.summary.testCount.toLocaleString(i18n.language) })
              : data.status}
          </span>
        </div>
      </details>
    </div>
  );
}
