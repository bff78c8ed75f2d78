import { describe, expect, it } from 'vitest';
import type { TFunction } from 'i18next';
import type { NetInfo } from '../../core/metrics';
import { gridAxis, pathRise, pathShape } from '../../core/landscape';
import {
  centreRow,
  contourPaths,
  defaultDepth,
  identityCaption,
  landscapeCaption,
  logLevels,
  lossDomain,
  pairAt,
  pairDepths,
  pathCaption,
  scaleOf,
  surfaceQuads,
} from './landscapeView';

const net = (depth: number, residual: boolean): NetInfo => ({
  id: `${residual ? 'res' : 'plain'}-${depth}`,
  label: `${residual ? 'ResNet' : 'plain'}-${depth}`,
  depth,
  residual,
  shortcut: 'A',
  params: 1,
  status: 'done',
  divergedAt: null,
});
const surface = (f: (x: number, y: number) => number, n = 21) => gridAxis(n, 1).map((y) => gridAxis(n, 1).map((x) => f(x, y)));

describe('the loss-landscape panel', () => {
  it('slices a surface along y = 0, and only once that row is in (rows stream in from y = −1)', () => {
    const loss = surface((x, y) => x + 10 * y, 5);
    expect(centreRow({ loss }, 5)).toEqual(loss[2]);
    expect(loss[2]).toEqual(gridAxis(5, 1));
    expect(centreRow({ loss: loss.slice(0, 2) }, 5)).toEqual([]);
    expect(centreRow({ loss: loss.slice(0, 3) }, 5)).toEqual(loss[2]);
  });

  it('shows plain-56 beside ResNet-56 by default, else the deepest pair up to 110 layers; a depth with one family is no pair', () => {
    const classroom = [8, 20, 56].flatMap((d) => [net(d, false), net(d, true)]);
    expect(pairDepths(classroom)).toEqual([8, 20, 56]);
    expect(defaultDepth([...classroom, net(110, false), net(110, true)])).toBe(56);
    expect(defaultDepth([net(20, false), net(20, true), net(110, true)])).toBe(20);
    expect(defaultDepth([net(20, true)])).toBeNull();
    expect(defaultDepth([110, 1202].flatMap((d) => [net(d, false), net(d, true)]))).toBe(110);
    expect(defaultDepth([net(1202, false), net(1202, true)])).toBe(1202);
    expect(pairAt(classroom, 20).map((n) => n.label)).toEqual(['plain-20', 'ResNet-20']);
  });

  it('puts every map on one log colour scale from the lowest loss, capped 1,000× above it; overflow is the top colour', () => {
    const domain = lossDomain([{ loss: [[0.3, 2]] }, { loss: [[2.1, 6.7e8, null]] }]);
    expect(domain).toEqual([0.3, 300]);
    const at = scaleOf(domain);
    expect(at(0.3)).toBe(0);
    expect(at(300)).toBe(1);
    expect(at(1e9)).toBe(1);
    expect(at(null)).toBe(1);
    expect(at(3)).toBeCloseTo(1 / 3, 10); // a log scale: 10× of 1,000× is a third of the way
    const levels = logLevels(domain, 2);
    expect(levels[0]).toBeCloseTo(3, 10);
    expect(levels[1]).toBeCloseTo(30, 10);
  });

  it('draws contour lines at log-spaced levels: closed rings around a bowl’s centre, inside the map, upright', () => {
    const bowl = { loss: surface((x, y) => 0.3 + 4 * (x * x + y * y)) };
    const size = 210;
    const paths = contourPaths(bowl, [1, 3], size);
    expect(paths.map((p) => p.level)).toEqual([1, 3].map((v) => expect.closeTo(v, 10)));
    for (const p of paths) {
      expect(p.d).toMatch(/^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+)+Z/);
      const xs = [...p.d.matchAll(/([\d.]+),([\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
      expect(Math.max(...xs.flat())).toBeLessThanOrEqual(size);
      // centred on the map's centre: the ring's mean point is near (105, 105)
      const mean = [0, 1].map((k) => xs.reduce((s, q) => s + q[k], 0) / xs.length);
      expect(mean[0]).toBeCloseTo(size / 2, -1);
      expect(mean[1]).toBeCloseTo(size / 2, -1);
    }
    // a slope rising with y (direction 2): the region above the level (y > 0) is the upper half of the map on screen
    const slope = contourPaths({ loss: surface((_, y) => Math.exp(2 * y)) }, [1], size)[0];
    const ys = [...slope.d.matchAll(/[\d.]+,([\d.]+)/g)].map((m) => Number(m[1]));
    expect(Math.min(...ys)).toBe(0);
    expect(Math.max(...ys)).toBeLessThan(size / 2 + 15);
    expect(contourPaths({ loss: [[1, 2]] }, [1.5], size)).toEqual([]); // not square: not drawn
  });

  it('captions from the data: each net’s step ratio, and which surface is the smoother, with how to read it in classroom mode', () => {
    const t = ((key: string, o?: Record<string, unknown>) => `${key}${o ? JSON.stringify(o) : ''}`) as unknown as TFunction;
    const nets = [net(56, false), net(56, true)];
    const l = {
      iteration: 1000,
      seed: 1,
      grid: 21,
      span: 1,
      sample: 512,
      nets: [
        { id: 'plain-56', label: 'plain-56', loss: surface((x, y) => 2 * 10 ** (10 * Math.max(0, Math.hypot(x, y) - 0.3))), err: [], seconds: 1 },
        { id: 'res-56', label: 'ResNet-56', loss: surface((x, y) => 0.3 + x * x + y * y), err: [], seconds: 1 },
      ],
    };
    const text = landscapeCaption(t, l, nets, false);
    expect(text).toMatch(/landscape\.ratios\{"list":"plain-56 ×\d+\.\d\dcaptions\.joinResNet-56 ×1\.\d\d"\}/);
    expect(text).toContain('landscape.residualSmoother');
    expect(text).not.toContain('landscape.howToRead');
    expect(landscapeCaption(t, { ...l, nets: [l.nets[1], { ...l.nets[0], id: 'res-56' }].reverse() }, nets, true)).toContain('landscape.howToRead');
    const swapped = {
      ...l,
      nets: [
        { ...l.nets[0], loss: l.nets[1].loss },
        { ...l.nets[1], loss: l.nets[0].loss },
      ],
    };
    expect(landscapeCaption(t, swapped, nets, false)).toContain('landscape.residualNotSmoother');
    // a surface still streaming in has no ratio yet
    expect(landscapeCaption(t, { ...l, nets: [{ ...l.nets[0], loss: l.nets[0].loss.slice(0, 5) }] }, nets, false)).not.toContain('landscape.ratios');
  });

  it('the path from initialisation: falls, barely moves, or rises above its lowest so far (a slow climb too); beyond [0, 1] ignored', () => {
    const t = [-0.25, 0, 0.5, 1, 1.25];
    const falls = { id: 'a', label: 'ResNet-8', t, loss: [9, 2.3, 1, 0.5, 0.9], err: [] };
    const rises = { id: 'b', label: 'plain-8', t, loss: [1, 2.3, 3, 1.5, 0.1], err: [] };
    const flat = { id: 'c', label: 'plain-56', t, loss: [8e8, 2.3, 2.31, 2.28, 52], err: [] };
    const climb = { id: 'd', label: 'plain-20', t: [0, 0.25, 0.5, 0.75, 1], loss: [2.3, 2.32, 2.34, 2.36, 1.2], err: [] };
    expect(pathRise(falls)).toBe(1);
    expect(pathRise(rises)).toBeCloseTo(3 / 2.3, 10);
    expect(pathRise(climb)).toBeCloseTo(2.36 / 2.3, 10); // each step under 1%, the climb 2.6%
    expect(pathRise({ t, loss: [1, 2, null, 1, 1] })).toBe(Infinity);
    expect([falls, rises, flat, climb].map(pathShape)).toEqual(['falls', 'rises', 'flat', 'rises']);
    const tt = ((key: string, o?: Record<string, unknown>) => `${key}${o ? JSON.stringify(o) : ''}`) as unknown as TFunction;
    const text = pathCaption(tt, [falls, rises, flat]);
    expect(text).toContain('landscape.pathFalls{"list":"ResNet-8"}');
    expect(text).toContain('landscape.pathFlat{"list":"plain-56"}');
    expect(text).toContain('landscape.pathRises{"list":"plain-8 ×1.30"}');
  });

  it('‖F(x)‖/‖x‖: each net’s median and how many blocks keep their residual smaller than their input; the paper’s claims judged on the data', () => {
    const tt = ((key: string, o?: Record<string, unknown>) => `${key}${o ? JSON.stringify(o) : ''}`) as unknown as TFunction;
    const infos = [net(8, true), net(56, true)];
    const deep = { id: 'res-56', label: 'ResNet-56', images: 128, ratios: [0.2, 0.5, 1.5, 0.3] };
    const shallow = { id: 'res-8', label: 'ResNet-8', images: 128, ratios: [1.2, 3, 0.9] };
    const text = identityCaption(tt, [shallow, deep], infos);
    expect(text).toContain('landscape.identityAbout{"images":128}');
    expect(text).toContain('landscape.identityNet{"net":"ResNet-56","median":"0.40","small":3,"blocks":4}');
    expect(text).toContain('landscape.identitySmall{"list":"ResNet-56"}');
    expect(text).toContain('landscape.identityNotSmall{"list":"ResNet-8"}');
    expect(text).toContain('landscape.identityDeeper');
    const reversed = identityCaption(tt, [{ ...shallow, ratios: [0.1] }, deep], infos);
    expect(reversed).toContain('landscape.identityNotDeeper');
    expect(reversed).not.toContain('landscape.identityNotSmall');
    expect(identityCaption(tt, [deep], infos)).not.toContain('Deeper'); // one depth: no trend to state
  });
});

describe('the surfaces in 3-D', () => {
  const grid = (n: number, f: (u: number, v: number) => number | null) =>
    Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => f((2 * c) / (n - 1) - 1, (2 * r) / (n - 1) - 1)));
  const bowl = { loss: grid(7, (u, v) => 0.5 + 4 * (u * u + v * v)) };
  const domain: [number, number] = [0.5, 8.5];
  const box = { w: 300, h: 260 };

  it('draws every cell of the grid as one quad, inside the box, and keeps the scale whatever the turn', () => {
    const sizes = [-180, -90, -35, 0, 45, 120].map((azimuth) => {
      const s = surfaceQuads(bowl, domain, { azimuth, elevation: 32 }, box);
      expect(s.quads).toHaveLength(36);
      for (const q of s.quads) for (const [x, y] of q.points) expect(x >= -0.1 && x <= box.w + 0.1 && y >= -0.1 && y <= box.h + 0.1).toBe(true);
      const xs = s.floor.map((p) => p[0]);
      return Math.max(...xs) - Math.min(...xs);
    });
    // a quarter turn shows the square floor edge-on or corner-on: its width changes only between those two
    expect(Math.max(...sizes) / Math.min(...sizes)).toBeLessThan(Math.SQRT2 + 0.01);
  });

  it('seen from straight above it is the map: direction 1 across, direction 2 up the screen', () => {
    const s = surfaceQuads(bowl, domain, { azimuth: 0, elevation: 90 }, box);
    const xy = (q: (typeof s.quads)[number]) => [q.points.reduce((a, p) => a + p[0], 0) / 4, q.points.reduce((a, p) => a + p[1], 0) / 4];
    const xs = s.quads.map(xy);
    // all 36 cell centres distinct, on a 6 × 6 lattice: left to right with the column, bottom to top with the row
    expect(new Set(xs.map(([x]) => x.toFixed(0))).size).toBe(6);
    expect(new Set(xs.map(([, y]) => y.toFixed(0))).size).toBe(6);
    expect(s.floor[0][1]).toBeGreaterThan(s.floor[3][1]); // (−1, −1) below (−1, 1)
    expect(s.floor[1][0]).toBeGreaterThan(s.floor[0][0]); // (1, −1) right of (−1, −1)
  });

  it('draws far quads first (the painter’s algorithm), and a lower loss lower down: the bowl’s centre sits under its rim', () => {
    const s = surfaceQuads({ loss: grid(7, () => 1) }, domain, { azimuth: 0, elevation: 32 }, box);
    for (let i = 1; i < s.quads.length; i++) expect(s.quads[i].near).toBeGreaterThanOrEqual(s.quads[i - 1].near);
    // with the camera in front (azimuth 0), the back row (direction 2 = +1) is the farthest: drawn first, higher up
    expect(Math.min(...s.quads[0].points.map((p) => p[1]))).toBeLessThan(Math.min(...s.quads.at(-1)!.points.map((p) => p[1])));
    const flatLow = surfaceQuads({ loss: grid(7, () => 0.5) }, domain, { azimuth: 0, elevation: 32 }, box);
    const flatHigh = surfaceQuads({ loss: grid(7, () => 8.5) }, domain, { azimuth: 0, elevation: 32 }, box);
    expect(flatLow.centre[1]).toBeGreaterThan(flatHigh.centre[1]);
    const b = surfaceQuads(bowl, domain, { azimuth: 0, elevation: 32 }, box);
    expect(b.centre[1]).toBeCloseTo(flatLow.centre[1], 0);
    // colours follow the height, as on the maps: the lowest loss darkest
    expect(flatLow.quads[0].fill).not.toBe(flatHigh.quads[0].fill);
  });
});
