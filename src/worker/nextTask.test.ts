import { describe, expect, it } from 'vitest';
import { nextTask } from './nextTask';

describe('nextTask', () => {
  it("lets a message from another port (the page's Cancel) in while the worker yields in a tight loop", async () => {
    let heard = false;
    const page = new MessageChannel();
    page.port1.onmessage = () => (heard = true);
    page.port2.postMessage('cancel');
    let yields = 0;
    while (!heard && yields < 50) {
      await nextTask();
      yields++;
    }
    page.port1.close();
    expect(heard).toBe(true);
  });

  it('resolves each of several yields in turn, in order', async () => {
    const order: number[] = [];
    await Promise.all([1, 2, 3].map((i) => nextTask().then(() => order.push(i))));
    expect(order).toEqual([1, 2, 3]);
  });

  it('is a later task, not a microtask', async () => {
    const order: string[] = [];
    void Promise.resolve().then(() => order.push('microtask'));
    await nextTask();
    order.push('yielded');
    expect(order).toEqual(['microtask', 'yielded']);
  });
});
