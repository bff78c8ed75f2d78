// The page's side of the worker protocol: one worker, typed commands out, typed events in.
import type { Command, WorkerEvent } from '../worker/protocol';

type Listener = (event: WorkerEvent) => void;

export class LabClient {
  private worker: Worker;
  private readonly listeners = new Set<Listener>();

  constructor() {
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const worker = new Worker(new URL('../worker/lab.worker.ts', import.meta.url), { type: 'module' });
    worker.addEventListener('message', (e: MessageEvent<WorkerEvent>) => this.emit(e.data));
    // A worker that fails to load or crashes must not fail silently.
    worker.addEventListener('error', (e) => this.emit({ type: 'error', during: 'worker', message: e.message || 'the training worker failed to start' }));
    return worker;
  }

  /** End the worker (and its helper threads), hung or not, and start a fresh one; listeners stay. */
  restart(): void {
    this.worker.terminate();
    this.worker = this.spawn();
  }

  /** Send a command; buffers in `transfer` move to the worker instead of being copied. */
  send(cmd: Command, transfer: Transferable[] = []): void {
    this.worker.postMessage(cmd, transfer);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: WorkerEvent): void {
    for (const l of this.listeners) l(event);
  }
}
