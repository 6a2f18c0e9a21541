/**
 * golang.org/x/sync/errgroup over the shared heap: a WaitGroup that collects the first error
 * and (withContext) cancels a context on it. Any thread may go() into a group it holds.
 *
 * | word | name    | note                                                            |
 * |------|---------|-----------------------------------------------------------------|
 * | 0-3  | WG      | a WaitGroup (waitgroup.ts layout)                                |
 * | 4    | ERRSET  | Atomics: 0 → 1 by the first goroutine that fails                 |
 * | 5    | CTX     | context handle to cancel on the first error and after wait(), or 0 |
 * | 6    | SEM     | Semaphore handle limiting active goroutines (setLimit), or 0      |
 * | 8-11 | ERR     | value slot: the first error (written by the ERRSET winner)        |
 *
 * go() counts the goroutine in WG before it waits for a limit slot, so a wait() made after
 * go() returned (even without awaiting it) waits for that goroutine too.
 *
 * As in Go, where the wrapper goroutine does it, a group's goroutine ends on its own thread:
 * the M that ran it (M.finish, through G.GROUP) records a first error, cancels the context,
 * releases its limit slot and calls done(), in that order (groupFinished). Nothing goes back
 * to the thread that called go(): the cancel reaches siblings that poll ctx.err() on any M
 * at once, through the shared heap, even while that thread (main, say) waits for a ring and
 * the failing goroutine's M keeps running synchronous code. (When main settled it, the error
 * waited for the end of the M's batch, and a batch of siblings looping until the cancel
 * never ended.) The slot released is the group's SEM when the goroutine ends, as Go's done()
 * reads g.sem then.
 */
import { RuntimeObject } from '../runtime/object.js';
import { SyncError } from '../errors.js';
import { newproc } from '../runtime/proc.js';
import { need, type Thread } from '../runtime/thread.js';
import { dropInto, encodeInto, read, registerHandleKind, Tag } from '../value/codec.js';
import { onLastRelease, release } from '../value/refs.js';
import { borrowed, shareAnchor } from '../runtime/object.js';
import { Kind } from '../value/kinds.js';
import { describe } from '../value/describe.js';
import { WaitGroup, wgAdd } from '../sync/waitgroup.js';
import { Semaphore } from '../sync/semaphore.js';
import { Context, cancelContext, withCancel } from '../context/context.js';

/** Word offsets of a Group (the table above). */
export const EG = { WG: 0, ERRSET: 4, CTX: 5, SEM: 6, ERR: 8 } as const;
export const EG_BYTES = 48;

/**
 * x/sync's `errgroup.Group`: run goroutines, wait for them all, and get the first error one
 * of them threw. Made with `new Group()`, or `Group.withContext(ctx)` for a group whose context is
 * canceled by the first error (and when `wait()` returns).
 */
export class Group extends RuntimeObject {
  private readonly wg: WaitGroup;

  /** A new group, with no context (Go's `new(errgroup.Group)`). */
  constructor();
  /** @internal revival, and withContext's context */
  constructor(handle?: number, g?: number, ctx?: Context);
  constructor(handle?: number, g?: number, ctx?: Context) {
    if (ctx !== undefined && !(ctx instanceof Context)) throw new TypeError(`gort: new Group() was given ${describe(ctx)} as its context`);
    super('new Group()', Kind.GROUP, EG_BYTES, handle, g);
    this.wg = new WaitGroup(this.h + EG.WG * 4, this.g, true);
    shareAnchor(this.wg, this);
    if (ctx !== undefined) {
      this.t.heap.retain(ctx.h); // the group cancels it: it keeps it
      this.t.heap.i32[(this.h >> 2) + EG.CTX] = ctx.h;
    }
  }

  /**
   * Go's `errgroup.WithContext`: a group and a context derived from `parent` that the group
   * cancels on its first error or when wait() returns. The same as `withContext` from
   * `gort/errgroup`.
   */
  static withContext(parent: Context): [Group, Context] {
    return withContext(parent);
  }

  private get sem(): Semaphore | null {
    const s = this.t.heap.i32[(this.h >> 2) + EG.SEM]!;
    return s === 0 ? null : new Semaphore(0, s, this.g);
  }

  /**
   * Run fn(...args) as a goroutine in the group. With a limit, resolves once it has a slot
   * (await it to keep at most `limit` queued, as Go's blocking Go does).
   */
  async go<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): Promise<void> {
    this.wg.add(1);
    const sem = this.sem;
    if (sem !== null) await sem.acquire(1);
    this.launch(fn, args, sem);
  }

  /** Run fn only if a slot is free now; false otherwise. */
  tryGo<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): boolean {
    const sem = this.sem;
    if (sem !== null && !sem.tryAcquire(1)) return false;
    this.wg.add(1);
    this.launch(fn, args, sem);
    return true;
  }

  private launch(fn: unknown, args: unknown[], sem: Semaphore | null): void {
    const t = need('Group.go()');
    t.heap.retain(this.h); // G.GROUP's, released by the M that finishes it (groupFinished)
    try {
      newproc(t, fn, args, 0, this.h);
    } catch (e) {
      release(t.heap, this.h);
      sem?.release(1);
      this.wg.done();
      throw e;
    }
  }

  /** Limit active goroutines to n (negative: no limit). Only while none is running, as in Go. */
  setLimit(n: number): void {
    const heap = this.t.heap;
    const i = this.h >> 2;
    if (typeof n !== 'number') throw new TypeError(`errgroup: setLimit needs an integer, got ${describe(n)}`);
    if (n < 0) {
      const old = heap.i32[i + EG.SEM]!;
      heap.i32[i + EG.SEM] = 0;
      if (old !== 0) release(heap, old);
      return;
    }
    if (!Number.isInteger(n) || n > 0x7fffffff) throw new RangeError(`errgroup: setLimit needs an integer up to 2^31-1, got ${n}`);
    if (Atomics.load(heap.i32, i + 1) !== 0) {
      throw new SyncError('errgroup: modify limit while goroutines in the group are still active');
    }
    const old = heap.i32[i + EG.SEM]!;
    const s = new Semaphore(n).h;
    heap.retain(s); // the record's, beside the object's
    heap.i32[i + EG.SEM] = s;
    if (old !== 0) release(heap, old);
  }

  /** Wait for every goroutine; rejects with the first error (and cancels the group's context). */
  async wait(): Promise<void> {
    await this.wg.wait();
    const heap = this.t.heap;
    const i = this.h >> 2;
    const ctx = heap.i32[i + EG.CTX]!;
    if (ctx !== 0) cancelContext(this.t, ctx);
    if (Atomics.load(heap.i32, i + EG.ERRSET) === 1) throw read(heap, this.h + EG.ERR * 4, false, this.g);
  }
}

/** A group whose first error (or wait() returning) cancels the returned context. */
export function withContext(parent: Context): [Group, Context] {
  if (!(parent instanceof Context)) {
    throw new TypeError(`gort: withContext() needs a parent Context (e.g. background()), got ${describe(parent)}`);
  }
  const [ctx] = withCancel(parent);
  return [new Group(undefined, undefined, ctx), ctx];
}

/**
 * A goroutine of group h ended (threw `e` if failed): record the first error and cancel the
 * group's context, then release its limit slot and count it done. On the goroutine's own
 * thread (M.finish), as Go's wrapper does it.
 */
export function groupFinished(t: Thread, h: number, failed: boolean, e: unknown): void {
  const heap = t.heap;
  const i = h >> 2;
  if (failed && Atomics.compareExchange(heap.i32, i + EG.ERRSET, 0, 1) === 0) {
    const err = e ?? new Error('errgroup: goroutine failed with a null error');
    try {
      encodeInto(heap, h + EG.ERR * 4, err, 'the error');
    } catch {
      try {
        encodeInto(heap, h + EG.ERR * 4, new Error(String(err)), 'the error');
      } catch {
        heap.i32[(h >> 2) + EG.ERR] = Tag.UNDEF; // no room even for that: wait() rejects with undefined
      }
    }
    const ctx = heap.i32[i + EG.CTX]!;
    if (ctx !== 0) cancelContext(t, ctx);
  }
  const s = heap.i32[i + EG.SEM]!;
  if (s !== 0) borrowed(() => new Semaphore(0, s, 0)).release(1);
  wgAdd(t, h + EG.WG * 4, -1);
  release(heap, h); // G.GROUP's (Group.launch)
}

/** A group's last reference is gone: let go of its context and semaphore, drop its error. */
onLastRelease(Kind.GROUP, (heap, h, more) => {
  const a = heap.i32;
  const ctx = a[(h >> 2) + EG.CTX]!;
  const sem = a[(h >> 2) + EG.SEM]!;
  dropInto(heap, h + EG.ERR * 4, more);
  heap.freeCounted(h);
  if (ctx !== 0) more.push(ctx);
  if (sem !== 0) more.push(sem);
});

registerHandleKind(Kind.GROUP, (h, g) => new Group(h, g));
