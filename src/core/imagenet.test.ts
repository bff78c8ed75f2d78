import { describe, expect, it } from 'vitest';
import { IMAGENET_DEPTHS, imagenetResNet } from './imagenet';
import { TABLE1_FLOPS } from './paper';

// The paper's Table 1 and §3.4 / torchvision's published models.
const PARAMS_M = { 18: 11.7, 34: 21.8, 50: 25.6, 101: 44.5, 152: 60.2 };
const GMACS = TABLE1_FLOPS;

describe('the ImageNet ResNets of Table 1', () => {
  it.each(IMAGENET_DEPTHS)('ResNet-%i has the published parameters, to 0.1 M', (depth) => {
    expect(Math.round(imagenetResNet(depth).params / 1e5) / 10).toBe(PARAMS_M[depth]);
  });

  it.each(IMAGENET_DEPTHS)('ResNet-%i has Table 1’s multiply-adds within 2%, with the paper’s stride placement', (depth) => {
    // Table 1 rounds loosely: the counts are 1.814, 3.664, 3.858, 7.570 and 11.282 ×10⁹
    const g = imagenetResNet(depth).multiplyAdds / 1e9;
    expect(Math.abs(g - GMACS[depth]) / GMACS[depth]).toBeLessThan(0.02);
  });

  it('puts a bottleneck’s stride on the 3×3 in torchvision’s convention: the same parameters, more multiply-adds (4.09 ×10⁹ for ResNet-50, 7.6% over Table 1)', () => {
    for (const depth of [50, 101, 152] as const) {
      const [paper, tv] = [imagenetResNet(depth), imagenetResNet(depth, 'torchvision')];
      expect(tv.params).toBe(paper.params);
      expect(tv.multiplyAdds).toBeGreaterThan(paper.multiplyAdds * 1.02);
    }
    for (const depth of [18, 34] as const) expect(imagenetResNet(depth, 'torchvision').multiplyAdds).toBe(imagenetResNet(depth).multiplyAdds);
  });

  it('has the stages of Table 1: 56², 28², 14², 7² maps, ×4 channels in the bottleneck nets, and depth = weighted layers', () => {
    const r50 = imagenetResNet(50);
    expect(r50.stages.map((s) => [s.name, s.blocks, s.size, s.channels])).toEqual([
      ['conv2_x', 3, 56, 256],
      ['conv3_x', 4, 28, 512],
      ['conv4_x', 6, 14, 1024],
      ['conv5_x', 3, 7, 2048],
    ]);
    expect(imagenetResNet(34).stages.map((s) => s.channels)).toEqual([64, 128, 256, 512]);
    for (const depth of IMAGENET_DEPTHS) {
      const net = imagenetResNet(depth);
      // the projections are shortcuts, not layers: stem + the blocks' convolutions + FC = the depth
      const layers = net.convs.filter((c) => !c.name.endsWith('.proj')).length + 1;
      expect(layers).toBe(depth);
      // the stages' own counts add up to the whole, less the stem and the FC layer
      const stem = 7 * 7 * 3 * 64 + 2 * 64;
      const fc = net.stages[3].channels * 1000 + 1000;
      expect(net.stages.reduce((s, x) => s + x.params, 0) + stem + fc).toBe(net.params);
    }
  });
});
