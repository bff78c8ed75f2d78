// Vitest global setup: the lab CPU engine's kernels are built from source before any test runs.
import { buildWasm } from '../../../scripts/build-wasm';

export default async function setup(): Promise<void> {
  await buildWasm({ quiet: true });
}
