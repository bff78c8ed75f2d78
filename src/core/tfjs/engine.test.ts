import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf';
import { cifarNet } from '../nets';
import { engineContract } from '../testing/engineContract';
import { TINY, freshState, randomBatch } from '../testing/fixtures';
import { TfjsEngine, TfjsNet } from './engine';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// tfjs's CPU backend takes 15–40 s per bottleneck or highway finite-difference check: it checks one
// of each (through the gate: 'highway'); the lab CPU engine checks them all, and agrees with tfjs
// on every one to 2e-4 (src/core/cpu/engine.test.ts).
engineContract('tfjs cpu', () => new TfjsEngine('cpu'), {
  gradientCases: ['plain', 'residual A', 'residual B', 'residual C', 'residual A bottleneck', 'highway'],
});

describe('tfjs nets: residual blocks can be the identity (§3.1)', () => {
  it('with the last BN γ and β of every branch at zero, each block outputs ReLU(shortcut(x)); with A the stack passes its input through', () => {
    const options = { n: 2, residual: true, shortcut: 'A' as const, ...TINY };
    const spec = cifarNet(options);
    const state = freshState(options, 3);
    for (const b of spec.blocks) {
      state.params[`${b.branch[1].name}.bn.gamma`].fill(0);
      state.params[`${b.branch[1].name}.bn.beta`].fill(0);
    }
    const engine = new TfjsEngine('cpu');
    const net = engine.createNet(spec, state) as TfjsNet;
    const batch = randomBatch(4, TINY.inputSize, 5);
    const x = tf.tensor4d(batch.x, [4, 8, 8, 3]);
    const rec = { blocks: [] as { input: tf.Tensor4D; output: tf.Tensor4D }[] };
    tf.tidy(() => {
      net.forward(x, 'train', rec);
    });
    expect(rec.blocks.length).toBe(spec.blocks.length);
    rec.blocks.forEach(({ input, output }, i) => {
      const b = spec.blocks[i];
      const expected = tf.tidy(() => {
        if (b.shortcut === 'identity') return tf.relu(input);
        // option A: even rows and columns, then zero channels appended
        const [n, h, w, c] = input.shape;
        const sub = tf.stridedSlice(input, [0, 0, 0, 0], [n, h, w, c], [1, 2, 2, 1]);
        return tf.relu(
          tf.pad(sub, [
            [0, 0],
            [0, 0],
            [0, 0],
            [0, b.outC - b.inC],
          ]),
        );
      });
      expect(output.shape).toEqual(expected.shape);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(output, expected))).dataSync()[0]);
      expect(diff).toBe(0);
      // the input is post-ReLU, so ReLU(identity) is the input itself: the block passes it through
      if (b.shortcut === 'identity') expect(tf.tidy(() => tf.max(tf.abs(tf.sub(output, input))).dataSync()[0])).toBe(0);
      expected.dispose();
    });
    // a block's output is the next block's input: dispose each tensor once
    tf.dispose([...new Set(rec.blocks.flatMap((b) => [b.input, b.output]))]);
    x.dispose();
    engine.dispose();
  });

  it('‖F(x)‖/‖x‖ per block: 0 where a branch is switched off, twice as large where its last BN is doubled, none for a plain net', async () => {
    const options = { n: 2, residual: true, shortcut: 'B' as const, ...TINY };
    const spec = cifarNet(options);
    const state = freshState(options, 3);
    const batch = randomBatch(6, TINY.inputSize, 5);
    const engine = new TfjsEngine('cpu');
    const ratiosOf = async (s: typeof state) => {
      const net = engine.createNet(spec, s) as TfjsNet;
      const r = await net.residualRatios(batch);
      net.dispose();
      return r;
    };
    const before = await ratiosOf(state);
    expect(before).toHaveLength(spec.blocks.length);
    for (const r of before) expect(r).toBeGreaterThan(0);
    const k = 2; // the first block of stage 2 (a projection shortcut): its input is the stage-1 output, untouched below
    const last = spec.blocks[k].branch[1].name;
    const doubled = structuredClone(state);
    for (const p of ['gamma', 'beta']) doubled.params[`${last}.bn.${p}`] = doubled.params[`${last}.bn.${p}`].map((v) => 2 * v);
    const after = await ratiosOf(doubled);
    expect(after[k] / before[k]).toBeCloseTo(2, 5);
    expect(after.slice(0, k)).toEqual(before.slice(0, k));
    const off = structuredClone(state);
    off.params[`${last}.bn.gamma`].fill(0);
    off.params[`${last}.bn.beta`].fill(0);
    expect((await ratiosOf(off))[k]).toBe(0);
    const plainOptions = { ...options, residual: false };
    const plain = engine.createNet(cifarNet(plainOptions), freshState(plainOptions, 3)) as TfjsNet;
    expect(await plain.residualRatios(batch)).toEqual([]);
    plain.dispose();
    engine.dispose();
  });
});
