// The download step against a local HTTP server serving a fixture archive.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeFiles, makeTarGz } from '../src/core/data/testing/fixtures';
import { MANIFEST, md5, readManifest, sha256 } from './cifarData';
import { fetchCifar } from './fetch-cifar10';

const files = makeFiles(2, 25, 15);
const archive = makeTarGz(files);
const sums = { md5: md5(archive), sha256: sha256(archive) };
const fileMd5 = Object.fromEntries(files.map((f) => [f.name.split('/').pop()!, md5(f.data)]));

let server: Server;
let base = '';
const ranges: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.headers.range) ranges.push(`${req.url} ${req.headers.range}`);
    if (req.url === '/error') {
      res.writeHead(500, 'Internal Server Error').end('no');
      return;
    }
    if (req.url === '/flaky' && !req.headers.range) {
      // announce the whole archive, send half, then drop the connection
      res.writeHead(200, { 'content-length': archive.length });
      res.write(archive.subarray(0, archive.length >> 1), () => res.socket?.destroy());
      return;
    }
    const m = /bytes=(\d+)-/.exec(req.headers.range ?? '');
    if (m) {
      const from = Number(m[1]);
      res.writeHead(206, { 'content-length': archive.length - from, 'content-range': `bytes ${from}-${archive.length - 1}/${archive.length}` });
      res.end(archive.subarray(from));
      return;
    }
    res.writeHead(200, { 'content-length': archive.length }).end(archive);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

function dirs() {
  const root = mkdtempSync(join(tmpdir(), 'cifar-fetch-'));
  return { dataDir: join(root, 'data'), cacheDir: join(root, 'cache'), log: () => {} };
}

describe('fetch-data against a local server', () => {
  it('downloads, verifies and installs the archive with a manifest', async () => {
    const d = dirs();
    const m = await fetchCifar({ ...d, url: `${base}/ok`, archive: sums, fileMd5 });
    expect(m.source).toBe('download');
    expect(m.files.map((f) => f.name).sort()).toEqual(['batches.meta.txt', 'data_batch_1.bin', 'data_batch_2.bin', 'test_batch.bin']);
    expect(m.files.every((f) => f.official === true)).toBe(true);
    expect(new Uint8Array(readFileSync(join(d.dataDir, 'data_batch_2.bin')))).toEqual(files[1].data);
    expect(readManifest(d.dataDir)?.files.find((f) => f.name === 'test_batch.bin')?.records).toBe(15);
  });

  it('rejects an archive whose checksum does not match, deletes it, installs nothing', async () => {
    const d = dirs();
    await expect(fetchCifar({ ...d, url: `${base}/ok`, archive: { ...sums, md5: '0'.repeat(32) }, fileMd5 })).rejects.toThrow(
      /checksum mismatch for cifar-10-binary\.tar\.gz: MD5 is [0-9a-f]{32}, expected 0{32}\. The file was deleted/,
    );
    expect(existsSync(join(d.cacheDir, 'cifar-10-binary.tar.gz'))).toBe(false);
    expect(existsSync(join(d.dataDir, MANIFEST))).toBe(false);
  });

  it('names the file whose own checksum does not match, and installs nothing', async () => {
    const d = dirs();
    await expect(fetchCifar({ ...d, url: `${base}/ok`, archive: sums, fileMd5: { ...fileMd5, 'data_batch_1.bin': 'f'.repeat(32) } })).rejects.toThrow(
      /checksum mismatch: data_batch_1\.bin has MD5 [0-9a-f]{32}, expected f{32}\. Nothing was installed\./,
    );
    expect(existsSync(join(d.dataDir, MANIFEST))).toBe(false);
  });

  it('reports a server error', async () => {
    await expect(fetchCifar({ ...dirs(), url: `${base}/error`, archive: sums, fileMd5 })).rejects.toThrow(/the server answered 500 Internal Server Error/);
  });

  it('reports a connection dropped mid-body, then resumes from where it stopped', async () => {
    const d = dirs();
    await expect(fetchCifar({ ...d, url: `${base}/flaky`, archive: sums, fileMd5 })).rejects.toThrow(
      /the download stopped at .* Run the same command again to resume/,
    );
    const part = join(d.cacheDir, 'cifar-10-binary.tar.gz.part');
    expect(existsSync(part)).toBe(true);
    const half = readFileSync(part).length;
    expect(half).toBeGreaterThan(0);
    expect(half).toBeLessThan(archive.length);
    const m = await fetchCifar({ ...d, url: `${base}/flaky`, archive: sums, fileMd5 });
    expect(m.files.length).toBe(4);
    expect(ranges).toContain(`/flaky bytes=${half}-`);
  });

  it('keeps a good installation when a forced reinstall fails', async () => {
    const d = dirs();
    await fetchCifar({ ...d, url: `${base}/ok`, archive: sums, fileMd5 });
    const before = readFileSync(join(d.dataDir, MANIFEST), 'utf8');
    await expect(
      fetchCifar({ ...d, url: `${base}/ok`, archive: sums, fileMd5: { ...fileMd5, 'test_batch.bin': '0'.repeat(32) }, force: true }),
    ).rejects.toThrow(/checksum mismatch/);
    expect(readFileSync(join(d.dataDir, MANIFEST), 'utf8')).toBe(before);
    expect(readManifest(d.dataDir)).not.toBeNull();
  });

  it('installs from a local tarball or a folder without downloading', async () => {
    const d = dirs();
    const tarball = join(mkdtempSync(join(tmpdir(), 'cifar-tgz-')), 'cifar-10-binary.tar.gz');
    writeFileSync(tarball, archive);
    expect((await fetchCifar({ ...d, url: `${base}/error`, tarball, archive: sums, fileMd5 })).source).toBe('tarball');
    const d2 = dirs();
    const m = await fetchCifar({ ...d2, url: `${base}/error`, folder: d.dataDir, fileMd5: { ...fileMd5, 'test_batch.bin': '1'.repeat(32) } });
    expect(m.source).toBe('folder');
    // a folder's files are used as they are; a file that is not the official one is noted, not refused
    expect(m.files.find((f) => f.name === 'test_batch.bin')?.official).toBe(false);
  });
});
