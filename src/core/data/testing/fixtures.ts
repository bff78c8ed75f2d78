// Small files in the exact CIFAR-10 binary format, and archives of them, made by the tests.
import { gzipSync } from 'fflate';
import { createTar } from 'nanotar';
import { Rng } from '../../rng';
import { DEFAULT_CLASS_NAMES, RECORD_BYTES } from '../cifar10';

/** `count` records with labels cycling 0..9 (or from `labels`) and seeded pixels. */
export function makeBin(count: number, seed = 1, labels?: number[]): Uint8Array {
  const rng = new Rng(seed, 'fixture-bin');
  const out = new Uint8Array(count * RECORD_BYTES);
  for (let r = 0; r < count; r++) {
    out[r * RECORD_BYTES] = labels ? labels[r] : r % 10;
    for (let i = 1; i < RECORD_BYTES; i++) out[r * RECORD_BYTES + i] = rng.int(256);
  }
  return out;
}

export function metaText(): Uint8Array {
  return new TextEncoder().encode(`${DEFAULT_CLASS_NAMES.join('\n')}\n`);
}

/** A cifar-10-batches-bin tree with `trainBatches` training files of `perBatch` records each. */
export function makeFiles(trainBatches = 2, perBatch = 30, testCount = 20): { name: string; data: Uint8Array }[] {
  const files = [];
  for (let b = 1; b <= trainBatches; b++) files.push({ name: `cifar-10-batches-bin/data_batch_${b}.bin`, data: makeBin(perBatch, b) });
  files.push({ name: 'cifar-10-batches-bin/test_batch.bin', data: makeBin(testCount, 99) });
  files.push({ name: 'cifar-10-batches-bin/batches.meta.txt', data: metaText() });
  return files;
}

export function makeTarGz(files: { name: string; data: Uint8Array }[], gzip = true): Uint8Array {
  const tar = createTar(files);
  return gzip ? gzipSync(tar) : tar;
}
