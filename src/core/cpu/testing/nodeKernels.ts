// Load the kernel build that suits this Node process, for tests and Node scripts.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { relaxedSimdSupported, variantFile } from '../kernels';
import type { HelperInit, WasmVariant } from '../kernels';

const BUILD_DIR = join(import.meta.dirname, '..', 'build');

export function nodeKernels(shared = false, relaxed = relaxedSimdSupported()): { module: WebAssembly.Module; variant: WasmVariant } {
  const variant = { relaxed, shared };
  const module = new WebAssembly.Module(readFileSync(join(BUILD_DIR, variantFile(variant))));
  return { module, variant };
}

/** Spawn a helper thread in Node (its TypeScript loads through tsx). */
export function spawnNodeHelper(init: HelperInit): { terminate(): void } {
  // V8 flags (such as --experimental-wasm-relaxed-simd) are process-wide: the worker has them already.
  const worker = new Worker(new URL('./nodeHelperBoot.mjs', import.meta.url), { workerData: init });
  worker.unref();
  return { terminate: () => void worker.terminate() };
}
