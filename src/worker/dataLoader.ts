// CIFAR-10 into the worker: from the browser cache when it holds the data, else from the app's own
// origin (the files the download script installed, checked against its manifest), or from files
// the user dropped. Decoded data is cached in IndexedDB, so a reload starts in seconds.
import type { CifarDataset, CifarFiles } from '../core/data/cifar10';
import { DataError, IMAGE_BYTES, datasetFromFiles } from '../core/data/cifar10';
import { concatBytes, filesFromDrop } from '../core/data/archive';
import { sha256Hex } from '../core/data/digest';
import { loadDataset as loadCached } from '../storage/runsDb';
import { saveDataset } from '../storage/runsWrite';
import type { DatasetSummary } from './protocol';

const DATA_BASE = `${import.meta.env.BASE_URL}data/cifar-10-batches-bin/`;

interface ManifestFile {
  name: string;
  bytes: number;
  sha256: string;
}

/** There is no data on the server (the download step has not run): not an error, a state. */
export class NoServerData extends Error {}

type OnProgress = (file: string, loaded: number, total: number | null) => void;

async function fetchWithProgress(url: string, name: string, onProgress: OnProgress, expected: number | null): Promise<Uint8Array> {
  const res = await fetch(url);
  if (!res.ok) throw new DataError(`could not load ${name} from the server: ${res.status} ${res.statusText}`);
  const total = Number(res.headers.get('content-length')) || expected;
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    loaded += value.length;
    onProgress(name, loaded, total);
  }
  if (total && loaded !== total) throw new DataError(`${name} arrived incomplete: ${loaded} of ${total} bytes`);
  return concatBytes(parts);
}

/** The server's manifest, or null when the data was never installed there. */
async function serverManifest(): Promise<{ files: ManifestFile[]; key: string } | null> {
  let res: Response;
  try {
    res = await fetch(`${DATA_BASE}manifest.json`, { cache: 'no-cache' });
  } catch {
    return null;
  }
  if (!res.ok) return null;
  const text = await res.text();
  let files: ManifestFile[];
  try {
    files = (JSON.parse(text) as { files: ManifestFile[] }).files;
  } catch {
    return null; // e.g. a dev server answering index.html for an unknown path
  }
  if (!Array.isArray(files)) return null;
  return { files, key: `origin:${await sha256Hex(new TextEncoder().encode(files.map((f) => f.sha256).join(',')))}` };
}

async function cache(ds: CifarDataset): Promise<string | undefined> {
  try {
    await saveDataset({
      slot: 'current',
      key: ds.key,
      source: ds.source,
      description: ds.description,
      classNames: ds.classNames,
      stats: ds.stats,
      train: ds.train,
      test: ds.test,
    });
    return undefined;
  } catch (err) {
    return `the browser would not store the decoded data (${err instanceof Error ? err.message : String(err)}); the lab trains without the cache and loads the data again next time`;
  }
}

export interface Loaded {
  dataset: CifarDataset;
  cacheNote?: string;
}

/**
 * The cached dataset when it is still current (the server's manifest has not changed, or the user
 * dropped it), else the server's files. Throws NoServerData when there is neither.
 */
export async function loadDataset(onProgress: OnProgress, reload = false): Promise<Loaded> {
  const manifest = await serverManifest();
  if (!reload) {
    try {
      const cached = await loadCached();
      if (cached && (!manifest || cached.key === manifest.key || cached.source === 'dropped')) {
        return { dataset: { ...cached, source: 'cache' } };
      }
    } catch {
      // storage unavailable (private mode, blocked): fall through to the network
    }
  }
  if (!manifest) throw new NoServerData('the server has no CIFAR-10 files (public/data/cifar-10-batches-bin/manifest.json is missing)');
  const files: CifarFiles = new Map();
  for (const f of manifest.files) {
    const bytes = await fetchWithProgress(`${DATA_BASE}${f.name}`, f.name, onProgress, f.bytes);
    const sum = await sha256Hex(bytes);
    if (sum !== f.sha256)
      throw new DataError(`checksum mismatch for ${f.name}: SHA-256 is ${sum}, the manifest says ${f.sha256}. Run \`npm run fetch-data -- --force\`.`);
    files.set(f.name, bytes);
  }
  const dataset = datasetFromFiles(files, 'origin', manifest.key);
  return { dataset, cacheNote: await cache(dataset) };
}

/** Dropped files: an archive, or loose .bin files. */
export async function loadDropped(dropped: { name: string; bytes: ArrayBuffer }[]): Promise<Loaded> {
  const files = filesFromDrop(dropped.map((d) => ({ name: d.name, bytes: new Uint8Array(d.bytes) })));
  const key = `dropped:${await sha256Hex(new TextEncoder().encode([...files].map(([n, b]) => `${n}:${b.length}`).join(',')))}`;
  const dataset = datasetFromFiles(files, 'dropped', key);
  return { dataset, cacheNote: await cache(dataset) };
}

/** What the page needs to know of a loaded dataset, with a few sample images per class. */
export function summarize(ds: CifarDataset, cacheNote?: string): DatasetSummary {
  // four images of each class, in dataset order, for the sample grid
  const per = 4;
  const picked: number[] = [];
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < ds.train.count && picked.length < 10 * per; i++) {
    const l = ds.train.labels[i];
    if (counts[l] < per) {
      counts[l]++;
      picked.push(i);
    }
  }
  picked.sort((a, b) => ds.train.labels[a] - ds.train.labels[b] || a - b);
  const images = new Uint8Array(picked.length * IMAGE_BYTES);
  picked.forEach((idx, k) => images.set(ds.train.images.subarray(idx * IMAGE_BYTES, (idx + 1) * IMAGE_BYTES), k * IMAGE_BYTES));
  return {
    source: ds.source,
    description: ds.description,
    trainCount: ds.train.count,
    testCount: ds.test.count,
    classNames: ds.classNames,
    stats: ds.stats,
    samples: { images, labels: Uint8Array.from(picked, (i) => ds.train.labels[i]) },
    cacheNote,
  };
}
