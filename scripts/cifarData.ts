// Getting CIFAR-10 onto this machine: download (resumable) or take a local archive or folder,
// verify checksums, and install the .bin files into public/data/cifar-10-batches-bin/ with a
// manifest the lab checks in the browser. Every file is written under a temporary name and
// renamed into place, so a good file is never replaced by a half-written one.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ARCHIVE_DIR, DataError, META_FILE, OFFICIAL, RECORD_BYTES, parseCifarBinary, parseClassNames } from '../src/core/data/cifar10';
import { unpackArchive } from '../src/core/data/archive';

export interface ManifestFile {
  name: string;
  bytes: number;
  records: number | null;
  sha256: string;
  md5: string;
  /** true: matches the published MD5; false: a file of that name that differs; null: no published MD5. */
  official: boolean | null;
}

export interface Manifest {
  format: typeof ARCHIVE_DIR;
  source: 'download' | 'tarball' | 'folder';
  from: string;
  files: ManifestFile[];
  classNames: string[];
  createdAt: string;
}

export const MANIFEST = 'manifest.json';

export const md5 = (b: Uint8Array): string => createHash('md5').update(b).digest('hex');
export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

/** Write a file atomically: a temporary name in the same folder, then a rename. */
export function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

export function readManifest(dataDir: string): Manifest | null {
  const p = join(dataDir, MANIFEST);
  if (!existsSync(p)) return null;
  try {
    const m = JSON.parse(readFileSync(p, 'utf8')) as Manifest;
    // complete only when every listed file is there with its size
    const ok = m.files.every((f) => existsSync(join(dataDir, f.name)) && statSync(join(dataDir, f.name)).size === f.bytes);
    return ok ? m : null;
  } catch {
    return null;
  }
}

export interface Progress {
  (received: number, total: number | null): void;
}

/**
 * Download url to dest, resuming from dest.part when a previous attempt stopped. Throws a
 * DataError that says what happened and what to do (server error, lost connection).
 */
export async function download(url: string, dest: string, onProgress?: Progress): Promise<void> {
  const part = `${dest}.part`;
  const have = existsSync(part) ? statSync(part).size : 0;
  let res: Response;
  try {
    res = await fetch(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
  } catch (err) {
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new DataError(`could not reach ${url}: ${cause}`);
  }
  if (res.status === 416 && have > 0) {
    // we already have every byte
    renameSync(part, dest);
    return;
  }
  if (res.status !== 200 && res.status !== 206) {
    throw new DataError(`the server answered ${res.status} ${res.statusText} for ${url}`);
  }
  const resumed = res.status === 206;
  const start = resumed ? have : 0;
  const length = Number(res.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? start + length : null;
  const out = createWriteStream(part, { flags: resumed ? 'a' : 'w' });
  let received = start;
  try {
    if (!res.body) throw new Error('empty response');
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      received += chunk.length;
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      onProgress?.(received, total);
    }
  } catch (err) {
    await new Promise<void>((r) => out.end(() => r()));
    throw new DataError(
      `the download stopped at ${mb(received)}${total ? ` of ${mb(total)}` : ''} (${err instanceof Error ? err.message : String(err)}). Run the same command again to resume.`,
    );
  }
  await new Promise<void>((r) => out.end(() => r()));
  if (total !== null && received < total) {
    throw new DataError(`the download stopped at ${mb(received)} of ${mb(total)} (connection closed early). Run the same command again to resume.`);
  }
  renameSync(part, dest);
}

export interface ArchiveChecksums {
  md5: string;
  sha256: string;
}

/** Verify an archive; on a mismatch, delete it (it cannot be resumed) and say which sum failed. */
export function verifyArchive(path: string, expected: ArchiveChecksums, deleteOnMismatch = true): Uint8Array {
  const bytes = new Uint8Array(readFileSync(path));
  const got = { md5: md5(bytes), sha256: sha256(bytes) };
  for (const k of ['md5', 'sha256'] as const) {
    if (got[k] !== expected[k]) {
      if (deleteOnMismatch) rmSync(path, { force: true });
      throw new DataError(
        `checksum mismatch for ${basename(path)}: ${k.toUpperCase()} is ${got[k]}, expected ${expected[k]}.${deleteOnMismatch ? ' The file was deleted; run again to fetch it afresh.' : ''}`,
      );
    }
  }
  return bytes;
}

function describeFile(name: string, data: Uint8Array, fileMd5: Record<string, string>): ManifestFile {
  const sum = md5(data);
  const published = fileMd5[name];
  let records: number | null = null;
  if (name.endsWith('.bin')) records = parseCifarBinary(data, name).count; // validates size and labels
  return { name, bytes: data.length, records, sha256: sha256(data), md5: sum, official: published ? sum === published : null };
}

/**
 * Install CIFAR-10 files into dataDir: validate each, write it atomically, and write the manifest
 * last (the lab only trusts a folder with a complete manifest).
 * `strict`: a file with a published checksum must match it (true for the official archive).
 */
export function installFiles(
  files: Map<string, Uint8Array>,
  dataDir: string,
  source: Manifest['source'],
  from: string,
  strict: boolean,
  fileMd5: Record<string, string> = OFFICIAL.fileMd5,
): Manifest {
  const described = [...files].map(([name, data]) => describeFile(name, data, fileMd5));
  if (strict) {
    const bad = described.filter((f) => f.official === false);
    if (bad.length) {
      throw new DataError(`checksum mismatch: ${bad.map((f) => `${f.name} has MD5 ${f.md5}, expected ${fileMd5[f.name]}`).join('; ')}. Nothing was installed.`);
    }
  }
  if (!described.some((f) => f.name === 'test_batch.bin') || !described.some((f) => /^data_batch_\d+\.bin$/.test(f.name))) {
    throw new DataError(`${from} needs at least data_batch_1.bin and test_batch.bin; found ${described.map((f) => f.name).join(', ') || 'nothing'}`);
  }
  mkdirSync(dataDir, { recursive: true });
  rmSync(join(dataDir, MANIFEST), { force: true });
  for (const [name, data] of files) writeAtomic(join(dataDir, name), data);
  const meta = files.get(META_FILE);
  const manifest: Manifest = {
    format: ARCHIVE_DIR,
    source,
    from,
    files: described,
    classNames: meta ? parseClassNames(new TextDecoder().decode(meta)) : [],
    createdAt: new Date().toISOString(),
  };
  writeAtomic(join(dataDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** The CIFAR-10 files of a folder (data_batch_*.bin, test_batch.bin, batches.meta.txt). */
export function filesFromFolder(dir: string): Map<string, Uint8Array> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new DataError(`CIFAR10_DIR=${dir} is not a folder`);
  const names = readdirSync(dir).filter((n) => /^(data_batch_\d+|test_batch)\.bin$/.test(n) || n === META_FILE);
  const files = new Map(names.sort().map((n) => [n, new Uint8Array(readFileSync(join(dir, n)))]));
  for (const [n, b] of files) {
    if (n.endsWith('.bin') && b.length % RECORD_BYTES !== 0)
      throw new DataError(`${join(dir, n)} is ${b.length} bytes, not a multiple of ${RECORD_BYTES}: truncated or not CIFAR-10`);
  }
  return files;
}

export function filesFromArchive(bytes: Uint8Array, name: string): Map<string, Uint8Array> {
  return unpackArchive(bytes, name);
}
