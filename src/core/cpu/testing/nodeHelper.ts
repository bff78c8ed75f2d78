// A helper thread of the lab CPU engine in Node (worker_threads), for tests and Node scripts.
import { workerData } from 'node:worker_threads';
import { runHelper } from '../kernels';
import type { HelperInit } from '../kernels';

await runHelper(workerData as HelperInit);
