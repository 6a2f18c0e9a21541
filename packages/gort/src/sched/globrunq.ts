/**
 * The global run queue: overflow from full local queues and work injected by threads with no
 * P (the main thread). Go's sched.runq: an intrusive FIFO through G.SCHEDLINK guarded by
 * SCHED_LOCK (a futex lock, heap/lock.ts). Any thread.
 *
 * Invariants: GQ_SIZE equals the number of Gs linked from GQ_HEAD, and is written only under
 * the lock (with Atomics.store, so a lock-free `Atomics.load` is a usable emptiness hint:
 * a stale 0 only delays a G until the next check, which every M makes before it parks).
 */
import { H } from '../heap/layout.js';
import { lock, unlock } from '../heap/lock.js';
import type { Heap } from '../heap/heap.js';
import { G } from './g.js';

export function globrunqSize(heap: Heap): number {
  return Atomics.load(heap.i32, H.GQ_SIZE);
}

/** Append gs (in order). */
export function globrunqPutBatch(heap: Heap, gs: ArrayLike<number>, n = gs.length): void {
  if (n === 0) return;
  const a = heap.i32;
  for (let i = 0; i + 1 < n; i++) a[(gs[i]! >> 2) + G.SCHEDLINK] = gs[i + 1]!;
  const first = gs[0]!;
  const last = gs[n - 1]!;
  a[(last >> 2) + G.SCHEDLINK] = 0;
  lock(a, H.SCHED_LOCK);
  const tail = a[H.GQ_TAIL]!;
  if (tail === 0) a[H.GQ_HEAD] = first;
  else a[(tail >> 2) + G.SCHEDLINK] = first;
  a[H.GQ_TAIL] = last;
  Atomics.store(a, H.GQ_SIZE, a[H.GQ_SIZE]! + n);
  unlock(a, H.SCHED_LOCK);
}

/**
 * Take up to `max` Gs into out (cleared first). Go's globrunqget takes
 * min(size, size/procs + 1, max) so that one M does not drain what others could run.
 */
export function globrunqGet(heap: Heap, procs: number, max: number, out: number[]): number {
  out.length = 0;
  const a = heap.i32;
  if (Atomics.load(a, H.GQ_SIZE) === 0) return 0;
  lock(a, H.SCHED_LOCK);
  const size = a[H.GQ_SIZE]!;
  let n = Math.min(size, Math.floor(size / procs) + 1, max);
  let g = a[H.GQ_HEAD]!;
  while (n-- > 0 && g !== 0) {
    out.push(g);
    g = heap.i32[(g >> 2) + G.SCHEDLINK]!;
  }
  heap.i32[H.GQ_HEAD] = g;
  if (g === 0) heap.i32[H.GQ_TAIL] = 0;
  Atomics.store(heap.i32, H.GQ_SIZE, size - out.length);
  unlock(heap.i32, H.SCHED_LOCK);
  return out.length;
}
