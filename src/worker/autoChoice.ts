// `auto`, by measurement: time a few training steps of the experiment's largest net on each engine
// that can run it here (the lab WebGPU engine and tfjs WebGPU on a GPU adapter, the lab CPU engine
// always), in about a second each, and take the fastest. The figures go in
// the status line ("WebGPU 2,140 img/s · CPU 380 img/s") and are remembered for this adapter and
// workload in IndexedDB, so the next run starts at once. A forced backend never comes here.
import { openDB } from 'idb';
import type { BackendReport } from '../core/backend';
import type { BackendChoice } from '../core/config';
import type { NetSpec } from '../core/nets';
import { multiplyAdds } from '../core/nets';
import { Rng } from '../core/rng';
import type { EngineName } from '../core/train';
import { ENGINES, initialState } from '../core/train';
import type { AutoWorkload, EngineHandle } from './engines';

/** Timed steps per engine stop after this long (the warm-up step, which compiles, is not counted). */
const MEASURE_BUDGET_MS = 1000;
const MAX_TIMED_STEPS = 3;

interface EngineFigure {
  engine: EngineName;
  /** Images per second of the largest net; null when the engine could not run it. */
  imagesPerSec: number | null;
  note?: string;
}

/** "WebGPU 2,140 img/s · CPU 380 img/s", fastest first; then the engines not timed, with why (a short reason). */
export function figuresText(figures: readonly EngineFigure[]): string {
  const timed = [...figures]
    .filter((f) => f.imagesPerSec !== null)
    .sort((a, b) => b.imagesPerSec! - a.imagesPerSec!)
    .map((f) => `${ENGINES[f.engine].short} ${Math.round(f.imagesPerSec!).toLocaleString('en')} img/s`);
  const skipped = figures.filter((f) => f.imagesPerSec === null && f.note).map((f) => `${ENGINES[f.engine].short}: ${f.note}`);
  return [...timed, ...skipped].join(' · ');
}

/** What WebGPU offers here: nothing, only a software adapter (SwiftShader, a CPU emulation), or a GPU. */
type WebGpuKind = 'none' | 'software' | 'hardware';

/** Said in the status line when the only adapter is a software one. */
export const SOFTWARE_ADAPTER_NOTE = 'not timed, the only adapter is a software one';

/** The fastest engine measured; the lab CPU engine when none ran. */
export function fastest(figures: readonly EngineFigure[]): EngineName {
  const ran = figures.filter((f) => f.imagesPerSec !== null);
  if (!ran.length) return 'lab-cpu';
  return ran.reduce((a, b) => (b.imagesPerSec! > a.imagesPerSec! ? b : a)).engine;
}

/**
 * The engines `auto` times here. A software adapter (SwiftShader) is a CPU emulation of a GPU,
 * 110–190× slower than the lab CPU engine for these nets (docs/benchmarks.md §6): timing it
 * would only add its shader compilation, some 10 s, to the start of a run, so neither GPU engine
 * is timed on one.
 */
export function candidates(report: BackendReport | null, webgpu: WebGpuKind): Exclude<BackendChoice, 'auto'>[] {
  const out: Exclude<BackendChoice, 'auto'>[] = [];
  if (webgpu === 'hardware') out.push('lab-webgpu');
  out.push('lab-cpu');
  if (webgpu === 'hardware' && report && report.active === 'webgpu' && !report.software) out.push('webgpu');
  return out;
}

export function largestNet(specs: readonly NetSpec[]): NetSpec {
  return specs.reduce((a, b) => (multiplyAdds(b) > multiplyAdds(a) ? b : a));
}

/** Images per second of `spec` on an engine: a warm-up step, then up to 3 steps within the budget, median. */
async function timeEngine(h: EngineHandle, spec: NetSpec, batch: number): Promise<number> {
  const size = spec.options.inputSize;
  const rng = new Rng(1, 'auto-choice');
  const x = Float32Array.from({ length: batch * size * size * 3 }, () => rng.normal());
  const labels = Uint8Array.from({ length: batch }, () => rng.int(10));
  h.engine.setBatch({ x, labels, size: batch, imageSize: size });
  const net = h.engine.createNet(spec, initialState(spec, 1));
  try {
    let t = performance.now();
    await net.step(0);
    const times = [performance.now() - t];
    const start = performance.now();
    while (times.length <= MAX_TIMED_STEPS && performance.now() - start < MEASURE_BUDGET_MS) {
      t = performance.now();
      await net.step(0);
      times.push(performance.now() - t);
    }
    const timed = times.length > 1 ? times.slice(1).sort((a, b) => a - b) : times;
    return (batch * 1000) / timed[Math.floor(timed.length / 2)];
  } finally {
    net.dispose();
  }
}

const DB = 'degradation-lab-auto';
const STORE = 'figures';

async function figuresDb() {
  return openDB(DB, 1, { upgrade: (db) => void db.createObjectStore(STORE) });
}

async function remembered(key: string): Promise<EngineFigure[] | null> {
  try {
    return ((await (await figuresDb()).get(STORE, key)) as EngineFigure[] | undefined) ?? null;
  } catch {
    return null; // no IndexedDB (private mode): measure every time
  }
}

async function remember(key: string, figures: EngineFigure[]): Promise<void> {
  try {
    await (await figuresDb()).put(STORE, figures, key);
  } catch {
    // as above
  }
}

/** The adapter's identity (the key its figures are remembered under) and kind. */
async function adapterOf(): Promise<{ key: string; kind: WebGpuKind }> {
  if (typeof navigator === 'undefined' || !navigator.gpu) return { key: 'no-webgpu', kind: 'none' };
  const a = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!a) return { key: 'no-adapter', kind: 'none' };
  const i = a.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const fallback =
    i.isFallbackAdapter === true ||
    (a as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    /swiftshader/i.test(`${i.vendor} ${i.architecture}`);
  return { key: [i.vendor, i.architecture, i.device, i.description, fallback ? 'fallback' : ''].join('/'), kind: fallback ? 'software' : 'hardware' };
}

/** Measure (or recall) and open the fastest engine for the workload; the handle carries the figures (`measured`). */
export async function chooseByMeasurement(
  workload: AutoWorkload,
  report: BackendReport | null,
  open: (choice: Exclude<BackendChoice, 'auto'>) => Promise<EngineHandle>,
): Promise<EngineHandle> {
  const spec = largestNet(workload.specs);
  const adapter = await adapterOf();
  const engines = candidates(report, adapter.kind);
  const key = `${adapter.key}|${spec.label}|w${spec.options.width}|in${spec.options.inputSize}|b${workload.batch}|${engines.join(',')}`;
  let figures = await remembered(key);
  const recalled = figures !== null;
  if (!figures) {
    figures = adapter.kind === 'software' ? [{ engine: 'lab-webgpu', imagesPerSec: null, note: SOFTWARE_ADAPTER_NOTE }] : [];
    for (const engine of engines) {
      try {
        figures.push({ engine, imagesPerSec: await timeEngine(await open(engine), spec, workload.batch) });
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        figures.push({ engine, imagesPerSec: null, note: message.split('\n')[0].slice(0, 120) });
      }
    }
    await remember(key, figures);
  }
  const choice = fastest(figures);
  const h = await open(choice as Exclude<BackendChoice, 'auto'>);
  const text = figuresText(figures);
  return { ...h, measured: `${text}${recalled ? ' (measured before on this adapter)' : ''}` };
}
