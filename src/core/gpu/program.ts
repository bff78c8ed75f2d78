// A program on the lab WebGPU engine as data: the fixed list of kernel dispatches of a step, a gradient
// computation, an evaluation chunk or a response measurement (the step IR lowered by ./lower.ts), each with its
// uniform values and the buffers it binds, by name; and where a net's tensors sit in its own buffers. Pure:
// ./engine.ts creates the buffers, the uniform blocks and the bind groups once per program and replays the list.
//
// Buffers by name: per net P (parameters), G (gradients), M (momentum), R (BN running statistics),
// S (batch statistics and backward sums), ctrl (lr and the update flag), metrics ([Σ loss, errors]
// of the last step, then of the evaluation); shared by the engine's nets (one net runs at a time
// on the GPU queue): the inputs and labels, every activation (`a:` and the IR's name, sized for the
// largest net), the gradient slots (`grad0`, `grad1`, …) and the weight-gradient partial sums.
import type { NetSpec } from '../nets';
import { bnStatNames, sizeOf } from '../nets';
import type { KernelName } from './kernels';

export interface Dispatch {
  kernel: KernelName;
  /** Uniform values by field name (./kernels.ts FIELDS); missing fields are 0. */
  u: Record<string, number>;
  /** Buffer names for bindings 1, 2, …; binding 0 is the dispatch's own uniform block. */
  bind: string[];
  groups: [number, number, number];
}

export interface GpuProgram {
  dispatches: Dispatch[];
  /** The shared workspace buffers it uses, and the bytes each needs. */
  workspace: Map<string, number>;
}

/** Where a net's tensors sit in its per-net buffers (float offsets). */
export interface GpuLayout {
  /** Parameter offsets in P (and G, M). */
  param: Map<string, number>;
  paramFloats: number;
  /** Running mean / variance offsets in R, by statistic name (`${conv}.bn.mean`, `${conv}.bn.var`). */
  stat: Map<string, number>;
  statFloats: number;
  /** Per conv: offsets in S of the batch mean, invstd and the two backward sums (2K). */
  scratch: Map<string, { mean: number; invstd: number; sums: number }>;
  scratchFloats: number;
}

export function layoutNet(spec: NetSpec): GpuLayout {
  const param = new Map<string, number>();
  let at = 0;
  for (const p of spec.params) {
    param.set(p.name, at);
    at += sizeOf(p.shape);
  }
  const stat = new Map<string, number>();
  let s = 0;
  for (const b of bnStatNames(spec)) {
    stat.set(b.mean, s);
    stat.set(b.variance, s + b.channels);
    s += 2 * b.channels;
  }
  const scratch = new Map<string, { mean: number; invstd: number; sums: number }>();
  let k = 0;
  for (const c of spec.convs) {
    scratch.set(c.name, { mean: k, invstd: k + c.outC, sums: k + 2 * c.outC });
    k += 4 * c.outC;
  }
  return { param, paramFloats: at, stat, statFloats: s, scratch, scratchFloats: k };
}
