/**
 * A weighted semaphore (golang.org/x/sync/semaphore) in the shared heap.
 *
 * | word | name | note                                                      |
 * |------|------|-----------------------------------------------------------|
 * | 0    | LOCK | futex lock: guards everything below                        |
 * | 1    | SIZE | capacity, set once                                         |
 * | 2    | CUR  | weight held now                                            |
 * | 3, 4 | HEAD, TAIL | FIFO of waiters; each one's weight in its W.CASE word |
 *
 * Invariants: 0 <= CUR <= SIZE; waiters are served strictly in order (a big request at the
 * head blocks smaller ones behind it, as in x/sync, so big requests do not starve); release
 * of more than is held is a SyncError and changes nothing.
 */
import { lock, unlock } from '../heap/lock.js';
import { SyncError } from '../errors.js';
import { RuntimeObject } from '../runtime/object.js';
import { wakeWaiter } from '../runtime/park.js';
import { waitCode } from '../sched/g.js';
import { W } from '../sched/waiter.js';
import { registerHandleKind } from '../value/codec.js';
import { Kind } from '../value/kinds.js';
import { describe } from '../value/describe.js';

/** Word offsets of a Semaphore (the table above). */
export const SEM = { LOCK: 0, SIZE: 1, CUR: 2, HEAD: 3, TAIL: 4 } as const;
export const SEM_BYTES = 24;
const WAIT = waitCode('semacquire');

/** What acquire() needs of a context (gort's Context). */
export interface Cancelable {
  done(): { recv(): Promise<unknown> };
  err(): Error | null;
  readonly signal: AbortSignal;
}

function checkN(n: number, what: string): void {
  if (typeof n !== 'number') throw new TypeError(`semaphore: ${what} needs a weight (a number), got ${describe(n)}`);
  // The weights live in int32 words.
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`semaphore: ${what} needs an integer weight from 0 to 2^31-1, got ${n}`);
}

function checkCtx(ctx: unknown): void {
  if (ctx === undefined) return;
  const c = ctx as Partial<Cancelable> | null;
  if (typeof c !== 'object' || c === null || typeof c.done !== 'function' || typeof c.err !== 'function') {
    throw new TypeError(`semaphore: acquire's second argument must be a Context, got ${describe(ctx)}`);
  }
}

/**
 * A weighted semaphore (x/sync's `semaphore.Weighted`), across threads. Waiters are served
 * strictly in order: a large request at the head blocks smaller ones behind it, so large
 * requests do not starve.
 */
export class Semaphore extends RuntimeObject {

  /** A weighted semaphore of `size` (Go's `semaphore.NewWeighted(size)`). */
  constructor(size: number);
  /** @internal revival of a handle */
  constructor(size: number, handle: number | undefined, g?: number);
  constructor(size: number, handle?: number, g?: number) {
    if (handle === undefined) checkN(size, 'new Semaphore()');
    super('new Semaphore()', Kind.SEMAPHORE, SEM_BYTES, handle, g);
    if (handle === undefined) this.t.heap.i32[(this.h >> 2) + SEM.SIZE] = size;
  }

  /** The total weight, as given to the constructor. */
  get size(): number {
    return this.t.heap.i32[(this.h >> 2) + SEM.SIZE]!;
  }

  /**
   * Acquire weight n, waiting (in FIFO order) until it is available. With a context, gives up
   * (rejects with ctx.err()) when it is done. A request larger than the size can never be
   * served: it waits for the context (or forever) without queueing, so it blocks nobody.
   */
  acquire(n = 1, ctx?: Cancelable): Promise<void> {
    checkN(n, 'acquire');
    checkCtx(ctx);
    const a = this.t.heap.i32;
    const i = this.h >> 2;
    if (n > a[i + SEM.SIZE]!) {
      if (ctx === undefined) return this.park<void>(WAIT);
      return ctx.done().recv().then(() => {
        throw ctx.err();
      });
    }
    if (ctx !== undefined && ctx.err() !== null) return Promise.reject(ctx.err());
    lock(a, i + SEM.LOCK);
    if (a[i + SEM.SIZE]! - a[i + SEM.CUR]! >= n && a[i + SEM.HEAD] === 0) {
      a[i + SEM.CUR] = a[i + SEM.CUR]! + n;
      unlock(a, i + SEM.LOCK);
      return this.t.settled(undefined);
    }
    const p = this.park<void>(WAIT);
    const w = this.t.lastWaiter;
    const b = this.t.heap.i32;
    b[(w >> 2) + W.CASE] = n;
    b[(w >> 2) + W.NEXT] = 0;
    const tail = b[i + SEM.TAIL]!;
    if (tail === 0) b[i + SEM.HEAD] = w;
    else b[(tail >> 2) + W.NEXT] = w;
    b[i + SEM.TAIL] = w;
    unlock(b, i + SEM.LOCK);
    return ctx === undefined ? p : this.withCancel(w, p, n, ctx);
  }

  /**
   * x/sync's cancellation: when ctx is done first, leave the queue (waking those behind if
   * we were at its head) and reject with ctx.err(); if the grant won the race, give the
   * weight back and reject all the same.
   */
  private withCancel(w: number, p: Promise<void>, n: number, ctx: Cancelable): Promise<void> {
    const signal = ctx.signal;
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const onAbort = (): void => {
        if (done) return;
        done = true;
        if (this.unqueue(w)) this.t.cancelWaiter(w); // never granted: its promise is dropped
        else this.release(n); // granted under the lock already (its settle is still on the way): give it back now
        reject(ctx.err());
      };
      signal.addEventListener('abort', onAbort, { once: true });
      // Already aborted: ctx was canceled (by another thread) after acquire checked it and
      // before the signal getter ran, which then aborted at once, before this listener
      // existed; the event will not come again. Seen as a rare hang of
      // TestAllocCancelDoesntStarve on a loaded machine.
      if (signal.aborted) onAbort();
      void p.then(() => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        // As x/sync: a grant that arrives once ctx is done (its abort event may still be on
        // its way through this thread's queue) is given back.
        const err = ctx.err();
        if (err !== null) {
          this.release(n);
          reject(err);
        } else resolve();
      });
    });
  }

  /** Remove waiter w from the queue if it is still there; wake the new head if w was first. */
  private unqueue(w: number): boolean {
    const t = this.t;
    const i = this.h >> 2;
    lock(t.heap.i32, i + SEM.LOCK);
    const a = t.heap.i32;
    let prev = 0;
    let cur = a[i + SEM.HEAD]!;
    while (cur !== 0 && cur !== w) {
      prev = cur;
      cur = t.heap.i32[(cur >> 2) + W.NEXT]!;
    }
    if (cur === 0) {
      unlock(t.heap.i32, i + SEM.LOCK);
      return false;
    }
    const b = t.heap.i32;
    const next = b[(w >> 2) + W.NEXT]!;
    if (prev === 0) b[i + SEM.HEAD] = next;
    else b[(prev >> 2) + W.NEXT] = next;
    if (b[i + SEM.TAIL] === w) b[i + SEM.TAIL] = prev;
    const woken = prev === 0 ? this.grantLocked() : [];
    unlock(b, i + SEM.LOCK);
    for (const x of woken) wakeWaiter(t, x);
    return true;
  }

  /** Acquire weight n only if that can happen now. */
  tryAcquire(n = 1): boolean {
    checkN(n, 'tryAcquire');
    const a = this.t.heap.i32;
    const i = this.h >> 2;
    lock(a, i + SEM.LOCK);
    const ok = a[i + SEM.SIZE]! - a[i + SEM.CUR]! >= n && a[i + SEM.HEAD] === 0;
    if (ok) a[i + SEM.CUR] = a[i + SEM.CUR]! + n;
    unlock(a, i + SEM.LOCK);
    return ok;
  }

  /** Give back weight `n`, waking waiters in order while their requests fit. Releasing more than is held throws `SyncError` and changes nothing. */
  release(n = 1): void {
    checkN(n, 'release');
    const t = this.t;
    const a = t.heap.i32;
    const i = this.h >> 2;
    lock(a, i + SEM.LOCK);
    if (a[i + SEM.CUR]! < n) {
      unlock(a, i + SEM.LOCK);
      throw new SyncError('semaphore: released more than held');
    }
    a[i + SEM.CUR] = a[i + SEM.CUR]! - n;
    const woken = this.grantLocked();
    unlock(t.heap.i32, i + SEM.LOCK);
    for (const w of woken) wakeWaiter(t, w);
  }

  /** Under LOCK: grant queued requests in order while they fit; returns the waiters to wake. */
  private grantLocked(): number[] {
    const t = this.t;
    const i = this.h >> 2;
    const woken: number[] = [];
    for (let w = t.heap.i32[i + SEM.HEAD]!; w !== 0; w = t.heap.i32[i + SEM.HEAD]!) {
      const need = t.heap.i32[(w >> 2) + W.CASE]!;
      if (t.heap.i32[i + SEM.SIZE]! - t.heap.i32[i + SEM.CUR]! < need) break; // FIFO: later ones wait too
      t.heap.i32[i + SEM.CUR] = t.heap.i32[i + SEM.CUR]! + need;
      const next = t.heap.i32[(w >> 2) + W.NEXT]!;
      t.heap.i32[i + SEM.HEAD] = next;
      if (next === 0) t.heap.i32[i + SEM.TAIL] = 0;
      woken.push(w);
    }
    return woken;
  }
}

registerHandleKind(Kind.SEMAPHORE, (h, g) => new Semaphore(0, h, g));
