import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from './tf';
import { LabCpuEngine } from './cpu/engine';
import { nodeKernels } from './cpu/testing/nodeKernels';
import { PATH_TS, filterNormalisedDirection, gridAxis, interpolationPath, landscapeOf, landscapeProblem, lossSurface, moved, stepRatio } from './landscape';
import { cifarNet } from './nets';
import type { NetOptions } from './nets';
import { TINY, freshState, jitter, randomBatch } from './testing/fixtures';
import { TfjsEngine } from './tfjs/engine';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const residual: NetOptions = { n: 2, family: 'residual', shortcut: 'A', ...TINY };
const plain: NetOptions = { ...residual, family: 'plain' };

/** Per filter (the last axis), the norm of a tensor's slice. */
function filterNorms(x: Float32Array, filters: number): number[] {
  const s = new Array<number>(filters).fill(0);
  for (let i = 0; i < x.length; i++) s[i % filters] += x[i] * x[i];
  return s.map(Math.sqrt);
}

describe('filter-normalised directions (Li et al. 2018)', () => {
  it('scale every filter of the direction to the norm of the same filter in the weights, and leave BN and biases alone', () => {
    const spec = cifarNet(residual);
    const w = jitter(freshState(residual, 3), 4).params;
    const d = filterNormalisedDirection(spec, w, 7, 'x');
    let filters = 0;
    for (const p of spec.params) {
      if (p.kind === 'conv' || p.kind === 'fc-weight') {
        const k = p.shape[p.shape.length - 1];
        const [dn, wn] = [filterNorms(d[p.name], k), filterNorms(w[p.name], k)];
        dn.forEach((v, f) => expect(v, `${p.name} filter ${f}`).toBeCloseTo(wn[f], 4));
        // a direction, not a copy of the weights
        expect(
          d[p.name].some((v, i) => Math.abs(v - w[p.name][i]) > 1e-3),
          p.name,
        ).toBe(true);
        filters += k;
      } else
        expect(
          d[p.name].every((v) => v === 0),
          p.name,
        ).toBe(true);
    }
    expect(filters).toBeGreaterThan(40);
  });

  it('are the same for the same seed, axis and parameter name: a plain and a residual net of one depth share them', () => {
    const [sp, sr] = [cifarNet(plain), cifarNet(residual)];
    const w = freshState(residual, 1).params;
    const [a, b] = [filterNormalisedDirection(sp, w, 5, 'x'), filterNormalisedDirection(sr, w, 5, 'x')];
    for (const p of sp.params) expect(a[p.name], p.name).toEqual(b[p.name]);
    const other = filterNormalisedDirection(sr, w, 6, 'x');
    const y = filterNormalisedDirection(sr, w, 5, 'y');
    expect(other['s1.b0.conv1']).not.toEqual(b['s1.b0.conv1']);
    expect(y['s1.b0.conv1']).not.toEqual(b['s1.b0.conv1']);
  });

  it('stepRatio: 1 on a plane at one height, small on a gentle bowl, large on an egg crate or a cliff, infinite past an overflow', () => {
    const grid = (f: (x: number, y: number) => number) => gridAxis(21, 1).map((y) => gridAxis(21, 1).map((x) => f(x, y)));
    expect(stepRatio(grid(() => 2.3))).toBe(1);
    const bowl = stepRatio(grid((x, y) => 0.3 + x * x + y * y));
    expect(bowl).toBeGreaterThan(1);
    expect(bowl).toBeLessThan(1.2);
    expect(stepRatio(grid((x, y) => 1.1 + Math.sin(20 * x) * Math.sin(20 * y)))).toBeGreaterThan(1.8);
    // a plateau that explodes (the Classroom's plain-56): the loss grows 10× for each 0.1 out beyond a radius of 0.3
    expect(stepRatio(grid((x, y) => 2 * 10 ** (10 * Math.max(0, Math.hypot(x, y) - 0.3))))).toBeGreaterThan(4);
    // ratios, not differences: the same surface at 1,000× the loss scores the same
    expect(stepRatio(grid((x, y) => 1000 * (0.3 + x * x + y * y)))).toBeCloseTo(bowl, 10);
    expect(stepRatio([[1, Number.NaN, Number.NaN]])).toBe(Infinity);
    expect(stepRatio([[1, 2, 8, Number.NaN]])).toBeCloseTo(4, 12); // steps ×2, ×4 and ∞: the median is the middle one
  });
});

describe('a landscape on the engines', () => {
  it('is the engine’s own loss at (0, 0), the same on the lab CPU engine and tfjs elsewhere, and leaves the net as it was', async () => {
    const spec = cifarNet(residual);
    const state = jitter(freshState(residual, 3), 4);
    const sample = randomBatch(16, 8, 9);
    const dirs: [typeof state.params, typeof state.params] = [
      filterNormalisedDirection(spec, state.params, 1, 'x'),
      filterNormalisedDirection(spec, state.params, 1, 'y'),
    ];
    const grids: number[][][] = [];
    for (const engine of [await LabCpuEngine.create({ ...nodeKernels(), threads: 1 }), new TfjsEngine('cpu')]) {
      engine.setBatch(randomBatch(4, 8, 2));
      const net = engine.createNet(spec, state);
      const own = await net.evaluate(sample);
      const rows: number[] = [];
      const s = await lossSurface(net, state, dirs, sample, [-0.5, 0, 0.5], [-0.5, 0, 0.5], { onRow: (r) => rows.push(r) });
      expect(rows).toEqual([0, 1, 2]);
      expect(s!.loss[1][1]).toBeCloseTo(own.loss, 6);
      expect(s!.err[1][1]).toBe(own.errors / own.count);
      // a step along a direction changes the loss
      expect(Math.abs(s!.loss[1][2] - own.loss)).toBeGreaterThan(1e-3);
      // the net is back at its weights
      expect((await net.evaluate(sample)).loss).toBeCloseTo(own.loss, 6);
      grids.push(s!.loss);
      // cancelled after the first point: no surface, the net unchanged
      let points = 0;
      expect(await lossSurface(net, state, dirs, sample, [0, 1], [0, 1], { cancelled: () => points++ > 0 })).toBeNull();
      expect((await net.evaluate(sample)).loss).toBeCloseTo(own.loss, 6);
      net.dispose();
      engine.dispose();
    }
    // the same seed gives the same directions in every engine, so the same surface within float rounding
    grids[0].flat().forEach((v, i) => expect(v, `point ${i}`).toBeCloseTo(grids[1].flat()[i], 4));
  });

  it('the path from initialisation: at t = 0 the initial loss and at t = 1 the trained loss, exactly', async () => {
    const spec = cifarNet(residual);
    const engine = await LabCpuEngine.create({ ...nodeKernels(), threads: 1 });
    const start = freshState(residual, 3);
    const net = engine.createNet(spec, start);
    const sample = randomBatch(16, 8, 9);
    const initial = await net.evaluate(sample);
    for (let s = 0; s < 5; s++) {
      engine.setBatch(randomBatch(8, 8, 20 + s));
      await net.step(0.05);
    }
    const end = await net.getState();
    const trained = await net.evaluate(sample);
    const path = await interpolationPath(net, start, end, sample, [-0.25, 0, 0.5, 1, 1.25]);
    expect(path.map((p) => p.t)).toEqual([-0.25, 0, 0.5, 1, 1.25]);
    expect(path[1].loss).toBe(initial.loss);
    expect(path[3].loss).toBe(trained.loss);
    expect(path[2].loss).not.toBe(path[1].loss);
    expect((await net.evaluate(sample)).loss).toBe(trained.loss);
    // moved() along nothing is the state itself
    expect(moved(end, [])).toEqual(end);
    // a job as the worker runs it: the surface's centre is the trained loss, the path starts at the seed's initial weights
    const holder = { iteration: 5, config: { seed: 3 }, infos: () => [{ id: 'res', label: 'ResNet-14' }], net: () => net, imageSample: () => sample };
    const rows: number[] = [];
    const job = (await landscapeOf(holder, 3, { nets: ['resnet-14'], grid: 3, span: 0.5, sample: 16, path: true }, { onRow: (_, r) => rows.push(r) }))!;
    expect(rows).toEqual([0, 1, 2]);
    expect(job.nets[0].loss[1][1]).toBe(trained.loss);
    expect(job.paths![0].t).toEqual(PATH_TS);
    expect(job.paths![0].loss[PATH_TS.indexOf(0)]).toBe(initial.loss);
    expect(job.paths![0].loss[PATH_TS.indexOf(1)]).toBe(trained.loss);
    await expect(landscapeOf(holder, 3, { nets: ['plain-14'], grid: 3, span: 1, sample: 16 })).rejects.toThrow(
      'no net plain-14 in this run (it has ResNet-14)',
    );
    expect(await landscapeOf(holder, 3, { nets: ['res'], grid: 3, span: 1, sample: 16 }, { cancelled: () => true })).toBeNull();
    expect((await net.evaluate(sample)).loss).toBe(trained.loss); // cancelled: the net is back at its weights
    expect(landscapeProblem({ nets: ['a'], grid: 21, span: 1, sample: 512 }, 2000)).toBeNull();
    expect(landscapeProblem({ nets: ['a'], grid: 2, span: 1, sample: 512 }, 2000)).toBe('the grid has 3 to 51 points a side, not 2');
    expect(landscapeProblem({ nets: ['a'], grid: 21, span: 1, sample: 5000 }, 2000)).toBe("the sample is 1 to 2000 training images (the run's), not 5000");
    expect(landscapeProblem({ nets: [], grid: 21, span: 1, sample: 5 }, 2000)).toMatch(/^a loss landscape is computed for 1 to 4 nets/);
    net.dispose();
    engine.dispose();
  });
});
