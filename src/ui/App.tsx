import { useEffect, useState } from 'react';
import type { BackendReport } from '../core/backend';
import type { ConvSelfTest } from '../core/selftest';
import { LabClient } from './labClient';

const client = new LabClient();

export function App() {
  const [report, setReport] = useState<BackendReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [check, setCheck] = useState<ConvSelfTest | 'running' | null>(null);

  useEffect(() => {
    const off = client.subscribe((e) => {
      if (e.type === 'backend') setReport(e.report);
      if (e.type === 'selftest') setCheck(e.result);
      if (e.type === 'error') setError(`${e.during}: ${e.message}`);
    });
    client.send({ type: 'probe' });
    return off;
  }, []);

  return (
    <div className="app">
      <header className="app-header">
        <h1>Degradation Lab</h1>
        <p className="lede">
          Train plain and residual CNNs of increasing depth on CIFAR-10, live in your browser, and watch deep plain
          nets train <em>worse</em> than shallow ones, while residual nets of the same depth do not (He et al., 2015).
        </p>
      </header>
      <section className="backend" aria-live="polite" data-testid="backend-line">
        {error ? (
          <span role="alert">Worker error — {error}</span>
        ) : report ? (
          <>
            <BackendLine report={report} />{' '}
            <button
              type="button"
              disabled={check === 'running'}
              onClick={() => {
                setCheck('running');
                client.send({ type: 'selftest' });
              }}
            >
              Verify backend
            </button>{' '}
            <SelfTestResult check={check} />
          </>
        ) : (
          <span>Probing compute backends…</span>
        )}
      </section>
      <main className="experiment-area" aria-label="Experiment">
        <p>No experiment yet.</p>
      </main>
    </div>
  );
}

function BackendLine({ report }: { report: BackendReport }) {
  const skipped = report.attempts.filter((a) => !a.ok && !a.reason?.startsWith('not tried'));
  return (
    <>
      <span>
        Backend: <strong data-testid="backend-name">{report.active}</strong> on{' '}
        <span data-testid="backend-adapter">{report.adapter}</span>
        {report.software ? ' — software emulation, slow' : ''}
      </span>
      {skipped.map((a) => (
        <span key={a.name} className="backend-skip">
          {' '}
          · {a.name} not used: {a.reason}
        </span>
      ))}
    </>
  );
}

/** A conv forward+backward pass on the active backend, checked against tfjs's CPU backend. */
function SelfTestResult({ check }: { check: ConvSelfTest | 'running' | null }) {
  if (check === null) return null;
  if (check === 'running') return <span data-testid="selftest">checking…</span>;
  const ok = check.maxAbsDiff <= 1e-4;
  return (
    <span data-testid="selftest" data-max-abs-diff={check.maxAbsDiff} className={ok ? 'ok' : 'bad'}>
      {ok ? '✓' : '✗'} conv forward + backward on {check.backend} {ok ? 'matches' : 'differs from'} the CPU backend (max
      |Δ| = {check.maxAbsDiff.toExponential(1)})
    </span>
  );
}
