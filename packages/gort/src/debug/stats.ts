/**
 * Statistics read straight from the heap, from any thread. Scheduler counters are read with no
 * lock, racy by design (readStats, also used by schedtrace every interval). Memory figures come
 * from a walk of every heap block under the allocator's lock (readMemStats, heap.census): exact
 * at one moment, O(blocks), so stats() takes a few milliseconds on a heap of a million blocks.
 */
import type { Heap } from '../heap/heap.js';
import { H } from '../heap/layout.js';
import { realAtomics } from '../sched/atomics.js';
import { RunqStealer, RUNQ_CAP } from '../sched/runq.js';
import { T, liveGoroutines, pWord, threadWord } from '../sched/threads.js';
import { kindName } from '../value/kinds.js';

/** Scheduler counters, read from the heap without locks (racy by design, as Go's `schedtrace`). */
export interface SchedStats {
  /** Number of Ps (gomaxprocs). */
  procs: number;
  /** Worker threads running Ms. */
  threads: number;
  /** Ps whose M is parked. */
  idleProcs: number;
  /** Ms looking for work without parking. */
  spinningThreads: number;
  /** Live goroutines, main included. */
  goroutines: number;
  /** Goroutines in the global run queue (what main and attached threads start, and overflow). */
  globalQueue: number;
  /** Per P: Gs in its ring plus runnext. */
  localQueues: number[];
  /** Per M: goroutines started on it. */
  tasksPerM: number[];
  /** Per M: successful steal operations. */
  stealsPerM: number[];
  /** Per M: goroutines taken by those steals. */
  stolenPerM: number[];
  /** Whether sysmon runs (start()'s `sysmon` option, `GORT_DEBUG=sysmon=0`). */
  sysmon: boolean;
  /**
   * Per M: how long it has gone without turning its schedule loop while running goroutine
   * code, in ms, once that is 10 ms or more (a goroutine's synchronous code holds it); else 0.
   * Kept up to date by sysmon, so always 0 without it.
   */
  stuckMsPerM: number[];
  /** Stuck-goroutine warnings sysmon printed so far. */
  stuckWarnings: number;
  /** Goroutines sysmon moved from stuck Ms' queues to the global queue so far. */
  sysmonRetaken: number;
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
    sysmon: Atomics.load(a, H.SYSMON) !== 0,
    stuckMsPerM: [],
    stuckWarnings: Atomics.load(a, H.SYSMON_WARNED),
    sysmonRetaken: Atomics.load(a, H.SYSMON_RETAKEN),
  };
  for (let p = 0; p < procs; p++) {
    const q = new RunqStealer(realAtomics, a, pWord(heap, p), RUNQ_CAP);
    s.localQueues.push(q.size() + (q.hasRunnext() ? 1 : 0));
    const tw = threadWord(heap, p + 1);
    s.tasksPerM.push(a[tw + T.TASKS]!);
    s.stealsPerM.push(a[tw + T.STEALS]!);
    s.stolenPerM.push(a[tw + T.STOLEN]!);
    s.stuckMsPerM.push(Atomics.load(a, tw + T.STUCK_MS));
  }
  return s;
}

/** The shared heap's memory, as Go's runtime.MemStats gives the Go heap's. All in bytes. */
export interface MemStats {
  /** The heap's size (heapLimit): its address space is reserved, its pages used as touched. */
  heapLimit: number;
  /** Bytes the allocator has carved so far (and not given back): at most what the heap's pages cost. */
  heapUsed: number;
  /** Bytes of live blocks (block headers included). */
  heapInUse: number;
  /** heapUsed - heapInUse: free blocks kept for reuse (central lists, threads' caches). */
  heapFree: number;
  /**
   * Live blocks by what they hold: a runtime object's name (`Chan`, `Context`, `Mutex`, …),
   * `goroutine records` (64 KiB chunks of G records), `waiter` (a parked operation), or
   * `data` (values, strings, argument blocks, channel buffers and the runtime's own tables).
   */
  objects: Record<
    string,
    {
      /** Live blocks of this kind. */
      count: number;
      /** Their bytes, block headers included. */
      bytes: number;
    }
  >;
}

export function readMemStats(heap: Heap): MemStats {
  const c = heap.census();
  const objects: Record<string, { count: number; bytes: number }> = {};
  for (const [k, v] of [...c.byKind].sort((x, y) => x[0] - y[0])) objects[k === 0 ? 'data' : (kindName[k] ?? `kind ${k}`)] = { ...v };
  return { heapLimit: c.limit, heapUsed: c.used, heapInUse: c.live, heapFree: c.free, objects };
}
