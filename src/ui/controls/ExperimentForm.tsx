// The experiment's settings, rendered from the config's field table (FORM in src/core/config.ts):
// a new field or option is an edit there, not here. Every change goes through validateConfig (in
// setConfig), so the form, the URL and the worker agree; a refused value is named under its
// control. The form locks while a run is active, saying why.
import type { ReactNode } from 'react';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ConfigIssue, ExperimentConfig, FormControl } from '../../core/config';
import { FORM } from '../../core/config';
import { netsOf } from '../../core/experimentNets';
import { PRESETS } from '../../core/presets';
import { MEMORY_LIMIT, costProblem, expectedMs, experimentCost, formatBytes } from '../../core/cost';
import { localizeEngine } from '../i18n';
import { formatEta, shortEngine } from '../StatusBar';
import { learningRate } from '../../core/schedule';
import { iterationsPerEpoch } from '../../core/data/augment';
import { setConfig, useLab } from '../store';

/** A small plot of the learning rate the warmup mode gives over the run (the function the trainer uses). */
function LrSchedulePlot({ config, trainCount }: { config: ExperimentConfig; trainCount: number }) {
  const { t } = useTranslation();
  const W = 240;
  const H = 56;
  const perEpoch = iterationsPerEpoch(Math.min(config.trainSize, trainCount), config.batchSize);
  // the paper's warmup ends when training error falls below 80%: "about 400 iterations"
  const warmupEnd = Math.min(400, Math.floor(config.iterations / 10));
  const steps = 160;
  // one line per warmup variant (dashed after the first), drawn with the trainer's own function
  const lines = config.warmup.map((warmup) => {
    const pts: string[] = [];
    for (let i = 0; i <= steps; i++) {
      const it = Math.round((i / steps) * (config.iterations - 1));
      const lr = learningRate(it, { lr: config.lr, iterations: config.iterations, warmup, iterationsPerEpoch: perEpoch }, warmupEnd);
      pts.push(`${((i / steps) * (W - 4) + 2).toFixed(1)},${(H - 4 - (lr / config.lr) * (H - 10)).toFixed(1)}`);
    }
    return { warmup, points: pts.join(' ') };
  });
  return (
    <figure className="lr-plot">
      <svg width={W} height={H} role="img" aria-label={t('controls.schedule')}>
        <rect x="0" y="0" width={W} height={H} fill="#fff" stroke="#d8dce3" />
        {lines.map((l, i) => (
          <polyline
            key={l.warmup}
            points={l.points}
            fill="none"
            stroke={i === 0 ? '#0072B2' : '#D55E00'}
            strokeWidth="2"
            strokeDasharray={i === 0 ? undefined : '5 3'}
          >
            <title>{t(`controls.warmupMode.${l.warmup}`)}</title>
          </polyline>
        ))}
      </svg>
      <figcaption>{t('controls.schedule')}</figcaption>
    </figure>
  );
}

type Key = keyof ExperimentConfig;
type Option = string | number;

/** The message to show under a control after a change: the first refusal or clamp, if any. */
function firstNote(issues: ConfigIssue[]): string | null {
  return (issues.find((i) => i.level === 'error') ?? issues[0])?.message ?? null;
}

function Note({ id, text }: { id: string; text: string | null }) {
  return text ? (
    <p id={`${id}-note`} className="field-note" role="status">
      {text}
    </p>
  ) : null;
}

/** A typed number, applied on blur or Enter (not per keystroke, so "0." can be typed). */
function NumberInput({
  k,
  control,
  value,
  disabled,
  label,
}: {
  k: Key;
  control: Extract<FormControl, { kind: 'number' }>;
  value: number;
  disabled: boolean;
  label: string;
}) {
  const [draft, setDraft] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  return (
    <div className="field">
      <label htmlFor={control.id}>{label}</label>
      <input
        id={control.id}
        type="number"
        inputMode="decimal"
        value={draft ?? String(value)}
        step={control.step}
        disabled={disabled}
        aria-describedby={note ? `${control.id}-note` : undefined}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={() => {
          if (draft === null) return;
          setNote(firstNote(setConfig({ [k]: draft } as unknown as Partial<ExperimentConfig>)));
          setDraft(null);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
        }}
      />
      <Note id={control.id} text={note} />
    </div>
  );
}

/** One field's control, as its FORM entry describes it. `extra` is shown after it (the lr plot after warmup). */
function FieldControl({
  k,
  control,
  locked,
  optionText,
  extra,
}: {
  k: Key;
  control: FormControl;
  locked: boolean;
  optionText: (k: Key, o: Option) => string;
  extra?: ReactNode;
}) {
  const { t } = useTranslation();
  const value = useLab((s) => s.config[k]);
  const [note, setNote] = useState<string | null>(null);
  const label = t(control.label);
  const change = (v: unknown) => setNote(firstNote(setConfig({ [k]: v } as Partial<ExperimentConfig>)));
  const text = (o: Option) => optionText(k, o);

  switch (control.kind) {
    case 'number':
      return <NumberInput k={k} control={control} value={value as number} disabled={locked} label={label} />;
    case 'multi': {
      const set = value as Option[];
      const toggle = (o: Option) => change(set.includes(o) ? set.filter((x) => x !== o) : [...set, o]);
      return (
        <fieldset disabled={locked} id={control.id}>
          <legend>{label}</legend>
          <div className={control.layout === 'chips' ? 'chips' : undefined}>
            {control.options.map((o) => (
              <label key={o} className={control.layout === 'chips' ? 'chip' : 'check-line'}>
                <input type="checkbox" checked={set.includes(o)} onChange={() => toggle(o)} /> {text(o)}
              </label>
            ))}
          </div>
          <Note id={control.id} text={note} />
          {extra}
        </fieldset>
      );
    }
    case 'radio':
      return (
        <fieldset disabled={locked} id={control.id}>
          <legend>{label}</legend>
          {control.options.map((o) => (
            <label key={o} className="radio">
              <input type="radio" name={control.id} value={o} checked={value === o} onChange={() => change(o)} /> {text(o)}
            </label>
          ))}
          <Note id={control.id} text={note} />
          {extra}
        </fieldset>
      );
    case 'toggle':
      return (
        <label className="check-line">
          <input type="checkbox" checked={value as boolean} disabled={locked} onChange={(e) => change(e.target.checked)} /> {label}
        </label>
      );
    case 'select': {
      const opts: Option[] = control.open && !control.options.includes(value as Option) ? [...control.options, value as Option] : [...control.options];
      if (typeof opts[0] === 'number') opts.sort((a, b) => (a as number) - (b as number));
      const select = (
        <select
          id={control.id}
          aria-label={control.place === 'fieldset' ? label : undefined}
          value={String(value)}
          disabled={locked}
          onChange={(e) => change(opts.find((o) => String(o) === e.target.value))}
        >
          {opts.map((o) => (
            <option key={o} value={String(o)}>
              {text(o)}
            </option>
          ))}
        </select>
      );
      return control.place === 'fieldset' ? (
        <fieldset disabled={locked}>
          <legend>{label}</legend>
          {select}
          <Note id={control.id} text={note} />
          {extra}
        </fieldset>
      ) : (
        <div className="field">
          <label htmlFor={control.id}>{label}</label>
          {select}
          <Note id={control.id} text={note} />
        </div>
      );
    }
  }
}

/** How long this experiment should take here: one number, from the speed this machine trained at last, or from a few timed steps before any run. */
function ExpectedTime({ config }: { config: ExperimentConfig }) {
  const { t } = useTranslation();
  const speed = useLab((s) => s.speed);
  if (!speed)
    return (
      <p className="hint" data-testid="expected-time">
        {t('controls.expectedUnknown')}
      </p>
    );
  const eta = formatEta(expectedMs(config, speed.macsPerSec), t);
  return (
    <p className="hint" data-testid="expected-time">
      {t(speed.estimated ? 'controls.expectedEstimate' : 'controls.expected', { time: eta.text, engine: localizeEngine(shortEngine(speed.engine)) })}
      {eta.advice ? ` (${eta.advice})` : ''}
    </p>
  );
}

export function ExperimentForm() {
  const { t, i18n } = useTranslation();
  const config = useLab((s) => s.config);
  const presetId = useLab((s) => s.presetId);
  const runState = useLab((s) => s.run?.state);
  const trainCount = useLab((s) => (s.data.status === 'ready' ? s.data.summary.trainCount : 50_000));
  const locked = runState === 'running' || runState === 'starting' || runState === 'paused';
  const nets = netsOf(config).length;
  const tooBig = useMemo(() => costProblem(config), [config]);
  const memory = useMemo(() => experimentCost(config).memory, [config]);

  /** An option's text: its i18n label, or the number in the page's locale (training images say when fewer are loaded). */
  const optionText = (k: Key, o: Option): string => {
    const { control } = FORM.find((f) => f.key === k)!;
    if ('optionLabels' in control && control.optionLabels) return t(`${control.optionLabels}.${o}`);
    if (typeof o !== 'number') return o;
    const n = o.toLocaleString(i18n.language);
    return k === 'trainSize' && o > trainCount ? t('controls.trainSizeCapped', { n, have: trainCount.toLocaleString(i18n.language) }) : n;
  };
  const extras: Partial<Record<Key, ReactNode>> = { warmup: <LrSchedulePlot config={config} trainCount={trainCount} /> };
  const controls = (place: FormControl['place']) =>
    FORM.filter((f) => f.control.place === place).map(({ key, control }) => (
      <FieldControl key={key} k={key} control={control} locked={locked} optionText={optionText} extra={extras[key]} />
    ));

  return (
    <section className="panel" aria-labelledby="form-title">
      <h2 id="form-title">{t('controls.heading')}</h2>
      {locked && (
        <p className="lock-note" role="note">
          {t('controls.locked')}
        </p>
      )}
      <div className="field">
        <label htmlFor="preset">{t('controls.preset')}</label>
        <select
          id="preset"
          value={presetId ?? ''}
          disabled={locked}
          onChange={(e) => {
            const p = PRESETS.find((x) => x.id === e.target.value);
            if (p) setConfig(p.config, p.id);
          }}
        >
          <option value="">{t('controls.presetCustom')}</option>
          {PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {t(`presets.${p.id}.name`)}
            </option>
          ))}
        </select>
        {presetId && (
          <p className="hint" data-testid="preset-blurb">
            {t(`presets.${presetId}.blurb`)}
          </p>
        )}
        <ExpectedTime config={config} />
      </div>
      {controls('fieldset')}
      <div className="grid-2">{controls('grid')}</div>
      {controls('line')}
      <p className="hint" data-testid="net-count">
        {t('controls.nets', { count: nets })} · {t('controls.memory', { size: formatBytes(memory), limit: formatBytes(MEMORY_LIMIT) })}
      </p>
      {tooBig && (
        <p className="field-note" role="status" data-testid="cost-problem">
          {tooBig}
        </p>
      )}
    </section>
  );
}
