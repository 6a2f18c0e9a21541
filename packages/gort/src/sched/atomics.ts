/**
 * The one seam every lock-free algorithm's atomic operations go through (tokio's loom shape).
 *
 * Production passes the global `Atomics`. The model checker (test/model/) passes an object of
 * the same shape whose every operation first waits for a deterministic scheduler's turn, so
 * seeded interleavings of the real algorithm can be explored and replayed. Plain reads and
 * writes between two seam calls run as one atomic block under the model, which is exactly the
 * guarantee the algorithms rely on: plain payload words are published by a later atomic store.
 */
export interface AtomicsLike {
  load(a: Int32Array, i: number): number;
  store(a: Int32Array, i: number, v: number): number;
  add(a: Int32Array, i: number, v: number): number;
  sub(a: Int32Array, i: number, v: number): number;
  exchange(a: Int32Array, i: number, v: number): number;
  compareExchange(a: Int32Array, i: number, expected: number, replacement: number): number;
  /** The idle mask's bit operations (sched/idle.ts); both return the old value. */
  and(a: Int32Array, i: number, v: number): number;
  or(a: Int32Array, i: number, v: number): number;
  /** Wake up to `count` threads in Atomics.wait/waitAsync on word i (a doorbell ring). */
  notify(a: Int32Array, i: number, count?: number): number;
}

export const realAtomics: AtomicsLike = Atomics as unknown as AtomicsLike;
