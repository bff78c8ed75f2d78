import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { asksFig6, comparisonText, judgeQuestions, relation, showsFig6 } from './questions';
import { parseRunFile } from './runFile';
import type { NetCurve } from './testing/judgedRuns';
import { run } from './testing/judgedRuns';

const ask = (curves: NetCurve[], status = 'done') => judgeQuestions(run(curves, status));

describe('the questions a run asks besides Fig. 6', () => {
  it('asks nothing of a run that only compares depths (the Classroom demo): Fig. 6 is its one question', () => {
    const curves: NetCurve[] = [8, 20, 56].flatMap((d) => [
      { depth: d, residual: false, final: 0.4 },
      { depth: d, residual: true, final: 0.2 },
    ]);
    expect(ask(curves)).toEqual([]);
    expect(asksFig6(run(curves).nets)).toBe(true);
  });

  it('level means within 5% of the larger error (at least of 5%): noise is not a difference', () => {
    expect(relation(0.5, 0.52)).toBe('level');
    expect(relation(0.5, 0.53)).toBe('below');
    expect(relation(0.02, 0.022)).toBe('level'); // the floor: 0.25 points
    expect(relation(0.02, 0.03)).toBe('below');
    expect(relation(0.6, 0.5)).toBe('above');
  });

  it('warmup: the same net with and without it, as in the paper when the warmed-up net is lower', () => {
    const helped = ask([
      { depth: 110, residual: true, warmup: 'off', final: 0.6 },
      { depth: 110, residual: true, warmup: 'paper', final: 0.3 },
    ]);
    expect(helped).toHaveLength(1);
    expect(helped[0]).toMatchObject({ kind: 'warmup', outcome: 'as-paper' });
    expect(helped[0].comparisons[0]).toMatchObject({ a: 'resnet-110-A-warmup-paper', b: 'resnet-110-A-warmup-off', relation: 'below', holds: true });
    const level = ask([
      { depth: 110, residual: true, warmup: 'off', final: 0.3 },
      { depth: 110, residual: true, warmup: 'paper', final: 0.31 },
    ]);
    expect(level[0]).toMatchObject({ outcome: 'unlike-paper' });
    expect(level[0].comparisons[0].relation).toBe('level');
    expect(asksFig6(run([{ depth: 110, residual: true, warmup: 'off', final: 0.6 }]).nets)).toBe(false);
  });

  it('bottleneck: each bottleneck net against the basic net with as many blocks per stage (11 with 8, 47 with 32)', () => {
    const q = ask([
      { depth: 8, residual: true, final: 0.34 },
      { depth: 11, residual: true, block: 'bottleneck', final: 0.3 },
      { depth: 32, residual: true, final: 0.12 },
      { depth: 47, residual: true, block: 'bottleneck', final: 0.26 },
    ]);
    expect(q).toHaveLength(1);
    expect(q[0].kind).toBe('bottleneck');
    expect(q[0].comparisons.map((c) => [c.a, c.b, c.holds])).toEqual([
      ['resnet-11-A-bottleneck', 'resnet-8-A', true],
      ['resnet-47-A-bottleneck', 'resnet-32-A', false],
    ]);
    expect(q[0].outcome).toBe('partly');
  });

  it('highway: below the plain net of its depth, above the ResNet; each gate bias on its own', () => {
    const q = ask([
      { depth: 20, residual: false, final: 0.5 },
      { depth: 20, residual: true, final: 0.12 },
      { depth: 20, residual: true, highway: true, tag: 'bias-2', final: 0.35 },
      { depth: 20, residual: true, highway: true, tag: 'bias-6', final: 0.58 },
    ]);
    const h = q.find((x) => x.kind === 'highway')!;
    expect(h.comparisons.map((c) => [c.a, c.b, c.holds])).toEqual([
      ['highway-20-bias-2', 'plain-20', true],
      ['resnet-20-A', 'highway-20-bias-2', true],
      ['highway-20-bias-6', 'plain-20', false],
      ['resnet-20-A', 'highway-20-bias-6', true],
    ]);
    expect(h.outcome).toBe('partly');
  });

  it('shortcuts: A, B and C close when their spread is at most a quarter of their gap to the plain net (Table 3 passes: 0.84 of 3.8 points)', () => {
    const table3 = ask([
      { depth: 34, residual: false, final: 0.2854 },
      { depth: 34, residual: true, shortcut: 'A', final: 0.2503 },
      { depth: 34, residual: true, shortcut: 'B', final: 0.2452 },
      { depth: 34, residual: true, shortcut: 'C', final: 0.2419 },
    ]);
    expect(table3).toHaveLength(1);
    expect(table3[0]).toMatchObject({ kind: 'shortcuts', outcome: 'as-paper' });
    expect(table3[0].comparisons[0]).toMatchObject({ expect: 'close', a: 'resnet-34-A', b: 'resnet-34-C', holds: true });
    expect(table3[0].comparisons).toHaveLength(4); // close, then each against plain-34
    const apart = ask([
      { depth: 32, residual: false, final: 0.68 },
      { depth: 32, residual: true, shortcut: 'A', final: 0.14 },
      { depth: 32, residual: true, shortcut: 'B', final: 0.2 },
      { depth: 32, residual: true, shortcut: 'C', final: 0.5 },
    ]);
    expect(apart[0].outcome).toBe('partly');
    expect(apart[0].comparisons[0]).toMatchObject({ holds: false, a: 'resnet-32-C', b: 'resnet-32-A' });
    expect(comparisonText(apart[0].comparisons[0], (id) => id)).toBe(
      'resnet-32-C 50.0% and resnet-32-A 14.0% are 36.0 points apart (close: at most 10.0 points)',
    );
  });

  it('is not judged before the run ends, or when a net it compares diverged', () => {
    const curves: NetCurve[] = [
      { depth: 110, residual: true, warmup: 'off', final: 0.6 },
      { depth: 110, residual: true, warmup: 'paper', final: 0.3 },
    ];
    expect(ask(curves, 'stopped')[0]).toMatchObject({ outcome: 'not-judged', cause: { kind: 'status', status: 'stopped' } });
    const q = ask([{ ...curves[0], diverged: 300, trained: 300 }, curves[1]]);
    expect(q[0]).toMatchObject({ outcome: 'not-judged', cause: { kind: 'diverged', nets: ['resnet-110-A-warmup-off'] } });
  });

  it('a thousand layers: the plain net stays at chance (or diverges) and the ResNet of its depth ends at least 30 points below it', () => {
    const curves = (plain: Partial<NetCurve>, res: number): NetCurve[] => [
      { depth: 110, residual: false, final: 0.3 },
      { depth: 110, residual: true, final: 0.2 },
      { depth: 1202, residual: false, final: 0.88, ...plain },
      { depth: 1202, residual: true, final: res },
    ];
    const learned = ask(curves({}, 0.5));
    expect(learned.map((q) => q.kind)).toEqual(['thousand']);
    expect(learned[0].outcome).toBe('as-paper');
    expect(learned[0].comparisons.map((c) => [c.expect, c.a, c.b, c.holds])).toEqual([
      ['chance', 'plain-1202', 'plain-1202', true],
      ['far-below', 'resnet-1202-A', 'plain-1202', true],
    ]);
    expect(comparisonText(learned[0].comparisons[1], (id) => id)).toBe(
      'resnet-1202-A 50.0% is 38.0 points below plain-1202 88.0% (expected at least 30.0 points below)',
    );
    // 29 points below is not "well below"; a plain net that learned (79%) is not at chance
    expect(ask(curves({}, 0.59))[0]).toMatchObject({ outcome: 'partly' });
    const plainLearned = ask(curves({ final: 0.79 }, 0.2))[0];
    expect(plainLearned.comparisons.map((c) => c.holds)).toEqual([false, true]);
    expect(comparisonText(plainLearned.comparisons[0], (id) => id)).toBe('plain-1202 79.0% learned (near chance: at least 80.0%)');
    // a plain net that diverged (its gradients overflow float32) could not train: judged at chance, not "not judged"
    const diverged = ask(curves({ diverged: 1, trained: 1 }, 0.55))[0];
    expect(diverged.outcome).toBe('as-paper');
    expect(diverged.comparisons.map((c) => [c.errors.map((e) => +e.toFixed(6)), c.divergedAt])).toEqual([
      [[0.9, 0.9], 1],
      [[0.55, 0.9], 1],
    ]);
    expect(comparisonText(diverged.comparisons[0], (id) => id)).toBe('plain-1202 diverged at iteration 1: it could not train');
    // …but a ResNet that diverged leaves the question unjudged, as every other question
    expect(ask(curves({}, 0.5).map((c) => (c.residual && c.depth === 1202 ? { ...c, diverged: 40, trained: 40 } : c)))[0]).toMatchObject({
      outcome: 'not-judged',
      cause: { kind: 'diverged', nets: ['resnet-1202-A'] },
    });
    // the run answers this question instead of Fig. 6's (a diverged plain-1202 would leave Fig. 6 "not shown")
    const r = run(curves({ diverged: 1, trained: 1 }, 0.55));
    expect(asksFig6(r.nets)).toBe(true);
    expect(showsFig6(r.nets, judgeQuestions(r))).toBe(false);
    // 110 layers and fewer ask nothing of the kind
    expect(ask(curves({}, 0.5).filter((c) => c.depth === 110))).toEqual([]);
  });

  it('answers the committed preset runs as docs/presets.md reports them (seeds 1–3)', () => {
    const answers = (preset: string) =>
      [1, 2, 3].map((seed) => {
        const r = parseRunFile(readFileSync(join(import.meta.dirname, `../../docs/presets/${preset}/seed-${seed}/run.json`), 'utf8'));
        return judgeQuestions({ status: r.status, iterations: r.config.iterations, nets: r.nets, series: r.series }).map((q) => `${q.kind}:${q.outcome}`);
      });
    expect(answers('warmup110')).toEqual([['warmup:as-paper'], ['warmup:as-paper'], ['warmup:as-paper']]);
    // ResNet-32 fit better than ResNet-47 bottleneck in every seed; the small pair depended on the seed
    expect(answers('bottleneck')).toEqual([['bottleneck:unlike-paper'], ['bottleneck:unlike-paper'], ['bottleneck:partly']]);
    // the ResNets below every highway net; Highway-20 at gate bias −6 above plain-20 in every seed
    expect(answers('highway')).toEqual([['highway:partly'], ['highway:partly'], ['highway:partly']]);
    // A, B and C close at width ×0.5; at ×0.25, C far behind
    expect(answers('shortcuts')).toEqual([['shortcuts:as-paper'], ['shortcuts:as-paper'], ['shortcuts:as-paper']]);
    expect(answers('shortcuts/width-0.25')).toEqual([['shortcuts:partly'], ['shortcuts:partly'], ['shortcuts:partly']]);
  });
});
