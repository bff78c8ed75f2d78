// Unpacking what a user supplies: the official cifar-10-binary.tar.gz, or loose .bin files.
// gunzip with fflate, untar with nanotar (both small, well-kept, and run in a worker or in Node).
import { gunzipSync } from 'fflate';
import { parseTar } from 'nanotar';
import { ARCHIVE_DIR, DataError, META_FILE, TEST_FILE } from './cifar10';
import type { CifarFiles } from './cifar10';

export const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
/** A POSIX tar has "ustar" at offset 257 of its first header. */
export const isTar = (b: Uint8Array): boolean => b.length >= 262 && String.fromCharCode(...b.subarray(257, 262)) === 'ustar';

const WANTED = /(^|\/)(data_batch_\d+\.bin|test_batch\.bin|batches\.meta\.txt)$/;

export function gunzip(bytes: Uint8Array, fileName: string): Uint8Array {
  try {
    return gunzipSync(bytes);
  } catch (err) {
    throw new DataError(`${fileName} is not a valid gzip file (corrupt or truncated): ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The CIFAR-10 files inside a .tar or .tar.gz, checked for completeness. */
export function unpackArchive(bytes: Uint8Array, fileName: string): CifarFiles {
  const tar = isGzip(bytes) ? gunzip(bytes, fileName) : bytes;
  if (!isTar(tar)) throw new DataError(`${fileName} is not a tar archive${isGzip(bytes) ? ' inside its gzip layer' : ''}: expected cifar-10-binary.tar.gz`);
  let items;
  try {
    items = parseTar(tar);
  } catch (err) {
    throw new DataError(`${fileName}: the tar archive is damaged: ${err instanceof Error ? err.message : String(err)}`);
  }
  const files: CifarFiles = new Map();
  for (const item of items) {
    if (item.type !== 'file' || !WANTED.test(item.name) || !item.data) continue;
    if (item.data.length !== item.size) throw new DataError(`${fileName}: ${item.name} is truncated (${item.data.length} of ${item.size} bytes)`);
    files.set(item.name.split('/').pop()!, item.data);
  }
  const missing = [TEST_FILE, 'data_batch_1.bin'].filter((n) => !files.has(n));
  if (missing.length) {
    throw new DataError(
      `${fileName} does not hold the expected files: missing ${missing.map((m) => `${ARCHIVE_DIR}/${m}`).join(' and ')}. Use the official cifar-10-binary.tar.gz (the binary version, not the Python or MATLAB one).`,
    );
  }
  return files;
}

/** Files the user dropped: archives are unpacked, .bin and batches.meta.txt files are taken as they are. */
export function filesFromDrop(dropped: { name: string; bytes: Uint8Array }[]): CifarFiles {
  const files: CifarFiles = new Map();
  for (const f of dropped) {
    const base = f.name.split('/').pop()!;
    if (/\.bin$/i.test(base) || base === META_FILE) files.set(base, f.bytes);
    else if (isGzip(f.bytes) || isTar(f.bytes) || /\.(tar|tgz|tar\.gz)$/i.test(base)) for (const [k, v] of unpackArchive(f.bytes, base)) files.set(k, v);
    else throw new DataError(`${base} is neither a CIFAR-10 .bin batch nor a .tar.gz archive`);
  }
  return files;
}
