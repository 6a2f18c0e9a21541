/**
 * Thread records and P records.
 *
 * Thread 0 is the main thread (no P); threads 1..procs are the Ms, M i bound to P i-1; later
 * records are spare for threads that attach from outside. A thread record is two 64-byte
 * lines (words 0-15 hot, 16-31 cold); words:
 *
 * | word | name     | written by                     | read by                  | note                          |
 * |------|----------|--------------------------------|--------------------------|-------------------------------|
 * | 0    | DOORBELL | Atomics: wakers set 1, owner 0 | owner (waitAsync)        | the word an idle thread parks on |
 * | 1    | PARKED   | Atomics: owner                 | wakers                   | 1 from "about to park" to awake; 2 instead for a LoopThread's pump parked for ≤ 1 ms after settling completions (a busy M's throttled ring may skip it) |
 * | 2    | READY    | Atomics: CAS push by any, exchange by owner | owner       | waiters completed for this thread |
 * | 3    | CURG     | owner                          | main (crash report), dump | G being started, 0 when idle |
 * | 4    | PROGRESS | owner (Atomics.add)            | deadlock check           | READY waiters handled         |
 * | 5    | TASKS    | owner                          | stats                    | Gs started on this thread     |
 * | 6    | STEALS   | owner                          | stats                    | successful steal operations   |
 * | 7    | STOLEN   | owner                          | stats                    | Gs taken by those steals      |
 * | 8    | SPINNING | Atomics: owner                 | debugging (a heap dump)  | 1 while counted in NMSPINNING |
 * | 9    | STATE    | owner                          | debugging (a heap dump)  | ThreadState                   |
 * | 10   | CREATED  | owner (Atomics.store)          | numGoroutine, stats      | goroutines created here       |
 * | 11   | EXITED   | owner (Atomics.store)          | numGoroutine, stats      | goroutines finished here      |
 * | 12   | WAIT     | owner (plain)                  | dump                     | main thread: the wait reason of its latest park |
 * | 13   | CONVREQ  | CAS push by any, exchange by owner | owner                | requests to share a local channel (chan/local.ts) |
 * | 14   | HOLD     | owner (plain, when it changes) | thieves                  | 1: the runnext G was spawned with a local channel |
 * | 15   | BEAT     | owner (plain)                  | thieves                  | heartbeat, bumped every 16 runtime operations |
 * | 16   | LOOPIDLE | Atomics: owner M               | deadlock check           | 1 only while the M is parked in a blocking wait and its event loop had nothing pending when it blocked |
 * | 17   | SCHEDTICK | owner M (plain)               | sysmon                   | bumped at every loop turn, every G started and every park's end |
 * | 18   | PREEMPT  | sysmon (Atomics.store 1), owner (plain 0) | owner (checkpoint) | 1: sysmon asks the running goroutine to yield at its next checkpoint() |
 * | 19   | STUCK_MS | sysmon (Atomics.store)         | stats, dump, schedtrace  | ms this M has gone without turning its loop while running (0: not stuck) |
 * | 20   | NOPREEMPT | owner M (plain)               | sysmon                   | 1 while the loop awaits a module import (Go's preemptoff): not stuck |
 * | 21   | LASTG    | owner M (plain)                | sysmon, dump             | G record started last on this M (a hint: the record may be reused) |
 * | 22   | COUNTERS | creator, once                  | owner, stats             | handle of this thread's counter block (TC below) |
 * | 26   | TRACE    | Atomics: owner                 | the trace collector      | the execution-trace session this thread records for (0: none; runtime/tracebuf.ts) |
 *
 * The counter block (TC, TC_WORDS words, 64-byte aligned, one per thread record) holds
 * event counters that only its thread writes, with plain increments, and that stats() and
 * /metrics read racily from any thread (gort/debug):
 *
 * - SPINS: times this M started spinning for work (runtime/m.ts);
 * - PARKS[r] (16 + r): goroutines of this thread recorded as waiting for wait reason r
 *   (sched/g.ts waitReasons), at the park (parkG, parkLocal, sleep);
 * - WAKES[r] (48 + r): goroutines of this thread made to run again after waiting for r, at
 *   the wake (Thread.settleAs, unparkSync, the local wake, a sleep's timer). The reason is the
 *   G record's WAIT, read just before it is cleared; a G woken without one counts in r = 0.
 *
 * Only goroutines with a G record count (not main, nor a goroutine gort cannot identify after
 * an await it did not resume: docs/architecture.md). A goroutine that parks twice at once
 * (Promise.all of two receives) counts two parks and one wake.
 *
 * LOOPIDLE is 0 (the default) whenever the M's event loop may have work of its own (a
 * goroutine's timer, socket, callback) or the M has not looked: the deadlock check counts
 * such an M as able to make progress. The M stores 1 only just before it blocks in park()
 * with loopIdle() true, and 0 again as soon as the wait returns, before any callback can run.
 *
 * SCHEDTICK, STUCK_MS, NOPREEMPT and LASTG are read racily by sysmon and the debug views; PREEMPT is
 * a request that at worst makes one checkpoint() yield once too often or too late.
 *
 * HOLD and BEAT are hints read racily: they decide when a thief takes a held runnext
 * (RunnextHold.mayTake, runtime/hold.ts), never whether a G runs.
 *
 * The PARKED/READY pair is a Dekker handshake (all Atomics, sequentially consistent): the
 * waker pushes to READY, then loads PARKED; the parker stores PARKED=1, then re-reads READY.
 * One of the two sees the other, so no wake is lost (docs/design/scheduler.md). DOORBELL,
 * PARKED, READY and SPINNING change only through sched/idle.ts's transitions.
 *
 * P records are run queues (runq.ts), RUNQ_CAP slots, P_WORDS apart.
 */
import { H } from '../heap/layout.js';
import type { Heap } from '../heap/heap.js';
import { runqWords, RUNQ_CAP } from './runq.js';
import { waitReasons } from './g.js';

export const T = {
  DOORBELL: 0,
  PARKED: 1,
  READY: 2,
  CURG: 3,
  PROGRESS: 4,
  TASKS: 5,
  STEALS: 6,
  STOLEN: 7,
  SPINNING: 8,
  STATE: 9,
  CREATED: 10,
  EXITED: 11,
  WAIT: 12,
  /** Treiber stack of requests to share this thread's local channels (chan/local.ts) */
  CONVREQ: 13,
  /** 1 while this M's runnext G was spawned with one of its local channels (M.ready) */
  HOLD: 14,
  /** heartbeat: changes while this thread's goroutines make runtime operations (Thread.beat) */
  BEAT: 15,
  /** 1 while this M is blocked in park() with nothing pending in its event loop (deadlock check) */
  LOOPIDLE: 16,
  /** bumped by the M at every loop turn, G start and park end; sysmon reads it (runtime/sysmon.ts) */
  SCHEDTICK: 17,
  /** 1: sysmon asks the running goroutine to yield at its next checkpoint() */
  PREEMPT: 18,
  /** ms the M has gone without turning its loop while running, as sysmon last saw it (0: not stuck) */
  STUCK_MS: 19,
  /** 1 while the M's loop awaits a module import: sysmon does not count it as stuck */
  NOPREEMPT: 20,
  /** the G record started last on this M (a hint for reports; the record may have been reused) */
  LASTG: 21,
  /** handle of this thread's counter block (TC): parks, wakes and spins, for stats() and /metrics */
  COUNTERS: 22,
  /** the execution-trace session this thread records for, 0: none (runtime/tracebuf.ts) */
  TRACE: 26,
} as const;
/** Two 64-byte lines: the hot words, then the cold ones. */
export const T_WORDS = 32;

/** Word offsets in a thread's counter block (see the header; PARKS and WAKES are indexed by wait-reason code). */
export const TC = {
  SPINS: 0,
  PARKS: 16,
  WAKES: 48,
} as const;
/** Words of one counter block: five 64-byte lines. */
export const TC_WORDS = 80;
if (waitReasons.length > TC.WAKES - TC.PARKS) throw new Error('gort: thread counters: more wait reasons than slots');

/** POLLING: idle, watching for a hand-off to one of its parked goroutines (M.poll). */
export const ThreadState = { STARTING: 0, RUNNING: 1, SPINNING: 2, PARKED: 3, EXITED: 4, POLLING: 5 } as const;
export const threadStateNames = ['starting', 'running', 'spinning', 'parked', 'exited', 'polling'];

export const P_WORDS = (runqWords(RUNQ_CAP) + 15) & ~15;
export const SPARE_THREADS = 16;

/** Word index of thread t's record. */
export function threadWord(heap: Heap, t: number): number {
  return (heap.i32[H.THREADS]! >> 2) + t * T_WORDS;
}

/** Word index of P p's run queue base. */
export function pWord(heap: Heap, p: number): number {
  return (heap.i32[H.PS]! >> 2) + p * P_WORDS;
}

/** Called once by the creator: allocate thread and P records, and the threads' counter blocks. */
export function initSchedRecords(heap: Heap, procs: number): void {
  const nthreads = procs + 1 + SPARE_THREADS;
  const th = heap.alloc(nthreads * T_WORDS * 4 + 64);
  const ps = heap.alloc(procs * P_WORDS * 4 + 64);
  const cb = heap.alloc(nthreads * TC_WORDS * 4 + 64);
  const a = heap.i32;
  // Align the arrays to a 64-byte line; the allocator gives 8-byte alignment.
  const thA = (th + 63) & ~63;
  const psA = (ps + 63) & ~63;
  const cbA = (cb + 63) & ~63;
  a.fill(0, thA >> 2, (thA >> 2) + nthreads * T_WORDS);
  a.fill(0, psA >> 2, (psA >> 2) + procs * P_WORDS);
  a.fill(0, cbA >> 2, (cbA >> 2) + nthreads * TC_WORDS);
  for (let t = 0; t < nthreads; t++) a[(thA >> 2) + t * T_WORDS + T.COUNTERS] = cbA + t * TC_WORDS * 4;
  a[H.NTHREADS] = nthreads;
  a[H.PS] = psA;
  Atomics.store(a, H.THREADS, thA);
}

/**
 * The wait reason code of the main goroutine while its thread waits on the runtime (PARKED
 * and a WAIT recorded), else 0: it is running. Any thread; racy, as dump() reads it.
 */
export function mainWaitCode(heap: Heap): number {
  const tw = threadWord(heap, 0);
  return Atomics.load(heap.i32, tw + T.PARKED) !== 0 ? heap.i32[tw + T.WAIT]! : 0;
}

/**
 * Live goroutines, main excluded: per-thread created minus exited counts, summed (each
 * counter has one writer, so no cache line is shared by every spawn). Any thread; racy.
 */
export function liveGoroutines(heap: Heap): number {
  const n = heap.i32[H.NTHREADS]!;
  let live = 0;
  for (let t = 0; t < n; t++) {
    const w = threadWord(heap, t);
    live += Atomics.load(heap.i32, w + T.CREATED) - Atomics.load(heap.i32, w + T.EXITED);
  }
  return live;
}
