// The step IR (./step.ts): the backward pass derived from the forward graph reaches every parameter once, reads
// nothing before it is written, and sums each gradient's sources in a fixed order; masks fold as each engine's
// kernels take them; the gradient plan never gives one slot to two live tensors. Pure: no engine runs here
// (bitIdentity.test.ts and the engine tests check what the lowerings compute).
import { describe, expect, it } from 'vitest';
import { cifarNet } from '../nets';
import type { NetOptions, NetSpec } from '../nets';
import { GRADIENT_CASES } from '../testing/fixtures';
import type { Node, Op, ProgramKind, StepIR } from './step';
import { INPUT, LABELS, foldMasks, io, planActivations, planGradients, stepIR } from './step';

const KINDS: ProgramKind[] = ['step', 'grads', 'eval', 'responses', 'eval-responses'];
const nets: [string, NetSpec][] = GRADIENT_CASES.map(([name, o]: [string, NetOptions]) => [name, cifarNet({ width: 0.25, ...o, inputSize: 16 })]);
const CPU_MASKS = new Set<Op>(['bnBackward']);
const GPU_MASKS = new Set<Op>(['bnBackward', 'identityBackward', 'subsamplePadBackward', 'highwayBackward']);

const ops = (ir: StepIR, op: Op) => ir.nodes.filter((n) => n.op === op);

describe('the step IR', () => {
  it.each(nets)('%s: every program reads only what was written before it (or the batch)', (_name, spec) => {
    for (const kind of KINDS) {
      const ir = stepIR(spec, kind);
      const written = new Set([INPUT, LABELS]);
      for (const n of ir.nodes) {
        for (const t of io(n).reads) expect(written.has(t), `${kind}: ${n.op} reads ${t} before it is written`).toBe(true);
        for (const t of io(n).writes) written.add(t);
      }
      for (const t of [...ir.tensors.keys()]) expect(written.has(t), `${kind}: ${t} is never written`).toBe(true);
    }
  });

  it.each(nets)('%s: a step reaches every parameter once: one BN backward per BN, one weight gradient per conv and gate, one SGD', (_name, spec) => {
    const ir = stepIR(spec, 'step');
    const weights = ops(ir, 'convBackward').map((n) => (n as Extract<Node, { op: 'convBackward' }>).conv.name);
    expect(weights.sort()).toEqual([...spec.convs, ...spec.gates].map((c) => c.name).sort());
    const bns = ops(ir, 'bnBackward').map((n) => (n as Extract<Node, { op: 'bnBackward' }>).conv.name);
    expect(bns.sort()).toEqual(spec.convs.map((c) => c.name).sort());
    expect(ops(ir, 'gateBiasBackward').length).toBe(spec.gates.length);
    expect(ops(ir, 'sgd').length).toBe(1);
    expect(ops(ir, 'bnRunning').length).toBe(spec.convs.length);
    // only the stem's input gradient is not computed (the images are not learned)
    expect(ops(ir, 'convBackward').filter((n) => (n as Extract<Node, { op: 'convBackward' }>).dx === null).length).toBe(1);
    expect(ops(stepIR(spec, 'grads'), 'sgd').length).toBe(0);
  });

  it.each(nets)('%s: each gradient is written once, by its first source, and added to by the others', (_name, spec) => {
    const ir = stepIR(spec, 'step');
    const seen = new Set<string>();
    for (const n of ir.nodes) {
      const accumulating = n.op === 'identityBackward' || n.op === 'subsamplePadBackward' || (n.op === 'convBackward' && n.acc);
      for (const t of io(n).writes.filter((w) => ir.tensors.get(w)?.role === 'gradient')) {
        if (accumulating && (n.op !== 'convBackward' || t === n.dx)) expect(seen.has(t), `${n.op} adds to ${t} before anything wrote it`).toBe(true);
        else expect(seen.has(t), `${n.op} overwrites ${t}`).toBe(false);
        seen.add(t);
      }
    }
  });

  it('orders a block input’s gradient as the engines sum it: the branch, then the shortcut (a highway: the carry, then the gate)', () => {
    const highway = stepIR(cifarNet({ n: 1, family: 'highway', shortcut: 'A', width: 0.25, inputSize: 16 }), 'step');
    const into = (ir: StepIR, t: string) =>
      ir.nodes.flatMap((n) => (io(n).writes.includes(t) ? [n.op === 'convBackward' ? `${n.op}:${n.conv.name}` : n.op] : []));
    expect(into(highway, 'd:s1.b0.out')).toEqual(['convBackward:s2.b0.conv1', 'convBackward:s2.b0.proj', 'convBackward:s2.b0.gate']);
    expect(into(highway, 'd:stem.out')).toEqual(['convBackward:s1.b0.conv1', 'identityBackward', 'convBackward:s1.b0.gate']);
    const a = stepIR(cifarNet({ n: 1, residual: true, shortcut: 'A', width: 0.25, inputSize: 16 }), 'step');
    expect(into(a, 'd:s1.b0.out')).toEqual(['convBackward:s2.b0.conv1', 'subsamplePadBackward']);
  });

  it('measures BN statistics where a program needs them: always in training, with the running averages only for Fig. 7 (a)', () => {
    const spec = nets[1][1];
    const measured = (kind: ProgramKind) => ops(stepIR(spec, kind), 'bnStats').filter((n) => (n as Extract<Node, { op: 'bnStats' }>).measure).length;
    expect(measured('step')).toBe(spec.convs.length);
    expect(measured('eval')).toBe(0);
    expect(measured('eval-responses')).toBe(spec.convs.length);
    expect(ops(stepIR(spec, 'responses'), 'responseTap').map((n) => (n as Extract<Node, { op: 'responseTap' }>).layer)).toEqual(
      spec.layers3x3.map((_, i) => i),
    );
    expect(ops(stepIR(spec, 'eval'), 'head').length).toBe(1);
    // ‖F(x)‖/‖x‖: one residual tap per block with a shortcut, in the pass as the trained net computes, each right
    // after its block's last conv's statistics (which an engine may read for F)
    const evalResponses = stepIR(spec, 'eval-responses');
    const residual = ops(evalResponses, 'residualTap') as Extract<Node, { op: 'residualTap' }>[];
    expect(residual.map((n) => n.index)).toEqual(spec.blocks.filter((b) => b.shortcut !== 'none').map((_, i) => i));
    for (const n of residual) {
      const before = evalResponses.nodes[evalResponses.nodes.indexOf(n) - 1];
      expect(before.op === 'bnStats' || before.op === 'responseTap').toBe(true);
      expect((before as Extract<Node, { op: 'bnStats' }>).conv).toBe(n.block.branch[n.block.branch.length - 1]);
    }
    for (const kind of ['step', 'eval', 'responses'] as const) expect(ops(stepIR(spec, kind), 'residualTap').length).toBe(0);
    expect(ops(stepIR(nets[0][1], 'eval-responses'), 'residualTap').length).toBe(0); // a plain net
    expect(ops(stepIR(spec, 'responses'), 'head').length).toBe(0);
  });
});

describe('mask folding', () => {
  it.each(nets)('%s: the GPU takes every mask in its readers; the CPU masks a gradient two nodes read once, in its own pass', (_name, spec) => {
    const ir = stepIR(spec, 'step');
    const gpu = foldMasks(ir, GPU_MASKS, true);
    expect(ops(gpu, 'reluBackward').length).toBe(0);
    const cpu = foldMasks(ir, CPU_MASKS, false);
    const withShortcut = spec.blocks.filter((b) => b.shortcut !== 'none').length;
    expect(ops(cpu, 'reluBackward').length).toBe(withShortcut);
    // folding changes where the mask is applied, not what is computed: the same nodes otherwise
    for (const folded of [gpu, cpu]) expect(folded.nodes.filter((n) => n.op !== 'reluBackward').length).toBe(ir.nodes.length - ops(ir, 'reluBackward').length);
    for (const n of gpu.nodes) if ('mask' in n && n.mask) expect(gpu.tensors.get(n.mask)?.role).toBe('activation');
  });
});

describe('the gradient plan', () => {
  /** Replay the plan: every read finds its tensor still in its slot. */
  function expectSound(ir: StepIR, inPlace: boolean) {
    const plan = planGradients(ir, inPlace);
    const holder: (string | undefined)[] = [];
    for (const n of ir.nodes) {
      const { reads, writes } = io(n);
      for (const t of reads) if (plan.slot.has(t)) expect(holder[plan.slot.get(t)!], `${n.op} reads ${t}`).toBe(t);
      for (const t of writes) {
        if (!plan.slot.has(t)) continue;
        const s = plan.slot.get(t)!;
        const other = holder[s];
        // a slot is taken over only from a dead tensor, or in place from one this node reads last
        if (other && other !== t) {
          expect(
            ir.nodes.slice(ir.nodes.indexOf(n) + 1).some((m) => io(m).reads.includes(other)),
            `${other} is read after ${n.op} overwrote it`,
          ).toBe(false);
          if (reads.includes(other)) expect(inPlace, `${n.op} writes ${t} over its input ${other}`).toBe(true);
        }
        holder[s] = t;
      }
    }
    return plan.slots;
  }

  it.each(nets)('%s: no slot holds two live gradients, in place or not', (_name, spec) => {
    const ir = stepIR(spec, 'step');
    expectSound(foldMasks(ir, CPU_MASKS, false), true);
    expectSound(foldMasks(ir, GPU_MASKS, true), false);
  });

  it('needs few slots, whatever the depth: a plain net 2, a ResNet 3, a highway net 4 (in place, as on the CPU engine)', () => {
    for (const n of [1, 9, 18]) {
      const slots = (family: 'plain' | 'residual' | 'highway') =>
        planGradients(foldMasks(stepIR(cifarNet({ n, family, shortcut: 'A', width: 0.25 }), 'step'), CPU_MASKS, false), true).slots;
      expect([slots('plain'), slots('residual'), slots('highway')]).toEqual([2, 3, 4]);
    }
  });
});

describe('the activation plan of an evaluation', () => {
  it.each(nets)('%s: every read finds its activation in its slot, and a few slots serve any depth', (_name, spec) => {
    for (const s of [spec, cifarNet({ ...spec.options, n: 9 })]) {
      const ir = stepIR(s, 'eval');
      const plan = planActivations(ir);
      const holder: (string | undefined)[] = [];
      for (const n of ir.nodes) {
        const { reads, writes } = io(n);
        for (const t of reads) if (plan.slot.has(t)) expect(holder[plan.slot.get(t)!], `${n.op} reads ${t}`).toBe(t);
        for (const t of writes) if (plan.slot.has(t)) holder[plan.slot.get(t)!] = t;
      }
      expect(plan.slot.size).toBe([...ir.tensors.values()].filter((i) => i.role === 'activation').length);
      expect(plan.slots).toBeLessThanOrEqual(5);
    }
    // a step keeps every activation for its backward pass
    expect(() => planActivations(stepIR(spec, 'step'))).toThrow(/backward/);
  });
});
