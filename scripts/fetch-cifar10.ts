// npm run fetch-data: put CIFAR-10 where the lab loads it from (public/data/cifar-10-batches-bin/).
//   CIFAR10_DIR=<folder of .bin files>     use a folder you already have
//   CIFAR10_TARBALL=<cifar-10-binary.tar.gz> use an archive you already downloaded
//   (neither)                               download the official archive, resumably
// Flags: --force (reinstall even if present), --soft (on failure, explain and exit 0: `npm start` uses it,
// so the lab still starts and shows the same guidance).
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { DataError, OFFICIAL } from '../src/core/data/cifar10';
import { DATA_GUIDANCE } from '../src/core/data/guidance';
import { download, filesFromArchive, filesFromFolder, installFiles, readManifest, verifyArchive } from './cifarData';
import type { Manifest } from './cifarData';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface FetchOptions {
  dataDir: string;
  cacheDir: string;
  url: string;
  folder?: string;
  tarball?: string;
  force?: boolean;
  archive?: { md5: string; sha256: string };
  fileMd5?: Record<string, string>;
  log?: (line: string) => void;
  progress?: boolean;
}

export async function fetchCifar(o: FetchOptions): Promise<Manifest> {
  const log = o.log ?? console.log;
  const existing = readManifest(o.dataDir);
  if (existing && !o.force) {
    log(`CIFAR-10 is in place: ${o.dataDir} (${existing.source}: ${existing.from})`);
    return existing;
  }
  if (o.folder) {
    const files = filesFromFolder(o.folder);
    const m = installFiles(files, o.dataDir, 'folder', o.folder, false, o.fileMd5);
    for (const f of m.files.filter((x) => x.official === false)) log(`note: ${f.name} is not the official file (MD5 differs); it is used as it is`);
    log(`installed ${m.files.length} files from ${o.folder} into ${o.dataDir}`);
    return m;
  }
  let archivePath = o.tarball;
  if (!archivePath) {
    mkdirSync(o.cacheDir, { recursive: true });
    archivePath = join(o.cacheDir, 'cifar-10-binary.tar.gz');
    if (!existsSync(archivePath)) {
      log(`downloading ${o.url}`);
      const bar = o.progress
        ? new cliProgress.SingleBar(
            { format: ' {bar} {percentage}% | {done} of {all} | {speed} | ETA {eta_formatted}', hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : null;
      const t0 = Date.now();
      let started = false;
      let first = 0;
      await download(o.url, archivePath, (received, total) => {
        if (!bar) return;
        if (!started) {
          bar.start(total ?? received, received, {});
          started = true;
          first = received;
        }
        const secs = (Date.now() - t0) / 1000;
        const speed = secs > 0 ? (received - first) / secs : 0;
        bar.setTotal(total ?? received);
        bar.update(received, {
          done: `${(received / 1e6).toFixed(1)} MB`,
          all: total ? `${(total / 1e6).toFixed(1)} MB` : '?',
          speed: `${(speed / 1e6).toFixed(1)} MB/s`,
        });
      }).finally(() => bar?.stop());
    }
  }
  const bytes = verifyArchive(archivePath, o.archive ?? OFFICIAL.archive, !o.tarball);
  log(`verified ${archivePath} (MD5 and SHA-256 match)`);
  const m = installFiles(filesFromArchive(bytes, archivePath), o.dataDir, o.tarball ? 'tarball' : 'download', o.tarball ?? o.url, true, o.fileMd5);
  log(`installed ${m.files.length} files into ${o.dataDir}; every per-file MD5 checked`);
  return m;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const soft = args.includes('--soft');
  try {
    await fetchCifar({
      dataDir: process.env.CIFAR10_DEST ?? join(root, 'public/data/cifar-10-batches-bin'),
      cacheDir: join(root, '.cache'),
      url: process.env.CIFAR10_URL ?? OFFICIAL.url,
      folder: process.env.CIFAR10_DIR || undefined,
      tarball: process.env.CIFAR10_TARBALL || undefined,
      force: args.includes('--force'),
      progress: process.stdout.isTTY,
    });
  } catch (err) {
    const what = err instanceof DataError ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    console.error(`\nCould not get CIFAR-10: ${what}\n\n${DATA_GUIDANCE.join('\n')}\n`);
    if (soft) console.error('Starting the lab anyway: it shows the same guidance, and accepts the archive by drag and drop.\n');
    process.exitCode = soft ? 0 : 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
