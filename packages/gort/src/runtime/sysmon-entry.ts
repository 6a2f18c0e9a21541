/**
 * Entry of sysmon's worker thread (runtime/sysmon.ts): join the heap and monitor the Ms until
 * shutdown. It imports no part of the runtime that runs goroutines: it reads and writes the
 * heap only, and its loop blocks this thread in Atomics.wait between looks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Heap } from '../heap/heap.js';
import { Sysmon } from './sysmon.js';

const { sab, warnMs } = workerData as { sab: SharedArrayBuffer; warnMs: number };
const sysmon = new Sysmon(new Heap(sab), { warnMs });
parentPort!.postMessage('ready'); // start() waits for it, so that a runtime is watched from its first goroutine
sysmon.run();
