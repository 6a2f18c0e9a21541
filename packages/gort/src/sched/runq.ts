/**
 * A P's local run queue: a bounded ring of G handles plus a `runnext` slot.
 *
 * Follows Go's runqput / runqget / runqgrab / runqsteal (src/runtime/proc.go).
 * Roles: exactly one owner (the M bound to the P) calls put/get/putSlow; any thread calls
 * steal/grab as a thief. The roles are the two classes below, made by one factory.
 *
 * Layout (Int32 words from `base`; HEAD, TAIL and RUNNEXT each on their own 64-byte line):
 *
 * | word     | name    | written by                       | read by          |
 * |----------|---------|----------------------------------|------------------|
 * | 0        | HEAD    | CAS: owner (get) and thieves     | owner, thieves   |
 * | 16       | TAIL    | store: owner only                | owner, thieves   |
 * | 32       | RUNNEXT | owner (exchange; CAS in get), thieves (CAS) | owner, thieves |
 * | 48..48+n | RING    | plain: owner at TAIL, thief into its own ring beyond its TAIL | |
 *
 * Invariants:
 * - 0 <= TAIL - HEAD <= cap (int32 wrapping arithmetic, cap a power of two <= 2^16).
 * - A slot i in [HEAD, TAIL) holds a G that is on this queue exactly once; a G handle is
 *   never 0. Slots are written plainly and published by the atomic store of TAIL, which pairs
 *   with the atomic load of TAIL in grab.
 * - A thief reads slots [h, h+n) and then claims them with CAS(HEAD, h, h+n); if the CAS
 *   fails it claims nothing, and the slots it read may be stale: it retries (a lost race is
 *   `RETRY`, never "empty").
 * - The owner overwrites a slot only while TAIL - HEAD < cap with a fresh load of HEAD, so a
 *   slot a thief may still claim is never overwritten.
 */
import type { AtomicsLike } from './atomics.js';
import { fatal } from '../errors.js';

export const RQ = { HEAD: 0, TAIL: 16, RUNNEXT: 32, RING: 48 } as const;
export const RUNQ_CAP = 256;

export function runqWords(cap: number): number {
  return RQ.RING + cap;
}

/** A lost CAS race in grab: the thief should retry, the queue is not known to be empty. */
export const RETRY = -1;

/** The thief's view of a queue. Any thread. */
export class RunqStealer {
  readonly mask: number;
  constructor(
    readonly A: AtomicsLike,
    readonly q: Int32Array,
    readonly base: number,
    readonly cap: number,
  ) {
    this.mask = cap - 1;
  }

  /** Length estimate (racy; for stats and idle checks). */
  size(): number {
    const h = this.A.load(this.q, this.base + RQ.HEAD);
    const t = this.A.load(this.q, this.base + RQ.TAIL);
    const n = (t - h) | 0;
    return n < 0 ? 0 : n > this.cap ? this.cap : n;
  }

  hasRunnext(): boolean {
    return this.A.load(this.q, this.base + RQ.RUNNEXT) !== 0;
  }

  /**
   * Claim half (rounded up) of the queue into `dst[dstBase + ((dstHead + i) & dstMask)]`.
   * Returns the count, 0 if empty, RETRY if a race was lost. With `takeRunnext`, an empty ring
   * gives up its runnext G instead.
   */
  grab(dst: Int32Array, dstBase: number, dstHead: number, dstMask: number, takeRunnext: boolean): number {
    const { A, q, base } = this;
    const h = A.load(q, base + RQ.HEAD); // pairs with the CAS of HEAD by the owner and other thieves
    const t = A.load(q, base + RQ.TAIL); // pairs with the owner's store of TAIL: slots < t are published
    let n = (t - h) | 0;
    n = n - (n >> 1);
    if (n === 0) {
      if (!takeRunnext) return 0;
      const next = A.load(q, base + RQ.RUNNEXT);
      if (next === 0) return 0;
      if (A.compareExchange(q, base + RQ.RUNNEXT, next, 0) !== next) return RETRY;
      dst[dstBase + (dstHead & dstMask)] = next;
      return 1;
    }
    if (n < 0 || n > this.cap >> 1) return RETRY; // h and t read at different times
    const ring = base + RQ.RING;
    for (let i = 0; i < n; i++) dst[dstBase + ((dstHead + i) & dstMask)] = q[ring + ((h + i) & this.mask)]!;
    if (A.compareExchange(q, base + RQ.HEAD, h, (h + n) | 0) !== h) return RETRY; // claims the slots read above
    return n;
  }
}

/** The owner's view of its P's queue. Only the M bound to the P. */
export class RunqOwner extends RunqStealer {
  /**
   * Put g on the queue. With `next`, g goes to runnext and the previous runnext is kicked to
   * the tail. When the ring is full, half of it plus g go to `overflow` (the global queue)
   * in FIFO order: see putSlow.
   */
  put(g: number, next: boolean, overflow: (batch: number[]) => void): void {
    const { A, q, base } = this;
    if (next) {
      const old = A.exchange(q, base + RQ.RUNNEXT, g);
      if (old === 0) return;
      g = old;
    }
    for (;;) {
      const h = A.load(q, base + RQ.HEAD); // pairs with thieves' CAS of HEAD: frees slots
      const t = q[base + RQ.TAIL]!; // only we write TAIL
      if (((t - h) | 0) < this.cap) {
        q[base + RQ.RING + (t & this.mask)] = g;
        A.store(q, base + RQ.TAIL, (t + 1) | 0); // publish slot t; pairs with load(TAIL) in grab
        return;
      }
      if (this.putSlow(g, h, t, overflow)) return;
    }
  }

  /** Move half the full ring plus g to the caller's overflow (the global queue). */
  putSlow(g: number, h: number, t: number, overflow: (batch: number[]) => void): boolean {
    const { A, q, base } = this;
    const n = ((t - h) | 0) >> 1;
    const batch: number[] = new Array(n + 1);
    for (let i = 0; i < n; i++) batch[i] = q[base + RQ.RING + ((h + i) & this.mask)]!;
    if (A.compareExchange(q, base + RQ.HEAD, h, (h + n) | 0) !== h) return false; // thieves took some; retry put
    batch[n] = g;
    overflow(batch);
    return true;
  }

  /** Take runnext only (0 if empty or a thief took it first). */
  takeRunnext(): number {
    const { A, q, base } = this;
    const next = A.load(q, base + RQ.RUNNEXT);
    if (next !== 0 && A.compareExchange(q, base + RQ.RUNNEXT, next, 0) === next) return next;
    return 0;
  }

  /** Take the next G: runnext first, then the ring's head. 0 if empty. */
  get(): number {
    const { A, q, base } = this;
    const next = A.load(q, base + RQ.RUNNEXT);
    if (next !== 0 && A.compareExchange(q, base + RQ.RUNNEXT, next, 0) === next) return next;
    for (;;) {
      const h = A.load(q, base + RQ.HEAD);
      const t = q[base + RQ.TAIL]!;
      if (t === h) return 0;
      const g = q[base + RQ.RING + (h & this.mask)]!;
      if (A.compareExchange(q, base + RQ.HEAD, h, (h + 1) | 0) === h) return g; // claims slot h
    }
  }

  /**
   * Steal half of `victim`'s queue into this one; returns one G to run now (0 if nothing,
   * RETRY if a race was lost), the rest is published on this queue.
   * Precondition (Go's runqsteal has it too): this queue is empty — the thief writes the
   * stolen Gs beyond its own TAIL before it checks for room. The M steals only after its own
   * runq.get() returned 0.
   */
  stealFrom(victim: RunqStealer, takeRunnext: boolean): number {
    const { A, q, base } = this;
    const t = q[base + RQ.TAIL]!;
    const n = victim.grab(q, base + RQ.RING, t, this.mask, takeRunnext);
    if (n <= 0) return n;
    const last = n - 1;
    const g = q[base + RQ.RING + ((t + last) & this.mask)]!;
    if (last === 0) return g;
    const h = A.load(q, base + RQ.HEAD);
    if (((t - h) | 0) + last >= this.cap) fatal('runqsteal: runq overflow');
    A.store(q, base + RQ.TAIL, (t + last) | 0); // publish the stolen slots; pairs with load(TAIL) in grab
    return g;
  }
}
