// Unpacking what a user supplies: the official cifar-10-binary.tar.gz, or loose .bin files.
// gunzip with fflate, untar with nanotar (both small, well-kept, and run in a worker or in Node).
import { Gunzip } from 'fflate';
import { parseTar } from 'nanotar';
import { ARCHIVE_DIR, DataError, META_FILE, TEST_FILE } from './cifar10';
import type { CifarFiles } from './cifar10';

const isGzip = (b: Uint8Array): boolean => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
/** A POSIX tar has "ustar" at offset 257 of its first header. */
const isTar = (b: Uint8Array): boolean => b.length >= 262 && String.fromCharCode(...b.subarray(257, 262)) === 'ustar';

const WANTED = /(^|\/)(data_batch_\d+\.bin|test_batch\.bin|batches\.meta\.txt)$/;

/**
 * The most a dropped archive may unpack to. The official cifar-10-binary.tar.gz unpacks to about
 * 185 MB (six 30.7 MB batches in a tar); anything much larger is not CIFAR-10, and a small file
 * that unpacks to gigabytes (a gzip bomb) must not take the tab down.
 */
export const MAX_UNPACKED_BYTES = 256 * 2 ** 20;
/**
 * The most a user may drop at once. The largest real drop is the six loose .bin files (about
 * 185 MB); the official archive is 163 MB.
 */
export const MAX_DROP_BYTES = 256 * 2 ** 20;

/** Why a drop of these files is refused before any is read, or null. */
export function dropSizeError(files: readonly { name: string; size: number }[]): string | null {
  const total = files.reduce((s, f) => s + f.size, 0);
  if (total <= MAX_DROP_BYTES) return null;
  const what = files.length === 1 ? files[0].name : `${files.length} files`;
  return `${what}: ${MB(total)} is more than the ${MB(MAX_DROP_BYTES)} a drop may hold; CIFAR-10’s binary archive is 163 MB (the six .bin files, 185 MB)`;
}

const MB = (n: number) => `${(n / 2 ** 20).toFixed(0)} MB`;

/** The unpacked size a gzip file declares in its last 4 bytes (mod 2³²), or -1 if it is too short to have one. */
function declaredSize(bytes: Uint8Array): number {
  const n = bytes.length;
  return n >= 18 ? (bytes[n - 4] | (bytes[n - 3] << 8) | (bytes[n - 2] << 16) | (bytes[n - 1] << 24)) >>> 0 : -1;
}

/**
 * Gunzip, refusing more than `limit` bytes of output: first by the size the gzip trailer declares,
 * then while inflating (the trailer can lie), so memory stays bounded whatever the input.
 */
export function gunzip(bytes: Uint8Array, fileName: string, limit = MAX_UNPACKED_BYTES): Uint8Array {
  const tooBig = (what: string) =>
    new DataError(
      `${fileName} ${what}; CIFAR-10’s archive unpacks to about 185 MB, so anything over ${MB(limit)} is refused (it is not CIFAR-10, or it is a gzip bomb)`,
    );
  const declared = declaredSize(bytes);
  if (declared > limit) {
    throw new DataError(
      `${fileName} declares ${MB(declared)} unpacked (in its last bytes), over the ${MB(limit)} limit, so it was not unpacked: it is truncated or damaged (download it again), or it is not CIFAR-10 (whose archive unpacks to about 185 MB)`,
    );
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  const inflater = new Gunzip((chunk) => {
    total += chunk.length;
    if (total > limit) throw tooBig(`unpacks to more than ${MB(limit)}`);
    parts.push(chunk);
  });
  try {
    // small slices: one slice inflates to at most ~1000× its size, so the check above bounds memory
    const SLICE = 64 * 1024;
    for (let at = 0; at < bytes.length; at += SLICE) inflater.push(bytes.subarray(at, at + SLICE), at + SLICE >= bytes.length);
  } catch (err) {
    if (err instanceof DataError) throw err;
    throw new DataError(`${fileName} is not a valid gzip file (corrupt or truncated): ${err instanceof Error ? err.message : String(err)}`);
  }
  if (bytes.length === 0) throw new DataError(`${fileName} is empty`);
  // a stream cut short can inflate without complaint: its trailer's size must match what came out
  if (declared !== total % 2 ** 32)
    throw new DataError(`${fileName} is not a valid gzip file (corrupt or truncated): it declares ${declared} bytes unpacked, and ${total} came out`);
  return concatBytes(parts);
}

/** Chunks (of a download, or of inflated output) as one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
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
