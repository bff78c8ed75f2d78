import { describe, expect, it } from 'vitest';
import { architecture, foldBlocks } from './architecture';
import { cifarNet } from './nets';
import type { NetOptions } from './nets';

describe('architecture', () => {
  it('shows ResNet-20’s stages as 32×32×16 → 16×16×32 → 8×8×64, scaled by the width', () => {
    const a = architecture(cifarNet({ n: 3, family: 'residual', shortcut: 'A' }));
    expect([a.stem, ...a.stages].map((p) => `${p.size}×${p.size}×${p.channels}`)).toEqual(['32×32×16', '32×32×16', '16×16×32', '8×8×64']);
    expect(a.stages.map((s) => s.blocks.length)).toEqual([3, 3, 3]);
    expect(a.shortcuts).toEqual({ identity: 7, 'subsample-pad': 2 });
    const narrow = architecture(cifarNet({ n: 3, family: 'residual', shortcut: 'A', width: 0.25 }));
    expect(narrow.stages.map((p) => `${p.size}×${p.size}×${p.channels}`)).toEqual(['32×32×4', '16×16×8', '8×8×16']);
  });

  it.each<[string, NetOptions]>([
    ['ResNet-56 (C)', { n: 9, family: 'residual', shortcut: 'C' }],
    ['plain-20', { n: 3, family: 'plain', shortcut: 'A', width: 0.5 }],
    ['Highway-32', { n: 5, family: 'highway', shortcut: 'A' }],
    ['ResNet-47 bottleneck (B)', { n: 5, family: 'residual', shortcut: 'B', block: 'bottleneck' }],
  ])('adds the stem, stages and head up to %s’s parameters and multiply-adds', (_label, options) => {
    const a = architecture(cifarNet(options));
    const parts = [a.stem, ...a.stages, a.head];
    expect(parts.reduce((s, p) => s + p.params, 0)).toBe(a.params);
    expect(parts.reduce((s, p) => s + p.multiplyAdds, 0)).toBe(a.multiplyAdds);
    expect(a.stages.every((s) => s.params > 0 && s.multiplyAdds > 0)).toBe(true);
  });

  it('counts each shortcut kind: projections for C, gates for highway, none for plain', () => {
    expect(architecture(cifarNet({ n: 2, family: 'residual', shortcut: 'C' })).shortcuts).toEqual({ projection: 6 });
    expect(architecture(cifarNet({ n: 2, family: 'highway', shortcut: 'A' })).shortcuts).toEqual({ gated: 6 });
    expect(architecture(cifarNet({ n: 2, family: 'plain', shortcut: 'A' })).shortcuts).toEqual({ none: 6 });
    // bottleneck stages output 4× their width: 64/128/256
    expect(architecture(cifarNet({ n: 1, family: 'residual', shortcut: 'B', block: 'bottleneck' })).stages.map((s) => s.channels)).toEqual([64, 128, 256]);
  });

  it('folds a stage into runs of identical blocks: ResNet-56 draws 1 + 2 + 2 blocks, option C and bottlenecks as their shortcuts differ', () => {
    const runs = (o: NetOptions) => architecture(cifarNet(o)).stages.map((s) => foldBlocks(s.blocks).map((r) => `${r.block.shortcut}×${r.count}`));
    expect(runs({ n: 9, residual: true, shortcut: 'A' })).toEqual([['identity×9'], ['subsample-pad×1', 'identity×8'], ['subsample-pad×1', 'identity×8']]);
    expect(runs({ n: 9, residual: true, shortcut: 'C' })).toEqual([['projection×9'], ['projection×1', 'projection×8'], ['projection×1', 'projection×8']]);
    expect(runs({ n: 9, residual: false, shortcut: 'A' })).toEqual([['none×9'], ['none×1', 'none×8'], ['none×1', 'none×8']]);
    expect(runs({ n: 2, residual: true, shortcut: 'B', block: 'bottleneck' })).toEqual([
      ['projection×1', 'identity×1'],
      ['projection×1', 'identity×1'],
      ['projection×1', 'identity×1'],
    ]);
    // a thousand layers draw as few blocks as 56 do: ResNet-1202's 600 blocks fold into 5 runs
    expect(runs({ n: 200, residual: true, shortcut: 'A' })).toEqual([
      ['identity×200'],
      ['subsample-pad×1', 'identity×199'],
      ['subsample-pad×1', 'identity×199'],
    ]);
    // every block is in exactly one run
    for (const s of architecture(cifarNet({ n: 18, residual: true, shortcut: 'A' })).stages)
      expect(foldBlocks(s.blocks).reduce((k, r) => k + r.count, 0)).toBe(s.blocks.length);
  });
});
