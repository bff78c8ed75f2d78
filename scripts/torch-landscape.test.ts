// The loss landscape (src/core/landscape.ts) against PyTorch: the lab's PyTorch job (bench/reference/lab_train.py
// --landscape) loads a net's weights and BN statistics and the lab's two filter-normalised directions, and computes
// the loss on the same images at every point of a 5×5 grid, BN in eval mode; the lab CPU engine's surface must match
// within float32 rounding. Needs python3 with torch, as scripts/torch-agreement.test.ts (skipped locally without it,
// failing under CI).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LabCpuEngine } from '../src/core/cpu/engine';
import { nodeKernels } from '../src/core/cpu/testing/nodeKernels';
import { filterNormalisedDirection, gridAxis, lossSurface } from '../src/core/landscape';
import { cifarNet } from '../src/core/nets';
import type { NetOptions } from '../src/core/nets';
import { freshState, jitter, randomBatch } from '../src/core/testing/fixtures';

const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';
const SCRIPT = new URL('../bench/reference/lab_train.py', import.meta.url).pathname;
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

describe('a loss landscape in the lab and in its PyTorch job', () => {
  it.runIf(hasTorch || process.env.CI)(
    'agree on a 5×5 grid for ResNet-8 and plain-8 from the same weights, directions and images',
    async () => {
      expect(hasTorch, `${PYTHON} cannot import torch: apt-get install -y python3-torch`).toBe(true);
      for (const family of ['residual', 'plain'] as const) {
        const options: NetOptions = { n: 1, family, shortcut: 'A', width: 0.5, inputSize: 16 };
        const spec = cifarNet(options);
        // weights and BN statistics away from their initial values, as a trained net's are
        const state = jitter(freshState(options, 3), 4);
        for (const v of Object.values(state.bnStats)) for (let i = 0; i < v.length; i++) v[i] = v[i] + 0.1 * Math.sin(i);
        const dirs: [typeof state.params, typeof state.params] = [
          filterNormalisedDirection(spec, state.params, 1, 'x'),
          filterNormalisedDirection(spec, state.params, 1, 'y'),
        ];
        const sample = randomBatch(32, 16, 5);
        const axis = gridAxis(5, 1);
        const engine = await LabCpuEngine.create({ ...nodeKernels(), threads: 1, convKernels: 'direct' });
        engine.setBatch(sample);
        const net = engine.createNet(spec, state);
        const lab = (await lossSurface(net, state, dirs, sample, axis, axis))!.loss;
        engine.dispose();

        const tmp = mkdtempSync(join(tmpdir(), 'lab-landscape-'));
        const hex = (a: Float32Array) => ({ shape: [a.length], hex: Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex') });
        const shaped = (name: string, a: Float32Array) => ({ ...hex(a), shape: spec.params.find((p) => p.name === name)?.shape ?? [a.length] });
        const weights = Object.fromEntries([
          ...spec.params.map((p) => [p.name, shaped(p.name, state.params[p.name])]),
          ...Object.entries(state.bnStats).map(([k, v]) => [k, hex(v)]),
        ]);
        const dirJson = dirs.map((d) => Object.fromEntries(spec.params.map((p) => [p.name, shaped(p.name, d[p.name])])));
        writeFileSync(
          join(tmp, 'spec.json'),
          JSON.stringify({ n: 1, residual: family === 'residual', shortcut: 'A', width: 0.5, size: 16, xs: axis, ys: axis, weights, dirs: dirJson }),
        );
        writeFileSync(join(tmp, 'sample.f32'), Buffer.from(sample.x.buffer, sample.x.byteOffset, sample.x.byteLength));
        writeFileSync(join(tmp, 'labels.u8'), sample.labels);
        const torch = (JSON.parse(execFileSync(PYTHON, [SCRIPT, '--landscape', tmp], { encoding: 'utf8', maxBuffer: 1 << 24 })) as { loss: number[][] }).loss;
        expect(torch).toHaveLength(5);
        // the surface is not flat (the test could not pass by accident), and every point agrees to float32 rounding
        const flat = lab.flat();
        expect(Math.max(...flat) - Math.min(...flat), family).toBeGreaterThan(0.5);
        lab.forEach((row, r) =>
          row.forEach((v, c) => expect(Math.abs(v - torch[r][c]) / Math.max(1, Math.abs(v)), `${family} (${axis[c]}, ${axis[r]})`).toBeLessThan(1e-4)),
        );
      }
    },
    120_000,
  );
});
