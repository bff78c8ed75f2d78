// Entry of a Node helper thread: register tsx so the TypeScript helper loads, then run it.
import { register } from 'tsx/esm/api';

register();
await import('./nodeHelper.ts');
