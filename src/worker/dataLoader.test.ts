// The worker's data loading in Node: there is no IndexedDB here, which is exactly the case of a
// browser whose storage is full or blocked. The data must still load, with a note saying so.
import { describe, expect, it } from 'vitest';
import { makeFiles, makeTarGz } from '../core/data/testing/fixtures';
import { loadDropped } from './dataLoader';

describe('loadDropped', () => {
  it('loads a dropped archive, and trains without the cache (saying why) when storage is unavailable', async () => {
    const archive = makeTarGz(makeFiles(1, 40, 10));
    const { dataset, cacheNote } = await loadDropped([
      { name: 'cifar-10-binary.tar.gz', bytes: archive.buffer.slice(archive.byteOffset, archive.byteOffset + archive.byteLength) as ArrayBuffer },
    ]);
    expect(dataset.train.count).toBe(40);
    expect(dataset.source).toBe('dropped');
    expect(cacheNote).toMatch(/the browser would not store the decoded data .*; the lab trains without the cache/);
  });

  it('refuses a corrupt archive with a specific message', async () => {
    const bytes = new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]);
    await expect(loadDropped([{ name: 'broken.tar.gz', bytes: bytes.buffer }])).rejects.toThrow(/broken\.tar\.gz is not a valid gzip file/);
  });
});
