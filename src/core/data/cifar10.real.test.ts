// Integration test on the real CIFAR-10 files ($CIFAR10_DIR, set by .ci/run when ../shared/cifar10 exists).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { channelStats, classCounts, datasetFromFiles, parseCifarBinary } from './cifar10';
import { realDataDir } from '../../node/realData';

const dir = realDataDir();

describe.runIf(dir)(`real CIFAR-10 in ${dir}`, () => {
  it('data_batch_1.bin: first labels, class counts, first pixels and channel means', () => {
    const t0 = performance.now();
    const set = parseCifarBinary(readFileSync(join(dir!, 'data_batch_1.bin')), 'data_batch_1.bin');
    const parseMs = performance.now() - t0;
    expect(set.count).toBe(10_000);
    expect(Array.from(set.labels.subarray(0, 10))).toEqual([6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
    expect(classCounts(set.labels)).toEqual([1005, 974, 1032, 1016, 999, 937, 1030, 1001, 1025, 981]);
    expect(Array.from(set.images.subarray(0, 9))).toEqual([59, 62, 63, 43, 46, 45, 50, 48, 43]);
    const { mean, std } = channelStats(set);
    // All 50k images: 125.3 / 123.0 / 113.9. This one file of 10k is close to that.
    mean.forEach((m, c) => expect(Math.abs(m - [125.3, 123.0, 113.9][c])).toBeLessThan(1.5));
    console.log(
      `data_batch_1.bin: mean ${mean.map((m) => m.toFixed(2)).join('/')}, std ${std.map((s) => s.toFixed(2)).join('/')}; parsed in ${parseMs.toFixed(0)} ms`,
    );
  });

  it('the folder loads as a dataset, test records first labels 3,8,8,0,6,6,1,6,3,1', () => {
    const files = new Map(
      readdirSync(dir!)
        .filter((f) => /\.(bin|txt)$/.test(f))
        .map((f) => [f, new Uint8Array(readFileSync(join(dir!, f)))]),
    );
    const ds = datasetFromFiles(files, 'origin', 'real');
    // one batch (../shared/cifar10) or all five (the official download): 10,000 images each, batch 1 first
    const batches = [...files.keys()].filter((f) => /^data_batch_[1-5]\.bin$/.test(f)).length;
    expect(batches).toBeGreaterThanOrEqual(1);
    expect(ds.train.count).toBe(10_000 * batches);
    expect(Array.from(ds.train.labels.subarray(0, 10))).toEqual([6, 9, 9, 4, 1, 1, 2, 7, 8, 3]);
    expect(Array.from(ds.test.labels.subarray(0, 10))).toEqual([3, 8, 8, 0, 6, 6, 1, 6, 3, 1]);
    expect(ds.classNames).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
    expect(Array.from(ds.test.images.subarray(0, 3))).toEqual([158, 112, 49]);
  });
});
