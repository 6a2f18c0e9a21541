/**
 * sync.WaitGroup in the shared heap: wait for a collection of goroutines on any threads.
 *
 * | word | name  | written by                      | note                                        |
 * |------|-------|---------------------------------|---------------------------------------------|
 * | 0    | LOCK  | any (futex lock, heap/lock.ts)  | guards HEAD/TAIL and the zero transition     |
 * | 1    | COUNT | Atomics.add, any                | the counter; waitSync sleeps on this word    |
 * | 2    | HEAD  | under LOCK                      | first parked waiter (linked via W.NEXT)     |
 * | 3    | TAIL  | under LOCK                      | last parked waiter                           |
 *
 * Invariants: 0 <= COUNT <= 2^31-1 after every add (a negative counter is Go's panic, a
 * counter past int32 a RangeError, both raised at the call site with the add undone; a
 * delta that is not a safe integer in int32 range is refused before the add). A waiter is linked only under LOCK after re-reading
 * COUNT != 0 there, and the add that takes COUNT to 0 empties the list under the same LOCK
 * if COUNT is still 0 there, so no waiter is left behind once COUNT is 0 (no lost wake-up)
 * and none is woken while COUNT is not 0 (no spurious one).
 * Lifetime: the record lives until the runtime shuts down (the heap goes with it).
 * wg.go(fn): the G's JOIN word holds -h, and the M that finishes the goroutine makes its
 * done() (M.finish), unless it threw: that is a panic.
 */
import { lock, unlock } from '../heap/lock.js';
import { SyncError } from '../errors.js';
import { wakeWaiter } from '../runtime/park.js';
import { RuntimeObject } from '../runtime/object.js';
import { W } from '../sched/waiter.js';
import { newproc } from '../runtime/proc.js';
import { release as releaseRef } from '../value/refs.js';
import type { Thread } from '../runtime/thread.js';
import { registerHandleKind } from '../value/codec.js';
import { Kind } from '../value/kinds.js';
import { describe } from '../value/describe.js';

/** Word offsets of a WaitGroup (the table above). */
export const WG = { LOCK: 0, COUNT: 1, HEAD: 2, TAIL: 3 } as const;
export const WG_BYTES = 16;
/** The counter is an int32 word. */
const MAX_COUNT = 0x7fffffff;

/**
 * Go's `sync.WaitGroup`: wait for a collection of goroutines, on any threads, to finish.
 *
 * ```js
 * const wg = new WaitGroup();
 * for (const url of urls) wg.go(fetchOne, url);
 * await wg.wait();
 * ```
 */
export class WaitGroup extends RuntimeObject {

  /** A WaitGroup with a zero counter. */
  constructor();
  /** @internal revival of a handle, or a record embedded in its owner's */
  constructor(handle?: number, g?: number, embedded?: boolean);
  constructor(handle?: number, g?: number, embedded = false) {
    super('new WaitGroup()', Kind.WAITGROUP, WG_BYTES, handle, g, embedded);
  }

  /** Add delta (may be negative) to the counter. */
  add(delta = 1): void {
    if (typeof delta !== 'number') throw new TypeError(`sync: WaitGroup.add needs an integer, got ${describe(delta)}`);
    if (!Number.isInteger(delta) || delta > MAX_COUNT || delta < -MAX_COUNT) {
      throw new RangeError(`sync: WaitGroup.add needs an integer from -(2^31-1) to 2^31-1, got ${delta}`);
    }
    wgAdd(this.t, this.h, delta);
  }

  /** Subtract one from the counter (`add(-1)`): the goroutine it counted has finished. */
  done(): void {
    wgAdd(this.t, this.h, -1);
  }

  /**
   * Go 1.25's wg.Go(f): add 1, and run fn(...args) as a new goroutine that calls done() when
   * it returns. A throw is a panic, which ends the program (run() rejects) as in Go. fn is a
   * goroutine function like go()'s; the done() is made by the M that runs it (G.JOIN holds
   * this WaitGroup's handle, negated), so no wrapper function has to cross threads.
   */
  go<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
    wgAdd(this.t, this.h, 1);
    this.t.heap.retain(this.h); // G.JOIN's, released by the M that finishes it
    try {
      newproc(this.t, fn, args, -this.h);
    } catch (e) {
      releaseRef(this.t.heap, this.h);
      wgAdd(this.t, this.h, -1);
      throw e;
    }
  }

  /** Resolves when the counter is zero. */
  wait(): Promise<void> {
    const t = this.t;
    const a = t.heap.i32;
    const i = this.h >> 2;
    if (Atomics.load(a, i + WG.COUNT) === 0) return t.settled(undefined);
    lock(a, i + WG.LOCK);
    if (Atomics.load(a, i + WG.COUNT) === 0) {
      unlock(a, i + WG.LOCK);
      return Promise.resolve();
    }
    const p = this.park<void>('sync.WaitGroup.Wait');
    const w = this.t.lastWaiter;
    t.heap.i32[(w >> 2) + W.NEXT] = 0;
    const tail = t.heap.i32[i + WG.TAIL]!;
    if (tail === 0) t.heap.i32[i + WG.HEAD] = w;
    else t.heap.i32[(tail >> 2) + W.NEXT] = w;
    t.heap.i32[i + WG.TAIL] = w;
    unlock(t.heap.i32, i + WG.LOCK);
    return p;
  }

  /** Block this thread until the counter is zero (for synchronous code; freezes its event loop). */
  waitSync(): void {
    this.t.beforeBlock();
    const a = this.t.heap.i32;
    const i = this.h >> 2;
    for (;;) {
      const c = Atomics.load(a, i + WG.COUNT);
      if (c === 0) return;
      Atomics.wait(a, i + WG.COUNT, c);
    }
  }

}

/** Add delta to the counter of WaitGroup h (WaitGroup.add; WaitGroup.go's done, on any M). */
export function wgAdd(t: Thread, h: number, delta: number): void {
  const heap = t.heap;
  const i = h >> 2;
  const c = Atomics.add(heap.i32, i + WG.COUNT, delta) + delta; // exact: old (int32) + delta (|delta| < 2^31)
  if (c < 0 || c > MAX_COUNT) {
    Atomics.sub(heap.i32, i + WG.COUNT, delta);
    if (c < 0) throw new SyncError('sync: negative WaitGroup counter');
    throw new RangeError(`sync: WaitGroup counter overflow: ${c - delta} + ${delta} is more than 2^31-1`);
  }
  if (c === 0 && delta !== 0) release(t, h);
}

function release(t: Thread, h: number): void {
  const a = t.heap.i32;
  const i = h >> 2;
  Atomics.notify(a, i + WG.COUNT); // waitSync sleepers
  lock(a, i + WG.LOCK);
  // The counter may have gone up again since our add took it to 0 (add(1); go(f); add(1);
  // go(g); wait(), with f done before the second add): a waiter linked since then waits
  // for the next zero, and waking it now would return Wait before g's done. Under LOCK a
  // waiter is linked only while COUNT != 0, so one linked before COUNT last reached 0 is
  // woken by the add that took it there, unless the counter went up again before that
  // add took the lock: Go's misuse "WaitGroup is reused before previous Wait has
  // returned", which Go reports with a panic; here such a waiter waits for the next zero.
  if (Atomics.load(a, i + WG.COUNT) !== 0) {
    unlock(a, i + WG.LOCK);
    return;
  }
  let w = a[i + WG.HEAD]!;
  a[i + WG.HEAD] = 0;
  a[i + WG.TAIL] = 0;
  unlock(a, i + WG.LOCK);
  while (w !== 0) {
    const next = t.heap.i32[(w >> 2) + W.NEXT]!;
    wakeWaiter(t, w);
    w = next;
  }
}

registerHandleKind(Kind.WAITGROUP, (h, g) => new WaitGroup(h, g));
