// The paper's CIFAR-10 numbers (Table 6), and short explanations for the classroom.
import { useTranslation } from 'react-i18next';
import { TABLE6 } from '../core/paper';
import { useLab } from './store';

/** Table 6, each paper figure beside this run's own for the same net (ResNet, option A as in Table 6). */
export function ReferencePanel() {
  const { t, i18n } = useTranslation();
  const run = useLab((s) => s.run);
  const live = (depth: number) => {
    const net = run?.nets.find((n) => n.residual && n.shortcut === 'A' && n.depth === depth && (n.block ?? 'basic') === 'basic');
    const s = net ? run?.series[net.id] : undefined;
    return net ? { params: net.params, testError: s?.test.err.at(-1), at: s?.test.it.at(-1) } : null;
  };
  return (
    <section className="panel" aria-labelledby="ref-title">
      <h2 id="ref-title">{t('reference.heading')}</h2>
      <table className="reference">
        <thead>
          <tr>
            <th scope="col">{t('reference.net')}</th>
            <th scope="col">{t('reference.params')}</th>
            <th scope="col">{t('reference.error')}</th>
            {run && (
              <th scope="col">
                {t('reference.params')} · {t('reference.thisRun')}
              </th>
            )}
            {run && (
              <th scope="col">
                {t('reference.error')} · {t('reference.thisRun')}
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {TABLE6.map((r) => (
            <tr key={r.net}>
              <th scope="row">{r.net}</th>
              <td className="num">{r.paramsM}M</td>
              <td className="num">{r.testError.toFixed(2)}%</td>
              {run && <LiveCells row={live(r.depth)} locale={i18n.language} />}
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">{t('reference.note')}</p>
    </section>
  );
}

function LiveCells({ row, locale }: { row: { params: number; testError?: number; at?: number } | null; locale: string }) {
  const { t } = useTranslation();
  if (!row) {
    return (
      <td className="num" colSpan={2}>
        {t('reference.notInRun')}
      </td>
    );
  }
  return (
    <>
      <td className="num">{(row.params / 1e6).toLocaleString(locale, { maximumFractionDigits: 3 })}M</td>
      <td className="num">{row.testError === undefined ? '–' : `${(100 * row.testError).toFixed(1)}% @ ${row.at?.toLocaleString(locale)}`}</td>
    </>
  );
}

export function Explainers() {
  const { t } = useTranslation();
  // the explanations of what this experiment shows: shortcut options and warmup only when it varies them
  const config = useLab((s) => s.run?.config ?? s.config);
  const items = (['residual', 'degradation', 'shortcuts', 'bottleneck', 'highway', 'warmup'] as const).filter(
    (k) =>
      (k !== 'shortcuts' || config.shortcuts.length > 1 || config.shortcuts[0] !== 'A') &&
      (k !== 'warmup' || config.warmup.some((w) => w !== 'off')) &&
      (k !== 'bottleneck' || config.blocks.includes('bottleneck')) &&
      (k !== 'highway' || config.families.includes('highway')),
  );
  return (
    <aside className="explainers" aria-label={t('explain.label')}>
      {items.map((k) => (
        <section key={k}>
          <h2>{t(`explain.${k}Title`)}</h2>
          {/* the warmup this run uses, in its words (the paper's rule is for ResNet-110) */}
          <p>
            {k !== 'warmup'
              ? t(`explain.${k}`)
              : config.warmup.length > 1
                ? t('explain.warmupVariants', { list: config.warmup.map((w) => t(`controls.warmupMode.${w}`)).join('; ') })
                : t(`explain.warmupMode.${config.warmup[0]}`)}
          </p>
        </section>
      ))}
    </aside>
  );
}
