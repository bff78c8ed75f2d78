// The guided lesson, opt-in from the "Lesson" button: predict → watch → explain → try, one step at a
// time on the big screen. Each step advances with a key (→, Page Down, Space) or a click, and goes back
// with ←/Page Up; Escape ends it. The residual half stays hidden until the plain half is clear by the
// verdict's rules on the live data (src/core/lesson.ts plainHalfClear), and then appears by itself. The
// class votes by show of hands: the page records nothing about people. Teacher notes and a student
// worksheet print from here (print CSS in app.css), in the page's language.
import { useEffect, useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import type { LessonStep } from '../../core/lesson';
import { LESSON_STEPS, plainHalfClear, predictDepths, promptIndex } from '../../core/lesson';
import { familyOf } from '../../core/metrics';
import type { PresetId } from '../../core/presets';
import { LESSON_DEMOS, presetById } from '../../core/presets';
import { openArchitecture, useNetChoices } from '../architecture/ArchitectureView';
import { startRun } from '../labController';
import { showConfig, useLab } from '../store';

/** The Try step's presets, each asked as a question first (its i18n words under lesson.try). */
const TRY: { preset: PresetId; words: string }[] = [
  { preset: 'shortcuts', words: 'shortcuts' },
  { preset: 'warmup110', words: 'warmup' },
];

export const startLesson = () => useLab.setState({ lesson: 'predict' });
export const endLesson = () => useLab.setState({ lesson: null });

function go(step: LessonStep, by: number): void {
  const i = LESSON_STEPS.indexOf(step) + by;
  if (i >= 0 && i < LESSON_STEPS.length) useLab.setState({ lesson: LESSON_STEPS[i] });
}

/** Whether a key press belongs to a form control (the lesson's keys then do nothing). */
const inControl = (e: KeyboardEvent) => e.target instanceof HTMLElement && e.target.closest('input, select, textarea, [contenteditable="true"]') !== null;

export function Lesson() {
  const { t, i18n } = useTranslation();
  const step = useLab((s) => s.lesson);
  const presetId = useLab((s) => s.presetId);
  const classroom = useLab((s) => s.classroom);
  const run = useLab((s) => s.run);
  const data = useLab((s) => s.data.status);
  const nets = run?.nets ?? [];
  // judged only while the lesson waits for it or reports it (the stream updates often)
  const judging = step === 'watch-plain' || step === 'watch-residual';
  const half = useMemo(() => (run && judging ? plainHalfClear(run.nets, run.series) : null), [run, judging]);
  // the run's plain nets, or before any run the form's experiment's
  const choices = useNetChoices().nets;
  const pair = predictDepths(choices);
  const depths = pair ?? [8, 56];
  const heading = useRef<HTMLHeadingElement>(null);
  // the plain half is clear: reveal the residual half by itself
  // (an experiment without plain nets of two depths has no plain half to wait for)
  const blocked = step === 'watch-plain' && pair !== null && !half?.clear;
  useEffect(() => {
    if (step === 'watch-plain' && half?.clear) useLab.setState({ lesson: 'watch-residual' });
  }, [step, half?.clear]);
  // keys: next, back, end
  useEffect(() => {
    if (!step) return;
    const onKey = (e: KeyboardEvent) => {
      if (inControl(e) || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === 'Escape' && !document.querySelector('dialog[open]')) endLesson();
      else if (e.key === 'ArrowRight' || e.key === 'PageDown' || (e.key === ' ' && !(e.target instanceof HTMLButtonElement))) {
        e.preventDefault();
        // the plain half must be clear before the residual half shows (it then shows by itself)
        if (!blocked) go(step, 1);
      } else if (e.key === 'ArrowLeft' || e.key === 'PageUp') {
        e.preventDefault();
        go(step, -1);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [step, blocked]);
  // each step's heading takes the focus, so a screen reader reads it and the keys keep working
  useEffect(() => heading.current?.focus(), [step]);
  if (!step) return null;
  const index = LESSON_STEPS.indexOf(step);
  const pts = (x: number) => (100 * x).toFixed(1);
  const deepRes = [...nets].filter((n) => familyOf(n) === 'residual').sort((a, b) => b.depth - a.depth)[0];
  const loadPreset = (id: PresetId) => {
    const p = presetById(id);
    if (p) showConfig(p.config);
  };
  const running = run?.state === 'running' || run?.state === 'starting';
  // what to talk about while the nets train (a slow preset leaves minutes): the whole list, or on the
  // projector one prompt at a time, moving on with the run's progress (not a timer)
  const prompts = step === 'watch-plain' || step === 'watch-residual' ? (t(`lesson.${step}.more`, { returnObjects: true }) as string[]) : [];
  return (
    <section className="lesson" data-testid="lesson" data-step={step} aria-labelledby="lesson-title" aria-roledescription={t('lesson.role')}>
      <div className="lesson-head">
        <h2 id="lesson-title" ref={heading} tabIndex={-1}>
          <span className="lesson-count">{t('lesson.count', { n: index + 1, of: LESSON_STEPS.length })}</span> {t(`lesson.${step}.title`)}
        </h2>
        <ol className="lesson-dots" aria-hidden="true">
          {LESSON_STEPS.map((s, i) => (
            <li key={s} className={i === index ? 'now' : i < index ? 'done' : ''} />
          ))}
        </ol>
      </div>
      <div className="lesson-body" aria-live="polite">
        {step === 'predict' && <p className="lesson-question">{t('lesson.predict.question', { a: depths[0], b: depths[1] })}</p>}
        {pair === null && (step === 'predict' || step === 'watch-plain') && <p className="hint">{t('lesson.needsPlain')}</p>}
        {step === 'predict' && <p>{t('lesson.predict.hands')}</p>}
        {step === 'predict' && !running && (
          <p className="lesson-demos" data-testid="lesson-demos">
            {t('lesson.choose')}{' '}
            {LESSON_DEMOS.map((id) => (
              <button key={id} type="button" aria-pressed={presetId === id} onClick={() => loadPreset(id)}>
                {t('lesson.try.load', { name: t(`presets.${id}.name`) })}
                {presetId === id && ` ${t('lesson.chosen')}`}
              </button>
            ))}
          </p>
        )}
        {step === 'watch-plain' && (
          <>
            <p>{t('lesson.watch-plain.text')}</p>
            {!running && run?.state !== 'done' && (
              <p>
                <button type="button" className="primary" onClick={() => startRun()} disabled={data !== 'ready'}>
                  {t('run.start')}
                </button>{' '}
                {data !== 'ready' && t('run.needData')}
              </p>
            )}
            <p className="hint" data-testid="lesson-wait">
              {half?.clear ? '' : t('lesson.watch-plain.waiting', { it: (half?.at ?? 0).toLocaleString(i18n.language) })}
            </p>
          </>
        )}
        {step === 'watch-residual' && (
          <>
            {half?.deep && half.shallow && (
              <p data-testid="lesson-plain-clear">
                {t('lesson.watch-residual.clear', {
                  deep: half.deep.label,
                  shallow: half.shallow.label,
                  pts: pts(half.deep.error - half.shallow.error),
                  it: half.at.toLocaleString(i18n.language),
                })}
              </p>
            )}
            <p>{t('lesson.watch-residual.text')}</p>
          </>
        )}
        {step === 'explain' && (
          <>
            <p>{t('lesson.explain.text')}</p>
            <p>
              {deepRes && (
                <button type="button" onClick={() => openArchitecture(deepRes.id)}>
                  {t('lesson.explain.block', { net: deepRes.label })}
                </button>
              )}{' '}
              {t('lesson.explain.fig7')}
            </p>
            <p data-testid="lesson-test">{t('lesson.explain.test')}</p>
          </>
        )}
        {step === 'try' && (
          <ul className="lesson-try">
            {TRY.map(({ preset, words }) => (
              <li key={preset}>
                <strong>{t(`lesson.try.${words}Q`)}</strong> {t(`lesson.try.${words}`)}{' '}
                <button type="button" onClick={() => loadPreset(preset)}>
                  {t('lesson.try.load', { name: t(`presets.${preset}.name`) })}
                </button>
              </li>
            ))}
          </ul>
        )}
        {running && <p className="hint lesson-talk">{t(`lesson.${step}.talk`)}</p>}
        {running && prompts.length > 0 && (
          <ul className="hint lesson-more" data-testid="lesson-more">
            {(classroom ? [prompts[promptIndex(run?.progress?.iteration ?? 0, prompts.length)]] : prompts).map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        )}
      </div>
      <div className="lesson-nav">
        <button type="button" onClick={() => go(step, -1)} disabled={index === 0}>
          ← {t('lesson.back')}
        </button>
        {index < LESSON_STEPS.length - 1 ? (
          <button
            type="button"
            className="primary"
            onClick={() => go(step, 1)}
            disabled={blocked}
            title={blocked ? t('lesson.watch-plain.blocked') : undefined}
          >
            {t('lesson.next')} →
          </button>
        ) : (
          <button type="button" className="primary" onClick={endLesson}>
            {t('lesson.finish')}
          </button>
        )}
        <span className="lesson-keys hint">{t('lesson.keys')}</span>
        <span className="lesson-print">
          <button type="button" onClick={() => printSheet('notes')}>
            {t('lesson.printNotes')}
          </button>{' '}
          <button type="button" onClick={() => printSheet('worksheet')}>
            {t('lesson.printWorksheet')}
          </button>
        </span>
        <button type="button" onClick={endLesson}>
          {t('lesson.end')}
        </button>
      </div>
    </section>
  );
}

/** Print one sheet: the page hides everything else while it prints (app.css @media print). */
function printSheet(sheet: 'notes' | 'worksheet'): void {
  document.body.dataset.print = sheet;
  const done = () => {
    delete document.body.dataset.print;
    window.removeEventListener('afterprint', done);
  };
  window.addEventListener('afterprint', done);
  window.print();
}

/** The two printable sheets, in the page's language: the teacher's notes and the students' worksheet. */
export function LessonSheets() {
  const { t } = useTranslation();
  const list = (key: string) => (t(key, { returnObjects: true }) as string[]).map((line, i) => <li key={i}>{line}</li>);
  return (
    <>
      <section className="print-sheet print-notes" data-testid="print-notes" aria-hidden="true">
        <h1>{t('lesson.notes.title')}</h1>
        <ol>{list('lesson.notes.items')}</ol>
      </section>
      <section className="print-sheet print-worksheet" data-testid="print-worksheet" aria-hidden="true">
        <h1>{t('lesson.worksheet.title')}</h1>
        <p>{t('lesson.worksheet.name')}</p>
        <ol className="worksheet">{list('lesson.worksheet.items')}</ol>
      </section>
    </>
  );
}
