// One training step of a net on tfjs's CPU backend in Node (the stock path), timed:
//   npx tsx bench/node-step.ts [--net resnet-20] [--batch 8] [--steps 2]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { cifarNet, initBnStats, initParams } from '../src/core/nets';
import { Rng } from '../src/core/rng';
import { TfjsEngine } from '../src/core/tfjs/engine';
import { zerosLike } from '../src/core/train';

const { values: a } = parseArgs({ options: { net: { type: 'string', default: 'resnet-20' }, batch: { type: 'string', default: '8' }, steps: { type: 'string', default: '2' } } });
const m = /^(plain|resnet)-(\d+)$/.exec(a.net!);
if (!m) throw new Error('--net plain-<6n+2> or resnet-<6n+2>');
await tf.setBackend('cpu');
const batch = Number(a.batch);
const spec = cifarNet({ n: (Number(m[2]) - 2) / 6, residual: m[1] === 'resnet', shortcut: 'A' });
const params = initParams(spec, 1);
const engine = new TfjsEngine('cpu');
const rng = new Rng(1, 'node-step');
engine.setBatch({ x: Float32Array.from({ length: batch * 3072 }, () => rng.normal()), labels: Uint8Array.from({ length: batch }, () => rng.int(10)), size: batch, imageSize: 32 });
const net = engine.createNet(spec, { params, momentum: zerosLike(params), bnStats: initBnStats(spec) });
const times: number[] = [];
for (let i = 0; i < Number(a.steps); i++) {
  const t0 = performance.now();
  await net.step(0.01);
  times.push(performance.now() - t0);
}
console.log(`${spec.label}, batch ${batch}, tfjs ${tf.getBackend()} backend in Node ${process.version}: step times ${times.map((t) => `${(t / 1000).toFixed(1)} s`).join(', ')}`);
engine.dispose();
