// The questions a run asks besides Fig. 6, judged from its data. A run that trains nets differing
// only in their warmup asks whether the warmup helped; basic against bottleneck nets of the same cost,
// whether the bottleneck net trained as well; highway nets, whether they fall between the plain and
// the residual net of their depth; several shortcut options at one depth, whether they are close, as
// Table 3 found. The run's nets decide which questions it asks, not a preset's name, so a run built by
// hand gets the same answers as the preset it resembles; a plain and a residual net of the same depth beyond 110
// layers, whether the residual net learned where the plain net could not (the paper's ResNet-1202). Fig. 6 itself
// stays in verdict.ts.
//
// Every comparison uses the verdict's numbers (each net's mean training error over the last 10% of the
// run) and one rule for "level": two errors closer than VERDICT_RULES.residualSlack of the larger one
// (at least scaleFloor) are level, so noise never reads as a difference. Each question says what the
// paper found, and whether this run agrees; it never says "not shown" for a run that answered it.
import type { NetInfo } from './metrics';
import { familyOf } from './metrics';
import type { JudgedRun, VerdictCause } from './verdict';
import { VERDICT_RULES, finalErrors, pct, pts } from './verdict';

type QuestionKind = 'warmup' | 'bottleneck' | 'highway' | 'shortcuts' | 'thousand';

/** Whether the run agrees with the paper on a question: all its comparisons, some, none; or unjudged. */
type QuestionOutcome = 'as-paper' | 'partly' | 'unlike-paper' | 'not-judged';

/** a against b: 'below' (a lower beyond the level band), 'level' or 'above'. */
type Relation = 'below' | 'level' | 'above';

interface Comparison {
  /**
   * What the paper expects of a against b. 'chance': a (a plain net) did not learn: its error at least
   * THOUSAND_RULES.chanceLine, or it diverged (b is a too, and errors[1] is chance); 'far-below': a at least
   * THOUSAND_RULES.gap below b.
   */
  expect: 'below' | 'not-above' | 'close' | 'chance' | 'far-below';
  a: string;
  b: string;
  /** Their errors over the verdict's window (0..1). */
  errors: [number, number];
  relation: Relation;
  holds: boolean;
  /** For 'close': the spread of a group of nets and the most it may be. */
  spread?: number;
  allowed?: number;
  /** The iteration at which net a ('chance') or net b ('far-below') diverged: its error is then counted as chance. */
  divergedAt?: number | null;
}

/**
 * The thousand-layer question's bars (issue #28): beyond `deeperThan` layers, a plain net that stays at or above
 * `chanceLine` (chance is 90% for ten classes), or diverges, did not learn; the residual net of its depth learned
 * where it ends at least `gap` below it. A plain net that diverged counts as being at chance.
 */
export const THOUSAND_RULES = { deeperThan: 110, chance: 0.9, chanceLine: 0.8, gap: 0.3 } as const;

export interface Question {
  kind: QuestionKind;
  outcome: QuestionOutcome;
  comparisons: Comparison[];
  /** Why a question was not judged (a net diverged or did not finish, or the run did not end). */
  cause?: VerdictCause;
}

/** The band within which two errors are level: residualSlack of the larger, at least of scaleFloor. */
function levelBand(a: number, b: number): number {
  return VERDICT_RULES.residualSlack * Math.max(a, b, VERDICT_RULES.scaleFloor);
}

export function relation(a: number, b: number): Relation {
  const band = levelBand(a, b);
  return a < b - band ? 'below' : a > b + band ? 'above' : 'level';
}

const basicN = (n: NetInfo) => ((n.block ?? 'basic') === 'bottleneck' ? (n.depth - 2) / 9 : (n.depth - 2) / 6);
/** Everything but the warmup: nets with the same key differ only in their warmup. */
const keyBut = (n: NetInfo, skip: 'warmup' | 'block' | 'shortcut') =>
  [
    familyOf(n),
    skip === 'block' ? basicN(n) : n.depth,
    skip === 'block' ? '' : (n.block ?? 'basic'),
    skip === 'shortcut' ? '' : n.residual ? n.shortcut : '',
    skip === 'warmup' ? '' : (n.warmup ?? ''),
  ].join('|');

function compare(expect: Comparison['expect'], a: NetInfo, b: NetInfo, ea: number, eb: number): Comparison {
  const rel = relation(ea, eb);
  const holds = expect === 'below' ? rel === 'below' : rel !== 'above';
  return { expect, a: a.id, b: b.id, errors: [ea, eb], relation: rel, holds };
}

/** The questions a run's nets ask, unjudged: which nets each compares. */
function pairs(nets: readonly NetInfo[]): { kind: QuestionKind; build: (err: (n: NetInfo) => number) => Comparison[]; nets: NetInfo[] }[] {
  const out: ReturnType<typeof pairs> = [];
  // warmup: the same net with warmup off and with each other variant
  const offs = nets.filter((n) => n.warmup === 'off');
  const warm = nets.filter((n) => n.warmup !== undefined && n.warmup !== 'off' && offs.some((o) => keyBut(o, 'warmup') === keyBut(n, 'warmup')));
  if (warm.length) {
    const twin = (n: NetInfo) => offs.find((o) => keyBut(o, 'warmup') === keyBut(n, 'warmup'))!;
    out.push({ kind: 'warmup', nets: [...warm, ...warm.map(twin)], build: (err) => warm.map((n) => compare('below', n, twin(n), err(n), err(twin(n)))) });
  }
  // bottleneck: against the basic net with as many blocks per stage (about the same cost)
  const basics = nets.filter((n) => (n.block ?? 'basic') === 'basic');
  const bottles = nets.filter((n) => n.block === 'bottleneck' && basics.some((b) => keyBut(b, 'block') === keyBut(n, 'block')));
  if (bottles.length) {
    const twin = (n: NetInfo) => basics.find((b) => keyBut(b, 'block') === keyBut(n, 'block'))!;
    out.push({
      kind: 'bottleneck',
      nets: [...bottles, ...bottles.map(twin)],
      build: (err) => bottles.map((n) => compare('not-above', n, twin(n), err(n), err(twin(n)))),
    });
  }
  // highway: below the plain net of its depth, above the residual one (each shortcut option)
  const highways = nets.filter((n) => familyOf(n) === 'highway');
  const sameSlot = (a: NetInfo, b: NetInfo) => a.depth === b.depth && (a.block ?? 'basic') === (b.block ?? 'basic') && a.warmup === b.warmup;
  const hw = highways.filter((h) => nets.some((n) => familyOf(n) !== 'highway' && sameSlot(n, h)));
  if (hw.length) {
    const others = (h: NetInfo) => nets.filter((n) => familyOf(n) !== 'highway' && sameSlot(n, h));
    out.push({
      kind: 'highway',
      nets: [...hw, ...hw.flatMap(others)],
      build: (err) =>
        hw.flatMap((h) => others(h).map((o) => (familyOf(o) === 'plain' ? compare('below', h, o, err(h), err(o)) : compare('below', o, h, err(o), err(h))))),
    });
  }
  // shortcuts: ResNets that differ only in their shortcut, close to each other next to their gap to the plain net
  const res = nets.filter((n) => familyOf(n) === 'residual');
  const sets = new Map<string, NetInfo[]>();
  for (const n of res) sets.set(keyBut(n, 'shortcut'), [...(sets.get(keyBut(n, 'shortcut')) ?? []), n]);
  const several = [...sets.values()].filter((s) => new Set(s.map((n) => n.shortcut)).size > 1);
  if (several.length) {
    const plainOf = (s: NetInfo[]) => nets.find((n) => familyOf(n) === 'plain' && sameSlot(n, s[0]));
    out.push({
      kind: 'shortcuts',
      nets: several.flatMap((s) => [...s, ...(plainOf(s) ? [plainOf(s)!] : [])]),
      build: (err) =>
        several.flatMap((s) => {
          const sorted = [...s].sort((x, y) => err(x) - err(y));
          const best = sorted[0];
          const worst = sorted[sorted.length - 1];
          const spread = err(worst) - err(best);
          const plain = plainOf(s);
          // close: the shortcut's option matters less than a quarter of what having a shortcut does (Table 3:
          // spread 0.84 points against a 3.8-point gap to plain-34); with no plain net, within the level band
          const gap = plain ? err(plain) - s.reduce((sum, n) => sum + err(n), 0) / s.length : 0;
          const allowed = plain ? Math.max(0.25 * gap, levelBand(err(worst), err(best))) : levelBand(err(worst), err(best));
          const close: Comparison = {
            expect: 'close',
            a: worst.id,
            b: best.id,
            errors: [err(worst), err(best)],
            relation: relation(err(worst), err(best)),
            holds: spread <= allowed,
            spread,
            allowed,
          };
          return [close, ...(plain ? s.map((n) => compare('below', n, plain, err(n), err(plain))) : [])];
        }),
    });
  }
  // a thousand layers: a plain and a residual net of the same depth beyond 110 layers (the plain one may diverge)
  const deepPlain = nets.filter((n) => familyOf(n) === 'plain' && n.depth > THOUSAND_RULES.deeperThan);
  const deepPairs = deepPlain.flatMap((p) => res.filter((r) => sameSlot(r, p)).map((r) => [p, r] as const));
  if (deepPairs.length) {
    const plains = [...new Set(deepPairs.map(([p]) => p))];
    out.push({
      kind: 'thousand',
      nets: [...plains, ...deepPairs.map(([, r]) => r)],
      // err gives chance for a plain net that diverged (judgeQuestions)
      build: (err) => [
        ...plains.map((p): Comparison => {
          const e = err(p);
          return {
            expect: 'chance',
            a: p.id,
            b: p.id,
            errors: [e, THOUSAND_RULES.chance],
            relation: relation(e, THOUSAND_RULES.chance),
            holds: e >= THOUSAND_RULES.chanceLine,
            divergedAt: p.status === 'diverged' ? p.divergedAt : undefined,
          };
        }),
        ...deepPairs.map(([p, r]): Comparison => ({
          ...compare('below', r, p, err(r), err(p)),
          expect: 'far-below',
          holds: err(p) - err(r) >= THOUSAND_RULES.gap,
          divergedAt: p.status === 'diverged' ? p.divergedAt : undefined,
        })),
      ],
    });
  }
  return out;
}

/** Judge a run's questions: each with its comparisons, or not judged, with the cause, when the run cannot answer it. */
export function judgeQuestions(run: JudgedRun): Question[] {
  const asked = pairs(run.nets);
  if (asked.length === 0) return [];
  const finals = new Map(finalErrors(run).map((f) => [f.id, f.error]));
  return asked.map(({ kind, build, nets }) => {
    const notJudged = (cause: VerdictCause): Question => ({ kind, outcome: 'not-judged', comparisons: [], cause });
    if (run.status !== 'done') return notJudged({ kind: 'status', status: run.status });
    // a plain net of a thousand layers that diverged did not learn: the answer, not a reason to leave the question
    const atChance = (n: NetInfo) => kind === 'thousand' && familyOf(n) === 'plain' && n.status === 'diverged';
    const diverged = nets.filter((n) => n.status === 'diverged' && !atChance(n));
    if (diverged.length) return notJudged({ kind: 'diverged', nets: [...new Set(diverged.map((n) => n.id))] });
    const missing = nets.filter((n) => finals.get(n.id) == null && !atChance(n));
    if (missing.length) return notJudged({ kind: 'missing', nets: [...new Set(missing.map((n) => n.id))] });
    const comparisons = build((n) => (atChance(n) ? THOUSAND_RULES.chance : finals.get(n.id)!));
    const held = comparisons.filter((c) => c.holds).length;
    const outcome: QuestionOutcome = held === comparisons.length ? 'as-paper' : held === 0 ? 'unlike-paper' : 'partly';
    return { kind, outcome, comparisons };
  });
}

/** Whether a run asks Fig. 6's question: plain nets of two depths in one group. */
export function asksFig6(nets: readonly NetInfo[]): boolean {
  const plain = nets.filter((n) => familyOf(n) === 'plain');
  return plain.some((a) => plain.some((b) => b.depth !== a.depth && (a.block ?? 'basic') === (b.block ?? 'basic') && a.warmup === b.warmup));
}

/**
 * Whether a run's summary shows Fig. 6's verdict: where it asks Fig. 6's question, or asks no other (its "not shown" then
 * says why). A run that asks the thousand-layer question answers that instead: its plain net may diverge, which is its
 * answer there and would leave Fig. 6 "not shown".
 */
export function showsFig6(nets: readonly NetInfo[], questions: readonly Question[]): boolean {
  if (questions.some((q) => q.kind === 'thousand')) return false;
  return asksFig6(nets) || questions.length === 0;
}

/** The questions' answers in the runner's words (English), one line each, for summary.md and the console. */
export const QUESTION_TEXT: Record<QuestionKind, string> = {
  warmup: 'Did the warmup help?',
  bottleneck: 'Did bottleneck nets train as well as basic nets of the same cost?',
  highway: 'Did highway nets fall between the plain and the residual nets?',
  shortcuts: 'Were shortcuts A, B and C close?',
  thousand: 'A thousand layers: did the ResNet learn where the plain net could not?',
};

export const QUESTION_OUTCOME_TEXT: Record<QuestionOutcome, string> = {
  'as-paper': 'yes, as in the paper',
  partly: 'partly',
  'unlike-paper': 'no, unlike the paper',
  'not-judged': 'not judged',
};

/** One comparison in words: "ResNet-110, warmup paper 22.2% is 30.0 points below ResNet-110, warmup off 52.2%". */
export function comparisonText(c: Comparison, label: (id: string) => string): string {
  const diverged = c.divergedAt != null ? ` (diverged at iteration ${c.divergedAt}: counted as chance)` : '';
  if (c.expect === 'chance')
    return c.divergedAt != null
      ? `${label(c.a)} diverged at iteration ${c.divergedAt}: it could not train`
      : `${label(c.a)} ${pct(c.errors[0])} ${c.holds ? 'stayed near chance' : 'learned'} (near chance: at least ${pct(THOUSAND_RULES.chanceLine)})`;
  if (c.expect === 'far-below') {
    const gap = c.errors[1] - c.errors[0];
    return `${label(c.a)} ${pct(c.errors[0])} is ${pts(gap)} ${gap >= 0 ? 'below' : 'above'} ${label(c.b)} ${pct(c.errors[1])}${diverged} (expected at least ${pts(THOUSAND_RULES.gap)} below)`;
  }
  if (c.expect === 'close')
    return `${label(c.a)} ${pct(c.errors[0])} and ${label(c.b)} ${pct(c.errors[1])} are ${pts(c.spread!)} apart (close: at most ${pts(c.allowed!)})`;
  const gap = c.errors[0] - c.errors[1];
  const rel = c.relation === 'level' ? `level with (${pts(gap)} ${gap <= 0 ? 'below' : 'above'})` : `${pts(gap)} ${c.relation}`;
  return `${label(c.a)} ${pct(c.errors[0])} is ${rel} ${label(c.b)} ${pct(c.errors[1])}`;
}
