// Sentences that describe a chart, computed from what the chart shows, so that no caption can
// claim what the data contradict ("deeper is better" beside a chart where it is not).
import type { TFunction } from 'i18next';
import type { ExperimentConfig } from '../../core/config';
import type { NetInfo, NetSeries } from '../../core/metrics';
import { BASE_LR, BATCH_SIZE } from '../../core/train';
import { valueAt } from '../../core/metrics';
import type { TestStory, Verdict, VerdictCause, VerdictCheck } from '../../core/verdict';
import { finalErrors, verdictGroups, verdictWindow } from '../../core/verdict';
import type { Question } from '../../core/questions';
import { THOUSAND_RULES } from '../../core/questions';

interface At {
  label: string;
  depth: number;
  residual: boolean;
  shortcut: NetInfo['shortcut'];
  /** Running training error at the iteration, 0..1. */
  error: number;
}

/** "a is 12.0 points above b" / "… below …" / "a and b are level" (differences under 0.05 points). */
function compare(t: TFunction, a: At, b: At): string {
  const gap = 100 * (a.error - b.error);
  const pts = Math.abs(gap).toFixed(1);
  if (Math.abs(gap) < 0.05) return t('captions.level', { a: a.label, b: b.label });
  return t(gap > 0 ? 'captions.above' : 'captions.below', { a: a.label, b: b.label, pts });
}

/**
 * The training error the depth summary shows for each net at iteration `it`: the running error there,
 * or, once a run has reached its last iteration, the mean over the verdict's window (the last 10%),
 * the number the verdict judges. One rule, so the chart, its caption and the verdict never give two
 * figures for one gap. `window` says which was used.
 */
export function summaryErrors(
  nets: readonly NetInfo[],
  series: Record<string, NetSeries>,
  it: number,
  iterations?: number,
): { errorOf: Map<string, number | null>; window: [number, number] | null } {
  if (iterations !== undefined && it >= iterations) {
    const errorOf = new Map(finalErrors({ iterations, nets: [...nets], series }).map((f) => [f.id, f.error]));
    return { errorOf, window: verdictWindow(iterations) };
  }
  const errorOf = new Map(nets.map((n) => [n.id, series[n.id] ? valueAt(series[n.id].train.it, series[n.id].train.runErr, it) : null]));
  return { errorOf, window: null };
}

/**
 * The depth summary's caption at iteration `it`: how the deepest plain net compares with the
 * shallowest, and for each shortcut option how the deepest ResNet compares with the plain net of
 * its depth and with the shallowest ResNet. Only what the chart shows at that iteration, with the
 * verdict's numbers at the run's end (summaryErrors).
 */
export function summaryCaption(t: TFunction, nets: NetInfo[], series: Record<string, NetSeries>, it: number, iterations?: number): string {
  const { errorOf, window } = summaryErrors(nets, series, it, iterations);
  const byDepth = (a: At, b: At) => a.depth - b.depth;
  const sentences: string[] = [];
  // the verdict's groups (one block type and warmup variant each; no highway nets): nets are compared
  // within a group only, as the verdict compares them
  for (const group of verdictGroups(nets)) {
    const points: At[] = [];
    for (const n of group.nets) {
      const e = errorOf.get(n.id) ?? null;
      if (e !== null) points.push({ label: n.label, depth: n.depth, residual: n.residual, shortcut: n.shortcut, error: e });
    }
    const plain = points.filter((p) => !p.residual).sort(byDepth);
    if (plain.length >= 2) sentences.push(compare(t, plain[plain.length - 1], plain[0]));
    for (const s of [...new Set(points.filter((p) => p.residual).map((p) => p.shortcut))].sort()) {
      const res = points.filter((p) => p.residual && p.shortcut === s).sort(byDepth);
      const deep = res[res.length - 1];
      const twin = plain.find((p) => p.depth === deep.depth);
      if (twin) sentences.push(compare(t, deep, twin));
      if (res.length >= 2) sentences.push(compare(t, deep, res[0]));
    }
  }
  if (sentences.length === 0) return t('captions.none', { it });
  if (window) return t('captions.summaryWindow', { from: window[0] + 1, to: window[1], sentences: sentences.join(t('captions.join')) });
  return t('captions.summary', { it, sentences: sentences.join(t('captions.join')) });
}

/** A verdict line: ✓ (holds), ✗ (fails), or a note (null) about a net the verdict does not judge. */
export interface VerdictLine {
  holds: boolean | null;
  text: string;
}

/**
 * The verdict in the page's words: the outcome, then one line per check with its numbers (the
 * mean training error over the last 10% of the run) and the margin it needed, or the one cause
 * that made a group "not shown" before any margin. A run of several block types or warmup variants
 * gets a line per group before its checks; a highway net that diverged, a note.
 */
export function verdictLines(t: TFunction, v: Verdict, nets: NetInfo[]): { outcome: string; lines: VerdictLine[] } {
  const outcome = t(`verdict.${v.outcome}`);
  const label = (id: string) => nets.find((n) => n.id === id)?.label ?? id;
  const causeLine = (c: VerdictCause): VerdictLine => {
    const names = 'nets' in c ? c.nets.map(label).join(', ') : '';
    return {
      holds: false,
      text: t(`verdict.cause.${c.kind}`, { nets: names, status: 'status' in c ? t(`verdict.status.${c.status}`, { defaultValue: c.status }) : '' }),
    };
  };
  const notes = v.notes.map((n): VerdictLine => ({ holds: null, text: t('verdict.note', { net: n.label, it: n.divergedAt ?? '–' }) }));
  if (v.groups.length === 0) return { outcome, lines: [causeLine(v.cause), ...notes] };
  const finals = new Map(v.finals.map((f) => [f.id, f]));
  const pts = (x: number) => (100 * x).toFixed(1);
  const checkLine = (c: VerdictCheck): VerdictLine => {
    const need = t(`verdict.need.${c.rule}`, { pts: pts(c.need), slack: pts(c.slack ?? 0) });
    const [a, b] = (c.pair ?? []).map((id) => finals.get(id));
    if (!a || !b || a.error === null || b.error === null) return { holds: c.holds, text: need };
    return { holds: c.holds, text: `${compare(t, a as At, b as At)} ${need}` };
  };
  const several = v.groups.length > 1;
  const blocks = new Set(v.groups.map((g) => g.block)).size > 1;
  const warmups = new Set(v.groups.map((g) => g.warmup)).size > 1;
  const lines = v.groups.flatMap((g, i): VerdictLine[] => {
    const own = g.cause.kind === 'margins' ? v.checks.filter((c) => c.group === i).map(checkLine) : [causeLine(g.cause)];
    if (!several) return own;
    const name = [blocks ? t(`verdict.group.${g.block}`) : '', warmups ? t('runName.warmup', { mode: g.warmup }) : '']
      .filter(Boolean)
      .join(t('verdict.group.join'));
    return [{ holds: g.outcome === 'both', text: t('verdict.group.line', { group: name, outcome: t(`verdict.${g.outcome}`) }) }, ...own];
  });
  return { outcome, lines: [...lines, ...notes] };
}

/**
 * The verdict's fourth line: whether test error tells Fig. 6's story too, with the checks that failed
 * (their numbers: each net's test error over the verdict's window), and, for a run on few images, why
 * its test error says little about depth. Nothing when it was not asked (judgeTestStory).
 */
export function testStoryLines(t: TFunction, story: TestStory | null, nets: NetInfo[], trainSize: number, locale: string): VerdictLine[] {
  if (!story) return [];
  const same = story.outcome === 'both';
  const pseudo: Verdict = {
    outcome: story.outcome,
    reason: '',
    checks: story.checks,
    finals: story.finals,
    window: [0, 0],
    cause: { kind: 'margins' },
    groups: story.groups,
    notes: [],
  };
  const failed = verdictLines(t, pseudo, nets).lines.filter((l) => l.holds === false);
  const lines: VerdictLine[] = [{ holds: same, text: t(same ? 'verdict.test.same' : 'verdict.test.differs') }];
  if (!same) lines.push(...failed.map((l) => ({ holds: false, text: `${t('verdict.test.prefix')}${l.text}` })));
  if (!same && story.memorised) lines.push({ holds: null, text: t('verdict.test.memorised', { n: trainSize.toLocaleString(locale) }) });
  return lines;
}

/**
 * A question of the run (src/core/questions.ts) in the page's words: its answer, then one line per
 * comparison, ✓ where the run agrees with the paper, or the cause that left it unjudged.
 */
export function questionLines(t: TFunction, q: Question, nets: NetInfo[]): { outcome: string; lines: VerdictLine[] } {
  const label = (id: string) => nets.find((n) => n.id === id)?.label ?? id;
  const pts = (x: number) => (100 * Math.abs(x)).toFixed(1);
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  if (q.cause) {
    const c = q.cause;
    const names = 'nets' in c ? c.nets.map(label).join(t('verdict.group.join')) : '';
    return {
      outcome: t(`questions.outcome.${q.outcome}`),
      lines: [
        {
          holds: false,
          text: t(`verdict.cause.${c.kind}`, { nets: names, status: 'status' in c ? t(`verdict.status.${c.status}`, { defaultValue: c.status }) : '' }),
        },
      ],
    };
  }
  const lines = q.comparisons.map((c): VerdictLine => {
    const a = `${label(c.a)} ${pct(c.errors[0])}`;
    const b = `${label(c.b)} ${pct(c.errors[1])}`;
    if (c.expect === 'close') return { holds: c.holds, text: t('questions.close', { a, b, pts: pts(c.spread!), allowed: pts(c.allowed!) }) };
    if (c.expect === 'chance')
      return {
        holds: c.holds,
        text:
          c.divergedAt != null
            ? t('questions.chanceDiverged', { a: label(c.a), it: c.divergedAt })
            : t(c.holds ? 'questions.chance' : 'questions.learned', { a, line: pct(THOUSAND_RULES.chanceLine) }),
      };
    if (c.expect === 'far-below')
      return {
        holds: c.holds,
        text: t(c.divergedAt != null ? 'questions.farBelowDiverged' : 'questions.farBelow', {
          a,
          b: c.divergedAt != null ? label(c.b) : b,
          pts: pts(c.errors[1] - c.errors[0]),
          dir: t(c.errors[0] <= c.errors[1] ? 'questions.dirBelow' : 'questions.dirAbove'),
          gap: pts(THOUSAND_RULES.gap),
        }),
      };
    return {
      holds: c.holds,
      text: `${t(`questions.relation.${c.relation}`, { a, b, pts: pts(c.errors[0] - c.errors[1]) })} ${t(`questions.expect.${c.expect}`)}`,
    };
  });
  return { outcome: t(`questions.outcome.${q.outcome}`), lines };
}

/** The paper's CIFAR-10 recipe (§4.2), as the lab's config would hold it. */
const PAPER_RECIPE = { width: 1, trainSize: 50_000, augment: true, iterations: 64_000, batchSize: BATCH_SIZE, lr: BASE_LR } as const;

/**
 * What a run simplifies compared with the paper's recipe, in one line for every chart and export:
 * "Training error: 2,000 training images (paper: 50,000) · width ×0.25 (paper: ×1) · …".
 * Empty parts are left out; a run of the full recipe says so.
 */
export function simplificationsNote(t: TFunction, config: ExperimentConfig, locale: string): string {
  const n = (x: number) => x.toLocaleString(locale);
  const parts: string[] = [];
  if (config.trainSize < PAPER_RECIPE.trainSize) parts.push(t('simplified.images', { n: n(config.trainSize), paper: n(PAPER_RECIPE.trainSize) }));
  if (config.width !== PAPER_RECIPE.width) parts.push(t('simplified.width', { w: config.width }));
  if (!config.augment) parts.push(t('simplified.augment'));
  if (config.iterations !== PAPER_RECIPE.iterations) parts.push(t('simplified.iterations', { n: n(config.iterations), paper: n(PAPER_RECIPE.iterations) }));
  if (config.batchSize !== PAPER_RECIPE.batchSize) parts.push(t('simplified.batch', { n: config.batchSize, paper: PAPER_RECIPE.batchSize }));
  if (config.lr !== PAPER_RECIPE.lr) parts.push(t('simplified.lr', { lr: config.lr, paper: PAPER_RECIPE.lr }));
  for (const w of config.warmup) if (w !== 'off') parts.push(t(`simplified.warmup.${w}`));
  const body = parts.length ? t('simplified.differs', { parts: parts.join(t('simplified.join')) }) : t('simplified.full');
  return `${t('simplified.inputs')} ${body}`;
}
