/**
 * Entry of every M's worker thread: join the heap, run the schedule loop, report panics.
 * The facade import makes gort's names available to inline goroutines on this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import '../index.js';
import { Heap } from '../heap/heap.js';
import { M } from './m.js';
import { describe } from '../errors.js';
import { prepareM, type TsLoader } from '../shipping/typescript.js';

const { sab, index, ts } = workerData as { sab: SharedArrayBuffer; index: number; ts: TsLoader };
const port = parentPort!;
// Load TypeScript modules as the runtime decided on the main thread (tsx, vitest's esbuild).
await prepareM(ts);
// A pending Atomics.waitAsync does not keep a thread alive: hold a handle until the loop ends.
const keepAlive = setInterval(() => {}, 1 << 30);
const m = new M(new Heap(sab), index, (goid, fn, error) => {
  try {
    port.postMessage({ type: 'panic', goid, fn, error });
  } catch {
    port.postMessage({ type: 'panic', goid, fn, error: new Error(`a value that cannot be cloned: ${describe(error)}`) });
  }
});
port.postMessage({ type: 'ready' });
await m.loop();
clearInterval(keepAlive);
