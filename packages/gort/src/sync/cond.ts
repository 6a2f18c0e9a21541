/**
 * sync.Cond in the shared heap: goroutines wait for a condition guarded by a Mutex.
 *
 * | word | name   | note                                                   |
 * |------|--------|--------------------------------------------------------|
 * | 0-3  | WAITQ  | sema.ts queue of waiters (its COUNT is unused)          |
 * | 4    | L_KIND | the locker's handle kind (Mutex or RWMutex)            |
 * | 5    | L      | the locker's handle                                    |
 *
 * wait() without L locked is a SyncError before anything is queued (Go's fatal "unlock of
 * unlocked mutex"; a queued waiter whose wait threw would eat a later signal).
 * wait() queues its waiter before it unlocks L, so a signal made after that unlock finds
 * it: no wake-up is lost (Go gets the same from notifyList tickets).
 */
import { RuntimeObject, badHandle } from '../runtime/object.js';
import { describe } from '../value/describe.js';
import { SyncError } from '../errors.js';
import { need } from '../runtime/thread.js';
import { waitCode } from '../sched/g.js';
import { GORT_HANDLE, registerHandleKind, type HandleObject } from '../value/codec.js';
import { Kind } from '../value/kinds.js';
import { onLastRelease } from '../value/refs.js';
import { Mutex, type Locker } from './mutex.js';
import { RWMutex } from './rwmutex.js';
import { semenqueue, semwakeAll, semwakeOne } from './sema.js';

/** Word offsets of a Cond (the table above). */
export const COND = { WAITQ: 0, L_KIND: 4, L: 5 } as const;
export const COND_BYTES = 32;
const WAIT = waitCode('sync.Cond.Wait');

/**
 * Go's `sync.Cond`: goroutines wait for a condition guarded by a `Mutex` or `RWMutex`.
 *
 * ```js
 * await cond.L.lock();
 * while (!ready.load()) await cond.wait();
 * cond.L.unlock();
 * ```
 */
export class Cond extends RuntimeObject {
  /** The lock the condition is guarded by (Go's `c.L`). */
  readonly L: Locker;

  /** A Cond whose wait() unlocks and relocks `l` (Go's `sync.NewCond(l)`). */
  constructor(l: Mutex | RWMutex);
  /** @internal revival of a handle */
  constructor(l: Mutex | RWMutex, handle: number | undefined, g?: number);
  constructor(l: Mutex | RWMutex, handle?: number, g?: number) {
    if (handle === undefined && !(l instanceof Mutex) && !(l instanceof RWMutex)) {
      throw new TypeError(`sync: new Cond() needs a Mutex or an RWMutex, got ${describe(l)}`);
    }
    super('new Cond()', Kind.COND, COND_BYTES, handle, g);
    if (handle === undefined) {
      const [kind, lh] = (l as unknown as HandleObject)[GORT_HANDLE]();
      this.t.heap.retain(lh); // the Cond keeps its locker
      this.t.heap.i32[(this.h >> 2) + COND.L_KIND] = kind;
      this.t.heap.i32[(this.h >> 2) + COND.L] = lh;
    }
    this.L = l;
  }

  /**
   * Unlock `L`, wait for a `signal` or `broadcast`, then lock `L` again before resolving.
   * Call it with `L` held, in a loop that re-checks the condition (a wake-up is only a hint, as
   * in Go). Without `L` held, throws `SyncError` before it waits.
   */
  async wait(): Promise<void> {
    // Checked before queueing: once queued, a throwing unlock would leave a waiter behind
    // that eats a later signal.
    if (!(this.L as Mutex | RWMutex).locked()) throw new SyncError('sync: Cond.wait without holding its lock (unlock of unlocked mutex)');
    const p = semenqueue(this.t, (this.h >> 2) + COND.WAITQ, WAIT, this.g, this);
    this.L.unlock();
    await p;
    await this.L.lock();
  }

  /** Wake one goroutine waiting in `wait()`, if any. */
  signal(): void {
    semwakeOne(this.t, (this.h >> 2) + COND.WAITQ);
  }

  /** Wake every goroutine waiting in `wait()`. */
  broadcast(): void {
    semwakeAll(this.t, (this.h >> 2) + COND.WAITQ);
  }
}

/** A Cond's last reference is gone: let go of its locker. */
onLastRelease(Kind.COND, (heap, h, more) => {
  const lh = heap.i32[(h >> 2) + COND.L]!;
  heap.freeCounted(h);
  more.push(lh);
});

registerHandleKind(Kind.COND, (h, g) => {
  const heap = need('Cond').heap;
  if (heap.kindOf(h) !== Kind.COND) throw badHandle('Cond', Kind.COND, heap.kindOf(h), h); // before reading its words
  const kind = heap.i32[(h >> 2) + COND.L_KIND]!;
  const lh = heap.i32[(h >> 2) + COND.L]!;
  const l = kind === Kind.RWMUTEX ? new RWMutex(lh, g) : new Mutex(lh, g);
  return new Cond(l, h, g);
});
