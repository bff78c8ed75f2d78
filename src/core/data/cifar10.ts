// CIFAR-10 in its official binary format (cifar-10-batches-bin), parsed and checked.
// Each record is 3,073 bytes: one label byte (0–9), then 1,024 red, 1,024 green and 1,024 blue
// bytes, each plane row-major 32×32. No header, nothing between records.
// Runs in the worker, in Node (the download script, tests) and anywhere else: no DOM.

export const RECORD_BYTES = 3073;
export const IMAGE_BYTES = 3072;
export const SIDE = 32;

const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const;
export const TEST_FILE = 'test_batch.bin';
export const META_FILE = 'batches.meta.txt';
export const ARCHIVE_DIR = 'cifar-10-batches-bin';

export const DEFAULT_CLASS_NAMES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

/** The published checksums of the official archive and of each file in it. */
export const OFFICIAL = {
  url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz',
  archive: {
    md5: 'c32a1d4ab5d03f1284b67883e8d87530',
    sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
  },
  fileMd5: {
    'data_batch_1.bin': '5dd7e06a14cb22eb9f671a540d1b7c25',
    'data_batch_2.bin': '5ea93a67294ea407fff1d09f752e9692',
    'data_batch_3.bin': '942cd6a4bcdd0dd3c604fbe906cb4421',
    'data_batch_4.bin': 'ae636b3ba5c66a11e91e8cb52e771fcb',
    'data_batch_5.bin': '53f37980c15c3d472c316c40844f3f0d',
    'test_batch.bin': '803d5f7f4d78ea53de84dbe85f74fb6d',
  } as Record<string, string>,
} as const;

/** A data error with a message meant for the user: what is wrong, and with which file. */
export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

export interface LabeledImages {
  /** uint8 NHWC [count, 32, 32, 3]: the layout the nets use. */
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
}

/**
 * Parse one .bin file. The planes are interleaved into NHWC as they are read, so the result is
 * the one copy the lab needs (the file's bytes can be dropped afterwards).
 */
export function parseCifarBinary(bytes: Uint8Array, fileName: string): LabeledImages {
  if (bytes.length === 0) throw new DataError(`${fileName} is empty`);
  if (bytes.length % RECORD_BYTES !== 0) {
    throw new DataError(
      `${fileName} is ${bytes.length.toLocaleString('en')} bytes, not a multiple of the ${RECORD_BYTES}-byte CIFAR-10 record: it is truncated or not a CIFAR-10 binary batch`,
    );
  }
  const count = bytes.length / RECORD_BYTES;
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * IMAGE_BYTES);
  for (let r = 0; r < count; r++) {
    const rec = r * RECORD_BYTES;
    const label = bytes[rec];
    if (label > 9) throw new DataError(`${fileName}, record ${r}: label byte is ${label}, but CIFAR-10 labels are 0–9`);
    labels[r] = label;
    const out = r * IMAGE_BYTES;
    for (let p = 0; p < 1024; p++) {
      images[out + 3 * p] = bytes[rec + 1 + p];
      images[out + 3 * p + 1] = bytes[rec + 1 + 1024 + p];
      images[out + 3 * p + 2] = bytes[rec + 1 + 2048 + p];
    }
  }
  return { images, labels, count };
}

/** Class names from batches.meta.txt: ten non-empty lines. */
export function parseClassNames(text: string, fileName = META_FILE): string[] {
  const names = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  if (names.length !== 10) throw new DataError(`${fileName} lists ${names.length} class names; CIFAR-10 has 10`);
  return names;
}

/** Join several parsed files into one set (one copy). */
function concatImages(parts: LabeledImages[]): LabeledImages {
  const count = parts.reduce((s, p) => s + p.count, 0);
  if (parts.length === 1) return parts[0];
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * IMAGE_BYTES);
    labels.set(p.labels, at);
    at += p.count;
  }
  return { images, labels, count };
}

export interface ChannelStats {
  mean: [number, number, number];
  std: [number, number, number];
}

/** Per-channel mean and std (0–255 scale) of a set of images. */
export function channelStats(set: LabeledImages): ChannelStats {
  const sum = [0, 0, 0];
  const sq = [0, 0, 0];
  const { images } = set;
  for (let i = 0; i < images.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const v = images[i + c];
      sum[c] += v;
      sq[c] += v * v;
    }
  }
  const n = Math.max(1, images.length / 3);
  const mean = sum.map((s) => s / n) as [number, number, number];
  const std = sq.map((q, c) => Math.sqrt(Math.max(0, q / n - mean[c] ** 2))) as [number, number, number];
  return { mean, std };
}

export function classCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const l of labels) counts[l]++;
  return counts;
}

/** Where a dataset came from, for the status line and for cache decisions. */
export type DataSource = 'origin' | 'cache' | 'dropped' | 'fixture';

export interface CifarDataset {
  train: LabeledImages;
  test: LabeledImages;
  classNames: string[];
  /** Mean/std of the training images loaded (the lab normalises with these). */
  stats: ChannelStats;
  source: DataSource;
  /** A short description, e.g. "CIFAR-10 (official, 50,000 train / 10,000 test)". */
  description: string;
  /** Identifies the content, for the cache. */
  key: string;
}

/** The named files of a CIFAR-10 folder or archive, as raw bytes. */
export type CifarFiles = Map<string, Uint8Array>;

/**
 * Build a dataset from the files: the data_batch_*.bin files it has (in order) for training,
 * test_batch.bin for testing, batches.meta.txt for the class names.
 */
export function datasetFromFiles(files: CifarFiles, source: DataSource, key: string): CifarDataset {
  const base = (name: string) => name.split('/').pop()!;
  const byName = new Map([...files].map(([name, bytes]) => [base(name), bytes]));
  const trainNames = [...byName.keys()].filter((n) => /^data_batch_\d+\.bin$/.test(n)).sort();
  if (trainNames.length === 0) {
    throw new DataError(`no training batch found: expected ${TRAIN_FILES.join(', ')} (at least one); got ${[...byName.keys()].join(', ') || 'no files'}`);
  }
  if (!byName.has(TEST_FILE)) throw new DataError(`no ${TEST_FILE} found among ${[...byName.keys()].join(', ')}`);
  const train = concatImages(trainNames.map((n) => parseCifarBinary(byName.get(n)!, n)));
  const test = parseCifarBinary(byName.get(TEST_FILE)!, TEST_FILE);
  const meta = byName.get(META_FILE);
  const classNames = meta ? parseClassNames(new TextDecoder().decode(meta)) : DEFAULT_CLASS_NAMES;
  const official = trainNames.length === 5 && train.count === 50_000 && test.count === 10_000;
  const description = `CIFAR-10${official ? ' (all of it)' : ''}: ${train.count.toLocaleString('en')} training / ${test.count.toLocaleString('en')} test images`;
  return { train, test, classNames, stats: channelStats(train), source, description, key };
}

/**
 * The training and test subsets an experiment uses. `split: 'paper'` holds out the last 5,000
 * training images as the test set (the paper's 45k/5k split); otherwise the first `testSize`
 * test images are the fixed test subset.
 */
export function selectSubsets(ds: CifarDataset, trainSize: number, testSize: number, split: 'test' | 'paper'): { train: LabeledImages; test: LabeledImages } {
  const slice = (set: LabeledImages, from: number, to: number): LabeledImages => ({
    images: set.images.subarray(from * IMAGE_BYTES, to * IMAGE_BYTES),
    labels: set.labels.subarray(from, to),
    count: to - from,
  });
  if (split === 'paper') {
    const held = Math.min(5000, Math.floor(ds.train.count / 10));
    const pool = ds.train.count - held;
    return { train: slice(ds.train, 0, Math.min(trainSize, pool)), test: slice(ds.train, pool, pool + Math.min(testSize, held)) };
  }
  return { train: slice(ds.train, 0, Math.min(trainSize, ds.train.count)), test: slice(ds.test, 0, Math.min(testSize, ds.test.count)) };
}
