// The lab: controls on the left, live charts on the right; classroom mode hides the controls,
// enlarges the type and puts short explanations beside the charts.
import { Lesson, LessonSheets, endLesson, startLesson } from './lesson/Lesson';
import { hidesResidual } from '../core/lesson';
import { useDeferredValue, useEffect, useRef, useState, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { CurvesPanel } from './charts/CurvesPanel';
import { DegradationSummary, VerdictPanel } from './charts/DegradationSummary';
import { LayerChart } from './charts/LayerCharts';
import { LandscapePanel } from './charts/LandscapePanel';
import { GateChart } from './charts/GateChart';
import { ResidualChart } from './charts/ResidualChart';
import { complete } from './charts/landscapeView';
import { responseImages } from '../core/train';
import { LrChart } from './charts/LrChart';
import { ArchitectureView, NetList } from './architecture/ArchitectureView';
import { familyOf } from '../core/metrics';
import { ExperimentForm } from './controls/ExperimentForm';
import { RunControls } from './controls/RunControls';
import { DataPanel } from './data/DataPanel';
import type { Lang } from './i18n';
import { setLang } from './i18n';
import { bootLab, dismissError, dropFiles, resumeRun } from './labController';
import { Explainers, ReferencePanel } from './Reference';
import { RunsPanel } from './runs/RunsPanel';
import { ErrorBoundary, Tripwire } from './ErrorBoundary';
import { StatusBar } from './StatusBar';
import { exportSlide } from './charts/slide';
import { simplificationsNote } from './charts/captions';
import { applyUpdate } from './serviceWorker';
import { syncUrl, useLab } from './store';

function Banners() {
  const { t } = useTranslation();
  const urlIssues = useLab((s) => s.urlIssues);
  const errors = useLab((s) => s.errors);
  const notice = useLab((s) => s.notice);
  const updateReady = useLab((s) => s.updateReady);
  const failure = useLab((s) => s.backendFailure);
  const run = useLab((s) => s.run);
  return (
    <div className="banners">
      {urlIssues.length > 0 && (
        <div className="banner warn" role="alert" data-testid="url-issues">
          <strong>{t('errors.url')}:</strong>
          <ul>
            {urlIssues.map((i) => (
              <li key={i.message}>{i.message}</li>
            ))}
          </ul>
          <button type="button" className="small" onClick={() => useLab.setState({ urlIssues: [] })} aria-label={t('dismiss')}>
            ×
          </button>
        </div>
      )}
      {errors.map((e, i) => (
        <div key={`${i}-${e}`} className="banner error" role="alert" data-testid="error-banner">
          {e}
          <button type="button" className="small" onClick={() => dismissError(i)} aria-label={t('dismiss')}>
            ×
          </button>
        </div>
      ))}
      {notice && (
        <div className="banner ok" role="status" data-testid="notice">
          {notice}
          <button type="button" className="small" onClick={() => useLab.setState({ notice: null })} aria-label={t('dismiss')}>
            ×
          </button>
        </div>
      )}
      {updateReady && (
        <div className="banner ok" role="status" data-testid="update-ready">
          {t('update.ready')}{' '}
          <button type="button" onClick={applyUpdate}>
            {t('update.reload')}
          </button>
        </div>
      )}
      {failure && (
        <div className="banner error" role="alert" data-testid="backend-failure">
          {t('run.backendFailed', { backend: failure.backend, message: failure.message })}{' '}
          <button type="button" onClick={() => resumeRun(failure.suggestion)}>
            {t('run.resumeOn', { backend: failure.suggestion })}
          </button>
        </div>
      )}
      {run?.interrupted && (
        <div className="banner warn" role="status" data-testid="interrupted">
          {t('run.interrupted', { it: run.checkpointIteration ?? 0 })}
        </div>
      )}
    </div>
  );
}

/** Chart redraws while training: at most one a second (the status line still updates every 400 ms). */
const CHART_REDRAW_MS = 1000;

/**
 * `value`, updated at most every `ms` milliseconds (at once when `ms` is 0, or when `key` changes:
 * another run opened, or a run that ended must show its last points).
 */
function useThrottled<T>(value: T, ms: number, key: unknown): T {
  const [shown, setShown] = useState({ value, key });
  const last = useRef(0);
  const immediate = ms === 0 || key !== shown.key;
  useEffect(() => {
    if (shown.value === value) return;
    const wait = immediate ? 0 : last.current + ms - performance.now();
    const id = setTimeout(
      () => {
        last.current = performance.now();
        setShown({ value, key });
      },
      Math.max(0, wait),
    );
    return () => clearTimeout(id);
  }, [value, key, ms, immediate, shown.value]);
  return immediate ? value : shown.value;
}

/** The first visit's three steps, until the first run. */
function FirstSteps() {
  const { t } = useTranslation();
  const show = useLab((s) => s.savedRuns.length === 0 && !s.run);
  const loaded = useLab((s) => s.data.status === 'ready');
  if (!show) return null;
  return (
    <ol className="first-steps" data-testid="first-steps" aria-label={t('firstSteps.label')}>
      {/* a step already done says so, instead of asking for it */}
      <li className={loaded ? 'done' : undefined}>{loaded ? `✓ ${t('firstSteps.dataDone')}` : t('firstSteps.data')}</li>
      <li>{t('firstSteps.start')}</li>
      <li>{t('firstSteps.watch')}</li>
    </ol>
  );
}

function Charts() {
  const { t, i18n } = useTranslation();
  // Streaming metrics redraw every chart. Two things keep the page responsive while they do
  // (measured on a 2-core Xeon, 20 s of training: 44 main-thread tasks of 53–114 ms before):
  // redraws at most once a second, and a deferred value, so React renders them in an
  // interruptible background pass that yields to input every few milliseconds.
  const live = useLab((s) => s.run);
  const run = useDeferredValue(useThrottled(live, live?.state === 'running' ? CHART_REDRAW_MS : 0, `${live?.id}:${live?.state}`));
  const compare = useDeferredValue(useLab((s) => s.compare));
  const scrub = useLab((s) => s.scrubIteration);
  const data = useLab((s) => s.data);
  const classroom = useLab((s) => s.classroom);
  // the lesson keeps the residual half hidden until the plain half is clear (src/core/lesson.ts)
  const hide = hidesResidual(useLab((s) => s.lesson));
  const nets = useMemo(() => (run && hide ? run.nets.filter((n) => familyOf(n) === 'plain') : (run?.nets ?? [])), [run, hide]);
  // the figure for slides takes the loss landscape as a panel, once the run has one (on by default then)
  const [slideLandscape, setSlideLandscape] = useState(true);
  if (!run || run.nets.length === 0) {
    // Without data, the empty chart area says how to get it, and takes a dropped archive.
    return (
      <div
        className="charts empty"
        data-testid="charts-empty"
        onDragOver={(e) => e.preventDefault()}
        onDrop={(e) => {
          e.preventDefault();
          void dropFiles([...e.dataTransfer.files]);
        }}
      >
        {data.status === 'missing' ? (
          <div className="empty-guidance">
            <p>
              <strong>{t('data.missing')}</strong>
            </p>
            {data.guidance.map((g) => (
              <p key={g}>{g}</p>
            ))}
          </div>
        ) : (
          <p>{t('charts.empty')}</p>
        )}
      </div>
    );
  }
  const settingsNote = simplificationsNote(t, run.config, i18n.language);
  const landscape = run.landscape;
  const hasLandscape = Boolean(landscape?.nets.some((n) => complete(landscape, n)));
  // the test images the per-layer charts' responses are measured on
  const images = responseImages(run.config.testSize, run.series);
  // the evaluations recorded so far (the per-layer charts redraw when this changes; see sameTaps)
  const taps = run.nets.reduce((k, n) => k + (run.series[n.id]?.taps.length ?? 0), 0);
  return (
    <div className="charts" data-testid="charts" data-iteration={run.progress?.iteration ?? 0}>
      {/* the verdict first, so that it is in the first screen once a run has ended (classroom mode places it under the curves) */}
      {!hide && ['done', 'stopped', 'failed'].includes(run.state) && (
        <VerdictPanel nets={run.nets} series={run.series} status={run.state} iterations={run.config.iterations} trainSize={run.config.trainSize} />
      )}
      <div className="slide-tools" role="group" aria-label={t('charts.slide')}>
        {t('charts.slide')}
        {hasLandscape && (
          <label className="slide-aspect">
            <input type="checkbox" data-testid="slide-landscape" checked={slideLandscape} onChange={(e) => setSlideLandscape(e.target.checked)} />{' '}
            {t('slide.withLandscape')}
          </label>
        )}
        {(['16:9', '4:3'] as const).map((aspect) => (
          <span key={aspect} className="slide-aspect">
            {aspect}{' '}
            {(['png', 'svg'] as const).map((format) => (
              <button
                key={format}
                type="button"
                aria-label={`${aspect} ${format.toUpperCase()}`}
                onClick={() => void exportSlide(t, run, i18n.language, format, aspect, hasLandscape && slideLandscape)}
              >
                {format.toUpperCase()}
              </button>
            ))}
          </span>
        ))}
      </div>
      <CurvesPanel nets={nets} series={run.series} iterations={run.config.iterations} trainSize={run.config.trainSize} compare={compare} />
      <DegradationSummary
        nets={nets}
        series={run.series}
        scrub={scrub}
        onScrub={(it) => useLab.setState({ scrubIteration: it })}
        iterations={run.config.iterations}
      />
      {classroom && <Explainers />}
      {/* what the run simplifies compared with the paper, once on the page (each export carries it in its footer) */}
      {settingsNote && (
        <p className="caption settings-note" data-testid="settings-note">
          {settingsNote}
        </p>
      )}
      <div className="panels-2 layer-charts">
        <LayerChart kind="std" nets={run.nets} series={run.series} scrub={scrub} taps={taps} images={images} />
        <LayerChart kind="grad" nets={run.nets} series={run.series} scrub={scrub} taps={taps} images={images} />
      </div>
      {run.nets.some((n) => familyOf(n) === 'highway') && <GateChart nets={run.nets} series={run.series} scrub={scrub} taps={taps} images={images} />}
      {run.nets.some((n) => familyOf(n) !== 'plain') && <ResidualChart nets={run.nets} series={run.series} scrub={scrub} taps={taps} images={images} />}
      {run.config.warmup.some((w) => w !== 'off') && <LrChart nets={run.nets} series={run.series} iterations={run.config.iterations} />}
      <LandscapePanel run={run} />
    </div>
  );
}

export function App() {
  const { t, i18n } = useTranslation();
  const classroom = useLab((s) => s.classroom);
  const hasRun = useLab((s) => (s.run?.nets.length ?? 0) > 0);
  const lesson = useLab((s) => s.lesson);
  useEffect(() => bootLab(), []);
  const toggleClassroom = () => {
    useLab.setState((s) => ({ classroom: !s.classroom }));
    syncUrl(useLab.getState());
  };
  return (
    <div className={`app${classroom ? ' classroom' : ''}${lesson ? ' lesson-on' : ''}`}>
      <header className="app-header">
        <div className="title-block">
          <h1>{t('title')}</h1>
          {!classroom && <p className="lede">{t('lede')}</p>}
        </div>
        <div className="toolbar">
          {classroom && <RunControls compact />}
          <label>
            <span className="sr-only">{t('language')}</span>
            <select aria-label={t('language')} value={i18n.language === 'zh' ? 'zh' : 'en'} onChange={(e) => setLang(e.target.value as Lang)}>
              <option value="en">English</option>
              <option value="zh">简体中文</option>
            </select>
          </label>
          <button type="button" aria-pressed={lesson !== null} onClick={() => (lesson ? endLesson() : startLesson())}>
            {t('lesson.button')}
          </button>
          <button type="button" aria-pressed={classroom} onClick={toggleClassroom}>
            {classroom ? t('exitClassroom') : t('classroom')}
          </button>
        </div>
      </header>
      <StatusBar />
      <Banners />
      {!classroom && <FirstSteps />}
      <div className="layout">
        {!classroom && (
          <aside className="sidebar" aria-label={t('controls.heading')}>
            <RunControls />
            <ErrorBoundary area="experiment">
              <ExperimentForm />
            </ErrorBoundary>
            <ErrorBoundary area="data">
              <DataPanel />
            </ErrorBoundary>
            <ErrorBoundary area="saved runs">
              <Tripwire area="saved runs" />
              <RunsPanel />
            </ErrorBoundary>
            <NetList />
            <ReferencePanel />
          </aside>
        )}
        <main className="main" aria-label={t('charts.region')}>
          <Lesson />
          <ErrorBoundary area="charts">
            <Tripwire area="charts" />
            <Charts />
          </ErrorBoundary>
        </main>
        {/* in classroom mode the explanations sit beside the depth summary, inside the charts' grid, once a run is shown */}
        {classroom && !hasRun && <Explainers />}
      </div>
      <ArchitectureView />
      <LessonSheets />
    </div>
  );
}
