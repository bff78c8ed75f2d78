// The lab CPU engine computes exactly what it computed before its programs were lowered from the step IR (#32):
// for every net of the engine contract, 20 SGD steps, a gradient computation, an evaluation and the Fig. 7
// responses, on one thread and on two, give the same bits as the hand-written builders did. The fingerprints in
// bitIdentity.golden.json were written by this file (UPDATE_GOLDEN=1) at commit 349d959, before the IR existed.
// The kernels are the SIMD build without relaxed SIMD, whose results do not depend on the CPU (relaxed multiply-add
// may or may not fuse); the inputs are 16×16, so every Winograd variant and the direct stride-2 kernels run.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cifarNet } from '../nets';
import type { Tensors } from '../nets';
import { GRADIENT_CASES, freshState, jitter, randomBatch } from '../testing/fixtures';
import { LabCpuEngine } from './engine';
import { nodeKernels, spawnNodeHelper } from './testing/nodeKernels';

const GOLDEN = join(import.meta.dirname, 'bitIdentity.golden.json');
const STEPS = 20;
const SIZE = 16;

interface Fingerprint {
  losses: number[];
  errors: number[];
  gradNorms: string;
  state: string;
  grads: string;
  evaluation: string;
}

/** SHA-256 of the tensors' bytes, in name order. */
function digest(...groups: Tensors[]): string {
  const h = createHash('sha256');
  for (const t of groups)
    for (const name of Object.keys(t).sort()) h.update(name).update(new Uint8Array(t[name].buffer, t[name].byteOffset, t[name].byteLength));
  return h.digest('hex').slice(0, 32);
}

const numbers = (xs: readonly number[]) => ({ v: new Float32Array(Float64Array.from(xs).buffer) });

async function fingerprint(threads: 1 | 2, options: (typeof GRADIENT_CASES)[number][1]): Promise<Fingerprint> {
  const engine = await LabCpuEngine.create(
    threads === 1 ? { ...nodeKernels(false, false), threads: 1 } : { ...nodeKernels(true, false), threads: 2, spawnHelper: spawnNodeHelper },
  );
  const net = { width: 0.25, ...options, inputSize: SIZE };
  const handle = engine.createNet(cifarNet(net), jitter(freshState(net, 5), 11));
  const losses: number[] = [];
  const errors: number[] = [];
  const norms: number[] = [];
  for (let t = 0; t < STEPS; t++) {
    engine.setBatch(randomBatch(8, SIZE, 200 + t));
    const r = await handle.step(t < 5 ? 0.01 : 0.1, t % 5 === 4);
    losses.push(r.loss);
    errors.push(r.errors);
    norms.push(...(r.gradNorms ?? []));
  }
  const state = await handle.getState();
  const { loss, grads } = await handle.gradients();
  const evalBatch = randomBatch(12, SIZE, 300);
  const e = await handle.evaluate(evalBatch);
  engine.dispose();
  return {
    losses,
    errors,
    gradNorms: digest(numbers(norms)),
    state: digest(state.params, state.momentum, state.bnStats),
    grads: digest(grads, numbers([loss])),
    evaluation: digest(numbers([e.loss, e.errors, ...e.layerStd, ...e.layerStdEval, ...(e.gateMeans ?? [])])),
  };
}

describe('lab cpu engine: bit-identical to the engine before the step IR', () => {
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, Fingerprint>;
  const update = process.env.UPDATE_GOLDEN === '1';
  const written: Record<string, Fingerprint> = {};
  const cases = GRADIENT_CASES.flatMap(([name, options]) =>
    ([1, 2] as const).map((threads) => [`${name}, ${threads} thread${threads > 1 ? 's' : ''}`, threads, options] as const),
  );
  it.each(cases)('%s: 20 steps, gradients, evaluation and responses', async (key, threads, options) => {
    const got = await fingerprint(threads, options);
    if (update) {
      written[key] = got;
      if (Object.keys(written).length === cases.length) writeFileSync(GOLDEN, JSON.stringify(written, null, 1) + '\n');
      return;
    }
    expect(golden[key], `no fingerprint for ${key}: write them with UPDATE_GOLDEN=1`).toBeDefined();
    expect(got).toEqual(golden[key]);
  });
});
