// `auto`, by measurement: time a few training steps of the experiment's largest net on each engine
// that can run it here (the lab WebGPU engine where WebGPU exists, the lab CPU engine always, tfjs
// WebGPU on a hardware adapter), in about a second each, and take the fastest. The figures go in
// the status line ("WebGPU 2,140 img/s · CPU 380 img/s") and are remembered for this adapter and
// workload in IndexedDB, so the next run starts at once. A forced backend never comes here.
import { openDB } from 'idb';
import type { BackendReport } from '../core/backend';
import type { BackendChoice } from '../core/config';
import type { NetSpec } from '../core/nets';
import { multiplyAdds } from '../core/nets';
import { Rng } from '../core/rng';
import type { EngineName } from '../core/train';
import { initialState } from '../core/train';
import type { AutoWorkload, EngineHandle } from './engines';

/** Timed steps per engine stop after this long (the warm-up step, which compiles, is not counted). */
export const MEASURE_BUDGET_MS = 1000;
const MAX_TIMED_STEPS = 3;

export interface EngineFigure {
  engine: EngineName;
  /** Images per second of the largest net; null when the engine could not run it. */
  imagesPerSec: number | null;
  note?: string;
}

const SHORT: Partial<Record<EngineName, string>> = { 'lab-webgpu': 'WebGPU', 'lab-cpu': 'CPU', webgpu: 'tfjs WebGPU', webgl: 'tfjs WebGL' };

/** "WebGPU 2,140 img/s · CPU 380 img/s", fastest first. */
export function figuresText(figures: readonly EngineFigure[]): string {
  return [...figures]
    .filter((f) => f.imagesPerSec !== null)
    .sort((a, b) => b.imagesPerSec! - a.imagesPerSec!)
    .map((f) => `${SHORT[f.engine] ?? f.engine} ${Math.round(f.imagesPerSec!).toLocaleString('en')} img/s`)
    .join(' · ');
}

/** The fastest engine measured; the lab CPU engine when none ran. */
export function fastest(figures: readonly EngineFigure[]): EngineName {
  const ran = figures.filter((f) => f.imagesPerSec !== null);
  if (!ran.length) return 'lab-cpu';
  return ran.reduce((a, b) => (b.imagesPerSec! > a.imagesPerSec! ? b : a)).engine;
}

/** The engines `auto` may pick here. tfjs on a software adapter is left out: SwiftShader takes minutes per step there. */
export function candidates(report: BackendReport | null, hasWebGpu: boolean): Exclude<BackendChoice, 'auto'>[] {
  const out: Exclude<BackendChoice, 'auto'>[] = [];
  if (hasWebGpu) out.push('lab-webgpu');
  out.push('lab-cpu');
  if (report && report.active === 'webgpu' && !report.software) out.push('webgpu');
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

async function adapterKey(): Promise<string> {
  if (typeof navigator === 'undefined' || !navigator.gpu) return 'no-webgpu';
  const a = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
  if (!a) return 'no-adapter';
  const i = a.info;
  return [i.vendor, i.architecture, i.device, i.description, a.isFallbackAdapter ? 'fallback' : ''].join('/');
}

/** Measure (or recall) and open the fastest engine for the workload; its description carries the figures. */
export async function chooseByMeasurement(
  workload: AutoWorkload,
  report: BackendReport | null,
  open: (choice: Exclude<BackendChoice, 'auto'>) => Promise<EngineHandle>,
): Promise<EngineHandle> {
  const spec = largestNet(workload.specs);
  const adapter = await adapterKey();
  const engines = candidates(report, adapter !== 'no-webgpu' && adapter !== 'no-adapter');
  const key = `${adapter}|${spec.label}|w${spec.options.width}|in${spec.options.inputSize}|b${workload.batch}|${engines.join(',')}`;
  let figures = await remembered(key);
  const recalled = figures !== null;
  if (!figures) {
    figures = [];
    for (const engine of engines) {
      try {
        figures.push({ engine, imagesPerSec: await timeEngine(await open(engine), spec, workload.batch) });
      } catch (err) {
        figures.push({ engine, imagesPerSec: null, note: err instanceof Error ? err.message : String(err) });
      }
    }
    await remember(key, figures);
  }
  const choice = fastest(figures);
  const h = await open(choice as Exclude<BackendChoice, 'auto'>);
  const text = figuresText(figures);
  return { ...h, description: `${h.description} — auto: ${text}${recalled ? ' (measured before on this adapter)' : ''}` };
}
