// Choosing and creating the compute engine for an experiment, in the worker.
import type { BackendReport } from '../core/backend';
import { initBackend } from '../core/backend';
import type { BackendChoice } from '../core/config';
import { LabCpuEngine, chooseSchedule } from '../core/cpu/engine';
import type { Schedule } from '../core/cpu/engine';
import type { NetSpec } from '../core/nets';
import { relaxedSimdSupported, sharedMemorySupported, variantFile } from '../core/cpu/kernels';
import type { HelperInit } from '../core/cpu/kernels';
import { TfjsEngine } from '../core/tfjs/engine';
import { LabGpuEngine } from '../core/gpu/engine';
import { chooseByMeasurement } from './autoChoice';
import * as tf from '../core/tf';
import type { Engine, EngineName } from '../core/train';
import { ENGINES } from '../core/train';
import { heartbeat } from './heartbeat';
import relaxedShared from '../core/cpu/build/kernels-relaxed-shared.wasm?url';
import relaxed from '../core/cpu/build/kernels-relaxed.wasm?url';
import simdShared from '../core/cpu/build/kernels-simd-shared.wasm?url';
import simd from '../core/cpu/build/kernels-simd.wasm?url';
import tfWasm from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import tfWasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import tfWasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

const WASM_URLS: Record<string, string> = {
  'kernels-relaxed-shared.wasm': relaxedShared,
  'kernels-relaxed.wasm': relaxed,
  'kernels-simd-shared.wasm': simdShared,
  'kernels-simd.wasm': simd,
};

export interface EngineHandle {
  engine: Engine;
  name: EngineName;
  /** For the status line, e.g. "lab CPU engine (WebAssembly SIMD, 2 threads)". */
  description: string;
  /** Set when the GPU device or the WebGL context was lost. */
  lost: () => string | null;
  /** Settles with the message when the device or context is lost (a step in flight may never finish then). */
  whenLost?: Promise<string>;
  /** WebGL only, fault injection: lose the context for real (WEBGL_lose_context). */
  loseContext?: () => void;
  /** Kept for the session (the lab engines: threads or compiled kernels are costly to start); others are disposed when replaced. */
  persistent?: boolean;
  /** What `auto` measured to choose this engine (./autoChoice.ts), e.g. "WebGPU 2,140 img/s · CPU 380 img/s". */
  measured?: string;
}

/** The status line's words for an engine: its description, and what `auto` measured if it chose. */
export const engineLabel = (h: EngineHandle): string => (h.measured ? `${h.description} — auto: ${h.measured}` : h.description);

/** What 'auto' falls back to without measuring (no experiment to measure yet): a real GPU through tfjs if there is one, else the lab's CPU engine. */
function resolveAuto(report: BackendReport | null): Exclude<BackendChoice, 'auto'> {
  if (report && (report.active === 'webgpu' || report.active === 'webgl') && !report.software) return report.active;
  return 'lab-cpu';
}

/** The next backend to try after `failed` (for "resume on the next backend"). */
export function nextBackend(failed: EngineName): Exclude<BackendChoice, 'auto'> {
  return ENGINES[failed].next;
}

let labCpu: { handle: EngineHandle } | null = null;

async function createLabCpu(): Promise<EngineHandle> {
  const variant = { relaxed: relaxedSimdSupported(), shared: self.crossOriginIsolated === true && sharedMemorySupported() };
  const file = variantFile(variant);
  const res = await fetch(WASM_URLS[file]);
  if (!res.ok) throw new Error(`could not load the CPU kernels (${file}): ${res.status} ${res.statusText}`);
  const module = await WebAssembly.compileStreaming(res);
  // Every core: the tfjs wasm backend caps itself at half, which is one thread on a 2-core machine.
  const threads = variant.shared ? Math.max(1, navigator.hardwareConcurrency || 1) : 1;
  const engine = await LabCpuEngine.create({
    module,
    variant,
    threads,
    heartbeat: heartbeat ?? undefined,
    spawnHelper: (init: HelperInit) => {
      const w = new Worker(new URL('./cpuHelper.worker.ts', import.meta.url), { type: 'module', name: `cpu-helper-${init.tid}` });
      w.postMessage(init);
      return { terminate: () => w.terminate() };
    },
  });
  const why = variant.shared ? '' : ' — one thread: the page is not cross-origin isolated';
  return {
    engine,
    name: 'lab-cpu',
    description: `lab CPU engine (WebAssembly SIMD${variant.relaxed ? ' + FMA' : ''}, ${threads} thread${threads > 1 ? 's' : ''}${why})`,
    lost: () => null,
    persistent: true,
  };
}

let labGpu: { handle: EngineHandle } | null = null;

/** The lab WebGPU engine, kept for the session until its device is lost. */
async function createLabGpu(): Promise<EngineHandle> {
  const engine = await LabGpuEngine.create();
  let onLost: (message: string) => void = () => undefined;
  const whenLost = new Promise<string>((resolve) => (onLost = resolve));
  void engine.device.lost.then((info) => {
    labGpu = null;
    onLost(`the GPU device was lost (${info.reason}): ${info.message}`);
  });
  return {
    engine,
    name: 'lab-webgpu',
    description: `lab WebGPU engine on ${engine.adapterName}`,
    lost: () => engine.lostMessage,
    whenLost,
    persistent: true,
  };
}

const SCHEDULE_TEXT: Record<Schedule, string> = { ops: 'each op on every thread', nets: 'one net per thread' };

/**
 * Before an experiment: how the lab CPU engine shares its threads among these nets (whole nets
 * per thread when they balance, see chooseSchedule), or `force` it. Returns the handle with a
 * description that says which; other engines are returned as they are.
 */
export function planSchedule(h: EngineHandle, specs: readonly NetSpec[], force?: Schedule): EngineHandle {
  if (!(h.engine instanceof LabCpuEngine)) return h;
  const schedule = force ?? chooseSchedule(specs, h.engine.threads);
  h.engine.setSchedule(schedule);
  const base = h.description.replace(/, (each op on every thread|one net per thread)\)$/, ')');
  h.description = h.engine.threads > 1 ? base.replace(/\)$/, `, ${SCHEDULE_TEXT[schedule]})`) : base;
  return h;
}

/** tfjs's own wasm backend, for the benchmark only: it cannot train (no Conv2DBackpropFilter kernel). */
async function prepareTfjsWasm(): Promise<void> {
  const { setWasmPaths } = await import('@tensorflow/tfjs-backend-wasm');
  // Its threaded build spawns Emscripten pthread workers from inside our worker, which fails here;
  // the single-threaded SIMD build is what this backend offers on a 2-core machine anyway
  // (it caps threads at half the cores).
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  setWasmPaths({ 'tfjs-backend-wasm.wasm': tfWasm, 'tfjs-backend-wasm-simd.wasm': tfWasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': tfWasmThreaded });
}

/** What `auto` measures: the experiment's nets, its batch size, and its image size. */
export interface AutoWorkload {
  specs: readonly NetSpec[];
  batch: number;
}

/**
 * The engine for a backend choice. `auto` with a workload times the experiment's largest net on
 * each engine that can run it and takes the fastest (./autoChoice.ts); without one it falls back
 * to resolveAuto. The lab engines are kept for the session.
 */
export async function engineFor(choice: BackendChoice | 'wasm', report: BackendReport | null, workload?: AutoWorkload): Promise<EngineHandle> {
  if (choice === 'auto' && workload && workload.specs.length) {
    return chooseByMeasurement(workload, report, (c) => engineFor(c, report));
  }
  const resolved = choice === 'auto' ? resolveAuto(report) : choice;
  if (resolved === 'wasm') await prepareTfjsWasm();
  if (resolved === 'lab-cpu') {
    labCpu ??= { handle: await createLabCpu() };
    return labCpu.handle;
  }
  if (resolved === 'lab-webgpu') {
    labGpu ??= { handle: await createLabGpu() };
    return labGpu.handle;
  }
  const { adapter } = await initBackend(resolved);
  let lostMessage: string | null = null;
  let loseContext: (() => void) | undefined;
  let onLost: (message: string) => void = () => undefined;
  const whenLost = new Promise<string>((resolve) => {
    onLost = (message) => {
      lostMessage = message;
      resolve(message);
    };
  });
  if (resolved === 'webgpu') {
    const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
    void device?.lost.then((info) => onLost(`the GPU device was lost (${info.reason}): ${info.message}`));
  }
  if (resolved === 'webgl') {
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
    gl?.canvas.addEventListener('webglcontextlost', () => onLost('the WebGL context was lost (the browser reclaimed the GPU)'));
    loseContext = () => gl?.getExtension('WEBGL_lose_context')?.loseContext();
  }
  return { engine: new TfjsEngine(resolved), name: resolved, description: `tfjs ${resolved} on ${adapter}`, lost: () => lostMessage, whenLost, loseContext };
}
