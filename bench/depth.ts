// Nets of a thousand layers at initialisation, on the lab CPU engine (issue #28's groundwork): for each depth and
// family, the memory a training step needs and what one forward and backward pass gives before any training.
//   npx tsx bench/depth.ts [--depths 20,56,110,302,1202] [--batch 8] [--memory-batch 64] [--width 0.25] [--seed 1]
// Columns: parameters; the net's own bytes (weights, gradients, momentum, BN statistics) and its saved activations for
// a batch of --memory-batch, in total and per weighted layer; then, on a batch of --batch standard-normal 32×32 images,
// the training-mode loss (BN with the batch's statistics), the largest gradient in magnitude and how many gradients are not
// finite in float32, and the evaluation-mode loss (BN with the running statistics as initialised: mean 0, variance 1);
// last, the peak memory of the lab CPU engine (its WebAssembly memory, which never shrinks) after one training step on
// a batch of --memory-batch and a test of 128 images, one net per engine, one thread.
import { parseArgs } from 'node:util';
import { LabCpuEngine } from '../src/core/cpu/engine';
import { activationBytes, netBytes } from '../src/core/cpu/program';
import { nodeKernels } from '../src/core/cpu/testing/nodeKernels';
import { blocksFor, cifarNet, fitsBlock, paramCount } from '../src/core/nets';
import { freshState, randomBatch } from '../src/core/testing/fixtures';
import { buildWasm } from '../scripts/build-wasm';

const { values: a } = parseArgs({
  options: {
    depths: { type: 'string', default: '20,56,110,302,1202' },
    batch: { type: 'string', default: '8' },
    'memory-batch': { type: 'string', default: '64' },
    width: { type: 'string', default: '0.25' },
    seed: { type: 'string', default: '1' },
  },
});
const depths = a.depths!.split(',').map(Number);
for (const d of depths) if (!fitsBlock(d, 'basic')) throw new Error(`--depths: ${d} is not 6n+2 (8, 14, 20, …)`);
const batch = Number(a.batch);
const memoryBatch = Number(a['memory-batch']);
const width = Number(a.width);
await buildWasm({ quiet: true });

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const kib = (bytes: number) => (bytes / 2 ** 10).toFixed(0);
const num = (x: number | null) => (x === null || !Number.isFinite(x) ? String(x) : Math.abs(x) >= 1e4 ? x.toExponential(1) : x.toFixed(2));

console.log(`width ×${width}, losses and gradients on ${batch} images, memory for a batch of ${memoryBatch}\n`);
console.log(
  `| net | parameters | net bytes | activations (batch ${memoryBatch}) | per layer | train loss | largest gradient | gradients not finite | eval loss | time | peak memory (step + test) |`,
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const depth of depths) {
  for (const family of ['plain', 'residual'] as const) {
    const options = { n: blocksFor(depth), family, shortcut: 'A' as const, width };
    const spec = cifarNet(options);
    const engine = await LabCpuEngine.create({ ...nodeKernels(), threads: 1 });
    const images = randomBatch(batch, 32, 3);
    engine.setBatch(images);
    const t0 = performance.now();
    const net = engine.createNet(spec, freshState(options, Number(a.seed)));
    const { loss, grads } = await net.gradients();
    let maxGrad = 0;
    let nonFinite = 0;
    for (const g of Object.values(grads)) {
      for (const x of g) {
        if (Number.isFinite(x)) maxGrad = Math.max(maxGrad, Math.abs(x));
        else nonFinite++;
      }
    }
    const evaluation = await net.evaluate(images);
    const seconds = (performance.now() - t0) / 1000;
    const act = activationBytes(spec, memoryBatch);
    engine.dispose();
    // peak memory: a fresh engine, one step on a batch of --memory-batch, then a test of 128 images (chunked as the lab does)
    const sized = await LabCpuEngine.create({ ...nodeKernels(), threads: 1 });
    sized.setBatch(randomBatch(memoryBatch, 32, 4));
    const trained = sized.createNet(spec, freshState(options, Number(a.seed)));
    await trained.step(0.01);
    await trained.evaluate(randomBatch(128, 32, 5));
    const peak = sized.memory().bytes;
    sized.dispose();
    console.log(
      `| ${spec.label} | ${paramCount(spec).toLocaleString('en')} | ${mib(netBytes(spec))} MiB | ${mib(act)} MiB | ${kib(act / depth)} KiB | ${num(loss)} | ${num(maxGrad)} | ${nonFinite.toLocaleString('en')} | ${num(evaluation.loss)} | ${seconds.toFixed(1)} s | ${mib(peak)} MiB |`,
    );
  }
}
