// A run's id and its short, readable name.
import type { ExperimentConfig } from '../../core/config';
import i18n from '../i18n';

export const newRunId = () => `run-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;

/** A short, readable run name from its config in the page's language, e.g. "8·56 plain+res A, 300 it". */
export function describeConfig(c: ExperimentConfig): string {
  const fam = c.families.map((f) => i18n.t(`runName.${f}`)).join('+');
  const warm = c.warmup.filter((w) => w !== 'off');
  const extras = [
    c.blocks.includes('bottleneck') ? i18n.t('runName.bottleneck') : '',
    warm.length ? i18n.t('runName.warmup', { mode: c.warmup.join('/') }) : '',
    c.width !== 1 ? `×${c.width}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  return `${c.depths.join('·')} ${fam} ${c.shortcuts.join('')}${extras ? `, ${extras}` : ''}, ${i18n.t('runName.its', { n: c.iterations.toLocaleString('en') })}`;
}
