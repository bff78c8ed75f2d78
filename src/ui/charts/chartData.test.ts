import { describe, expect, it } from 'vitest';
import type { Line } from './chartData';
import { depthColor } from './chartData';
import { errorDomain } from './CurvesPanel';

/** Relative luminance (0 dark … 1 light) of #rrggbb. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

describe('one colour language', () => {
  it('gives depth one ordered scale: deeper is lighter, every depth of a run its own colour', () => {
    for (const depths of [[8, 20, 56], [20, 32, 44, 56, 110], [8, 14, 20, 32, 44, 56, 110]]) {
      const colors = depths.map((d) => depthColor(d, depths));
      expect(new Set(colors).size).toBe(depths.length);
      const lum = colors.map(luminance);
      for (let i = 1; i < lum.length; i++) expect(lum[i]).toBeGreaterThan(lum[i - 1]);
    }
    // the Classroom's three depths are far apart on the scale (a projector keeps them apart)
    const [a, b, c] = [8, 20, 56].map((d) => luminance(depthColor(d, [8, 20, 56])));
    expect(b - a).toBeGreaterThan(0.05);
    expect(c - b).toBeGreaterThan(0.1);
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
