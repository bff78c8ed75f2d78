// The worker's diagnostics: the benchmark harness's timed steps (bench/run.ts) and the "Verify
// backend" check of a small net's gradients on the active tfjs backend against the lab CPU engine.
import { LabCpuEngine } from '../core/cpu/engine';
import { LabGpuEngine } from '../core/gpu/engine';
import { cifarNet } from '../core/nets';
import { Rng } from '../core/rng';
import { initialState } from '../core/train';
import type { EngineHandle } from './engines';
import { engineFor, planSchedule } from './engines';
import { errorMessage, lab } from './host';
import type { BenchResult, BenchSpec, WorkerEvent } from './protocol';
import { isTraining } from './session';

/** Time the lab's own training step for one case: a warm-up step (shader compilation), then timed steps. */
export async function bench(spec: BenchSpec): Promise<BenchResult> {
  if (isTraining()) return { spec, ok: false, reason: 'an experiment is running' };
  let h: EngineHandle;
  try {
    h = await engineFor(spec.backend, lab.report);
  } catch (err) {
    return { spec, ok: false, reason: errorMessage(err) };
  }
  const net = cifarNet({ n: spec.n, residual: spec.residual, shortcut: 'A', width: spec.width });
  planSchedule(h, [net], spec.schedule ?? 'ops');
  const rng = new Rng(1, 'bench-batch');
  const x = new Float32Array(spec.batch * 3072);
  for (let i = 0; i < x.length; i++) x[i] = rng.normal();
  const labels = Uint8Array.from({ length: spec.batch }, () => rng.int(10));
  const memoryBefore = h.engine.memory();
  // 'nets' with several copies: one net per thread, stepped together as a run steps its nets
  const copies = spec.copies === 'threads' ? (h.engine instanceof LabCpuEngine ? h.engine.threads : 1) : (spec.copies ?? 1);
  const nets: ReturnType<typeof h.engine.createNet>[] = [];
  const stepAll = async () => {
    if (nets.length > 1 && h.engine.stepMany) await h.engine.stepMany(nets.map((n) => ({ net: n, lr: 0.01 })));
    else for (const n of nets) await n.step(0.01);
  };
  try {
    h.engine.setBatch({ x, labels, size: spec.batch, imageSize: 32 });
    for (let i = 0; i < copies; i++) nets.push(h.engine.createNet(net, initialState(net, 1)));
    const t0 = performance.now();
    await stepAll();
    const warmupMs = performance.now() - t0;
    const stepMs: number[] = [];
    const gpu = h.engine instanceof LabGpuEngine ? h.engine : null;
    const before = gpu ? { ...gpu.counters } : null;
    const start = performance.now();
    while (stepMs.length < spec.reps && performance.now() - start + warmupMs < spec.budgetMs) {
      const t = performance.now();
      await stepAll();
      stepMs.push(performance.now() - t);
    }
    const memoryAfter = h.engine.memory();
    const steps = Math.max(1, stepMs.length);
    const queue =
      gpu && before
        ? {
            dispatchesPerStep: (gpu.counters.dispatches - before.dispatches) / steps,
            submitsPerStep: (gpu.counters.submits - before.submits) / steps,
            bytesPerStep: (gpu.counters.bytesAllocated - before.bytesAllocated) / steps,
            adapter: gpu.adapterName,
          }
        : undefined;
    return { spec, ok: true, engine: h.description, copies, warmupMs, stepMs, memoryBefore, memoryAfter, gpu: queue };
  } catch (err) {
    return { spec, ok: false, engine: h.description, reason: errorMessage(err) };
  } finally {
    for (const n of nets) n.dispose();
    if (!h.persistent) h.engine.dispose();
  }
}

/**
 * The same small net (ResNet-8 with option B, width ×0.25, 8×8 inputs) and batch on the active tfjs
 * backend and on the lab CPU engine: the loss and every parameter's gradient must agree.
 */
export async function netCheck(): Promise<Extract<WorkerEvent, { type: 'netCheck' }>> {
  const tfjs = await engineFor(lab.report?.active ?? 'cpu', lab.report);
  const cpu = await engineFor('lab-cpu', lab.report);
  const spec = cifarNet({ n: 1, residual: true, shortcut: 'B', width: 0.25, inputSize: 8 });
  const state = initialState(spec, 3);
  const rng = new Rng(5, 'net-check');
  const batch = {
    x: Float32Array.from({ length: 4 * 8 * 8 * 3 }, () => rng.normal()),
    labels: Uint8Array.from({ length: 4 }, () => rng.int(10)),
    size: 4,
    imageSize: 8,
  };
  const results = [];
  for (const h of [tfjs, cpu]) {
    h.engine.setBatch(batch);
    const net = h.engine.createNet(spec, state);
    results.push(await net.gradients());
    net.dispose();
  }
  if (!tfjs.persistent) tfjs.engine.dispose();
  let maxRelDiff = 0;
  let worst = '';
  for (const p of spec.params) {
    const [a, b] = [results[0].grads[p.name], results[1].grads[p.name]];
    let d = 0;
    let scale = 0;
    for (let i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
      scale = Math.max(scale, Math.abs(b[i]));
    }
    if (d / (scale || 1) > maxRelDiff) {
      maxRelDiff = d / (scale || 1);
      worst = p.name;
    }
  }
  return { type: 'netCheck', backend: tfjs.description, loss: [results[0].loss, results[1].loss], maxRelDiff, worst };
}
