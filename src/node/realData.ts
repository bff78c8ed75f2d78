// Where the real CIFAR-10 files are, for integration tests and benchmarks: $CIFAR10_DIR, else
// ../shared/cifar10 next to the repository when it exists (the project's machines have it there).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export function realDataDir(): string | null {
  const fromEnv = process.env.CIFAR10_DIR;
  if (fromEnv) return existsSync(join(fromEnv, 'test_batch.bin')) ? resolve(fromEnv) : null;
  const shared = resolve(import.meta.dirname, '../../../shared/cifar10');
  return existsSync(join(shared, 'test_batch.bin')) ? shared : null;
}
