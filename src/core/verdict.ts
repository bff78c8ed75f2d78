// Did a run show Fig. 6? The one judge used by the page's summary, `npm run experiment
// --expect-degradation`, the benchmarks and the preset tuning script, so they cannot disagree.
//
// Fig. 6 has two halves. Left: deeper *plain* nets train to a higher training error (degradation).
// Right: deeper *residual* nets do not; they train to a lower one, and far below the plain net of
// the same depth. A run is judged on each net's mean mini-batch training error over the last 10% of
// its iterations (a window, never a single point, so one noisy batch cannot flip the verdict), and
// only when it finished: a stopped, failed, unfinished or diverged run is "not shown".
//
// Each block type and each warmup variant is judged on its own (a group): a basic plain-56 that does
// not degrade is not rescued by a bottleneck plain-56 that does. The margins are fractions of the
// group's error scale (its shallowest plain net's error, at least 5%), so one rule holds at the
// Classroom scale (plain-8 near 40%) and at the paper's (plain-20 near 5%): docs/verdict.md works
// examples. Highway nets are not judged; one that diverges is reported on a line of its own.
import type { NetInfo, NetSeries } from './metrics';
import { familyOf } from './metrics';
import type { BlockType } from './nets';
import type { WarmupMode } from './schedule';

type VerdictOutcome = 'both' | 'plain-only' | 'not-shown';

/**
 * The rules. The margins are fractions of a group's error scale: the mean training error of its
 * shallowest plain net, or scaleFloor if that is lower. At a scale of 0.40 (the Classroom preset's
 * plain-8) they are the earlier absolute margins: 10, 1, 2 and 20 points.
 */
export const VERDICT_RULES = {
  /** The last fraction of the run the errors are averaged over. */
  window: 0.1,
  /** The smallest error scale: below it, margins would shrink into the noise of a window mean. */
  scaleFloor: 0.05,
  /** Plain degrades: the deepest plain net is at least this far above the shallowest. */
  plainGap: 0.25,
  /** …and no deeper plain net is more than this below a shallower one. */
  plainSlack: 0.025,
  /** Residual does not degrade: no deeper residual net is more than this above a shallower one. */
  residualSlack: 0.05,
  /** Residual learning fixes it: the ResNet of the deepest plain net's depth is at least this far below it. */
  fixGap: 0.5,
} as const;

interface NetFinal {
  id: string;
  label: string;
  depth: number;
  residual: boolean;
  shortcut: NetInfo['shortcut'];
  /** Mean mini-batch training error over the window, or null when the net has no point there. */
  error: number | null;
}

export interface VerdictCheck {
  /** Which rule: 'plain-degrades', or 'residual-holds' / 'residual-fixes' for one shortcut option. */
  rule: 'plain-degrades' | 'residual-holds' | 'residual-fixes';
  shortcut?: NetInfo['shortcut'];
  holds: boolean;
  /** The numbers behind it, in words: "plain-56 82.4% is 25.6 points above plain-8 56.8%". */
  detail: string;
  /** The ids of the two nets compared (first against second), for a page that words it itself. */
  pair?: [string, string];
  /** The margin this check needed, as a fraction (the rule's fraction of the group's scale); its slack for residual-holds. */
  need: number;
  /** For plain-degrades: how far a deeper plain net may fall below a shallower one. */
  slack?: number;
  /** Index of its group in Verdict.groups. */
  group: number;
}

/** Why a group (or a run) is "not shown" before any margin is looked at. */
export type VerdictCause =
  | { kind: 'diverged'; nets: string[] }
  | { kind: 'status'; status: string }
  | { kind: 'unfinished'; nets: string[] }
  | { kind: 'missing'; nets: string[] }
  | { kind: 'needs-plain' }
  | { kind: 'margins' };

/** The verdict of one block type and warmup variant. */
interface GroupVerdict {
  block: BlockType;
  /** Undefined in runs saved before warmup variants. */
  warmup: WarmupMode | undefined;
  outcome: VerdictOutcome;
  reason: string;
  checks: VerdictCheck[];
  cause: VerdictCause;
  /** The error scale its margins are fractions of (null before any margin was looked at). */
  scale: number | null;
}

/** A net the verdict does not judge (a highway net) that diverged: said on its own line, never a reason for "not shown". */
interface VerdictNote {
  id: string;
  label: string;
  divergedAt: number | null;
}

export interface Verdict {
  /** The run's outcome: the least of its groups' (a run shows a half only where every group shows it). */
  outcome: VerdictOutcome;
  /** One sentence: why this outcome. */
  reason: string;
  /** Every group's checks, in group order. */
  checks: VerdictCheck[];
  finals: NetFinal[];
  /** The iterations averaged over: [from, to]. */
  window: [number, number];
  /** 'margins' when some group was judged on its margins; else the first group's cause (or the run's). */
  cause: VerdictCause;
  groups: GroupVerdict[];
  notes: VerdictNote[];
}

export interface JudgedRun {
  /** 'done' when every iteration was trained; anything else is judged "not shown". */
  status: string;
  iterations: number;
  nets: NetInfo[];
  series: Record<string, NetSeries>;
}

/** A fraction as the verdict's sentences write it: "52.2%", and a gap: "30.0 points". */
export const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
export const pts = (x: number) => `${(100 * Math.abs(x)).toFixed(1)} points`;

/** Mean mini-batch training error of iterations in (from, to]. */
function windowMean(s: NetSeries | undefined, from: number, to: number): number | null {
  if (!s) return null;
  let sum = 0;
  let count = 0;
  for (let i = s.train.it.length - 1; i >= 0; i--) {
    const it = s.train.it[i];
    if (it <= from) break;
    if (it > to) continue;
    sum += s.train.err[i];
    count++;
  }
  return count > 0 ? sum / count : null;
}

/** Mean test error of the evaluations in (from, to], or the last evaluation's when none falls there (a run evaluated rarely). */
function testWindowMean(s: NetSeries | undefined, from: number, to: number): number | null {
  if (!s || s.test.it.length === 0) return null;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < s.test.it.length; i++) {
    if (s.test.it[i] > from && s.test.it[i] <= to) {
      sum += s.test.err[i];
      count++;
    }
  }
  return count > 0 ? sum / count : s.test.err[s.test.it.length - 1];
}

/** Every pair (shallower, deeper) of a family sorted by depth where the deeper one is worse by more than `slack`. */
function inversions(nets: NetFinal[], slack: number): [NetFinal, NetFinal][] {
  const bad: [NetFinal, NetFinal][] = [];
  for (let i = 0; i < nets.length; i++) {
    for (let j = i + 1; j < nets.length; j++) {
      if (nets[j].depth > nets[i].depth && nets[j].error! > nets[i].error! + slack) bad.push([nets[i], nets[j]]);
    }
  }
  return bad;
}

function plainCheck(plain: NetFinal[], scale: number, group: number): VerdictCheck {
  const shallow = plain[0];
  const deep = plain[plain.length - 1];
  const gap = deep.error! - shallow.error!;
  const need = VERDICT_RULES.plainGap * scale;
  const slack = VERDICT_RULES.plainSlack * scale;
  // for plain nets "better when deeper" is the inversion: a deeper net more than the slack *below* a shallower one
  const better = inversions(
    plain.map((n) => ({ ...n, error: -n.error! })),
    slack,
  );
  const holds = gap >= need && better.length === 0;
  let detail = `${deep.label} ${pct(deep.error)} is ${pts(gap)} ${gap >= 0 ? 'above' : 'below'} ${shallow.label} ${pct(shallow.error)} (needs ≥ ${pts(need)} above)`;
  if (better.length)
    detail += `; but ${better.map(([a, b]) => `${b.label} ${pct(-b.error!)} is below ${a.label} ${pct(-a.error!)}`).join(', ')} (at most ${pts(slack)} allowed)`;
  return { rule: 'plain-degrades', holds, detail, pair: [deep.id, shallow.id], need, slack, group };
}

function residualChecks(res: NetFinal[], deepPlain: NetFinal, scale: number, group: number): VerdictCheck[] {
  const shortcut = res[0].shortcut;
  const shallow = res[0];
  const deep = res[res.length - 1];
  const slack = VERDICT_RULES.residualSlack * scale;
  const worse = inversions(res, slack);
  const holdsOrder = deep.error! <= shallow.error! && worse.length === 0;
  let detail = `${deep.label} ${pct(deep.error)} is ${pts(deep.error! - shallow.error!)} ${deep.error! <= shallow.error! ? 'below' : 'above'} ${shallow.label} ${pct(shallow.error)} (needs at or below)`;
  if (worse.length)
    detail += `; but ${worse.map(([a, b]) => `${b.label} ${pct(b.error)} is ${pts(b.error! - a.error!)} above ${a.label} ${pct(a.error)}`).join(', ')} (at most ${pts(slack)} allowed)`;
  // residual learning fixes it at the deepest plain net's depth (a run may have deeper ResNets, as Fig. 6 has ResNet-110)
  const twin = res.find((r) => r.depth === deepPlain.depth)!;
  const fix = deepPlain.error! - twin.error!;
  const need = VERDICT_RULES.fixGap * scale;
  return [
    { rule: 'residual-holds', shortcut, holds: holdsOrder, detail, pair: [deep.id, shallow.id], need: slack, group },
    {
      rule: 'residual-fixes',
      shortcut,
      holds: fix >= need,
      pair: [twin.id, deepPlain.id],
      need,
      group,
      detail: `${twin.label} ${pct(twin.error)} is ${pts(fix)} ${fix >= 0 ? 'below' : 'above'} ${deepPlain.label} ${pct(deepPlain.error)} (needs ≥ ${pts(need)} below)`,
    },
  ];
}

/** Every net's final training error: its mean mini-batch error over the verdict's window (the last 10%), highway nets and warmup variants included. */
export function finalErrors(run: Pick<JudgedRun, 'iterations' | 'nets' | 'series'>): { id: string; label: string; error: number | null }[] {
  const [from, to] = verdictWindow(run.iterations);
  return run.nets.map((n) => ({ id: n.id, label: n.label, error: windowMean(run.series[n.id], from, to) }));
}

/** The iterations the verdict averages over: the last VERDICT_RULES.window of the run. */
export function verdictWindow(iterations: number): [number, number] {
  return [iterations - Math.max(1, Math.ceil(VERDICT_RULES.window * iterations)), iterations];
}

/** The judged nets of a run in groups of one block type and warmup variant, in the order they first appear. */
export function verdictGroups(nets: readonly NetInfo[]): { block: BlockType; warmup: WarmupMode | undefined; nets: NetInfo[] }[] {
  const groups: { block: BlockType; warmup: WarmupMode | undefined; nets: NetInfo[] }[] = [];
  for (const n of nets) {
    if (familyOf(n) === 'highway') continue;
    const block = n.block ?? 'basic';
    let g = groups.find((x) => x.block === block && x.warmup === n.warmup);
    if (!g) groups.push((g = { block, warmup: n.warmup, nets: [] }));
    g.nets.push(n);
  }
  return groups;
}

const RANK: Record<VerdictOutcome, number> = { 'not-shown': 0, 'plain-only': 1, both: 2 };

/** One group: its plain nets against its residual nets. */
function judgeGroup(run: JudgedRun, nets: NetInfo[], finals: NetFinal[], index: number): Omit<GroupVerdict, 'block' | 'warmup'> {
  const notShown = (reason: string, cause: VerdictCause, checks: VerdictCheck[] = [], scale: number | null = null) => ({
    outcome: 'not-shown' as const,
    reason,
    checks,
    cause,
    scale,
  });
  const diverged = nets.filter((n) => n.status === 'diverged');
  if (diverged.length) {
    return notShown(`${diverged.map((n) => `${n.label} diverged${n.divergedAt !== null ? ` at iteration ${n.divergedAt}` : ''}`).join(', ')}`, {
      kind: 'diverged',
      nets: diverged.map((n) => n.id),
    });
  }
  const unfinished = nets.filter((n) => (run.series[n.id]?.train.it.at(-1) ?? 0) < run.iterations);
  if (unfinished.length)
    return notShown(`${unfinished.map((n) => n.label).join(', ')} did not train all ${run.iterations} iterations`, {
      kind: 'unfinished',
      nets: unfinished.map((n) => n.id),
    });
  const missing = finals.filter((f) => f.error === null);
  if (missing.length)
    return notShown(`${missing.map((n) => n.label).join(', ')} recorded no training error in the last 10% of the run`, {
      kind: 'missing',
      nets: missing.map((n) => n.id),
    });

  const byDepth = (a: NetFinal, b: NetFinal) => a.depth - b.depth;
  const plain = finals.filter((f) => !f.residual).sort(byDepth);
  if (plain.length < 2) return notShown('it needs plain nets of at least two depths', { kind: 'needs-plain' });
  const scale = Math.max(plain[0].error!, VERDICT_RULES.scaleFloor);
  const plainResult = plainCheck(plain, scale, index);
  const shortcuts = [...new Set(finals.filter((f) => f.residual).map((f) => f.shortcut))].sort();
  const checks: VerdictCheck[] = [plainResult];
  const margins: VerdictCause = { kind: 'margins' };
  if (!plainResult.holds) return notShown(`the plain nets do not degrade: ${plainResult.detail}`, margins, checks, scale);
  if (shortcuts.length === 0)
    return {
      outcome: 'plain-only',
      reason: `plain nets degrade (${plainResult.detail}); there are no residual nets to compare`,
      checks,
      cause: margins,
      scale,
    };
  const deepPlain = plain[plain.length - 1];
  const failed: VerdictCheck[] = [];
  for (const s of shortcuts) {
    const res = finals.filter((f) => f.residual && f.shortcut === s).sort(byDepth);
    if (res.length < 2 || !res.some((r) => r.depth === deepPlain.depth)) {
      const c: VerdictCheck = {
        rule: 'residual-holds',
        shortcut: s,
        holds: false,
        need: VERDICT_RULES.residualSlack * scale,
        group: index,
        detail: `shortcut ${s} needs residual nets at two depths, one of them ${deepPlain.depth}`,
      };
      checks.push(c);
      failed.push(c);
      continue;
    }
    for (const c of residualChecks(res, deepPlain, scale, index)) {
      checks.push(c);
      if (!c.holds) failed.push(c);
    }
  }
  if (failed.length) {
    return {
      outcome: 'plain-only',
      reason: `plain nets degrade (${plainResult.detail}), but ${failed.map((c) => `${c.shortcut ? `[${c.shortcut}] ` : ''}${c.detail}`).join('; ')}`,
      checks,
      cause: margins,
      scale,
    };
  }
  return {
    outcome: 'both',
    reason: `plain nets degrade (${plainResult.detail}); residual nets do not: ${checks
      .filter((c) => c.rule !== 'plain-degrades')
      .map((c) => c.detail)
      .join('; ')}`,
    checks,
    cause: margins,
    scale,
  };
}

/** A group's name in the runner's words: "bottleneck, warmup off"; empty for the only group of a run. */
function groupName(g: Pick<GroupVerdict, 'block' | 'warmup'>, groups: readonly Pick<GroupVerdict, 'block' | 'warmup'>[]): string {
  const blocks = new Set(groups.map((x) => x.block)).size > 1;
  const warmups = new Set(groups.map((x) => x.warmup)).size > 1;
  return [blocks ? g.block : '', warmups ? `warmup ${g.warmup}` : ''].filter(Boolean).join(', ');
}

/** Judge a run: "both halves shown", "only the plain half shown", or "not shown", with the reason and numbers, per group. */
export function judgeDegradation(run: JudgedRun): Verdict {
  const window = verdictWindow(run.iterations);
  const finalOf = (n: NetInfo): NetFinal => ({
    id: n.id,
    label: n.label,
    depth: n.depth,
    residual: n.residual,
    shortcut: n.shortcut,
    error: windowMean(run.series[n.id], window[0], window[1]),
  });
  const grouped = verdictGroups(run.nets);
  const finals = grouped.flatMap((g) => g.nets.map(finalOf));
  const notes: VerdictNote[] = run.nets
    .filter((n) => familyOf(n) === 'highway' && n.status === 'diverged')
    .map((n) => ({ id: n.id, label: n.label, divergedAt: n.divergedAt }));
  const noteText = notes.length
    ? ` (not judged: ${notes.map((n) => `${n.label} diverged${n.divergedAt !== null ? ` at iteration ${n.divergedAt}` : ''}`).join(', ')})`
    : '';
  const whole = (reason: string, cause: VerdictCause): Verdict => ({
    outcome: 'not-shown',
    reason: reason + noteText,
    checks: [],
    finals,
    window,
    cause,
    groups: [],
    notes,
  });
  if (run.status !== 'done')
    return whole(`the run is ${run.status === 'running' || run.status === 'paused' ? 'not finished' : run.status} (the verdict needs a finished run)`, {
      kind: 'status',
      status: run.status,
    });
  if (grouped.length === 0) return whole('it needs plain nets of at least two depths', { kind: 'needs-plain' });

  const { groups, outcome } = judgeGroups(run, grouped, finals);
  const named = groups.length > 1;
  const reason = groups.map((g) => (named ? `${groupName(g, groups)}: ${g.reason}` : g.reason)).join('; ') + noteText;
  const cause = groups.some((g) => g.cause.kind === 'margins') ? ({ kind: 'margins' } as const) : groups[0].cause;
  return { outcome, reason, checks: groups.flatMap((g) => g.checks), finals, window, cause, groups, notes };
}

/** Each group judged on these errors (training or test), and the worst outcome over the groups. */
function judgeGroups(run: JudgedRun, grouped: ReturnType<typeof verdictGroups>, finals: NetFinal[]): { groups: GroupVerdict[]; outcome: VerdictOutcome } {
  const groups: GroupVerdict[] = grouped.map((g, i) => ({
    block: g.block,
    warmup: g.warmup,
    ...judgeGroup(
      run,
      g.nets,
      g.nets.map((n) => finals.find((f) => f.id === n.id)!),
      i,
    ),
  }));
  return { groups, outcome: groups.reduce<VerdictOutcome>((worst, g) => (RANK[g.outcome] < RANK[worst] ? g.outcome : worst), 'both') };
}

/**
 * Does test error tell Fig. 6's story too? The same rules as the verdict, applied to each net's test error
 * (the mean over the evaluations in the verdict's window, or the last one): deeper plain nets end higher,
 * deeper ResNets no higher, and the deep ResNet far below the deep plain net. 'both' when it does, for every
 * group. Only asked of a run whose training error showed both halves (a run that did not has no story to
 * tell twice), and only where every judged net was evaluated. `memorised` when the run trained on so few
 * images that test error says little about depth (MEMORISED_TRAIN_SIZE).
 */
export interface TestStory {
  outcome: VerdictOutcome;
  groups: GroupVerdict[];
  checks: VerdictCheck[];
  finals: NetFinal[];
  memorised: boolean;
}

/** Runs on at most this many training images memorise them: their test error says little about depth. */
export const MEMORISED_TRAIN_SIZE = 5_000;

export function judgeTestStory(run: JudgedRun, trainSize: number): TestStory | null {
  const v = judgeDegradation(run);
  if (v.outcome !== 'both') return null;
  const window = verdictWindow(run.iterations);
  const grouped = verdictGroups(run.nets);
  const finals = grouped.flatMap((g) =>
    g.nets.map((n): NetFinal => ({
      id: n.id,
      label: n.label,
      depth: n.depth,
      residual: n.residual,
      shortcut: n.shortcut,
      error: testWindowMean(run.series[n.id], window[0], window[1]),
    })),
  );
  if (finals.some((f) => f.error === null)) return null;
  const { groups, outcome } = judgeGroups(run, grouped, finals);
  return { outcome, groups, checks: groups.flatMap((g) => g.checks), finals, memorised: trainSize <= MEMORISED_TRAIN_SIZE };
}

/** The verdict's name, as the page and the runner print it. */
export const OUTCOME_TEXT: Record<VerdictOutcome, string> = {
  both: 'both halves shown',
  'plain-only': 'only the plain half shown',
  'not-shown': 'not shown',
};
