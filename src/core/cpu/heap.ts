// A first-fit allocator over the lab CPU engine's WebAssembly memory, growing it as needed. Every
// buffer the engine uses (parameter blocks, workspaces, command buffers) is one of its blocks.
import { RESERVED_BYTES } from './kernels';

const PAGE = 65536;
const ALIGN = 64;
/** 4 GiB, the wasm32 limit. */
export const MAX_PAGES = 65536;

/** n rounded up to a multiple of a (64 bytes by default: a cache line). */
export const align = (n: number, a = ALIGN) => Math.ceil(n / a) * a;
/** Bytes of n float32 values. */
export const f32 = (n: number) => 4 * n;

/** A first-fit allocator over the engine's linear memory, growing it as needed. */
export class Heap {
  private top = RESERVED_BYTES;
  private free: { at: number; size: number }[] = [];
  private readonly live = new Map<number, number>();

  constructor(private readonly memory: WebAssembly.Memory) {}

  alloc(bytes: number): number {
    const size = align(Math.max(bytes, ALIGN));
    const i = this.free.findIndex((b) => b.size >= size);
    let at: number;
    if (i >= 0) {
      const b = this.free[i];
      at = b.at;
      if (b.size === size) this.free.splice(i, 1);
      else this.free[i] = { at: b.at + size, size: b.size - size };
    } else {
      at = this.top;
      this.top += size;
      const need = Math.ceil(this.top / PAGE);
      const have = this.memory.buffer.byteLength / PAGE;
      if (need > MAX_PAGES)
        throw new Error(`the lab CPU engine needs ${(this.top / 2 ** 30).toFixed(2)} GiB, over the 4 GiB WebAssembly limit: use a smaller batch or fewer nets`);
      if (need > have) this.memory.grow(need - have);
    }
    this.live.set(at, size);
    return at;
  }

  release(at: number): void {
    const size = this.live.get(at);
    if (size === undefined) return;
    this.live.delete(at);
    this.free.push({ at, size });
    this.free.sort((a, b) => a.at - b.at);
    // coalesce neighbours, and give the tail back to the bump pointer
    const merged: { at: number; size: number }[] = [];
    for (const b of this.free) {
      const last = merged[merged.length - 1];
      if (last && last.at + last.size === b.at) last.size += b.size;
      else merged.push({ ...b });
    }
    const tail = merged[merged.length - 1];
    if (tail && tail.at + tail.size === this.top) {
      this.top = tail.at;
      merged.pop();
    }
    this.free = merged;
  }

  get liveCount(): number {
    return this.live.size;
  }
}
