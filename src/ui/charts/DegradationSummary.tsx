// The picture of the degradation problem: training error against depth at one iteration, plain
// against residual, with a scrubber to any earlier iteration.
import { memo, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { CartesianGrid, Line as RLine, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { NetInfo, NetSeries } from '../../core/metrics';
import { judgeDegradation, judgeTestStory } from '../../core/verdict';
import { judgeQuestions, showsFig6 } from '../../core/questions';
import { ChartCard } from './ChartCard';
import type { VerdictLine } from './captions';
import { questionLines, summaryCaption, summaryErrors, testStoryLines, verdictLines } from './captions';
import { FAMILY_DASH, depthAxis, depthColor, linesToCsv, summaryGroups } from './chartData';

/** The summary's lines (summaryGroups) are dark, or a colour per block type and warmup variant; their style says plain or residual, their points' colours the depth. */

interface Props {
  nets: NetInfo[];
  series: Record<string, NetSeries>;
  scrub: number | null;
  onScrub: (it: number | null) => void;
  /** The run's state (the verdict is shown once the run has ended) and length (at its end the summary shows the verdict's numbers). */
  status: string;
  iterations: number;
}

/**
 * The verdict of a run that has ended: Fig. 6's (src/core/verdict.ts) where the run has plain nets of two
 * depths, and each question its nets ask (src/core/questions.ts: warmup, bottleneck, highway, shortcuts),
 * with a line per comparison. At the top of the charts, or in classroom mode under the curves.
 */
export function VerdictPanel({
  nets,
  series,
  status,
  iterations,
  trainSize,
}: Pick<Props, 'nets' | 'series' | 'status' | 'iterations'> & { trainSize: number }) {
  const { t, i18n } = useTranslation();
  const verdict = useMemo(() => judgeDegradation({ status, iterations, nets, series }), [status, iterations, nets, series]);
  const questions = useMemo(() => judgeQuestions({ status, iterations, nets, series }), [status, iterations, nets, series]);
  const fig6 = showsFig6(nets, questions);
  const { outcome, lines } = verdictLines(t, verdict, nets);
  // the fourth line: does test error tell the same story?
  const story = useMemo(() => judgeTestStory({ status, iterations, nets, series }, trainSize), [status, iterations, nets, series, trainSize]);
  const testLines = testStoryLines(t, story, nets, trainSize, i18n.language);
  const list = (items: VerdictLine[]) => (
    <ul>
      {items.map((l, i) => (
        <li key={i} className={l.holds === null ? 'note' : l.holds ? 'holds' : 'fails'}>
          <span aria-hidden="true">{l.holds === null ? '•' : l.holds ? '✓' : '✗'}</span> {l.text}
        </li>
      ))}
    </ul>
  );
  return (
    <section
      className={`verdict verdict-${fig6 ? verdict.outcome : (questions[0]?.outcome ?? 'not-judged')}`}
      data-testid="verdict"
      data-outcome={fig6 ? verdict.outcome : ''}
      data-questions={questions.map((q) => `${q.kind}:${q.outcome}`).join(' ')}
      aria-label={t('verdict.heading')}
    >
      {fig6 && (
        <>
          <h3>
            {t('verdict.heading')} <strong>{outcome}</strong>
          </h3>
          {list(lines)}
          {testLines.length > 0 && (
            <div className="test-story" data-testid="test-story" data-outcome={story?.outcome}>
              {list(testLines)}
            </div>
          )}
        </>
      )}
      {questions.map((q) => {
        const { outcome: answer, lines: qLines } = questionLines(t, q, nets);
        return (
          <div key={q.kind} className={`question question-${q.outcome}`} data-testid={`question-${q.kind}`} data-outcome={q.outcome}>
            <h3>
              {t(`questions.heading.${q.kind}`)} <strong>{answer}</strong>
            </h3>
            {list(qLines)}
            <p className="hint paper-finding">{t(`questions.paper.${q.kind}`)}</p>
          </div>
        );
      })}
      {(fig6 ? verdict.cause.kind === 'margins' : questions.some((q) => !q.cause)) && (
        <p className="hint">
          {fig6
            ? t('verdict.window', { from: verdict.window[0] + 1, to: verdict.window[1] })
            : t('questions.window', { from: verdict.window[0] + 1, to: verdict.window[1] })}
        </p>
      )}
    </section>
  );
}

function DegradationSummaryImpl({ nets, series, scrub, onScrub, iterations }: Omit<Props, 'status'>) {
  const { t } = useTranslation();
  const latest = Math.max(0, ...Object.values(series).map((s) => s.train.it.at(-1) ?? 0));
  const at = scrub === null ? latest : Math.min(scrub, latest);
  const lines = useMemo(() => {
    // at the run's end, the verdict's numbers (the mean over its window); before, the running error at `at`
    const { errorOf } = summaryErrors(nets, series, at, iterations);
    // plain against residual is the line style; each point's colour is its depth, as in the curves
    return summaryGroups(nets, errorOf).map((g) => {
      const family = g.family === 'plain' ? t('charts.plain') : g.family === 'highway' ? t('charts.highway') : t('charts.residual');
      const words = [
        g.shortcut ? ` (${g.shortcut})` : '',
        g.gateBias ? ` (${g.gateBias.replace('-', '−')})` : '',
        g.variants && g.block === 'bottleneck' ? ` ${t('runName.bottleneck')}` : '',
        g.variants && g.warmups ? `, ${t('runName.warmup', { mode: g.warmup })}` : '',
      ].join('');
      return {
        key: g.key,
        label: `${family}${words}`,
        color: g.color,
        dash: g.family === 'residual' ? FAMILY_DASH[g.nets[0].shortcut] : FAMILY_DASH[g.family],
        points: g.points,
      };
    });
  }, [nets, series, at, t, iterations]);
  const depths = [...new Set(nets.map((n) => n.depth))].sort((a, b) => a - b);
  const axis = depthAxis(depths);
  const yMax = Math.min(100, Math.ceil(Math.max(10, ...lines.flatMap((l) => l.points.map((p) => p.y))) / 20) * 20);
  const legend = lines.map((l) => ({ label: l.label, color: l.color, dashed: false, dash: l.dash }));
  const empty = lines.every((l) => l.points.length === 0);
  return (
    <ChartCard
      id="summary"
      title={t('charts.summary')}
      caption={summaryCaption(t, nets, series, at, iterations)}
      legend={legend}
      csv={() => linesToCsv(lines, 'depth', `training error % at iteration ${at}`)}
      empty={empty}
      tools={
        <label className="scrubber">
          {t('charts.scrub')}{' '}
          <input
            type="range"
            min={0}
            max={Math.max(1, latest)}
            step={1}
            value={at}
            disabled={latest === 0}
            onChange={(e) => {
              const v = Number(e.target.value);
              onScrub(v >= latest ? null : v);
            }}
            aria-valuetext={`${t('charts.scrub')} ${at}`}
          />
          <output className="num">{at}</output>
        </label>
      }
    >
      <div className="chart-panel" data-subtitle="" data-points={lines.reduce((s, l) => s + l.points.length, 0)}>
        <div className="plot plot-summary">
          <ResponsiveContainer width="100%" height="100%">
            <LineChart margin={{ top: 8, right: 24, bottom: 28, left: 8 }}>
              <CartesianGrid stroke="#e3e6eb" />
              <XAxis
                type="number"
                dataKey="x"
                scale={axis.scale}
                domain={axis.domain}
                ticks={depths}
                allowDataOverflow
                tick={{ fill: '#333' }}
                label={{ value: t('charts.depth'), position: 'insideBottom', offset: -16, fill: '#333' }}
              />
              <YAxis
                domain={[0, yMax]}
                ticks={Array.from({ length: yMax / (yMax > 50 ? 20 : 10) + 1 }, (_, i) => i * (yMax > 50 ? 20 : 10))}
                width={60}
                tick={{ fill: '#333' }}
                label={{ value: t('charts.trainError'), angle: -90, position: 'insideLeft', offset: 0, dy: 60, fill: '#333' }}
              />
              <Tooltip isAnimationActive={false} formatter={(v) => `${Number(v).toFixed(1)}%`} labelFormatter={(x) => `${x} ${t('charts.depth')}`} />
              {lines.map((l) => (
                <RLine
                  key={l.key}
                  data={l.points}
                  dataKey="y"
                  name={l.label}
                  stroke={l.color}
                  strokeWidth={3}
                  strokeDasharray={l.dash}
                  dot={(p: { cx?: number; cy?: number; payload?: { x: number }; index?: number }) => (
                    <circle key={p.index} cx={p.cx} cy={p.cy} r={6} fill={depthColor(p.payload?.x ?? 0)} stroke="#fff" strokeWidth={1.5} />
                  )}
                  isAnimationActive={false}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        </div>
      </div>
    </ChartCard>
  );
}

export const DegradationSummary = memo(DegradationSummaryImpl);
