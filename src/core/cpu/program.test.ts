// The lab CPU engine's memory plans (./program.ts), which do not overlap, and its programs, the step IR lowered
// (./lower.ts): the calls the maths needs, whose named arguments can be set. Pure: no memory, no WebAssembly.
// (engine.test.ts checks what the programs compute; bitIdentity.test.ts that they compute what they did.)
import { describe, expect, it } from 'vitest';
import { cifarNet } from '../nets';
import type { NetSpec } from '../nets';
import { KERNELS } from './kernelArgs';
import { activationBytes, gradAt, momentumAt, netBytes, paramAt, planNet, planWorkspace, winograd } from './program';
import { cpuProgram, gradientSlots, setArg } from './lower';

const N = 4;
const NET_BASE = 1 << 24;
const WS_BASE = 1 << 20;

function setup(spec: NetSpec) {
  const net = planNet(spec, NET_BASE);
  const ws = planWorkspace([spec], N, spec.options.inputSize ?? 32, 2, activationBytes(spec, N), gradientSlots(spec)).at(WS_BASE);
  return { net, ws };
}

const count = (calls: readonly (readonly unknown[])[], kernel: string) => calls.filter((c) => c[0] === kernel).length;
const inside = (p: number, from: number, bytes: number) => p >= from && p < from + bytes;

/** Byte ranges must not overlap. */
function expectDisjoint(ranges: [number, number][]) {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < sorted.length; i++) expect(sorted[i][0], `range at ${sorted[i][0]}`).toBeGreaterThanOrEqual(sorted[i - 1][0] + sorted[i - 1][1]);
}

describe('the net plan', () => {
  for (const shortcut of ['A', 'B', 'C'] as const) {
    it(`places every tensor of ResNet-8 (${shortcut}) inside the net's allocation, without overlap`, () => {
      const spec = cifarNet({ n: 1, residual: true, shortcut, width: 0.25, inputSize: 8 });
      const { net } = setup(spec);
      expect(net.bytes).toBe(netBytes(spec));
      const ranges: [number, number][] = [];
      for (const p of spec.params) {
        const { length } = net.slots.get(p.name)!;
        for (const at of [paramAt(net, p.name), gradAt(net, p.name), momentumAt(net, p.name)]) {
          expect(inside(at, net.base, net.bytes)).toBe(true);
          ranges.push([at, 4 * length]);
        }
      }
      for (const [name, at] of net.stats) ranges.push([at, 4 * spec.convs.find((c) => name.startsWith(`${c.name}.bn`))!.outC]);
      ranges.push([net.out, 16]);
      expectDisjoint(ranges);
      expect(net.out + 16).toBe(net.base + net.bytes);
    });
  }
});

/** Forward convolutions, input gradients and weight gradients in a call list: direct, Winograd or stride-2 direct. */
function convKinds(calls: readonly (readonly unknown[])[], flip: number) {
  let forward = 0;
  let inputGrad = 0;
  let filter = 0;
  calls.forEach((c, i) => {
    if (c[0] === 'conv_fwd') {
      if (c[5] === flip) inputGrad++;
      else forward++;
    }
    if (c[0] === 'wino_fwd' || c[0] === 'wino4_fwd') {
      if (calls[i - 1][4] === 1)
        inputGrad++; // the weight transform before it, flipped
      else forward++;
    }
    if (c[0] === 'conv_bwd_data_s2') inputGrad++;
    if (c[0] === 'conv_bwd_filter' || c[0] === 'wino_filter_finish' || c[0] === 'wino4_filter_finish') filter++;
  });
  return { forward, inputGrad, filter };
}

describe('the Winograd rule', () => {
  it('takes F(4×4) wherever maps divide by 4, F(2×2) on other even maps where it pays, never on odd maps or when told direct', () => {
    for (const pass of ['forward', 'filter'] as const) {
      expect(winograd(pass, 4, 4, 32)).toBe('F4');
      expect(winograd(pass, 64, 64, 8)).toBe('F4');
      expect(winograd(pass, 64, 64, 8, 'direct')).toBe(null);
      expect(winograd(pass, 16, 16, 7)).toBe(null);
      expect(winograd(pass, 16, 16, 6)).toBe('F2');
    }
    expect(winograd('filter', 4, 4, 2)).toBe('F2');
    expect(winograd('forward', 4, 4, 2)).toBe(null);
    expect(winograd('forward', 8, 8, 6)).toBe(null);
  });
});

describe('the training program', () => {
  const spec = cifarNet({ n: 1, residual: true, shortcut: 'B', width: 0.25, inputSize: 8 });

  it('runs each conv forward once and backward once, with one input gradient per conv but the stem', () => {
    const { net, ws } = setup(spec);
    const { calls } = cpuProgram(net, ws, N, 'step', 2);
    expect(calls.every((c) => (KERNELS as readonly string[]).includes(c[0]))).toBe(true);
    const convs = spec.convs.length;
    const k = convKinds(calls, ws.flip);
    expect(k.filter).toBe(convs);
    expect(k.inputGrad).toBe(convs - 1);
    expect(k.forward).toBe(convs);
    // every kind of kernel is in use at this size (maps 8, 4, 2): F(4×4) on 8 and 4, F(2×2) on 2,
    // direct for the stride-2 convolutions
    for (const kernel of ['conv_fwd', 'wino_fwd', 'wino4_fwd', 'conv_bwd_data_s2', 'wino_bwd_filter', 'wino4_bwd_filter'])
      expect(count(calls, kernel), kernel).toBeGreaterThan(0);
    // every Winograd weight-gradient partial is summed by the threads that made it
    calls.forEach((c, i) => {
      if (c[0] === 'wino_bwd_filter') expect(calls[i + 1].slice(0, 3)).toEqual(['wino_filter_finish', ws.winoDU, 2]);
      if (c[0] === 'wino4_bwd_filter') expect(calls[i + 1].slice(0, 3)).toEqual(['wino4_filter_finish', ws.winoDU, 2]);
    });
    expect(count(calls, 'bn_running')).toBe(convs);
    expect(count(calls, 'sgd')).toBe(1);
    expect(count(calls, 'head')).toBe(1);
  });

  it('saves each forward conv output in its own place in the workspace’s activations', () => {
    const { net, ws } = setup(spec);
    const calls = cpuProgram(net, ws, N, 'step', 1).calls;
    const direct = calls.filter((c) => c[0] === 'conv_fwd' && c[5] !== ws.flip);
    const wino = calls.flatMap((c, i) => ((c[0] === 'wino_fwd' || c[0] === 'wino4_fwd') && calls[i - 1][4] === 0 ? [[calls[i - 1], c]] : []));
    expect(direct.length + wino.length).toBe(spec.convs.length);
    const outs = [...direct.map((c) => c[8] as number), ...wino.map(([, c]) => c[6] as number)];
    expect(new Set(outs).size).toBe(outs.length);
    for (const o of outs) expect(inside(o, ws.activations, activationBytes(spec, N))).toBe(true);
    // their weights are the net's parameters
    for (const c of direct) expect(inside(c[5] as number, net.base, net.bytes)).toBe(true);
    for (const [weights] of wino) expect(inside(weights[1] as number, net.base, net.bytes)).toBe(true);
  });

  it('sets the learning rate through its named argument, in the SGD call and nowhere else', () => {
    const { net, ws } = setup(spec);
    const program = cpuProgram(net, ws, N, 'step', 1);
    const before = program.calls.map((c) => [...c]);
    setArg(program, 'lr', 0.0123);
    const changed = program.calls.flatMap((c, i) => c.flatMap((v, k) => (v !== before[i][k] ? [[c[0], k, v]] : [])));
    expect(changed).toEqual([['sgd', 5, 0.0123]]);
  });

  it('without the update, computes gradients only: no SGD, no running averages, no lr argument', () => {
    const { net, ws } = setup(spec);
    const program = cpuProgram(net, ws, N, 'grads', 1);
    expect(count(program.calls, 'sgd') + count(program.calls, 'bn_running')).toBe(0);
    expect(() => setArg(program, 'lr', 0.1)).toThrow(/no 'lr' argument/);
  });

  it('is a pure function of the plan: built twice, the same calls; another batch size, other calls', () => {
    const { net, ws } = setup(spec);
    expect(cpuProgram(net, ws, N, 'step', 2).calls).toEqual(cpuProgram(net, ws, N, 'step', 2).calls);
    expect(cpuProgram(net, ws, N - 1, 'step', 2).calls).not.toEqual(cpuProgram(net, ws, N, 'step', 2).calls);
  });
});

describe('the evaluation and response programs', () => {
  const spec = cifarNet({ n: 2, residual: false, shortcut: 'A', width: 0.25, inputSize: 8 });

  it('evaluation: the forward pass with BN’s running averages, and the loss', () => {
    const { net, ws } = setup(spec);
    const { calls, args } = cpuProgram(net, ws, N, 'eval', 1);
    expect(args).toEqual({});
    for (const k of ['conv_bwd_filter', 'bn_bwd_sums', 'sgd', 'chan_sums', 'bn_finalize', 'bn_running', 'bn_response_moments'])
      expect(count(calls, k), k).toBe(0);
    expect(count(calls, 'bn_eval_affine')).toBe(spec.convs.length);
    for (const k of ['wino_bwd_filter', 'wino_filter_finish', 'wino4_bwd_filter', 'wino4_filter_finish']) expect(count(calls, k), k).toBe(0);
    expect(convKinds(calls, ws.flip)).toEqual({ forward: spec.convs.length, inputGrad: 0, filter: 0 });
    expect(count(calls, 'head')).toBe(1);
  });

  it('responses (Fig. 7): BN with the batch’s own statistics, a tap per 3×3 conv, and nothing learned or averaged', () => {
    const { net, ws } = setup(spec);
    const { calls } = cpuProgram(net, ws, N, 'responses', 1);
    for (const k of ['conv_bwd_filter', 'sgd', 'bn_running', 'bn_eval_affine', 'head']) expect(count(calls, k), k).toBe(0);
    expect(count(calls, 'bn_finalize')).toBe(spec.convs.length);
    expect(count(calls, 'bn_response_moments')).toBe(spec.layers3x3.length);
    // each tap writes its own 16 bytes of ws.taps, in layer order
    const taps = calls.filter((c) => c[0] === 'bn_response_moments').map((c) => c.at(-1) as number);
    expect(taps).toEqual(spec.layers3x3.map((_, i) => ws.taps + 16 * i));
  });
});
