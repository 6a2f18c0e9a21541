/**
 * A semaphore embedded in a runtime object's record: Go's runtime semacquire/semrelease
 * (src/runtime/sema.go), the building block of Mutex, RWMutex and Cond. Any thread.
 *
 * Four words at word index `at`:
 * | word | name  | written by           | note                                           |
 * |------|-------|----------------------|------------------------------------------------|
 * | +0   | LOCK  | futex lock           | guards HEAD/TAIL and the COUNT hand-over        |
 * | +1   | COUNT | Atomics (CAS)        | tokens available                                |
 * | +2   | HEAD  | under LOCK           | first parked waiter (linked through W.NEXT)     |
 * | +3   | TAIL  | under LOCK           | last parked waiter                              |
 *
 * Invariants: a waiter is queued only under LOCK after seeing COUNT = 0 there; release
 * either hands its token straight to the first waiter (which then owns it: COUNT unchanged)
 * or, with nobody waiting, adds it to COUNT — both under LOCK, so no token and no wake-up is
 * lost. `lifo` queues at the head (Go: a waiter that already waited goes first).
 */
import { lock, unlock } from '../heap/lock.js';
import { parkCurrent, unparkSync, wakeWaiter } from '../runtime/park.js';
import type { Thread } from '../runtime/thread.js';
import { W, WFlag, WState, waiterAlloc } from '../sched/waiter.js';

/** Word offsets of a semaphore block, from its word index `at` (the table above). */
export const SEMA = { LOCK: 0, COUNT: 1, HEAD: 2, TAIL: 3 } as const;
export const SEMA_WORDS = 4;

function tryAcquire(a: Int32Array, at: number): boolean {
  for (;;) {
    const c = Atomics.load(a, at + SEMA.COUNT);
    if (c <= 0) return false;
    if (Atomics.compareExchange(a, at + SEMA.COUNT, c, c - 1) === c) return true;
  }
}

function link(a: Int32Array, at: number, w: number, lifo: boolean): void {
  const head = a[at + SEMA.HEAD]!;
  if (lifo) {
    a[(w >> 2) + W.NEXT] = head;
    a[at + SEMA.HEAD] = w;
    if (head === 0) a[at + SEMA.TAIL] = w;
    return;
  }
  a[(w >> 2) + W.NEXT] = 0;
  const tail = a[at + SEMA.TAIL]!;
  if (tail === 0) a[at + SEMA.HEAD] = w;
  else a[(tail >> 2) + W.NEXT] = w;
  a[at + SEMA.TAIL] = w;
}

/**
 * Take a token: undefined if one was free, else a promise that resolves once one was handed
 * over. `g` is the goroutine to record as parked with `reason` (0: the running one if known).
 */
export function semacquire(t: Thread, at: number, reason: number, g: number, pin: object, lifo = false): Promise<void> | undefined {
  const a = t.heap.i32;
  if (tryAcquire(a, at)) return undefined;
  lock(a, at + SEMA.LOCK);
  if (tryAcquire(t.heap.i32, at)) {
    unlock(t.heap.i32, at + SEMA.LOCK);
    return undefined;
  }
  const p = t.waiter<void>(0);
  t.pinLast(pin); // the object parked on: its record must outlive the wait
  const w = t.lastWaiter;
  parkCurrent(t, w, reason, g);
  link(t.heap.i32, at, w, lifo);
  unlock(t.heap.i32, at + SEMA.LOCK);
  return p;
}

/** semacquire that blocks the thread (Atomics.wait) instead of parking a goroutine. */
export function semacquireSync(t: Thread, at: number, reason: number, g: number, lifo = false): void {
  const a = t.heap.i32;
  if (tryAcquire(a, at)) return;
  lock(a, at + SEMA.LOCK);
  if (tryAcquire(t.heap.i32, at)) {
    unlock(t.heap.i32, at + SEMA.LOCK);
    return;
  }
  const w = waiterAlloc(t.heap, t.index, 0, 0);
  t.heap.i32[(w >> 2) + W.FLAGS] = WFlag.SYNC;
  parkCurrent(t, w, reason, g);
  link(t.heap.i32, at, w, lifo);
  unlock(t.heap.i32, at + SEMA.LOCK);
  const st = (w >> 2) + W.STATE;
  t.beforeBlock();
  while (Atomics.load(t.heap.i32, st) === WState.PENDING) Atomics.wait(t.heap.i32, st, WState.PENDING);
  unparkSync(t, w);
  t.heap.free(w);
}

/** Under LOCK: unlink and return the first waiter, or 0. */
function shift(t: Thread, at: number): number {
  const w = t.heap.i32[at + SEMA.HEAD]!;
  if (w === 0) return 0;
  const next = t.heap.i32[(w >> 2) + W.NEXT]!;
  t.heap.i32[at + SEMA.HEAD] = next;
  if (next === 0) t.heap.i32[at + SEMA.TAIL] = 0;
  return w;
}

/** Give a token back: to the first waiter if there is one, else to COUNT. */
export function semrelease(t: Thread, at: number): void {
  lock(t.heap.i32, at + SEMA.LOCK);
  const w = shift(t, at);
  if (w === 0) Atomics.add(t.heap.i32, at + SEMA.COUNT, 1);
  unlock(t.heap.i32, at + SEMA.LOCK);
  if (w !== 0) wakeWaiter(t, w);
}

/** Wake every waiter without handing tokens (Cond.broadcast's list). Returns how many. */
export function semwakeAll(t: Thread, at: number): number {
  const a = t.heap.i32;
  lock(a, at + SEMA.LOCK);
  let w = a[at + SEMA.HEAD]!;
  a[at + SEMA.HEAD] = 0;
  a[at + SEMA.TAIL] = 0;
  unlock(a, at + SEMA.LOCK);
  let n = 0;
  while (w !== 0) {
    const next = t.heap.i32[(w >> 2) + W.NEXT]!;
    wakeWaiter(t, w);
    w = next;
    n++;
  }
  return n;
}

/** Wake the first waiter, if any (Cond.signal). */
export function semwakeOne(t: Thread, at: number): boolean {
  lock(t.heap.i32, at + SEMA.LOCK);
  const w = shift(t, at);
  unlock(t.heap.i32, at + SEMA.LOCK);
  if (w !== 0) wakeWaiter(t, w);
  return w !== 0;
}

/** Queue a waiter that only a wake (semwakeOne/All) releases: Cond.wait. */
export function semenqueue(t: Thread, at: number, reason: number, g: number, pin: object): Promise<void> {
  const a = t.heap.i32;
  lock(a, at + SEMA.LOCK);
  const p = t.waiter<void>(0);
  t.pinLast(pin);
  const w = t.lastWaiter;
  parkCurrent(t, w, reason, g);
  link(t.heap.i32, at, w, false);
  unlock(t.heap.i32, at + SEMA.LOCK);
  return p;
}
