// A helper thread of the lab CPU engine: runs its share of each kernel call (see core/cpu/kernels.ts).
import { runHelper } from '../core/cpu/kernels';
import type { HelperInit } from '../core/cpu/kernels';

self.addEventListener('message', (e: MessageEvent<HelperInit>) => {
  void runHelper(e.data);
});
