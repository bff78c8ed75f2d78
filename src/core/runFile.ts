// A run as a file: the config that made it, its nets and every recorded point. The page exports
// and imports this JSON, and the headless runner writes it. An import is checked with valibot
// (structure) and validateConfig (the config), and a bad file is refused whole with a reason.
import { gunzipSync } from 'fflate';
import * as v from 'valibot';
import type { ExperimentConfig } from './config';
import { validateConfig } from './config';
import type { NetInfo, NetSeries, Progress } from './metrics';
import { BLOCK_TYPES, NET_FAMILIES, SHORTCUTS } from './nets';
import { WARMUP_MODES } from './schedule';
import type { RunLandscape } from './landscape';

export const RUN_FORMAT = 'degradation-lab-run';
export const RUN_VERSION = 1;

/**
 * Run files larger than this are refused before they are read. The largest run the lab can record
 * (200,000 iterations of a dozen nets) is far smaller, so a file this big is not a run file.
 */
export const MAX_RUN_FILE_BYTES = 256 * 2 ** 20;

/** Why a file of `bytes` is refused, or null when its size is acceptable. */
export function runFileSizeError(fileName: string, bytes: number): string | null {
  return bytes > MAX_RUN_FILE_BYTES
    ? `${fileName} is ${(bytes / 2 ** 20).toFixed(0)} MB; run files over ${MAX_RUN_FILE_BYTES / 2 ** 20} MB are refused (no run the lab records is that large)`
    : null;
}

/**
 * A run file's text from its bytes: JSON, or JSON gzipped (run.json.gz, as the docs commit their runs;
 * told by gzip's magic bytes, not by the name). A gzip stream that does not decompress, or decompresses
 * past the size limit, is refused with the file's name.
 */
export function runFileText(fileName: string, bytes: Uint8Array): string {
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    // gzip's trailer states the decompressed size (mod 2³²): a file that claims too much is refused unread
    const claimed = bytes.length >= 18 ? new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 4, 4).getUint32(0, true) : 0;
    if (claimed > MAX_RUN_FILE_BYTES) {
      throw new Error(
        `${fileName} is gzip-compressed and its trailer says it decompresses to ${(claimed / 2 ** 20).toFixed(0)} MB: run files over ${MAX_RUN_FILE_BYTES / 2 ** 20} MB are refused, so it is not a run file, or it is damaged or cut short`,
      );
    }
    let raw: Uint8Array;
    try {
      raw = gunzipSync(bytes);
    } catch (err) {
      throw new Error(
        `${fileName} is gzip-compressed but does not decompress (${err instanceof Error ? err.message : String(err)}): the file is damaged or cut short`,
      );
    }
    const tooBig = runFileSizeError(`${fileName} (decompressed)`, raw.byteLength);
    if (tooBig) throw new Error(tooBig);
    bytes = raw;
  }
  return new TextDecoder().decode(bytes);
}

export type RunStatus = 'running' | 'paused' | 'stopped' | 'done' | 'failed';

export interface RunFile {
  format: typeof RUN_FORMAT;
  version: typeof RUN_VERSION;
  name: string;
  createdAt: string;
  config: ExperimentConfig;
  /** The engine that trained it, e.g. "lab-cpu (WebAssembly SIMD, 2 threads)". */
  backend: string;
  dataset: string;
  status: RunStatus;
  progress: Progress;
  nets: NetInfo[];
  series: Record<string, NetSeries>;
  /** The run's last loss landscape (issue #27), if one was computed. */
  landscape?: RunLandscape;
}

const finite = v.pipe(v.number(), v.finite());
const numbers = v.array(finite);

const SeriesSchema = v.object({
  train: v.object({ it: numbers, loss: numbers, err: numbers, runErr: numbers, lr: numbers }),
  test: v.object({ it: numbers, err: numbers, loss: v.array(v.nullable(finite)) }),
  taps: v.array(
    v.object({
      it: finite,
      layerStd: numbers,
      layerStdEval: v.optional(numbers),
      gradNorms: numbers,
      images: v.optional(v.pipe(finite, v.integer(), v.minValue(1))),
      gateMeans: v.optional(numbers),
      residualRatios: v.optional(numbers),
    }),
  ),
});

const NetInfoSchema = v.object({
  id: v.pipe(v.string(), v.minLength(1)),
  label: v.string(),
  depth: v.pipe(finite, v.integer()),
  residual: v.boolean(),
  family: v.optional(v.picklist(NET_FAMILIES)),
  shortcut: v.picklist(SHORTCUTS),
  block: v.optional(v.picklist(BLOCK_TYPES)),
  warmup: v.optional(v.picklist(WARMUP_MODES)),
  params: finite,
  status: v.picklist(['pending', 'training', 'done', 'diverged']),
  divergedAt: v.nullable(finite),
});

const LandscapeSchema = v.object({
  iteration: v.pipe(finite, v.integer()),
  seed: finite,
  grid: v.pipe(finite, v.integer(), v.minValue(1)),
  span: v.pipe(finite, v.minValue(0)),
  sample: v.pipe(finite, v.integer(), v.minValue(1)),
  nets: v.array(
    v.object({
      id: v.string(),
      label: v.string(),
      loss: v.array(v.array(v.nullable(finite))),
      err: v.array(numbers),
      seconds: finite,
    }),
  ),
  identity: v.optional(v.array(v.object({ id: v.string(), label: v.string(), images: v.pipe(finite, v.integer()), ratios: numbers }))),
  paths: v.optional(v.array(v.object({ id: v.string(), label: v.string(), t: numbers, loss: v.array(v.nullable(finite)), err: numbers }))),
});

const RunFileSchema = v.object({
  format: v.literal(RUN_FORMAT),
  version: v.literal(RUN_VERSION),
  name: v.string(),
  createdAt: v.string(),
  config: v.record(v.string(), v.unknown()),
  backend: v.string(),
  dataset: v.string(),
  status: v.picklist(['running', 'paused', 'stopped', 'done', 'failed']),
  progress: v.object({ iteration: finite, iterations: finite, imagesPerSec: finite, elapsedMs: finite, etaMs: v.nullable(finite) }),
  nets: v.pipe(v.array(NetInfoSchema), v.minLength(1)),
  series: v.record(v.string(), SeriesSchema),
  landscape: v.optional(LandscapeSchema),
});

export class RunFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFileError';
  }
}

/** Parse and check a run file; throws RunFileError saying what is wrong, and where. */
export function parseRunFile(text: string): RunFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RunFileError(`not a run file: the JSON does not parse (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof json === 'object' && json !== null && (json as { format?: unknown }).format !== RUN_FORMAT) {
    throw new RunFileError(`not a Degradation Lab run: "format" is ${JSON.stringify((json as { format?: unknown }).format)}, expected "${RUN_FORMAT}"`);
  }
  const parsed = v.safeParse(RunFileSchema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join('.') ?? '(top level)';
    throw new RunFileError(`the run file is damaged at ${path}: ${issue.message}`);
  }
  const run = parsed.output;
  const { config, issues } = validateConfig(run.config);
  const errors = issues.filter((i) => i.level === 'error');
  if (errors.length) throw new RunFileError(`the run's config is invalid: ${errors.map((e) => e.message).join('; ')}`);
  for (const n of run.nets) {
    const s = run.series[n.id];
    if (!s) throw new RunFileError(`the run file has no series for net ${n.id}`);
    const len = s.train.it.length;
    if ([s.train.loss, s.train.err, s.train.runErr, s.train.lr].some((c) => c.length !== len))
      throw new RunFileError(`series ${n.id}.train has columns of different lengths`);
    if ([s.test.err, s.test.loss].some((c) => c.length !== s.test.it.length)) throw new RunFileError(`series ${n.id}.test has columns of different lengths`);
  }
  for (const l of run.landscape?.nets ?? []) {
    const rows = run.landscape!.grid;
    if (l.loss.length !== rows || l.err.length !== rows || [...l.loss, ...l.err].some((r) => r.length !== rows))
      throw new RunFileError(`the landscape of ${l.label} is not ${rows}×${rows} points`);
  }
  return { ...run, config } as RunFile;
}

export function runFileName(run: Pick<RunFile, 'name' | 'createdAt'>): string {
  const safe = run.name.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'run';
  return `${safe}.run.json`;
}
