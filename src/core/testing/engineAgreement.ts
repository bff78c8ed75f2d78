// Two engines, one net: the same loss and gradients, the same SGD steps, the same evaluation, within
// the float tolerances a caller gives. measureAgreement returns every gap beside its tolerance and
// needs no test runner: the GPU kit (bench/gpu-kit) prints them on a real GPU. expectAgreement is the
// same check as Vitest assertions, for the lab CPU engine's test (against tfjs) and the lab WebGPU
// engine's (against the lab CPU engine).
import { expect } from 'vitest';
import type { NetOptions } from '../nets';
import type { Engine } from '../train';
import { measureAgreement } from './agreement';
import type { Agreement } from './agreement';

/** Train the same net on engines `a` and `b` (the reference) side by side and assert every gap is within its tolerance. */
export async function expectAgreement(a: Engine, b: Engine, options: NetOptions, t: Agreement): Promise<void> {
  for (const gap of await measureAgreement(a, b, options, t)) expect(gap.value, gap.what).toBeLessThan(gap.tol);
}
