/**
 * Scheduler statistics read straight from the heap: any thread, no locks, racy by design.
 */
import type { Heap } from '../heap/heap.js';
import { H } from '../heap/layout.js';
import { realAtomics } from '../sched/atomics.js';
import { RunqStealer, RUNQ_CAP } from '../sched/runq.js';
import { T, liveGoroutines, pWord, threadWord } from '../sched/threads.js';

export interface SchedStats {
  /** Number of Ps (gomaxprocs). */
  procs: number;
  /** Worker threads running Ms. */
  threads: number;
  idleProcs: number;
  spinningThreads: number;
  /** Live goroutines, main included. */
  goroutines: number;
  globalQueue: number;
  /** Per P: Gs in its ring plus runnext. */
  localQueues: number[];
  /** Per M: goroutines started on it. */
  tasksPerM: number[];
  /** Per M: successful steal operations, and Gs taken by them. */
  stealsPerM: number[];
  stolenPerM: number[];
}

export function readStats(heap: Heap): SchedStats {
  const a = heap.i32;
  const procs = a[H.PROCS]!;
  const s: SchedStats = {
    procs,
    threads: procs,
    idleProcs: Atomics.load(a, H.NPIDLE),
    spinningThreads: Atomics.load(a, H.NMSPINNING),
    goroutines: liveGoroutines(heap) + 1,
    globalQueue: Atomics.load(a, H.GQ_SIZE),
    localQueues: [],
    tasksPerM: [],
    stealsPerM: [],
    stolenPerM: [],
  };
  for (let p = 0; p < procs; p++) {
    const q = new RunqStealer(realAtomics, a, pWord(heap, p), RUNQ_CAP);
    s.localQueues.push(q.size() + (q.hasRunnext() ? 1 : 0));
    const tw = threadWord(heap, p + 1);
    s.tasksPerM.push(a[tw + T.TASKS]!);
    s.stealsPerM.push(a[tw + T.STEALS]!);
    s.stolenPerM.push(a[tw + T.STOLEN]!);
  }
  return s;
}
