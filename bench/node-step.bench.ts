// One training step of ResNet-20 at batch 8 on tfjs's CPU backend in Node (the stock path), timed
// with Vitest's benchmark runner (it applies the project's tfjs aliases for Node):
//   npx vitest bench --run bench/node-step.bench.ts
import { bench, describe } from 'vitest';
import * as tf from '../src/core/tf';
import { cifarNet } from '../src/core/nets';
import { Rng } from '../src/core/rng';
import { TfjsEngine } from '../src/core/tfjs/engine';
import { initialState } from '../src/core/train';

const batch = 8;
const spec = cifarNet({ n: 3, residual: true, shortcut: 'A' });
const rng = new Rng(1, 'node-step');
const x = Float32Array.from({ length: batch * 3072 }, () => rng.normal());
const labels = Uint8Array.from({ length: batch }, () => rng.int(10));

describe(`${spec.label}, batch ${batch}, tfjs cpu backend in Node ${process.version}`, () => {
  let engine: TfjsEngine;
  let net: ReturnType<TfjsEngine['createNet']>;
  bench(
    'one SGD step',
    async () => {
      await net.step(0.01);
    },
    {
      iterations: 3,
      warmupIterations: 0,
      time: 0,
      setup: async () => {
        await tf.setBackend('cpu');
        engine = new TfjsEngine('cpu');
        engine.setBatch({ x, labels, size: batch, imageSize: 32 });
        net = engine.createNet(spec, initialState(spec, 1));
      },
      teardown: () => engine.dispose(),
    },
  );
});
