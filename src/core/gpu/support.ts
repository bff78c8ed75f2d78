// What the lab WebGPU engine trains, without loading it (the worker's `auto` asks before it opens it).
import type { NetFamily, NetSpec } from '../nets';

/** The families the lab WebGPU engine trains: not yet highway nets (their gate has no WGSL kernels). */
export const LAB_GPU_FAMILIES: readonly NetFamily[] = ['plain', 'residual'];

/** Why the lab WebGPU engine cannot train this net, or null when it can. */
export function labGpuRefusal(spec: NetSpec): string | null {
  return LAB_GPU_FAMILIES.includes(spec.options.family) ? null : `the lab WebGPU engine does not train highway nets (${spec.label}); the lab CPU engine and tfjs do`;
}
