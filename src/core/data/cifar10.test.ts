import { describe, expect, it } from 'vitest';
import { DataError, IMAGE_BYTES, RECORD_BYTES, channelStats, datasetFromFiles, parseCifarBinary, parseClassNames, selectSubsets } from './cifar10';
import { MAX_DROP_BYTES, MAX_UNPACKED_BYTES, dropSizeError, filesFromDrop, gunzip, unpackArchive } from './archive';
import { gzipSync } from 'fflate';
import { sha256Hex } from './digest';
import { makeBin, makeFiles, makeTarGz, metaText } from './testing/fixtures';

describe('parseCifarBinary', () => {
  it('reads labels and turns the R, G, B planes into NHWC pixels', () => {
    const bytes = new Uint8Array(2 * RECORD_BYTES);
    bytes[0] = 7;
    bytes[RECORD_BYTES] = 2;
    // record 0: pixel (row 0, col 1) has R=10, G=20, B=30; pixel (31,31) has R=1, G=2, B=3
    bytes[1 + 1] = 10;
    bytes[1 + 1024 + 1] = 20;
    bytes[1 + 2048 + 1] = 30;
    bytes[1 + 1023] = 1;
    bytes[1 + 1024 + 1023] = 2;
    bytes[1 + 2048 + 1023] = 3;
    const set = parseCifarBinary(bytes, 'x.bin');
    expect(set.count).toBe(2);
    expect(Array.from(set.labels)).toEqual([7, 2]);
    expect(set.images.length).toBe(2 * IMAGE_BYTES);
    expect(Array.from(set.images.subarray(3, 6))).toEqual([10, 20, 30]);
    expect(Array.from(set.images.subarray(3 * 1023, 3 * 1024))).toEqual([1, 2, 3]);
  });

  it('rejects a file whose size is not a multiple of 3,073, naming the file', () => {
    expect(() => parseCifarBinary(makeBin(3).subarray(0, 3 * RECORD_BYTES - 5), 'data_batch_2.bin')).toThrow(
      /data_batch_2\.bin is 9,214 bytes, not a multiple of the 3073-byte CIFAR-10 record/,
    );
  });

  it('rejects a label byte above 9, naming the record', () => {
    const bytes = makeBin(5, 1, [0, 1, 2, 12, 4]);
    expect(() => parseCifarBinary(bytes, 'test_batch.bin')).toThrow(/test_batch\.bin, record 3: label byte is 12/);
  });

  it('rejects an empty file', () => {
    expect(() => parseCifarBinary(new Uint8Array(0), 'a.bin')).toThrow(DataError);
  });
});

describe('class names', () => {
  it('reads ten names from batches.meta.txt', () => {
    expect(parseClassNames(new TextDecoder().decode(metaText()))[9]).toBe('truck');
  });
  it('rejects a meta file with the wrong number of names', () => {
    expect(() => parseClassNames('cat\ndog\n')).toThrow(/lists 2 class names; CIFAR-10 has 10/);
  });
});

describe('archives', () => {
  it('unpacks a .tar.gz of cifar-10-batches-bin into a dataset', () => {
    const files = unpackArchive(makeTarGz(makeFiles(2, 30, 20)), 'cifar-10-binary.tar.gz');
    const ds = datasetFromFiles(files, 'dropped', 'k');
    expect(ds.train.count).toBe(60);
    expect(ds.test.count).toBe(20);
    expect(ds.classNames[0]).toBe('airplane');
    expect(ds.stats.mean[0]).toBeGreaterThan(100); // uniform bytes: mean ≈ 127.5
    expect(ds.stats.mean[0]).toBeLessThan(155);
  });

  it('accepts a plain .tar too', () => {
    expect(unpackArchive(makeTarGz(makeFiles(1, 10, 10), false), 'x.tar').has('test_batch.bin')).toBe(true);
  });

  it('reports a truncated or corrupt gzip', () => {
    const gz = makeTarGz(makeFiles(1, 10, 10));
    // cut where its last bytes still declare a small size: inflating finds the truncation
    let cut = gz.length >> 1;
    while (gz[cut - 1] !== 0 || gz[cut - 2] > 0x0f) cut--;
    expect(() => unpackArchive(gz.subarray(0, cut), 'cifar-10-binary.tar.gz')).toThrow(
      /cifar-10-binary\.tar\.gz is not a valid gzip file \(corrupt or truncated\)/,
    );
    // cut anywhere else, its last bytes may declare a huge size: refused before unpacking, naming both causes
    expect(() => unpackArchive(gz.subarray(0, gz.length >> 1), 'cifar-10-binary.tar.gz')).toThrow(
      /not a valid gzip file \(corrupt or truncated\)|declares \d+ MB unpacked .* truncated or damaged/,
    );
    const flipped = gz.slice();
    for (let i = 20; i < 200; i++) flipped[i] ^= 0xa5;
    expect(() => unpackArchive(flipped, 'cifar-10-binary.tar.gz')).toThrow(/not a valid gzip file|not a tar archive|damaged/);
  });

  it('refuses a gzip bomb: by its declared size before unpacking, and while inflating when the declared size lies', () => {
    const zeros = gzipSync(new Uint8Array(4 * 2 ** 20));
    expect(zeros.length).toBeLessThan(2 ** 16);
    // with a 1 MB limit, 4 MB of zeros is a bomb; its trailer says so
    expect(() => gunzip(zeros, 'bomb.tar.gz', 2 ** 20)).toThrow(/bomb\.tar\.gz declares 4 MB unpacked .* over the 1 MB limit, so it was not unpacked/);
    // the trailer rewritten to claim 1 KB: inflating stops at the limit
    const liar = zeros.slice();
    liar.set([0, 4, 0, 0], liar.length - 4);
    expect(() => gunzip(liar, 'bomb.tar.gz', 2 ** 20)).toThrow(/bomb\.tar\.gz unpacks to more than 1 MB; .* gzip bomb/);
    expect(MAX_UNPACKED_BYTES).toBeGreaterThan(185 * 2 ** 20);
    // and a valid archive within the limit unpacks
    expect(gunzip(gzipSync(new Uint8Array(1000).fill(7)), 'ok.gz', 2 ** 20)).toEqual(new Uint8Array(1000).fill(7));
  });

  it('refuses a drop larger than CIFAR-10 could be, before reading it, with the figure and the limit', () => {
    expect(dropSizeError([{ name: 'cifar-10-binary.tar.gz', size: 170_052_171 }])).toBeNull();
    expect(dropSizeError(Array.from({ length: 6 }, (_, i) => ({ name: `b${i}.bin`, size: 30_730_000 })))).toBeNull();
    expect(dropSizeError([{ name: 'movie.mkv', size: 2 ** 31 }])).toBe(
      'movie.mkv: 2048 MB is more than the 256 MB a drop may hold; CIFAR-10’s binary archive is 163 MB (the six .bin files, 185 MB)',
    );
    expect(
      dropSizeError([
        { name: 'a', size: MAX_DROP_BYTES },
        { name: 'b', size: 1 },
      ]),
    ).toMatch(/^2 files: 256 MB is more than/);
  });

  it('reports a tar without the expected files', () => {
    const tgz = makeTarGz([{ name: 'cifar-10-batches-py/data_batch_1', data: new Uint8Array(10) }]);
    expect(() => unpackArchive(tgz, 'cifar-10-python.tar.gz')).toThrow(
      /does not hold the expected files: missing cifar-10-batches-bin\/test_batch\.bin and cifar-10-batches-bin\/data_batch_1\.bin/,
    );
  });

  it('reports something that is not an archive', () => {
    expect(() => filesFromDrop([{ name: 'notes.txt', bytes: new TextEncoder().encode('hello') }])).toThrow(
      /neither a CIFAR-10 \.bin batch nor a \.tar\.gz archive/,
    );
  });

  it('takes loose .bin files as dropped', () => {
    const files = filesFromDrop([
      { name: 'data_batch_1.bin', bytes: makeBin(10) },
      { name: 'test_batch.bin', bytes: makeBin(5) },
    ]);
    expect(datasetFromFiles(files, 'dropped', 'k').train.count).toBe(10);
  });

  it('says which file is missing when no test batch was given', () => {
    expect(() => datasetFromFiles(new Map([['data_batch_1.bin', makeBin(3)]]), 'dropped', 'k')).toThrow(/no test_batch\.bin found/);
  });
});

describe('checksums', () => {
  it('computes SHA-256 (known vector) and tells two fixtures apart', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex(makeBin(2, 1))).not.toBe(await sha256Hex(makeBin(2, 2)));
  });
});

describe('subsets', () => {
  const ds = datasetFromFiles(
    new Map([
      ['data_batch_1.bin', makeBin(100)],
      ['test_batch.bin', makeBin(40, 3)],
    ]),
    'fixture',
    'k',
  );
  it('takes the first images of the training set and a fixed test subset', () => {
    const s = selectSubsets(ds, 30, 10, 'test');
    expect([s.train.count, s.test.count]).toEqual([30, 10]);
    expect(s.test.labels).toEqual(ds.test.labels.subarray(0, 10));
  });
  it('holds out the last tenth (at most 5,000) of the training set in the paper split', () => {
    const s = selectSubsets(ds, 1000, 1000, 'paper');
    expect([s.train.count, s.test.count]).toEqual([90, 10]);
    expect(s.test.labels).toEqual(ds.train.labels.subarray(90, 100));
  });
  it('computes per-channel statistics', () => {
    const st = channelStats({ images: new Uint8Array([0, 10, 20, 2, 10, 40]), labels: new Uint8Array(0), count: 0 });
    expect(st.mean).toEqual([1, 10, 30]);
    expect(st.std).toEqual([1, 0, 10]);
  });
});
