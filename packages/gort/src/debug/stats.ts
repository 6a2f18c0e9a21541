/**
 * Statistics read straight from the heap, from any thread. Scheduler counters are read with no
 * lock, racy by design (readStats, also used by schedtrace every interval): the thread records'
 * words and each thread's counter block (sched/threads.ts, TC), summed over threads where a
 * figure is not per M. Each thread's counters are 32-bit words, read as unsigned: one wraps to
 * 0 after 2^32 events (about 70 minutes at a million parks a second on one thread), which
 * Prometheus's rate() takes for a counter reset. Memory figures come
 * from a walk of every heap block under the allocator's lock (readMemStats, heap.census): exact
 * at one moment, O(blocks), so stats() takes a few milliseconds on a heap of a million blocks.
 */
import type { Heap } from '../heap/heap.js';
import { need } from '../runtime/thread.js';
import { H } from '../heap/layout.js';
import { realAtomics } from '../sched/atomics.js';
import { RunqStealer, RUNQ_CAP } from '../sched/runq.js';
import { T, TC, liveGoroutines, pWord, threadWord } from '../sched/threads.js';
import { waitReasons } from '../sched/g.js';
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
  /** Per M: times it started spinning (looking for work to steal before parking). */
  spinsPerM: number[];
  /** Goroutines created since the runtime started (main not included). */
  goroutinesCreated: number;
  /** Goroutines that have finished. */
  goroutinesExited: number;
  /**
   * Parks by wait reason (`chan receive`, `sync.Mutex.Lock`, `sleep`, …: every reason dump()
   * prints, 0 when none happened), summed over threads: times a goroutine was
   * recorded as waiting. Main's waits are not counted (it has no goroutine record), nor those
   * of a goroutine gort cannot identify (it parks after an `await` of something else).
   */
  parks: Record<string, number>;
  /**
   * Wakes by the reason waited for, as `parks`: times a parked goroutine was made to run again.
   * `parks[r] - wakes[r]` is about the number of goroutines waiting for r now (a goroutine
   * that waits on two things at once, `Promise.all` of two receives, counts two parks and one wake).
   */
  wakes: Record<string, number>;
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
    spinsPerM: [],
    goroutinesCreated: 0,
    goroutinesExited: 0,
    parks: {},
    wakes: {},
    sysmon: Atomics.load(a, H.SYSMON) !== 0,
    stuckMsPerM: [],
    stuckWarnings: Atomics.load(a, H.SYSMON_WARNED),
    sysmonRetaken: Atomics.load(a, H.SYSMON_RETAKEN),
  };
  for (let p = 0; p < procs; p++) {
    const q = new RunqStealer(realAtomics, a, pWord(heap, p), RUNQ_CAP);
    s.localQueues.push(q.size() + (q.hasRunnext() ? 1 : 0));
    const tw = threadWord(heap, p + 1);
    s.tasksPerM.push(a[tw + T.TASKS]! >>> 0);
    s.stealsPerM.push(a[tw + T.STEALS]! >>> 0);
    s.stolenPerM.push(a[tw + T.STOLEN]! >>> 0);
    s.spinsPerM.push(a[(a[tw + T.COUNTERS]! >> 2) + TC.SPINS]! >>> 0);
    s.stuckMsPerM.push(Atomics.load(a, tw + T.STUCK_MS));
  }
  const parks = new Array<number>(waitReasons.length).fill(0);
  const wakes = new Array<number>(waitReasons.length).fill(0);
  for (let t = 0, n = a[H.NTHREADS]!; t < n; t++) {
    const tw = threadWord(heap, t);
    s.goroutinesCreated += Atomics.load(a, tw + T.CREATED) >>> 0;
    s.goroutinesExited += Atomics.load(a, tw + T.EXITED) >>> 0;
    const c = a[tw + T.COUNTERS]! >> 2;
    for (let r = 1; r < waitReasons.length; r++) {
      parks[r] = parks[r]! + (a[c + TC.PARKS + r]! >>> 0);
      wakes[r] = wakes[r]! + (a[c + TC.WAKES + r]! >>> 0);
    }
  }
  for (let r = 1; r < waitReasons.length; r++) {
    s.parks[waitReasons[r]!] = parks[r]!;
    s.wakes[waitReasons[r]!] = wakes[r]!;
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

/**
 * Scheduler counters, and the heap's memory (`memory`: bytes in use and free, live objects by
 * kind; `sharedKept`: SharedArrayBuffers the calling thread keeps so that it can receive them
 * again, one per buffer shared in the runtime and not yet reclaimed).
 */
export function stats(): SchedStats & {
  /** The heap's memory, as Go's `runtime.MemStats`. */
  memory: MemStats & {
    /** SharedArrayBuffers the calling thread keeps so that it can receive them again: one per buffer shared in the runtime and not yet reclaimed. */
    sharedKept: number;
  };
} {
  const t = need('stats()');
  return { ...readStats(t.heap), memory: { ...readMemStats(t.heap), sharedKept: t.shared.size } };
}
