// The paper's CIFAR-10 numbers (Table 6), and short explanations for the classroom.
import { useTranslation } from 'react-i18next';
import { TABLE6 } from '../core/paper';

export function ReferencePanel() {
  const { t } = useTranslation();
  return (
    <section className="panel" aria-labelledby="ref-title">
      <h2 id="ref-title">{t('reference.heading')}</h2>
      <table className="reference">
        <thead>
          <tr>
            <th scope="col">{t('reference.net')}</th>
            <th scope="col">{t('reference.params')}</th>
            <th scope="col">{t('reference.error')}</th>
          </tr>
        </thead>
        <tbody>
          {TABLE6.map((r) => (
            <tr key={r.net}>
              <th scope="row">{r.net}</th>
              <td className="num">{r.paramsM}M</td>
              <td className="num">{r.testError.toFixed(2)}%</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p className="hint">{t('reference.note')}</p>
    </section>
  );
}

export function Explainers() {
  const { t } = useTranslation();
  const items = ['residual', 'degradation', 'shortcuts', 'warmup'] as const;
  return (
    <aside className="explainers" aria-label="Explanations">
      {items.map((k) => (
        <section key={k}>
          <h2>{t(`explain.${k}Title`)}</h2>
          <p>{t(`explain.${k}`)}</p>
        </section>
      ))}
    </aside>
  );
}
