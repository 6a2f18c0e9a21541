/**
 * A futex lock in one Int32 word of shared memory (Drepper, "Futexes Are Tricky", mutex 2).
 *
 * States: 0 unlocked, 1 locked with no waiter, 2 locked and someone may sleep on the word.
 * Any thread may lock and unlock, the main thread included (Node allows Atomics.wait there).
 * Used only for short critical sections (allocator refill, global run queue), so a locker
 * spins briefly before it sleeps. Every operation is an Atomics op, hence sequentially
 * consistent: plain writes made inside the section are visible to the next holder, because
 * the unlock `exchange` pairs with the next lock's `compareExchange`.
 */
const SPINS = 100;

export function lock(a: Int32Array, i: number): void {
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
