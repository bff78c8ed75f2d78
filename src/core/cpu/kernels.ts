// Loading the lab CPU engine's WebAssembly kernels (built from ./assembly/kernels.ts) and
// running lists of kernel calls on one thread or several that share one memory.
import { KERNELS } from './kernelArgs';
import type { Call } from './kernelArgs';

type KernelFn = (...args: number[]) => void;

/** The bytes below this offset belong to the kernels' static data (math tables) and the thread control block. */
export const RESERVED_BYTES = 65536;
/** Int32 slots of the thread control block, at byte CONTROL_OFFSET. */
export const CONTROL_OFFSET = 49152;
export const CTRL = { generation: 0, count: 1, commands: 2, barrier: 3, quit: 4, base: 5, mode: 6, done: 7, ready: 8, laneTable: 9 } as const;
/** CTRL.mode: split every call across all threads ('ops'), or give each thread its own call list ('lanes'). */
export const MODE = { ops: 0, lanes: 1 } as const;
/** f64 slots per encoded command: [kernel index, argument count, arguments…]. */
export const COMMAND_SLOTS = 20;

export interface WasmVariant {
  relaxed: boolean;
  shared: boolean;
}

/** The file name of a kernel build (see scripts/build-wasm.ts). */
export function variantFile(v: WasmVariant): string {
  return `kernels-${v.relaxed ? 'relaxed' : 'simd'}${v.shared ? '-shared' : ''}.wasm`;
}

/** Whether this WebAssembly engine runs relaxed SIMD (one tiny module using f32x4.relaxed_madd). */
export function relaxedSimdSupported(): boolean {
  const bytes = new Uint8Array([
    0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0, 253, 17, 65, 0, 253, 17, 65, 0, 253, 17, 253, 133, 2, 11,
  ]);
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

/** Whether SharedArrayBuffer-backed memories work here (a cross-origin-isolated page, or Node). */
export function sharedMemorySupported(): boolean {
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
    return typeof SharedArrayBuffer !== 'undefined';
  } catch {
    return false;
  }
}

export class KernelInstance {
  readonly fns: KernelFn[];

  private constructor(instance: WebAssembly.Instance) {
    this.fns = KERNELS.map((name) => {
      const fn = instance.exports[name];
      if (typeof fn !== 'function') throw new Error(`kernel ${name} is missing from the WebAssembly module`);
      return fn as KernelFn;
    });
  }

  static async create(module: WebAssembly.Module, memory: WebAssembly.Memory): Promise<KernelInstance> {
    return new KernelInstance(await WebAssembly.instantiate(module, { env: { memory } }));
  }

  /** Run one call as thread tid of nth. */
  call(c: Call, tid: number, nth: number): void {
    const fn = this.fns[KERNELS.indexOf(c[0])];
    (fn as KernelFn)(...(c.slice(1) as number[]), tid, nth);
  }
}

/** Encode a call list into the command buffer that helper threads read. */
export function encodeCommands(calls: readonly Call[], buffer: Float64Array, at: number): void {
  calls.forEach((c, i) => {
    const base = at / 8 + i * COMMAND_SLOTS;
    if (c.length - 1 > COMMAND_SLOTS - 2) throw new Error(`kernel ${c[0]} has too many arguments`);
    buffer[base] = KERNELS.indexOf(c[0]);
    buffer[base + 1] = c.length - 1;
    for (let k = 1; k < c.length; k++) buffer[base + 1 + k] = c[k] as number;
  });
}

export interface HelperInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  tid: number;
  nth: number;
  /** A shared counter every thread bumps after each kernel call, so a watchdog can tell busy from hung. */
  heartbeat?: Int32Array;
}

/**
 * A helper thread's whole life: sleep until the engine posts work, run it, repeat until told to
 * quit. Two kinds of work:
 * - ops: one command list for all threads; this thread runs its share of each command, with a
 *   barrier after each (one big net: every op split across cores);
 * - lanes: one command list per thread (the lane table holds [address, count] per thread); this
 *   thread runs its own list whole, as a single thread, then counts itself done (several small
 *   nets: whole nets on each core, no barrier per op).
 * Runs in a Web Worker (or a Node worker thread); blocking waits are allowed there.
 */
export async function runHelper(init: HelperInit): Promise<void> {
  const kernels = await KernelInstance.create(init.module, init.memory);
  const ctrl = new Int32Array(init.memory.buffer, CONTROL_OFFSET, 16);
  let seen = Atomics.load(ctrl, CTRL.generation);
  Atomics.add(ctrl, CTRL.ready, 1);
  Atomics.notify(ctrl, CTRL.ready);
  const runList = (at: number, count: number, tid: number, nth: number, barrierBase: number | null) => {
    const cmds = new Float64Array(init.memory.buffer, at, count * COMMAND_SLOTS);
    for (let i = 0; i < count; i++) {
      const slot = i * COMMAND_SLOTS;
      const argc = cmds[slot + 1];
      const args: number[] = new Array(argc + 2);
      for (let k = 0; k < argc; k++) args[k] = cmds[slot + 2 + k];
      args[argc] = tid;
      args[argc + 1] = nth;
      kernels.fns[cmds[slot]](...args);
      if (init.heartbeat) Atomics.add(init.heartbeat, 0, 1);
      if (barrierBase !== null) barrier(ctrl, barrierBase + nth * (i + 1));
    }
  };
  for (;;) {
    Atomics.wait(ctrl, CTRL.generation, seen);
    seen = Atomics.load(ctrl, CTRL.generation);
    if (Atomics.load(ctrl, CTRL.quit)) return;
    if (Atomics.load(ctrl, CTRL.mode) === MODE.lanes) {
      const table = new Int32Array(init.memory.buffer, Atomics.load(ctrl, CTRL.laneTable), 2 * init.nth);
      runList(table[2 * init.tid], table[2 * init.tid + 1], 0, 1, null);
      Atomics.add(ctrl, CTRL.done, 1);
      Atomics.notify(ctrl, CTRL.done);
      continue;
    }
    runList(Atomics.load(ctrl, CTRL.commands), Atomics.load(ctrl, CTRL.count), init.tid, init.nth, Atomics.load(ctrl, CTRL.base));
  }
}

/** Wait until the counter at `slot` reaches `target` (wrap-around safe): spin briefly, then sleep. */
export function waitFor(ctrl: Int32Array, slot: number, target: number): void {
  for (let spins = 0; spins < SPINS; spins++) if (((Atomics.load(ctrl, slot) - target) | 0) >= 0) return;
  for (;;) {
    const v = Atomics.load(ctrl, slot);
    if (((v - target) | 0) >= 0) return;
    Atomics.wait(ctrl, slot, v, 5);
  }
}

/** Spins before a thread waiting at a barrier sleeps (a few microseconds). */
const SPINS = 4000;

/**
 * Arrive at the barrier and wait until all threads have. The counter is never reset (a reset
 * races with a thread still leaving the previous barrier); each run starts from the count the
 * last one ended at, and comparisons survive int32 wrap-around. A waiter spins briefly, then
 * sleeps on the counter; the last thread to arrive wakes it. Spinning alone is fast on an idle
 * machine and disastrous on a busy one (a spinning thread steals the core its partner needs).
 */
export function barrier(ctrl: Int32Array, target: number): void {
  const arrived = Atomics.add(ctrl, CTRL.barrier, 1) + 1;
  if (((arrived - target) | 0) >= 0) {
    Atomics.notify(ctrl, CTRL.barrier);
    return;
  }
  waitFor(ctrl, CTRL.barrier, target);
}
