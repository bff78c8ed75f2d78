// Fuzzing every parser of outside input with random mutations of valid inputs (seeded, so a
// failure reproduces): the URL codec, the run file, the CIFAR-10 .bin parser and the archive
// unpacker. Each may accept or refuse an input, but only with its own specific error: never a
// crash of another kind, never a hang (the test's time limit), never an invalid result.
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, DEFAULT_CONFIG, configFromQuery, configToQuery, validateConfig } from './config';
import { filesFromDrop } from './data/archive';
import { DataError, datasetFromFiles, parseCifarBinary } from './data/cifar10';
import { makeFiles, makeTarGz } from './data/testing/fixtures';
import { emptySeries } from './metrics';
import { CLASSROOM } from './presets';
import { RUN_FORMAT, RUN_VERSION, RunFileError, parseRunFile } from './runFile';
import { Rng } from './rng';

const ROUNDS = 300;

/** A copy of `bytes` with a few random edits: flipped bytes, a cut, a deleted or repeated span. */
function mutateBytes(bytes: Uint8Array, rng: Rng): Uint8Array {
  let out = bytes.slice();
  const edits = 1 + rng.int(4);
  for (let e = 0; e < edits; e++) {
    const at = rng.int(Math.max(1, out.length));
    switch (rng.int(4)) {
      case 0:
        out[at] = rng.int(256);
        break;
      case 1:
        out = out.slice(0, at);
        break;
      case 2:
        out = new Uint8Array([...out.subarray(0, at), ...out.subarray(Math.min(out.length, at + 1 + rng.int(64)))]);
        break;
      default: {
        const span = out.subarray(at, at + 1 + rng.int(64));
        out = new Uint8Array([...out.subarray(0, at), ...span, ...span, ...out.subarray(at + span.length)]);
      }
    }
  }
  return out;
}

const WEIRD: unknown[] = [null, true, -1, 0, 1e308, 'x', '', [], {}, [1, 'a'], { a: 1 }, Number.MAX_SAFE_INTEGER, -0.5, '20,56', 'NaN'];

/** A copy of a JSON value with one randomly chosen node replaced by something odd, or deleted. */
function mutateJson(value: unknown, rng: Rng): unknown {
  const copy = JSON.parse(JSON.stringify(value)) as unknown;
  const nodes: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        nodes.push({ parent: v, key: i });
        walk(x);
      });
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        nodes.push({ parent: v as Record<string, unknown>, key: k });
        walk(x);
      }
    }
  };
  walk(copy);
  const { parent, key } = nodes[rng.int(nodes.length)];
  if (rng.int(5) === 0 && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
  else (parent as Record<string | number, unknown>)[key] = WEIRD[rng.int(WEIRD.length)];
  return copy;
}

function only<E extends Error>(kind: new (...a: never[]) => E, f: () => unknown): 'ok' | 'refused' {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (err instanceof kind) return 'refused';
    throw new Error(`unexpected ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
}

describe('fuzzing the parsers', () => {
  it('the URL codec: any query gives a valid config, with issues instead of exceptions', () => {
    const rng = new Rng(1, 'fuzz-url');
    const base = new TextEncoder().encode(configToQuery(CLASSROOM));
    for (let r = 0; r < ROUNDS; r++) {
      const query = new TextDecoder().decode(mutateBytes(base, rng));
      const { config, issues } = configFromQuery(query);
      expect(
        validateConfig(config).issues.filter((i) => i.level === 'error'),
        query,
      ).toEqual([]);
      for (const i of issues) expect(CONFIG_KEYS).toContain(i.field);
    }
  });

  it('the run file: accepted whole or refused with a RunFileError', () => {
    const rng = new Rng(2, 'fuzz-run');
    const s = emptySeries();
    s.train.it.push(1, 2);
    s.train.loss.push(2.3, 2.2);
    s.train.err.push(0.9, 0.8);
    s.train.runErr.push(0.9, 0.85);
    s.train.lr.push(0.1, 0.1);
    s.test.it.push(2);
    s.test.err.push(0.8);
    s.test.loss.push(2.1);
    s.taps.push({ it: 2, layerStd: [1, 2], gradNorms: [0.1, 0.2] });
    const run = {
      format: RUN_FORMAT,
      version: RUN_VERSION,
      name: 'fuzz',
      createdAt: '2026-01-01T00:00:00.000Z',
      config: { ...DEFAULT_CONFIG, depths: [8], families: 'plain' },
      backend: 'lab-cpu',
      dataset: 'fixture',
      status: 'done',
      progress: { iteration: 2, iterations: 2, imagesPerSec: 1, elapsedMs: 1, etaMs: null },
      nets: [{ id: 'plain-8', label: 'plain-8', depth: 8, residual: false, shortcut: 'A', params: 100, status: 'done', divergedAt: null }],
      series: { 'plain-8': s },
    };
    expect(only(RunFileError, () => parseRunFile(JSON.stringify(run)))).toBe('ok');
    const text = new TextEncoder().encode(JSON.stringify(run));
    const outcomes = { ok: 0, refused: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const input = r % 2 ? JSON.stringify(mutateJson(run, rng)) : new TextDecoder().decode(mutateBytes(text, rng));
      outcomes[only(RunFileError, () => parseRunFile(input))]++;
    }
    expect(outcomes.refused).toBeGreaterThan(ROUNDS / 2);
  });

  it('the .bin parser: parsed or refused with a DataError', () => {
    const rng = new Rng(3, 'fuzz-bin');
    const [batch] = makeFiles(1, 20, 1);
    for (let r = 0; r < ROUNDS; r++) only(DataError, () => parseCifarBinary(mutateBytes(batch.data, rng), 'data_batch_1.bin'));
  });

  it('the archive unpacker: unpacked into a dataset or refused with a DataError', () => {
    const rng = new Rng(4, 'fuzz-archive');
    const archive = makeTarGz(makeFiles(1, 10, 10));
    const outcomes = { ok: 0, refused: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const bytes = r % 3 === 0 ? makeTarGz(makeFiles(1, 10, 10), false) : archive;
      outcomes[
        only(DataError, () => datasetFromFiles(filesFromDrop([{ name: 'cifar-10-binary.tar.gz', bytes: mutateBytes(bytes, rng) }]), 'dropped', 'fuzz'))
      ]++;
    }
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});
