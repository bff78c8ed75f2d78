// The guided lesson (predict → watch → explain → try) as data, and the one rule that moves it on by
// itself: the residual half is revealed once the plain half is clear, judged by the verdict's own rules
// (src/core/verdict.ts) on the live data, never by a timer. The page draws the steps
// (src/ui/lesson/Lesson.tsx); nothing here knows about React, and nothing about the people in the room
// is recorded anywhere.
import type { NetInfo, NetSeries } from './metrics';
import { familyOf } from './metrics';
import { judgeDegradation } from './verdict';

export const LESSON_STEPS = ['predict', 'watch-plain', 'watch-residual', 'explain', 'try'] as const;
export type LessonStep = (typeof LESSON_STEPS)[number];

/** Whether a step hides the residual nets (their curves, their line in the depth summary, the verdict). */
export const hidesResidual = (step: LessonStep | null): boolean => step === 'predict' || step === 'watch-plain';

/** The fewest iterations the live judgement looks at, so that the first noisy mini-batches cannot make a half "clear". */
export const LIVE_MIN_ITERATIONS = 100;

interface PlainHalf {
  clear: boolean;
  /** The iteration judged (the latest every net has reached). */
  at: number;
  /** The deepest and the shallowest plain nets and their errors over the judged window, when there are two. */
  deep?: { label: string; error: number };
  shallow?: { label: string; error: number };
}

/**
 * Is the plain half of Fig. 6 clear yet? The verdict's plain-net check (deepest plain net at least the
 * plain gap above the shallowest, no deeper plain net more than the slack below a shallower one) on the
 * run so far: the iterations every net has trained, judged as if the run ended there (the mean over its
 * last 10%). Never before LIVE_MIN_ITERATIONS. A run without plain nets of two depths is never clear.
 */
export function plainHalfClear(nets: readonly NetInfo[], series: Record<string, NetSeries>): PlainHalf {
  const plain = nets.filter((n) => familyOf(n) === 'plain' && n.status !== 'diverged');
  const at = Math.min(...plain.map((n) => series[n.id]?.train.it.at(-1) ?? 0));
  if (plain.length < 2 || !Number.isFinite(at) || at < LIVE_MIN_ITERATIONS) return { clear: false, at: Number.isFinite(at) ? at : 0 };
  const v = judgeDegradation({ status: 'done', iterations: at, nets: plain, series });
  const check = v.checks.find((c) => c.rule === 'plain-degrades');
  const finals = new Map(v.finals.map((f) => [f.id, f]));
  const [deepId, shallowId] = check?.pair ?? [];
  const deep = deepId ? finals.get(deepId) : undefined;
  const shallow = shallowId ? finals.get(shallowId) : undefined;
  const clear = v.groups.length > 0 && v.groups.every((g) => g.checks.some((c) => c.rule === 'plain-degrades' && c.holds));
  return {
    clear,
    at,
    deep: deep && deep.error !== null ? { label: deep.label, error: deep.error } : undefined,
    shallow: shallow && shallow.error !== null ? { label: shallow.label, error: shallow.error } : undefined,
  };
}

/** The depths the Predict step asks about: the shallowest and the deepest plain nets of the run (8 and 56 in the Classroom demo). */
export function predictDepths(nets: readonly Pick<NetInfo, 'depth' | 'family' | 'residual'>[]): [number, number] | null {
  const depths = [...new Set(nets.filter((n) => familyOf(n) === 'plain').map((n) => n.depth))].sort((a, b) => a - b);
  return depths.length >= 2 ? [depths[0], depths[depths.length - 1]] : null;
}

/** How many iterations each talking point stays on the projector while the nets train. */
export const PROMPT_EVERY = 250;

/** Which of n talking points the projector shows at an iteration: the next one every PROMPT_EVERY iterations, round again. */
export const promptIndex = (iteration: number, n: number): number => (n > 0 ? Math.floor(Math.max(0, iteration) / PROMPT_EVERY) % n : 0);
