// What the lab WebGPU engine's step costs a GPU queue, counted without a GPU: dispatches per
// training step, FLOPs (2 per multiply-add; forward, input gradient and weight gradient ≈ 3
// forward passes) and the shared workspace, from the programs src/core/gpu/lower.ts lowers from the step IR.
//
//   npx tsx bench/gpu-program.ts
import { cifarNet, multiplyAdds } from '../src/core/nets';
import { buildProgram } from '../src/core/gpu/lower';
import { layoutNet } from '../src/core/gpu/program';

const cases = [
  ['ResNet-20', 3, true, 64],
  ['plain-56', 9, false, 64],
  ['ResNet-56', 9, true, 128],
  ['ResNet-110', 18, true, 128],
] as const;

console.log('| net | batch | dispatches per step | GFLOP per step | workspace MB |');
console.log('|---|---|---|---|---|');
for (const [label, n, residual, batch] of cases) {
  const spec = cifarNet({ n, residual, shortcut: 'A' });
  const program = buildProgram(spec, layoutNet(spec), batch, 'step');
  const workspace = [...program.workspace.values()].reduce((a, b) => a + b, 0);
  const gflop = (6 * multiplyAdds(spec) * batch) / 1e9;
  console.log(`| ${label} | ${batch} | ${program.dispatches.length} | ${gflop.toFixed(1)} | ${(workspace / 2 ** 20).toFixed(0)} |`);
}
