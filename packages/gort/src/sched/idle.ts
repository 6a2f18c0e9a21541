/**
 * The idle/park protocol as named transitions: which Ms count as spinning (NMSPINNING), which
 * Ps are idle (NPIDLE, IDLE_MASK), how a thread parks on its doorbell without losing a wake-up
 * (DOORBELL, PARKED) and how completions reach it (READY, a Treiber stack linked through
 * W.LINK). One place, as tokio's idle.rs/park.rs, for what Go spreads over proc.go (wakep,
 * resetspinning, findRunnable's park path). The policy (when to spin, how long, when to park,
 * the wait itself: Atomics.wait or waitAsync) stays in runtime/m.ts and loop-thread.ts. Every
 * atomic goes through the AtomicsLike seam and the layout and number of Ps are parameters, so
 * test/idle.model.test.ts runs this code under seeded interleavings. The M of P p is thread
 * p + 1; per-thread words are threads.ts's T (docs/design/scheduler.md, "The park protocol").
 *
 * Who calls what: an M its own spinning and idle transitions; any thread wakeP, ring and
 * pushReady (never to itself); only thread t takeReady(t).
 *
 * Invariants (test/idle.model.test.ts checks them):
 * - No lost wake-up: the parker publishes (publishIdle / prepareToPark), then looks at every
 *   source of work; a producer publishes work, then looks (wakeP; pushReady's load of PARKED).
 *   SC Atomics order each pair (docs/design/memory-model.md, "Dekker handshake").
 * - The doorbell is cleared before PARKED is published: a ring decided by seeing PARKED lands
 *   after the clear, so the wait on it returns at once or is notified.
 * - Only wakeP clears another P's idle bit, with an `and` whose old value tells both sides:
 *   the claimed M learns it was handed the spinning count from its bit being gone.
 * - 0 ≤ NMSPINNING ≤ procs + 1 (each M once at most, plus a wakeP's count from its CAS to its
 *   claim or give-back; the CAS needs 0, so one at a time); 0 at quiescence.
 * - popcount(IDLE_MASK) ≤ NPIDLE (raised before the bit is set, lowered after it is cleared),
 *   equal at quiescence; NPIDLE ≤ procs + the wakePs between their claim and their decrement
 *   (the claimed M may wake for another reason and park again first). Readers such as the
 *   deadlock check must not take NPIDLE > procs as corruption.
 */
import { H } from '../heap/layout.js';
import type { Heap } from '../heap/heap.js';
import { realAtomics, type AtomicsLike } from './atomics.js';
import { T, T_WORDS } from './threads.js';
import { W } from './waiter.js';

/** Where the protocol's words are (word indices into the Int32Array), and how many Ps. */
export interface IdleLayout {
  /** Ps: bits of the idle mask; P p's M is thread p + 1. */
  procs: number;
  nmspinning: number;
  npidle: number;
  /** First idle-mask word; P p is bit p & 31 of word idleMask + (p >> 5). */
  idleMask: number;
  /** Word index of thread 0's record; thread t's is T_WORDS × t further. */
  threads: number;
}

/** PARKED values: awake, parked, and the main pump's bounded park (runtime/main-ring.ts). */
export const Parked = { NO: 0, YES: 1, BRIEFLY: 2 } as const;

export class Idle {
  private readonly procs: number;
  private readonly nmspinning: number;
  private readonly npidle: number;
  private readonly idleMask: number;
  private readonly threads: number;

  constructor(
    private readonly at: AtomicsLike,
    private readonly a: Int32Array,
    layout: IdleLayout,
  ) {
    this.procs = layout.procs;
    this.nmspinning = layout.nmspinning;
    this.npidle = layout.npidle;
    this.idleMask = layout.idleMask;
    this.threads = layout.threads;
  }

  /** Word index of thread t's record. */
  private tw(t: number): number {
    return this.threads + t * T_WORDS;
  }

  // ---- spinning ----

  /** Start spinning if fewer than half the busy Ps have a spinner (Go's rule). True if t now spins. */
  transitionToSpinning(t: number): boolean {
    const nsp = this.at.load(this.a, this.nmspinning);
    const busy = this.procs - this.at.load(this.a, this.npidle);
    if (2 * nsp >= busy) return false; // check and add are separate: a race may admit one more
    this.becomeSpinning(t);
    return true;
  }

  /** Count t as spinning, whatever the number of spinners. */
  becomeSpinning(t: number): void {
    this.at.add(this.a, this.nmspinning, 1);
    this.at.store(this.a, this.tw(t) + T.SPINNING, 1);
  }

  /**
   * Stop counting t as spinning. True if it was the last spinner: then the caller must wakeP
   * if work is queued, since wakeP did nothing while t spun (Go's resetspinning).
   */
  transitionFromSpinning(t: number): boolean {
    this.at.store(this.a, this.tw(t) + T.SPINNING, 0);
    return this.at.sub(this.a, this.nmspinning, 1) === 1;
  }

  // ---- parking ----

  /**
   * Thread t is about to wait on its doorbell: clear it, then publish PARKED (`how`: YES, or
   * BRIEFLY for a bounded park). The caller must then look for work once more.
   */
  prepareToPark(t: number, how: number = Parked.YES): void {
    const tw = this.tw(t);
    this.at.store(this.a, tw + T.DOORBELL, 0); // before PARKED: a ring decided by seeing PARKED lands after this
    this.at.store(this.a, tw + T.PARKED, how); // Dekker pair with ringIfParked's load of PARKED
  }

  /** Thread t is awake again (it stops being rung for READY pushes). */
  leavePark(t: number): void {
    this.at.store(this.a, this.tw(t) + T.PARKED, 0);
  }

  /**
   * P p's M (not spinning: transitionFromSpinning first) goes idle: prepareToPark, then count
   * P p idle and set its bit. The caller's last look at every source of work comes after.
   */
  publishIdle(p: number): void {
    this.prepareToPark(p + 1);
    this.at.add(this.a, this.npidle, 1);
    this.at.or(this.a, this.idleMask + (p >> 5), 1 << (p & 31)); // publish idle P; pairs with wakeP's and
  }

  /**
   * P p's M is awake (its wait ended, or its last look found work). True if wakeP claimed P p
   * meanwhile: that counted the M in NMSPINNING, so it is spinning now (SPINNING set here).
   * False if the M cleared its own bit (and NPIDLE is given back here).
   */
  unpublishIdle(p: number): boolean {
    const tw = this.tw(p + 1);
    const bit = 1 << (p & 31);
    this.at.store(this.a, tw + T.PARKED, 0);
    if ((this.at.and(this.a, this.idleMask + (p >> 5), ~bit) & bit) !== 0) {
      this.at.sub(this.a, this.npidle, 1); // we left the idle set ourselves
      return false;
    }
    this.at.store(this.a, tw + T.SPINNING, 1); // wakeP claimed our P: it counted us in NMSPINNING
    return true;
  }

  /**
   * Go's wakep: if no M is spinning and some P is idle, claim an idle P and ring its M, handing
   * it the spinning state: it is counted in NMSPINNING before it wakes, and it learns so from
   * finding its idle bit cleared by someone else (only wakeP clears another P's bit; a record
   * flag written after the claim would race with an M that unidles itself). Any thread.
   */
  wakeP(): void {
    const at = this.at;
    const a = this.a;
    if (at.load(a, this.nmspinning) !== 0 || at.load(a, this.npidle) === 0) return;
    if (at.compareExchange(a, this.nmspinning, 0, 1) !== 0) return;
    for (let wd = 0; wd * 32 < this.procs; wd++) {
      let m = at.load(a, this.idleMask + wd);
      while (m !== 0) {
        const bit = m & -m;
        const old = at.and(a, this.idleMask + wd, ~bit); // claim P; pairs with publishIdle's or
        if ((old & bit) !== 0) {
          at.sub(a, this.npidle, 1);
          // Clearing another P's idle bit is the hand-over: that M now counts as spinning.
          this.ring(wd * 32 + (31 - Math.clz32(bit)) + 1);
          return;
        }
        m = old & ~bit;
      }
    }
    // No bit yet: an M counted itself in NPIDLE but has not set its bit; its last look sees the work.
    at.sub(a, this.nmspinning, 1);
  }

  // ---- the doorbell ----

  /** Ring thread t's doorbell: wakes it if it waits on it. Any thread. */
  ring(t: number): void {
    const i = this.tw(t) + T.DOORBELL;
    this.at.store(this.a, i, 1);
    this.at.notify(this.a, i, 1);
  }

  /** Ring thread t if it is parked: after publishing work for it (READY, a request). */
  ringIfParked(t: number): void {
    if (this.at.load(this.a, this.tw(t) + T.PARKED) !== 0) this.ring(t); // Dekker pair with prepareToPark's store of PARKED
  }

  // ---- the READY list ----

  /** Push waiter w on thread t's READY list and ring t if it is parked. Any thread but t. */
  pushReady(t: number, w: number): void {
    this.pushReadyQuiet(t, w);
    this.ringIfParked(t);
  }

  /** pushReady without the wake-up: the caller owes thread t a ringIfParked (M.pushReady). */
  pushReadyQuiet(t: number, w: number): void {
    const i = this.tw(t) + T.READY;
    for (;;) {
      const head = this.at.load(this.a, i);
      this.a[(w >> 2) + W.LINK] = head;
      if (this.at.compareExchange(this.a, i, head, w) === head) break; // publishes w's fields
    }
  }

  /** Take every waiter on thread t's READY list into out, oldest first; returns how many. Owner only. */
  takeReady(t: number, out: number[]): number {
    out.length = 0;
    const i = this.tw(t) + T.READY;
    if (this.at.load(this.a, i) === 0) return 0;
    let w = this.at.exchange(this.a, i, 0); // pairs with the pushers' compareExchange
    while (w !== 0) {
      out.push(w);
      w = this.a[(w >> 2) + W.LINK]!;
    }
    out.reverse();
    return out.length;
  }

  /** Whether thread t's READY list holds a waiter. */
  hasReady(t: number): boolean {
    return this.at.load(this.a, this.tw(t) + T.READY) !== 0;
  }
}

/** The protocol over a runtime's heap, with the real Atomics. */
export function heapIdle(heap: Heap): Idle {
  const a = heap.i32;
  return new Idle(realAtomics, a, {
    procs: a[H.PROCS]!,
    nmspinning: H.NMSPINNING,
    npidle: H.NPIDLE,
    idleMask: H.IDLE_MASK,
    threads: a[H.THREADS]! >> 2,
  });
}
