import { describe, expect, it } from 'vitest';
import type { NetInfo } from '../../core/metrics';
import type { Line } from './chartData';
import { SHORTCUT_COLORS, VARIANT_COLORS, depthColor, netColor } from './chartData';
import { errorDomain, fitEndLabel, placeEndLabels } from './CurvesPanel';
import { SUMMARY_LINE, SUMMARY_VARIANT_LINES, depthAxis, endLabelOf, summaryGroups } from './chartData';

/** Relative luminance (0 dark … 1 light) of #rrggbb. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two colours. */
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};

/** CIELAB (D65) of #rrggbb, for a perceptual distance between two colours (ΔE 1976). */
function lab(hex: string): [number, number, number] {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  const xyz = [(0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047, 0.2126 * r + 0.7152 * g + 0.0722 * b, (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883];
  const [fx, fy, fz] = xyz.map((t) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116));
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}
const deltaE = (a: string, b: string) => Math.hypot(...lab(a).map((v, i) => v - lab(b)[i]));

const net = (depth: number, family: 'plain' | 'residual' = 'residual', shortcut: 'A' | 'B' | 'C' = 'A'): NetInfo => ({
  id: `${family}-${depth}-${shortcut}`,
  label: `${family}-${depth}`,
  depth,
  residual: family === 'residual',
  family,
  shortcut,
  block: 'basic',
  params: 0,
  status: 'training',
  divergedAt: null,
});

describe('one colour language', () => {
  it('gives a depth the same colour in every run and every family', () => {
    const a = [net(8), net(20), net(56), net(20, 'plain')];
    const b = [net(20), net(32), net(44), net(56), net(110)];
    expect(netColor(a[1], a)).toBe(netColor(b[0], b));
    expect(netColor(a[2], a)).toBe(netColor(b[3], b));
    expect(netColor(a[3], a)).toBe(netColor(a[1], a));
    expect(depthColor(20)).toBe(netColor(b[0], b));
  });

  it('keeps every depth and variant colour at 3:1 contrast or more against the white chart (WCAG non-text contrast)', () => {
    for (let depth = 2; depth <= 1202; depth++) expect(contrast(depthColor(depth), '#ffffff'), `depth ${depth}`).toBeGreaterThanOrEqual(3);
    for (const c of [...VARIANT_COLORS, ...Object.values(SHORTCUT_COLORS)]) expect(contrast(c, '#ffffff'), c).toBeGreaterThanOrEqual(3);
  });

  it('keeps neighbouring depths of every preset apart, and the Classroom’s three far apart', () => {
    for (const depths of [
      [8, 20, 56],
      [20, 32, 44, 56, 110],
      [8, 14, 20, 32, 44, 56, 110],
      [8, 11, 32, 47],
      [20, 56, 110, 1202],
    ]) {
      const colors = depths.map((d) => depthColor(d));
      for (let i = 1; i < colors.length; i++) expect(deltaE(colors[i - 1], colors[i]), `${depths[i - 1]} vs ${depths[i]}`).toBeGreaterThan(10);
    }
    expect(deltaE(depthColor(8), depthColor(20))).toBeGreaterThan(30);
    expect(deltaE(depthColor(20), depthColor(56))).toBeGreaterThan(30);
  });

  it('colours variants at one depth (shortcut options) by variant, not depth', () => {
    const nets = [net(20, 'residual', 'A'), net(20, 'residual', 'B'), net(20, 'residual', 'C')];
    expect(nets.map((n) => netColor(n, nets))).toEqual([SHORTCUT_COLORS.A, SHORTCUT_COLORS.B, SHORTCUT_COLORS.C]);
  });
});

describe('the depth axis', () => {
  it('stays linear for the presets up to 110 layers, and turns logarithmic once depths span 8 to 1,202', () => {
    expect(depthAxis([8, 20, 56])).toEqual({ scale: 'linear', domain: [4, 60] });
    expect(depthAxis([20, 32, 44, 56, 110]).scale).toBe('linear');
    expect(depthAxis([110, 1202]).scale).toBe('linear'); // the Thousand layers preset: both depths far apart already
    const ladder = depthAxis([8, 20, 56, 110, 1202]);
    expect(ladder.scale).toBe('log');
    // a log axis needs a domain above zero, with room around the end points
    expect(ladder.domain[0]).toBeGreaterThan(0);
    expect(ladder.domain[0]).toBeLessThan(8);
    expect(ladder.domain[1]).toBeGreaterThan(1202);
    expect(depthAxis([]).scale).toBe('linear');
  });
});

describe('the error axis', () => {
  const line = (ys: number[]): Line => ({ key: 'k', label: 'l', color: '#000', dashed: true, points: ys.map((y, i) => ({ x: i, y })) });
  it('runs from 0 to the next 10% above the data, or fits the data in 5% steps when asked', () => {
    expect(errorDomain([line([88, 62, 41])], false)).toEqual([0, 90]);
    expect(errorDomain([line([88, 62, 41])], true)).toEqual([40, 90]);
    expect(errorDomain([line([3, 2])], false)).toEqual([0, 10]);
    expect(errorDomain([], true)).toEqual([0, 100]);
  });
});

describe('the end labels', () => {
  it('sit at their line’s last value on the pixel scale when there is room', () => {
    const at = placeEndLabels(
      [
        { key: 'a', value: 90 },
        { key: 'b', value: 10 },
      ],
      [0, 100],
      300,
      22,
    );
    expect(at.get('a')).toBeCloseTo(30, 9);
    expect(at.get('b')).toBeCloseTo(270, 9);
  });

  it('never overlap: neighbours at least the gap apart, in the lines’ order, inside the plot', () => {
    // plain-20 and plain-56 end 0.3 points apart, a third label at the bottom edge
    const ends = [
      { key: 'p56', value: 91.2 },
      { key: 'p20', value: 90.9 },
      { key: 'p8', value: 90.0 },
      { key: 'low', value: 0 },
      { key: 'low2', value: 0.5 },
    ];
    const at = placeEndLabels(ends, [0, 100], 240, 22);
    const ys = ['p56', 'p20', 'p8', 'low2', 'low'].map((k) => at.get(k)!);
    for (let i = 1; i < ys.length; i++) expect(ys[i] - ys[i - 1]).toBeGreaterThanOrEqual(22 - 1e-9);
    expect(Math.min(...ys)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...ys)).toBeLessThanOrEqual(240);
  });
});

describe('an end label that must fit', () => {
  it('keeps the name when it fits, drops the family (the panel names it), then cuts', () => {
    expect(endLabelOf('Highway-20 (gate bias -6)')).toBe('Highway-20 (−6)');
    expect(fitEndLabel('ResNet-56', 9)).toBe('ResNet-56');
    expect(fitEndLabel('Highway-20 (−6)', 10)).toBe('20 (−6)');
    expect(fitEndLabel('ResNet-56 bottleneck', 10)).toBe('56 bottle…');
  });
});

describe('the depth summary’s lines (summaryGroups, for the page and the slide)', () => {
  const net = (id: string, depth: number, family: 'plain' | 'residual' | 'highway', extra: Partial<NetInfo> = {}): NetInfo => ({
    id,
    label: id,
    depth,
    residual: family === 'residual',
    family,
    shortcut: 'A',
    params: 1,
    status: 'done',
    divergedAt: null,
    ...extra,
  });
  it('gives plain, highway (one line per gate bias) and residual lines, each across depths, in % by depth', () => {
    const nets = [
      net('plain-20', 20, 'plain'),
      net('resnet-20-A', 20, 'residual'),
      net('hw-20-a', 20, 'highway', { label: 'Highway-20 (gate bias -2)' }),
      net('hw-20-b', 20, 'highway', { label: 'Highway-20 (gate bias -6)' }),
      net('plain-56', 56, 'plain'),
      net('resnet-56-A', 56, 'residual'),
      net('hw-56-a', 56, 'highway', { label: 'Highway-56 (gate bias -2)' }),
      net('hw-56-b', 56, 'highway', { label: 'Highway-56 (gate bias -6)' }),
    ];
    const errorOf = new Map(nets.map((n, i) => [n.id, i / 10]));
    const g = summaryGroups(nets, errorOf);
    expect(g.map((x) => [x.family, x.gateBias, x.nets.map((n) => n.depth)])).toEqual([
      ['plain', null, [20, 56]],
      ['highway', '-2', [20, 56]],
      ['highway', '-6', [20, 56]],
      ['residual', null, [20, 56]],
    ]);
    expect(g[0].points).toEqual([
      { x: 20, y: 0 },
      { x: 56, y: 40 },
    ]);
    expect(g.every((x) => x.color === SUMMARY_LINE && !x.variants)).toBe(true);
  });
  it('splits shortcut options only where there are several, and block types or warmups by colour', () => {
    const errorOf = new Map<string, number | null>([
      ['a', 0.1],
      ['b', 0.2],
      ['c', 0.3],
      ['d', null],
    ]);
    const one = summaryGroups([net('a', 20, 'residual', { shortcut: 'B' }), net('b', 56, 'residual', { shortcut: 'B' })], errorOf);
    expect(one.map((x) => x.shortcut)).toEqual([null]);
    const abc = summaryGroups(
      [net('a', 20, 'residual', { shortcut: 'A' }), net('b', 20, 'residual', { shortcut: 'C' }), net('c', 20, 'residual', { shortcut: 'B' })],
      errorOf,
    );
    expect(abc.map((x) => x.shortcut)).toEqual(['A', 'B', 'C']);
    const warm = summaryGroups(
      [net('a', 110, 'residual', { warmup: 'off' }), net('b', 110, 'residual', { warmup: 'paper' }), net('d', 56, 'residual', { warmup: 'paper' })],
      errorOf,
    );
    expect(warm.map((x) => [x.warmup, x.color, x.points.length])).toEqual([
      ['off', SUMMARY_VARIANT_LINES[0], 1],
      ['paper', SUMMARY_VARIANT_LINES[1], 1], // a net with no error yet has no point
    ]);
  });
});
