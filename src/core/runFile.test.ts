import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from './config';
import { emptySeries } from './metrics';
import { gzipSync, strToU8 } from 'fflate';
import { MAX_RUN_FILE_BYTES, RUN_FORMAT, parseRunFile, runFileName, runFileText } from './runFile';
import type { RunFile } from './runFile';

function sample(): RunFile {
  const s = emptySeries();
  s.train = { it: [1, 2], loss: [2.3, 2.2], err: [0.9, 0.85], runErr: [0.9, 0.875], lr: [0.1, 0.1] };
  s.test = { it: [0], err: [0.9], loss: [2.3] };
  s.taps = [{ it: 0, layerStd: [1, 0.9], gradNorms: [0.1, 0.2, 0.3] }];
  return {
    format: RUN_FORMAT,
    version: 1,
    name: 'Shortcut A',
    createdAt: '2026-11-28T10:00:00.000Z',
    config: { ...DEFAULT_CONFIG, depths: [20] },
    backend: 'lab-cpu',
    dataset: 'CIFAR-10',
    status: 'paused',
    progress: { iteration: 2, iterations: 2000, imagesPerSec: 100, elapsedMs: 5000, etaMs: null },
    nets: [{ id: 'plain-20', label: 'plain-20', depth: 20, residual: false, shortcut: 'A', params: 269722, status: 'training', divergedAt: null }],
    series: { 'plain-20': s },
  };
}

describe('run files', () => {
  it('round-trips through JSON', () => {
    const run = sample();
    expect(parseRunFile(JSON.stringify(run))).toEqual(run);
  });

  it('keeps a test loss that overflowed as null (ResNet-1202 at iteration 0), and still refuses a null training loss', () => {
    const run = sample();
    run.series['plain-20'].test = { it: [0, 100], err: [0.9, 0.7], loss: [null, 1.2] };
    expect(parseRunFile(JSON.stringify(run)).series['plain-20'].test.loss).toEqual([null, 1.2]);
    const bad = sample() as unknown as { series: Record<string, { train: { loss: unknown[] } }> };
    bad.series['plain-20'].train.loss[0] = null;
    expect(() => parseRunFile(JSON.stringify(bad))).toThrow(/damaged at series\.plain-20\.train\.loss\.0/);
  });

  it('keeps a loss landscape (an overflowed point as null), and refuses one whose grid is not square', () => {
    const run = sample();
    run.landscape = {
      iteration: 2,
      seed: 1,
      grid: 2,
      span: 1,
      sample: 64,
      nets: [
        {
          id: 'plain-20',
          label: 'plain-20',
          loss: [
            [2.3, null],
            [2.1, 2.2],
          ],
          err: [
            [0.9, 1],
            [0.8, 0.85],
          ],
          seconds: 1.5,
        },
      ],
    };
    expect(parseRunFile(JSON.stringify(run)).landscape).toEqual(run.landscape);
    run.landscape.nets[0].err[1] = [0.8];
    expect(() => parseRunFile(JSON.stringify(run))).toThrow('the landscape of plain-20 is not 2×2 points');
    run.landscape.grid = 0;
    expect(() => parseRunFile(JSON.stringify(run))).toThrow(/damaged at landscape\.grid/);
  });

  it('reads a run file gzipped (run.json.gz), told by its bytes, and plain JSON unchanged', () => {
    const run = sample();
    const json = JSON.stringify(run);
    expect(parseRunFile(runFileText('run.json.gz', gzipSync(strToU8(json))))).toEqual(run);
    expect(parseRunFile(runFileText('renamed.json', gzipSync(strToU8(json))))).toEqual(run);
    expect(runFileText('run.json', strToU8(json))).toBe(json);
  });

  it('refuses a gzipped run file that is cut short, or that decompresses past the size limit, naming the file', () => {
    const gz = gzipSync(strToU8(JSON.stringify(sample())));
    // cut short: its last bytes are not a trailer, so it is refused either by the size they state or as it decompresses
    expect(() => runFileText('run.json.gz', gz.subarray(0, gz.length >> 1))).toThrow(/^run\.json\.gz is gzip-compressed .*damaged or cut short/);
    expect(() => runFileText('run.json.gz', gz.subarray(0, gz.length - 9))).toThrow(/^run\.json\.gz is gzip-compressed .*damaged or cut short/);
    // a stream whose trailer states more than the limit is refused before it is decompressed
    const bomb = gz.slice();
    new DataView(bomb.buffer).setUint32(bomb.length - 4, MAX_RUN_FILE_BYTES + 2 ** 20, true);
    expect(() => runFileText('bomb.json.gz', bomb)).toThrow(
      /^bomb\.json\.gz is gzip-compressed and its trailer says it decompresses to 257 MB: run files over 256 MB are refused/,
    );
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseRunFile('{"format": ')).toThrow(/not a run file: the JSON does not parse/);
  });

  it('refuses another kind of JSON file', () => {
    expect(() => parseRunFile('{"format": "something-else"}')).toThrow(/not a Degradation Lab run: "format" is "something-else"/);
  });

  it('keeps how many images each evaluation measured the responses on, and refuses a count that is not a whole number of images', () => {
    const run = sample();
    run.series['plain-20'].taps = [{ it: 0, layerStd: [1, 0.9], gradNorms: [0.1, 0.2, 0.3], images: 64 }];
    expect(parseRunFile(JSON.stringify(run)).series['plain-20'].taps[0].images).toBe(64);
    for (const images of [0, 1.5]) {
      run.series['plain-20'].taps[0].images = images;
      expect(() => parseRunFile(JSON.stringify(run))).toThrow(/damaged at series\.plain-20\.taps\.0\.images/);
    }
  });

  it('says where a damaged file is damaged', () => {
    const run = sample() as unknown as { series: Record<string, { train: { loss: unknown[] } }> };
    run.series['plain-20'].train.loss[1] = 'NaN';
    expect(() => parseRunFile(JSON.stringify(run))).toThrow(/damaged at series\.plain-20\.train\.loss\.1/);
  });

  it('refuses an invalid config, naming the field', () => {
    const run = sample() as unknown as { config: Record<string, unknown> };
    run.config.shortcuts = ['Z'];
    expect(() => parseRunFile(JSON.stringify(run))).toThrow(/the run's config is invalid: shortcuts: "Z" is not a shortcut option/);
  });

  it('refuses series whose columns differ in length', () => {
    const run = sample();
    run.series['plain-20'].train.lr.pop();
    expect(() => parseRunFile(JSON.stringify(run))).toThrow(/plain-20\.train has columns of different lengths/);
  });

  it('refuses a net without a series', () => {
    const run = sample();
    run.series = {};
    expect(() => parseRunFile(JSON.stringify(run))).toThrow(/no series for net plain-20/);
  });

  it('makes a safe file name', () => {
    expect(runFileName({ name: 'Shortcut A / B?', createdAt: '' })).toBe('Shortcut-A-B.run.json');
  });
});
