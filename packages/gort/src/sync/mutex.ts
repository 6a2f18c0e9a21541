/**
 * sync.Mutex in the shared heap: Go's algorithm (src/sync/mutex.go), normal and starvation
 * modes, across goroutines on any threads.
 *
 * | word | name  | note                                                             |
 * |------|-------|------------------------------------------------------------------|
 * | 0    | STATE | Atomics only: LOCKED | WOKEN | STARVING | waiters << WAITER_SHIFT   |
 * | 1-4  | SEMA  | sema.ts: where waiters park                                      |
 *
 * Normal mode: a woken waiter competes with newcomers for the lock; one that loses goes back
 * to the front of the queue. Starvation mode (entered by a waiter that waited over 1 ms):
 * unlock hands the lock straight to the first waiter, newcomers queue at the tail; it ends
 * when the last waiter is served or one waited under 1 ms. So no goroutine starves.
 * Differences from Go: no active spinning before parking (JS cannot yield a core
 * cheaply, and on 2 cores a spinner takes half the machine); the lock is not owned by a
 * goroutine (as in Go, any goroutine may unlock it).
 * The slow path is one generator driven by a promise chain (lock) or a blocking loop
 * (lockSync), so the state machine is written once.
 */
import { SyncError } from '../errors.js';
import { RuntimeObject } from '../runtime/object.js';
import { waitCode } from '../sched/g.js';
import { registerHandleKind } from '../value/codec.js';
import { Kind } from '../value/kinds.js';
import { SEMA_WORDS, semacquire, semacquireSync, semrelease } from './sema.js';

const LOCKED = 1;
const WOKEN = 2;
const STARVING = 4;
const WAITER_SHIFT = 3;
const STARVATION_MS = 1;
/** Word offsets of a Mutex (the table above). */
export const MU = { STATE: 0, SEMA: 1 } as const;
export const MU_BYTES = (1 + SEMA_WORDS) * 4;
const RESOLVED = Promise.resolve();
const WAIT_LOCK = waitCode('sync.Mutex.Lock');

/** What `Cond` locks and unlocks: a `Mutex`, an `RWMutex`, or an `RWMutex`'s `rlocker()` (Go's `sync.Locker`). */
export interface Locker {
  /** Lock; the promise resolves once held. */
  lock(): Promise<void>;
  /** Unlock. */
  unlock(): void;
}

/** A request from the slow path: park on the semaphore (lifo: go to the front). */
type Acquire = { lifo: boolean };

/**
 * Go's `sync.Mutex`, shared by every thread that holds it: goroutines on any M, the main
 * thread, attached threads. Fair as Go's: a waiter that waited over 1 ms gets the lock handed
 * to it (starvation mode). Not owned by a goroutine: any goroutine may unlock it, as in Go.
 *
 * ```js
 * const mu = new Mutex();
 * await mu.lock();
 * try { counter.store(counter.load() + 1); } finally { mu.unlock(); }
 * ```
 */
export class Mutex extends RuntimeObject implements Locker {

  /** An unlocked Mutex. */
  constructor();
  /** @internal revival of a handle, or a record embedded in its owner's */
  constructor(handle?: number, g?: number, embedded?: boolean);
  constructor(handle?: number, g?: number, embedded = false) {
    super('new Mutex()', Kind.MUTEX, MU_BYTES, handle, g, embedded);
  }

  /** @internal word index of STATE, for RWMutex/Cond built on this mutex */
  get at(): number {
    return this.h >> 2;
  }

  /** Lock; the promise resolves once this caller holds it. Uncontended, a single compare-and-swap. */
  lock(): Promise<void> {
    const a = this.t.heap.i32;
    if (Atomics.compareExchange(a, this.at + MU.STATE, 0, LOCKED) === 0) return this.t.yieldDue() ? this.t.yieldTurn(undefined) : RESOLVED;
    return this.runAsync(this.lockSlow());
  }

  /**
   * Lock, blocking the thread (for synchronous code; freezes its event loop while it waits).
   * On an M, do not mix it with lock() on the same mutex: a goroutine parked in lock() on the
   * blocked M can be handed the lock and cannot run to release it — a deadlock. Use it where
   * every user blocks (synchronous workers, attached threads) or on the main thread.
   */
  lockSync(): void {
    const a = this.t.heap.i32;
    if (Atomics.compareExchange(a, this.at + MU.STATE, 0, LOCKED) === 0) return;
    const gen = this.lockSlow();
    for (let r = gen.next(); !r.done; r = gen.next()) {
      semacquireSync(this.t, this.at + MU.SEMA, WAIT_LOCK, this.g, r.value.lifo);
    }
  }

  /** Lock only if that can happen now: true if it did. */
  tryLock(): boolean {
    const a = this.t.heap.i32;
    const old = Atomics.load(a, this.at + MU.STATE);
    if ((old & (LOCKED | STARVING)) !== 0) return false;
    return Atomics.compareExchange(a, this.at + MU.STATE, old, old | LOCKED) === old;
  }

  /** @internal whether it is locked now (unlock() would not throw); a racy snapshot */
  locked(): boolean {
    return (Atomics.load(this.t.heap.i32, this.at + MU.STATE) & LOCKED) !== 0;
  }

  /** Unlock. Unlocking an unlocked Mutex throws `SyncError` (Go's fatal error). */
  unlock(): void {
    const a = this.t.heap.i32;
    const i = this.at + MU.STATE;
    if ((Atomics.load(a, i) & LOCKED) === 0) throw new SyncError('sync: unlock of unlocked mutex');
    const nw = Atomics.sub(a, i, LOCKED) - LOCKED;
    if (nw !== 0) this.unlockSlow(nw);
  }

  /**
   * Drive the slow path until it holds the lock: a promise that resolves then. Not an async
   * function: a goroutine parked in lock() would keep its suspended frame, its promise and its
   * await's two reactions alive (mem/parked-breakdown.mjs mutex: 1,531 bytes of the M's V8
   * heap per parked goroutine, 1,280 with the reaction below). A throw (the heap has no room
   * for a waiter) still rejects the promise instead of escaping lock().
   */
  private runAsync(gen: Generator<Acquire, void, void>): Promise<void> {
    try {
      return this.acquireFrom(gen) ?? RESOLVED;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Run gen until it holds the lock (undefined) or parks (a promise that goes on once woken). */
  private acquireFrom(gen: Generator<Acquire, void, void>): Promise<void> | undefined {
    for (let r = gen.next(); !r.done; r = gen.next()) {
      const p = semacquire(this.t, this.at + MU.SEMA, WAIT_LOCK, this.g, this, r.value.lifo);
      if (p !== undefined) return p.then(() => this.acquireFrom(gen));
    }
    return undefined;
  }

  private *lockSlow(): Generator<Acquire, void, void> {
    const a = this.t.heap.i32;
    const i = this.at + MU.STATE;
    let waitStart = 0;
    let starving = false;
    let awoke = false;
    let old = Atomics.load(a, i);
    for (;;) {
      let nw = old;
      if ((old & STARVING) === 0) nw |= LOCKED; // don't try to take a starving mutex: queue
      if ((old & (LOCKED | STARVING)) !== 0) nw += 1 << WAITER_SHIFT;
      if (starving && (old & LOCKED) !== 0) nw |= STARVING;
      if (awoke) nw &= ~WOKEN;
      if (Atomics.compareExchange(this.t.heap.i32, i, old, nw) === old) {
        if ((old & (LOCKED | STARVING)) === 0) return; // locked with the CAS
        const lifo = waitStart !== 0;
        if (waitStart === 0) waitStart = performance.now();
        yield { lifo };
        starving = starving || performance.now() - waitStart > STARVATION_MS;
        old = Atomics.load(this.t.heap.i32, i);
        if ((old & STARVING) !== 0) {
          // The lock was handed to us; we are still counted as a waiter and LOCKED is clear.
          let delta = LOCKED - (1 << WAITER_SHIFT);
          if (!starving || old >> WAITER_SHIFT === 1) delta -= STARVING; // leave starvation mode
          Atomics.add(this.t.heap.i32, i, delta);
          return;
        }
        awoke = true;
      } else {
        old = Atomics.load(this.t.heap.i32, i);
      }
    }
  }

  private unlockSlow(nw: number): void {
    const a = this.t.heap.i32;
    const i = this.at + MU.STATE;
    if ((nw & STARVING) === 0) {
      let old = nw;
      for (;;) {
        // Nobody to wake, or someone is already woken / got the lock: nothing to do.
        if (old >> WAITER_SHIFT === 0 || (old & (LOCKED | WOKEN | STARVING)) !== 0) return;
        const n2 = (old - (1 << WAITER_SHIFT)) | WOKEN;
        if (Atomics.compareExchange(a, i, old, n2) === old) {
          semrelease(this.t, this.at + MU.SEMA);
          return;
        }
        old = Atomics.load(a, i);
      }
    }
    // Starvation mode: hand the lock to the first waiter (it sets LOCKED itself).
    semrelease(this.t, this.at + MU.SEMA);
  }
}

registerHandleKind(Kind.MUTEX, (h, g) => new Mutex(h, g));
