/**
 * Go's "all goroutines are asleep - deadlock!" check. Main thread only.
 *
 * Deadlock is declared only when all of these hold on two consecutive checks with no
 * progress in between (no goroutine started, no waiter settled anywhere):
 * - the main goroutine is parked on a runtime primitive (its pump waits on its doorbell),
 *   and the main thread has no other pending activity (Node resources beyond the Ms' ports);
 * - every M is parked, the global queue, every local queue and every READY list are empty;
 * - every M is blocked with nothing pending in its own event loop (its LOOPIDLE word, set by
 *   M.park): a goroutine's timer, socket or callback there may still send;
 * - no runtime timer is pending (TIMERS = 0), and no runtime object was exported to an
 *   outside thread (exportRef / attach);
 * - every live goroutine is WAITING on a runtime primitive. A goroutine whose wait gort
 *   could not attribute stays RUNNING (park.ts), so the check errs towards "not deadlocked":
 *   it may miss a deadlock, it never invents one.
 */
import { H } from '../heap/layout.js';
import type { Heap } from '../heap/heap.js';
import { realAtomics } from '../sched/atomics.js';
import { G, Gstatus } from '../sched/g.js';
import { forEachG } from '../sched/galloc.js';
import { RUNQ_CAP, RunqStealer } from '../sched/runq.js';
import { T, pWord, threadWord } from '../sched/threads.js';

/** A progress fingerprint: changes whenever any thread starts a goroutine or handles a wake. */
function progress(heap: Heap): number {
  const a = heap.i32;
  let s = 0;
  const n = a[H.NTHREADS]!;
  for (let t = 0; t < n; t++) {
    const w = threadWord(heap, t);
    s = (s + Atomics.load(a, w + T.PROGRESS) + Atomics.load(a, w + T.TASKS) * 31) | 0;
  }
  return s;
}

/**
 * Whether the main thread has activity of its own that may still make progress: a ref'd
 * timer, an I/O request, a socket, a listened-to port beyond one per M. Its stdio streams
 * (which become active handles once written to a pipe) do not count.
 */
function mainThreadBusy(procs: number): boolean {
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  let stdio = 0;
  for (const h of handles) if (h === process.stdout || h === process.stderr || h === process.stdin) stdio++;
  let ports = 0;
  let other = 0;
  for (const r of process.getActiveResourcesInfo()) {
    if (r === 'MessagePort') ports++;
    else other++;
  }
  return other > stdio || ports > procs;
}

/** True if the runtime looks deadlocked right now (one observation). */
export function looksDeadlocked(heap: Heap, mainParked: boolean): boolean {
  if (!mainParked) return false;
  const a = heap.i32;
  const procs = a[H.PROCS]!;
  if (Atomics.load(a, H.TIMERS) !== 0) return false;
  // A thread outside the runtime (piscina, a plain worker) that got a runtime object may be
  // computing what the goroutines wait for, and Node does not even list a Worker without
  // listeners among main's resources: once any ref was exported, never declare a deadlock.
  if (Atomics.load(a, H.ATTACHED) !== 0 || Atomics.load(a, H.EXPORTED) !== 0) return false;
  if (Atomics.load(a, H.NPIDLE) !== procs || Atomics.load(a, H.GQ_SIZE) !== 0) return false;
  if (mainThreadBusy(procs)) return false;
  for (let p = 0; p < procs; p++) {
    const q = new RunqStealer(realAtomics, a, pWord(heap, p), RUNQ_CAP);
    if (q.size() > 0 || q.hasRunnext()) return false;
  }
  const n = a[H.NTHREADS]!;
  for (let t = 0; t < n; t++) if (Atomics.load(a, threadWord(heap, t) + T.READY) !== 0) return false;
  // An M whose event loop has work of its own (a goroutine's timer, socket or callback) may
  // still complete a waiter: Go does not report a deadlock while a timer is pending either.
  for (let t = 1; t <= procs; t++) if (Atomics.load(a, threadWord(heap, t) + T.LOOPIDLE) !== 1) return false;
  let allWaiting = true;
  forEachG(heap, (g) => {
    if (Atomics.load(heap.i32, (g >> 2) + G.STATUS) !== Gstatus.WAITING) allWaiting = false;
  });
  return allWaiting;
}

/** Calls onDeadlock once a deadlock has held for two checks `ms` apart. Returns a stop function. */
export function watchDeadlock(heap: Heap, mainParked: () => boolean, onDeadlock: () => void, ms = 100): () => void {
  let suspect: number | null = null;
  const timer = setInterval(() => {
    if (!looksDeadlocked(heap, mainParked())) {
      suspect = null;
      return;
    }
    const fp = progress(heap);
    if (suspect === fp) {
      clearInterval(timer);
      onDeadlock();
    } else suspect = fp;
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
