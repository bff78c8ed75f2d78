// Did a run show Fig. 6? The one judge used by the page's summary, `npm run experiment
// --expect-degradation`, the benchmarks and the preset tuning script, so they cannot disagree.
//
// Fig. 6 has two halves. Left: deeper *plain* nets train to a higher training error (degradation).
// Right: deeper *residual* nets do not; they train to a lower one, and far below the plain net of
// the same depth. A run is judged on each net's mean mini-batch training error over the last 10% of
// its iterations (a window, never a single point, so one noisy batch cannot flip the verdict), and
// only when it finished: a stopped, failed, unfinished or diverged run is "not shown".
import type { NetInfo, NetSeries } from './metrics';
import { familyOf } from './metrics';

export type VerdictOutcome = 'both' | 'plain-only' | 'not-shown';

/** The margins, as fractions of 1 (0.10 = 10 points of training error). */
export const VERDICT_RULES = {
  /** The last fraction of the run the errors are averaged over. */
  window: 0.1,
  /** Plain degrades: the deepest plain net is at least this far above the shallowest. */
  plainGap: 0.1,
  /** …and no deeper plain net is more than this below a shallower one. */
  plainSlack: 0.01,
  /** Residual does not degrade: no deeper residual net is more than this above a shallower one. */
  residualSlack: 0.02,
  /** Residual learning fixes it: the deepest residual net is at least this far below the deepest plain net. */
  fixGap: 0.2,
} as const;

export interface NetFinal {
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
}

/** Why a run is "not shown" before any margin is looked at. */
export type VerdictCause =
  | { kind: 'diverged'; nets: string[] }
  | { kind: 'status'; status: string }
  | { kind: 'unfinished'; nets: string[] }
  | { kind: 'missing'; nets: string[] }
  | { kind: 'needs-plain' }
  | { kind: 'margins' };

export interface Verdict {
  outcome: VerdictOutcome;
  /** One sentence: why this outcome. */
  reason: string;
  checks: VerdictCheck[];
  finals: NetFinal[];
  /** The iterations averaged over: [from, to]. */
  window: [number, number];
  cause: VerdictCause;
}

export interface JudgedRun {
  /** 'done' when every iteration was trained; anything else is judged "not shown". */
  status: string;
  iterations: number;
  nets: NetInfo[];
  series: Record<string, NetSeries>;
}

const pct = (x: number | null) => (x === null ? '–' : `${(100 * x).toFixed(1)}%`);
const pts = (x: number) => `${(100 * Math.abs(x)).toFixed(1)} points`;

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

function plainCheck(plain: NetFinal[]): VerdictCheck {
  const shallow = plain[0];
  const deep = plain[plain.length - 1];
  const gap = deep.error! - shallow.error!;
  // for plain nets "better when deeper" is the inversion: a deeper net more than 1 point *below* a shallower one
  const better = inversions(plain.map((n) => ({ ...n, error: -n.error! })), VERDICT_RULES.plainSlack);
  const holds = gap >= VERDICT_RULES.plainGap && better.length === 0;
  let detail = `${deep.label} ${pct(deep.error)} is ${pts(gap)} ${gap >= 0 ? 'above' : 'below'} ${shallow.label} ${pct(shallow.error)} (needs ≥ ${pts(VERDICT_RULES.plainGap)} above)`;
  if (better.length) detail += `; but ${better.map(([a, b]) => `${b.label} ${pct(-b.error!)} is below ${a.label} ${pct(-a.error!)}`).join(', ')}`;
  return { rule: 'plain-degrades', holds, detail, pair: [deep.id, shallow.id] };
}

function residualChecks(res: NetFinal[], deepPlain: NetFinal): VerdictCheck[] {
  const shortcut = res[0].shortcut;
  const shallow = res[0];
  const deep = res[res.length - 1];
  const worse = inversions(res, VERDICT_RULES.residualSlack);
  const holdsOrder = deep.error! <= shallow.error! && worse.length === 0;
  let detail = `${deep.label} ${pct(deep.error)} is ${pts(deep.error! - shallow.error!)} ${deep.error! <= shallow.error! ? 'below' : 'above'} ${shallow.label} ${pct(shallow.error)} (needs at or below)`;
  if (worse.length) detail += `; but ${worse.map(([a, b]) => `${b.label} ${pct(b.error)} is ${pts(b.error! - a.error!)} above ${a.label} ${pct(a.error)}`).join(', ')} (at most ${pts(VERDICT_RULES.residualSlack)} allowed)`;
  const fix = deepPlain.error! - deep.error!;
  const holdsFix = fix >= VERDICT_RULES.fixGap;
  return [
    { rule: 'residual-holds', shortcut, holds: holdsOrder, detail, pair: [deep.id, shallow.id] },
    {
      rule: 'residual-fixes',
      shortcut,
      holds: holdsFix,
      pair: [deep.id, deepPlain.id],
      detail: `${deep.label} ${pct(deep.error)} is ${pts(fix)} ${fix >= 0 ? 'below' : 'above'} ${deepPlain.label} ${pct(deepPlain.error)} (needs ≥ ${pts(VERDICT_RULES.fixGap)} below)`,
    },
  ];
}

/** Judge a run: "both halves shown", "only the plain half shown", or "not shown", with the reason and numbers. */
/** Every net's final training error: its mean mini-batch error over the verdict's window (the last 10%), highway nets and warmup variants included. */
export function finalErrors(run: Pick<JudgedRun, 'iterations' | 'nets' | 'series'>): { id: string; label: string; error: number | null }[] {
  const [from, to] = verdictWindow(run.iterations);
  return run.nets.map((n) => ({ id: n.id, label: n.label, error: windowMean(run.series[n.id], from, to) }));
}

/** The iterations the verdict averages over: the last VERDICT_RULES.window of the run. */
function verdictWindow(iterations: number): [number, number] {
  return [iterations - Math.max(1, Math.ceil(VERDICT_RULES.window * iterations)), iterations];
}

export function judgeDegradation(run: JudgedRun): Verdict {
  const window = verdictWindow(run.iterations);
  // the verdict is about plain against residual nets, of the experiment's first warmup variant
  // (highway nets, and the other warmup variants, are compared by their own charts)
  const judged = run.nets.filter((n) => familyOf(n) !== 'highway' && (n.warmup === undefined || n.warmup === run.nets[0].warmup));
  const finals: NetFinal[] = judged.map((n) => ({
    id: n.id,
    label: n.label,
    depth: n.depth,
    residual: n.residual,
    shortcut: n.shortcut,
    error: windowMean(run.series[n.id], window[0], window[1]),
  }));
  const notShown = (reason: string, cause: VerdictCause, checks: VerdictCheck[] = []): Verdict => ({ outcome: 'not-shown', reason, checks, finals, window, cause });

  const diverged = run.nets.filter((n) => n.status === 'diverged');
  if (diverged.length) {
    return notShown(`${diverged.map((n) => `${n.label} diverged${n.divergedAt !== null ? ` at iteration ${n.divergedAt}` : ''}`).join(', ')}`, { kind: 'diverged', nets: diverged.map((n) => n.id) });
  }
  if (run.status !== 'done') return notShown(`the run is ${run.status === 'running' || run.status === 'paused' ? 'not finished' : run.status} (the verdict needs a finished run)`, { kind: 'status', status: run.status });
  const unfinished = run.nets.filter((n) => (run.series[n.id]?.train.it.at(-1) ?? 0) < run.iterations);
  if (unfinished.length) return notShown(`${unfinished.map((n) => n.label).join(', ')} did not train all ${run.iterations} iterations`, { kind: 'unfinished', nets: unfinished.map((n) => n.id) });
  const missing = finals.filter((f) => f.error === null);
  if (missing.length) return notShown(`${missing.map((n) => n.label).join(', ')} recorded no training error in the last 10% of the run`, { kind: 'missing', nets: missing.map((n) => n.id) });

  const byDepth = (a: NetFinal, b: NetFinal) => a.depth - b.depth;
  const plain = finals.filter((f) => !f.residual).sort(byDepth);
  if (plain.length < 2) return notShown('it needs plain nets of at least two depths', { kind: 'needs-plain' });
  const plainResult = plainCheck(plain);
  const shortcuts = [...new Set(finals.filter((f) => f.residual).map((f) => f.shortcut))].sort();
  const checks: VerdictCheck[] = [plainResult];
  const margins: VerdictCause = { kind: 'margins' };
  if (!plainResult.holds) return notShown(`the plain nets do not degrade: ${plainResult.detail}`, margins, checks);

  if (shortcuts.length === 0) return { outcome: 'plain-only', reason: `plain nets degrade (${plainResult.detail}); there are no residual nets to compare`, checks, finals, window, cause: margins };
  const deepPlain = plain[plain.length - 1];
  const failed: VerdictCheck[] = [];
  for (const s of shortcuts) {
    const res = finals.filter((f) => f.residual && f.shortcut === s).sort(byDepth);
    if (res.length < 2 || res[res.length - 1].depth !== deepPlain.depth) {
      const c: VerdictCheck = { rule: 'residual-holds', shortcut: s, holds: false, detail: `shortcut ${s} needs residual nets at two depths, the deepest being ${deepPlain.depth}` };
      checks.push(c);
      failed.push(c);
      continue;
    }
    for (const c of residualChecks(res, deepPlain)) {
      checks.push(c);
      if (!c.holds) failed.push(c);
    }
  }
  if (failed.length) {
    return { outcome: 'plain-only', reason: `plain nets degrade (${plainResult.detail}), but ${failed.map((c) => `${c.shortcut ? `[${c.shortcut}] ` : ''}${c.detail}`).join('; ')}`, checks, finals, window, cause: margins };
  }
  return {
    outcome: 'both',
    reason: `plain nets degrade (${plainResult.detail}); residual nets do not: ${checks.filter((c) => c.rule !== 'plain-degrades').map((c) => c.detail).join('; ')}`,
    checks,
    finals,
    window,
    cause: margins,
  };
}

/** The verdict's name, as the page and the runner print it. */
export const OUTCOME_TEXT: Record<VerdictOutcome, string> = {
  both: 'both halves shown',
  'plain-only': 'only the plain half shown',
  'not-shown': 'not shown',
};
