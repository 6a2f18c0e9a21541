/**
 * Entry of sysmon's worker thread (runtime/sysmon.ts): join the heap and monitor the Ms until
 * shutdown. It imports no part of the runtime that runs goroutines: it reads and writes the
 * heap only, and its loop blocks this thread in Atomics.wait between looks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DEBUG_STACKS, Heap } from '../heap/heap.js';
import { H } from '../heap/layout.js';
import { Sysmon } from './sysmon.js';

const { sab, warnMs } = workerData as { sab: SharedArrayBuffer; warnMs: number };
const heap = new Heap(sab);
// With stacks on, where the goroutine was created is known only to the thread that created it:
// main asks for it and prints the warning (Runtime.printStuck). Else stderr, from here.
const stacks = (heap.i32[H.DEBUG]! & DEBUG_STACKS) !== 0;
const sysmon = new Sysmon(heap, { warnMs, ...(stacks ? { write: (text: string, goid: number, createdOn: number) => parentPort!.postMessage({ warn: text, goid, createdOn }) } : {}) });
parentPort!.postMessage('ready'); // start() waits for it, so that a runtime is watched from its first goroutine
sysmon.run();
