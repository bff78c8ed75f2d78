import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '../tf';
import { cifarNet } from '../nets';
import { engineContract } from '../testing/engineContract';
import { TINY, freshState, randomBatch } from '../testing/fixtures';
import { TfjsEngine, TfjsNet } from './engine';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

engineContract('tfjs cpu', () => new TfjsEngine('cpu'));

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
});
