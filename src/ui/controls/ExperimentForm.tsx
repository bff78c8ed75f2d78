// The experiment's settings. Every change goes through validateConfig (so the form, the URL and
// the worker agree), and the form locks while a run is active, saying why.
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ExperimentConfig } from '../../core/config';
import { ALL_DEPTHS, netsOf, validateConfig } from '../../core/config';
import { PRESETS } from '../../core/presets';
import { WARMUP_MODES, learningRate } from '../../core/schedule';
import { iterationsPerEpoch } from '../../core/data/augment';
import { setConfig, useLab } from '../store';

/** A small plot of the learning rate the warmup mode gives over the run (the function the trainer uses). */
export function LrSchedulePlot({ config, trainCount }: { config: ExperimentConfig; trainCount: number }) {
  const { t } = useTranslation();
  const W = 240;
  const H = 56;
  const perEpoch = iterationsPerEpoch(Math.min(config.trainSize, trainCount), config.batchSize);
  // the paper's warmup ends when training error falls below 80%: "about 400 iterations"
  const warmupEnd = Math.min(400, Math.floor(config.iterations / 10));
  const steps = 160;
  const pts: string[] = [];
  for (let i = 0; i <= steps; i++) {
    const it = Math.round((i / steps) * (config.iterations - 1));
    const lr = learningRate(it, { lr: config.lr, iterations: config.iterations, warmup: config.warmup, iterationsPerEpoch: perEpoch }, warmupEnd);
    pts.push(`${((i / steps) * (W - 4) + 2).toFixed(1)},${(H - 4 - (lr / config.lr) * (H - 10)).toFixed(1)}`);
  }
  return (
    <figure className="lr-plot">
      <svg width={W} height={H} role="img" aria-label={t('controls.schedule')}>
        <rect x="0" y="0" width={W} height={H} fill="#fff" stroke="#d8dce3" />
        <polyline points={pts.join(' ')} fill="none" stroke="#0072B2" strokeWidth="2" />
      </svg>
      <figcaption>{t('controls.schedule')}</figcaption>
    </figure>
  );
}

function NumberField({ id, label, value, field, min, step, disabled }: { id: string; label: string; value: number; field: keyof ExperimentConfig; min?: number; step?: number; disabled: boolean }) {
  const [draft, setDraft] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="number"
        inputMode="decimal"
        value={draft ?? String(value)}
        min={min}
        step={step ?? 'any'}
        disabled={disabled}
        aria-describedby={note ? `${id}-note` : undefined}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={() => {
          if (draft === null) return;
          const { config, issues } = validateConfig({ [field]: draft }, useLab.getState().config);
          setNote(issues[0]?.message ?? null);
          if (!issues.some((i) => i.level === 'error')) setConfig({ [field]: config[field] } as Partial<ExperimentConfig>);
          setDraft(null);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
        }}
      />
      {note && (
        <p id={`${id}-note`} className="field-note" role="status">
          {note}
        </p>
      )}
    </div>
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

  const toggleDepth = (d: number) => {
    const depths = config.depths.includes(d) ? config.depths.filter((x) => x !== d) : [...config.depths, d].sort((a, b) => a - b);
    if (depths.length) setConfig({ depths });
  };
  const toggleShortcut = (s: 'A' | 'B' | 'C') => {
    const shortcuts = config.shortcuts.includes(s) ? config.shortcuts.filter((x) => x !== s) : [...config.shortcuts, s].sort();
    if (shortcuts.length) setConfig({ shortcuts });
  };

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
        {presetId && <p className="hint">{t(`presets.${presetId}.blurb`)}</p>}
      </div>
      <fieldset disabled={locked}>
        <legend>{t('controls.depths')}</legend>
        <div className="chips">
          {ALL_DEPTHS.map((d) => (
            <label key={d} className="chip">
              <input type="checkbox" checked={config.depths.includes(d)} onChange={() => toggleDepth(d)} /> {d}
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset disabled={locked}>
        <legend>{t('controls.families')}</legend>
        {(['both', 'plain', 'residual'] as const).map((f) => (
          <label key={f} className="radio">
            <input type="radio" name="families" value={f} checked={config.families === f} onChange={() => setConfig({ families: f })} /> {t(`controls.family.${f}`)}
          </label>
        ))}
      </fieldset>
      <fieldset disabled={locked}>
        <legend>{t('controls.shortcuts')}</legend>
        {(['A', 'B', 'C'] as const).map((s) => (
          <label key={s} className="check-line">
            <input type="checkbox" checked={config.shortcuts.includes(s)} onChange={() => toggleShortcut(s)} /> {t(`controls.shortcut.${s}`)}
          </label>
        ))}
      </fieldset>
      <fieldset disabled={locked}>
        <legend>{t('controls.warmup')}</legend>
        <select aria-label={t('controls.warmup')} value={config.warmup} onChange={(e) => setConfig({ warmup: e.target.value as ExperimentConfig['warmup'] })}>
          {WARMUP_MODES.map((m) => (
            <option key={m} value={m}>
              {t(`controls.warmupMode.${m}`)}
            </option>
          ))}
        </select>
        <LrSchedulePlot config={config} trainCount={trainCount} />
      </fieldset>
      <div className="grid-2">
        <NumberField id="lr" label={t('controls.lr')} value={config.lr} field="lr" step={0.01} disabled={locked} />
        <div className="field">
          <label htmlFor="batch">{t('controls.batch')}</label>
          <select id="batch" value={config.batchSize} disabled={locked} onChange={(e) => setConfig({ batchSize: Number(e.target.value) })}>
            {[...new Set([16, 32, 64, 128, 256, config.batchSize])].sort((a, b) => a - b).map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        </div>
        <NumberField id="iterations" label={t('controls.iterations')} value={config.iterations} field="iterations" step={100} disabled={locked} />
        <div className="field">
          <label htmlFor="train-size">{t('controls.trainSize')}</label>
          <select id="train-size" value={config.trainSize} disabled={locked} onChange={(e) => setConfig({ trainSize: Number(e.target.value) })}>
            {[...new Set([1000, 5000, 10_000, 45_000, 50_000, config.trainSize])].sort((a, b) => a - b).map((n) => (
              <option key={n} value={n}>
                {n > trainCount
                  ? t('controls.trainSizeCapped', { n: n.toLocaleString(i18n.language), have: trainCount.toLocaleString(i18n.language) })
                  : n.toLocaleString(i18n.language)}
              </option>
            ))}
          </select>
        </div>
        <NumberField id="test-size" label={t('controls.testSize')} value={config.testSize} field="testSize" step={100} disabled={locked} />
        <div className="field">
          <label htmlFor="split">{t('controls.split')}</label>
          <select id="split" value={config.split} disabled={locked} onChange={(e) => setConfig({ split: e.target.value as ExperimentConfig['split'] })}>
            <option value="test">{t('controls.splitMode.test')}</option>
            <option value="paper">{t('controls.splitMode.paper')}</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor="width">{t('controls.width')}</label>
          <select id="width" value={config.width} disabled={locked} onChange={(e) => setConfig({ width: Number(e.target.value) })}>
            {[...new Set([0.25, 0.5, 0.75, 1, 1.5, 2, config.width])].sort((a, b) => a - b).map((w) => (
              <option key={w} value={w}>
                {w}
              </option>
            ))}
          </select>
        </div>
        <NumberField id="eval-every" label={t('controls.evalEvery')} value={config.evalEvery} field="evalEvery" step={10} disabled={locked} />
        <NumberField id="seed" label={t('controls.seed')} value={config.seed} field="seed" step={1} disabled={locked} />
        <div className="field">
          <label htmlFor="backend-choice">{t('controls.backend')}</label>
          <select id="backend-choice" value={config.backend} disabled={locked} onChange={(e) => setConfig({ backend: e.target.value as ExperimentConfig['backend'] })}>
            {(['auto', 'webgpu', 'webgl', 'lab-cpu', 'cpu'] as const).map((b) => (
              <option key={b} value={b}>
                {t(`controls.backendMode.${b}`)}
              </option>
            ))}
          </select>
        </div>
      </div>
      <label className="check-line">
        <input type="checkbox" checked={config.augment} disabled={locked} onChange={(e) => setConfig({ augment: e.target.checked })} /> {t('controls.augment')}
      </label>
      <p className="hint">{t('controls.nets', { count: nets })}</p>
    </section>
  );
}
