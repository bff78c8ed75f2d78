import { describe, expect, it } from 'vitest';
import { HIGHWAY_GATE_BIAS, blocksFor, cifarNet, initParams, paramCount, sizeOf } from './nets';
import type { Shortcut } from './nets';

// The parameter counts of the table in src/core/nets.ts's header (the paper's 0.27M … 1.7M, and 19.4M for
// ResNet-1202): conv and FC weights, FC bias, BN γ and β.
const TABLE: [number, number, number, number][] = [
  [20, 269_722, 272_474, 283_962],
  [32, 464_154, 466_906, 489_594],
  [44, 658_586, 661_338, 695_226],
  [56, 853_018, 855_770, 900_858],
  [110, 1_727_962, 1_730_714, 1_826_202],
  [1202, 19_421_274, 19_424_026, 20_538_714],
];

describe('cifarNet (§4.2)', () => {
  it.each(TABLE)('%i layers: exact trainable parameter counts for plain, A, B and C', (depth, a, b, c) => {
    const n = blocksFor(depth);
    expect(paramCount(cifarNet({ n, residual: false, shortcut: 'A' }))).toBe(a);
    const counts = (['A', 'B', 'C'] as Shortcut[]).map((s) => paramCount(cifarNet({ n, residual: true, shortcut: s })));
    expect(counts).toEqual([a, b, c]);
  });

  it('matches the paper’s rounded figures 0.27M/0.46M/0.66M/0.85M/1.7M/19.4M', () => {
    const rounded = TABLE.map(([d]) => paramCount(cifarNet({ n: blocksFor(d), residual: true, shortcut: 'A' })) / 1e6);
    expect(rounded.map((m) => (m < 1 ? m.toFixed(2) : m.toFixed(1)))).toEqual(['0.27', '0.46', '0.66', '0.85', '1.7', '19.4']);
  });

  it('has 6n+2 weighted layers: 6n+1 3×3 convs and one FC layer', () => {
    for (const n of [1, 3, 18]) {
      const net = cifarNet({ n, residual: true, shortcut: 'B' });
      expect(net.depth).toBe(6 * n + 2);
      expect(net.layers3x3.length + 1).toBe(6 * n + 2);
    }
  });

  it('has stages of 16/32/64 filters on 32/16/8 maps, stride 2 at the first conv of stages 2 and 3', () => {
    const net = cifarNet({ n: 2, residual: true, shortcut: 'A' });
    expect(net.blocks.map((b) => [b.name, b.inC, b.outC, b.stride, b.branch[0].outSize])).toEqual([
      ['s1.b0', 16, 16, 1, 32],
      ['s1.b1', 16, 16, 1, 32],
      ['s2.b0', 16, 32, 2, 16],
      ['s2.b1', 32, 32, 1, 16],
      ['s3.b0', 32, 64, 2, 8],
      ['s3.b1', 64, 64, 1, 8],
    ]);
    expect(net.blocks.map((b) => b.shortcut)).toEqual(['identity', 'identity', 'subsample-pad', 'identity', 'subsample-pad', 'identity']);
  });

  it('puts projections where each option says: B where the shape changes, C everywhere, plain nowhere', () => {
    const proj = (s: Shortcut, residual = true) => cifarNet({ n: 2, residual, shortcut: s }).blocks.map((b) => b.shortcut === 'projection');
    expect(proj('B')).toEqual([false, false, true, false, true, false]);
    expect(proj('C')).toEqual([true, true, true, true, true, true]);
    expect(cifarNet({ n: 2, residual: false, shortcut: 'C' }).blocks.every((b) => b.shortcut === 'none')).toBe(true);
  });

  it('scales widths, and rejects a width whose filters are not multiples of 4', () => {
    expect(cifarNet({ n: 1, residual: true, shortcut: 'A', width: 0.5 }).channels).toEqual([8, 16, 32]);
    expect(() => cifarNet({ n: 1, residual: true, shortcut: 'A', width: 0.3 })).toThrow(/multiple of 4/);
  });

  it('labels nets the way the paper names them', () => {
    expect(cifarNet({ n: 9, residual: false, shortcut: 'A' }).label).toBe('plain-56');
    expect(cifarNet({ n: 18, residual: true, shortcut: 'A' }).label).toBe('ResNet-110');
    expect(cifarNet({ n: 3, residual: true, shortcut: 'B', width: 0.5 }).label).toBe('ResNet-20 (B)');
  });
});

describe('bottleneck blocks (§4.1) and highway nets', () => {
  it.each([
    [29, 270_234, 313_114, 486_938],
    [47, 455_706, 498_586, 846_234],
    [83, 826_650, 869_530, 1_564_826],
    [164, 1_661_274, 1_704_154, 3_181_658],
  ])('bottleneck, %i layers: exact parameter counts for A (= plain), B and C', (depth, a, b, c) => {
    const n = blocksFor(depth, 'bottleneck');
    expect(paramCount(cifarNet({ n, family: 'plain', shortcut: 'A', block: 'bottleneck' }))).toBe(a);
    expect((['A', 'B', 'C'] as Shortcut[]).map((s) => paramCount(cifarNet({ n, family: 'residual', shortcut: s, block: 'bottleneck' })))).toEqual([a, b, c]);
  });

  it('has 9n+2 layers of 1×1, 3×3, 1×1 blocks, widths ×4 at the expansions, stride 2 on the 3×3', () => {
    const net = cifarNet({ n: 1, family: 'residual', shortcut: 'A', block: 'bottleneck' });
    expect(net.depth).toBe(11);
    expect(net.convs.length + 1).toBe(11); // the stem, 9 branch convs, and the FC layer
    expect(net.blocks.map((b) => b.branch.map((c) => `${c.k}:${c.inC}>${c.outC}/${c.stride}@${c.outSize}`))).toEqual([
      ['1:16>16/1@32', '3:16>16/1@32', '1:16>64/1@32'],
      ['1:64>32/1@32', '3:32>32/2@16', '1:32>128/1@16'],
      ['1:128>64/1@16', '3:64>64/2@8', '1:64>256/1@8'],
    ]);
    // option A pads 16 → 64 channels without a stride in stage 1, and subsamples where the stride is 2
    expect(net.blocks.map((b) => b.shortcut)).toEqual(['subsample-pad', 'subsample-pad', 'subsample-pad']);
    expect(net.fc.inC).toBe(256);
    expect(() => cifarNet({ n: 1, family: 'residual', shortcut: 'A', block: 'wide' as never })).toThrow(/block must be one of basic, bottleneck/);
  });

  it('gives highway blocks a gate (1×1 conv with a bias of −2) and a projection only where the shape changes', () => {
    const net = cifarNet({ n: 2, family: 'highway', shortcut: 'A' });
    expect(net.label).toBe('Highway-14');
    expect(net.blocks.every((b) => b.shortcut === 'gated' && b.gate?.k === 1)).toBe(true);
    expect(net.blocks.map((b) => b.projection !== undefined)).toEqual([false, false, true, false, true, false]);
    expect(net.gates.map((g) => g.name)).toEqual(net.blocks.map((b) => `${b.name}.gate`));
    const p = initParams(net, 1);
    expect(Array.from(p['s2.b1.gate.bias'])).toEqual(new Array(32).fill(HIGHWAY_GATE_BIAS));
    expect(HIGHWAY_GATE_BIAS).toBeLessThan(0);
    // a chosen bias (He et al. 2016 found −6 best for this gating) starts every gate there
    const six = initParams(cifarNet({ n: 2, family: 'highway', shortcut: 'A', width: 0.5, gateBias: -6 }), 1);
    expect(Array.from(six['s2.b1.gate.bias'])).toEqual(new Array(16).fill(-6));
    expect(paramCount(cifarNet({ n: 3, family: 'highway', shortcut: 'A' }))).toBe(286_378);
  });

  it('labels bottleneck and highway nets', () => {
    expect(cifarNet({ n: 18, family: 'residual', shortcut: 'B', block: 'bottleneck' }).label).toBe('ResNet-164 bottleneck (B)');
    expect(cifarNet({ n: 3, family: 'plain', shortcut: 'A', block: 'bottleneck' }).label).toBe('plain-29 bottleneck');
    expect(cifarNet({ n: 9, family: 'highway', shortcut: 'C' }).label).toBe('Highway-56');
  });
});

describe('initParams', () => {
  it('uses He initialisation: conv weights have std √(2/fan_in); BN γ=1, β=0', () => {
    const net = cifarNet({ n: 3, residual: true, shortcut: 'A' });
    const p = initParams(net, 7);
    const w = p['s3.b1.conv1']; // 3·3·64 = 576 inputs per output
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const std = Math.sqrt(w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length);
    expect(std).toBeGreaterThan(Math.sqrt(2 / 576) * 0.97);
    expect(std).toBeLessThan(Math.sqrt(2 / 576) * 1.03);
    expect(Array.from(p['s1.b0.conv2.bn.gamma'])).toEqual(new Array(16).fill(1));
    expect(Array.from(p['s1.b0.conv2.bn.beta'])).toEqual(new Array(16).fill(0));
  });

  it('gives a plain net and a residual net of one depth identical weights wherever parameters coincide', () => {
    const plain = initParams(cifarNet({ n: 3, residual: false, shortcut: 'A' }), 42);
    const resB = initParams(cifarNet({ n: 3, residual: true, shortcut: 'B' }), 42);
    const shared = Object.keys(plain);
    expect(shared.length).toBe(cifarNet({ n: 3, residual: false, shortcut: 'A' }).params.length);
    for (const k of shared) expect(resB[k]).toEqual(plain[k]);
    expect(
      Object.keys(resB)
        .filter((k) => !(k in plain))
        .sort(),
    ).toEqual(['s2.b0.proj', 's2.b0.proj.bn.beta', 's2.b0.proj.bn.gamma', 's3.b0.proj', 's3.b0.proj.bn.beta', 's3.b0.proj.bn.gamma']);
  });

  it('is reproducible from the seed, and a different seed gives different weights', () => {
    const net = cifarNet({ n: 1, residual: true, shortcut: 'A' });
    expect(initParams(net, 3)['stem.conv']).toEqual(initParams(net, 3)['stem.conv']);
    expect(initParams(net, 3)['stem.conv']).not.toEqual(initParams(net, 4)['stem.conv']);
    expect(sizeOf(net.params[0].shape)).toBe(3 * 3 * 3 * 16);
  });
});
