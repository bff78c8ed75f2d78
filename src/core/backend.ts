// Backend probe: bring up the fastest tfjs backend this browser offers (WebGPU → WebGL → CPU),
// and say in words which one is active, on what adapter, and why each faster one was not used.
// Runs in the training worker (no DOM), and in Node for tests (where only 'cpu' exists).
import * as tf from './tf';

type TfBackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';

interface BackendAttempt {
  name: TfBackendName;
  ok: boolean;
  /** Why this backend is not active (unavailable, failed, or slower than another). */
  reason?: string;
}

export interface BackendReport {
  /** The tfjs backend that is active now. */
  active: TfBackendName;
  /** Human-readable adapter, e.g. "google swiftshader (fallback adapter)". */
  adapter: string;
  /** True when the adapter is a CPU emulation of a GPU (SwiftShader, llvmpipe, a fallback adapter). */
  software: boolean;
  attempts: BackendAttempt[];
}

/** The default probe order: fastest first. */
const PROBE_ORDER: readonly TfBackendName[] = ['webgpu', 'webgl', 'cpu'];

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

const SOFTWARE_RE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render/i;

/** Describe a WebGPU adapter; exported for tests. */
export function describeWebGpuAdapter(adapter: AdapterLike): { adapter: string; software: boolean } {
  const info = adapter.info ?? {};
  const fallback = Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter);
  const words = [info.vendor, info.architecture, info.description].filter((w): w is string => Boolean(w && w.trim())).map((w) => w.trim());
  const unique = words.filter((w, i) => words.indexOf(w) === i);
  const name = unique.join(' ') || 'unknown adapter';
  return {
    adapter: fallback ? `${name} (fallback adapter)` : name,
    software: fallback || SOFTWARE_RE.test(name),
  };
}

async function webGpuPrecheck(): Promise<{ adapter: string; software: boolean }> {
  const gpu = (globalThis.navigator as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) throw new Error('WebGPU is not available in this browser (navigator.gpu is missing)');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('the browser offers WebGPU but found no adapter (GPU blocklisted or disabled)');
  return describeWebGpuAdapter(adapter);
}

function webGlRenderer(): { adapter: string; software: boolean } {
  const Canvas = (globalThis as { OffscreenCanvas?: new (w: number, h: number) => OffscreenCanvas }).OffscreenCanvas;
  if (!Canvas) throw new Error('WebGL needs OffscreenCanvas in a worker, which this browser lacks');
  const gl = new Canvas(1, 1).getContext('webgl2');
  if (!gl) throw new Error('WebGL2 is not available (disabled, or no GPU driver)');
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER));
  return { adapter: renderer, software: SOFTWARE_RE.test(renderer) };
}

/** Load a backend's module (each registers itself with tfjs) on demand, so the bundle splits. */
export async function loadBackendModule(name: TfBackendName): Promise<void> {
  switch (name) {
    case 'webgpu':
      await import('@tensorflow/tfjs-backend-webgpu');
      return;
    case 'webgl':
      await import('@tensorflow/tfjs-backend-webgl');
      return;
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      return;
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      return;
  }
}

/** Bring up one named backend, or throw an Error that says why it could not start. */
export async function initBackend(name: TfBackendName): Promise<{ adapter: string; software: boolean }> {
  let described = { adapter: 'CPU (JavaScript)', software: true };
  if (name === 'webgpu') described = await webGpuPrecheck();
  if (name === 'webgl') described = webGlRenderer();
  if (name === 'wasm') described = { adapter: 'CPU (WebAssembly, tfjs-backend-wasm)', software: true };
  await loadBackendModule(name);
  // setBackend logs and returns false on a failed factory; turn that into an error with a reason.
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs could not initialise the ${name} backend`);
  await tf.ready();
  return described;
}

/**
 * Try each backend in order and keep the first that initialises. Every skipped backend gets
 * its reason, so the page can say why a faster one was not used.
 */
export async function probeBackends(order: readonly TfBackendName[] = PROBE_ORDER): Promise<BackendReport> {
  const attempts: BackendAttempt[] = [];
  for (const name of order) {
    try {
      const { adapter, software } = await initBackend(name);
      attempts.push({ name, ok: true });
      for (const later of order.slice(order.indexOf(name) + 1)) {
        attempts.push({ name: later, ok: false, reason: `not tried: ${name} is faster and initialised` });
      }
      return { active: name, adapter, software, attempts };
    } catch (err) {
      attempts.push({ name, ok: false, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  throw new Error(`no tfjs backend could start: ${attempts.map((a) => `${a.name}: ${a.reason}`).join('; ')}`);
}
