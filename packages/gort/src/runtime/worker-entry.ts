/**
 * Entry of every M's worker thread: join the heap, run the schedule loop, report panics.
 * The facade import makes gort's names available to inline goroutines on this thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import '../index.js';
import { Heap } from '../heap/heap.js';
import { M } from './m.js';
import { describe } from '../errors.js';

const { sab, index } = workerData as { sab: SharedArrayBuffer; index: number };
const port = parentPort!;
// Node 20 does not carry a main-thread module loader (tsx) into workers, even with --import
// in execArgv: when this thread was started under tsx, register tsx here, so module-form
// goroutines written in TypeScript load on every M. A variable specifier keeps tsc from
// resolving it; gort itself does not depend on tsx.
if (process.execArgv.some((a) => /(?:^|[=/\\])tsx(?:$|[/\\])/.test(a))) {
  const spec = 'tsx/esm/api';
  const api = (await import(spec).catch(() => null)) as { register?: () => unknown } | null;
  api?.register?.();
}
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
