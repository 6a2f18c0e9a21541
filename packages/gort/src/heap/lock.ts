/**
 * A futex lock in one Int32 word of shared memory (Drepper, "Futexes Are Tricky", mutex 2).
 *
 * States: 0 unlocked, 1 locked with no waiter, 2 locked and someone may sleep on the word.
 * Any thread may lock and unlock, the main thread included (Node allows Atomics.wait there).
 * Used only for short critical sections (allocator refill, global run queue), so a locker
 * spins briefly before it sleeps. Every operation is an Atomics op, hence sequentially
 * consistent: plain writes made inside the section are visible to the next holder, because
 * the unlock `exchange` pairs with the next lock's `compareExchange`.
 *
 * `a` is always the heap's Int32Array. Once a worker has died (H.CRASHED, set by the main
 * thread), lock() refuses with a RuntimeStateError, at once and from inside its wait: the
 * dead thread may have held this very lock, and the data it guards may be half-written
 * (docs/architecture.md, "Failure"). So no thread waits forever for a dead holder once main
 * has seen the crash.
 */
import { RuntimeStateError } from '../errors.js';
import { H } from './layout.js';

const SPINS = 100;

function refuse(a: Int32Array): never {
  throw new RuntimeStateError(
    `gort: the runtime has stopped: M${Atomics.load(a, H.CRASHED)} (a worker thread) died, and shared state may be half-written (see Runtime.failure)`,
  );
}

export function lock(a: Int32Array, i: number): void {
  // A plain read: CRASHED is written once, and an Atomics.load here cost 6 ns per lock (a
  // third of an uncontended lock + unlock); the wait below reads it with Atomics.load.
  if (a[H.CRASHED] !== 0) refuse(a);
  let c = Atomics.compareExchange(a, i, 0, 1);
  if (c === 0) return;
  for (let s = 0; s < SPINS; s++) {
    if (Atomics.load(a, i) === 0) {
      c = Atomics.compareExchange(a, i, 0, 1);
      if (c === 0) return;
    }
  }
  if (c !== 2) c = Atomics.exchange(a, i, 2);
  while (c !== 0) {
    if (Atomics.load(a, H.CRASHED) !== 0) refuse(a); // the holder may be the dead thread; pairs with Runtime.crashed's store
    Atomics.wait(a, i, 2, 1);
    c = Atomics.exchange(a, i, 2);
  }
}

export function tryLock(a: Int32Array, i: number): boolean {
  return Atomics.compareExchange(a, i, 0, 1) === 0;
}

export function unlock(a: Int32Array, i: number): void {
  if (Atomics.exchange(a, i, 0) === 2) Atomics.notify(a, i, 1);
}
