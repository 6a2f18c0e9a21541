/**
 * The idle/park protocol: which Ms count as spinning, which Ps are idle, how a thread parks on
 * its doorbell without losing a wake-up, and how completions reach it (its READY list). One
 * set of named transitions over shared words, as tokio keeps its worker idle state and parker
 * in one place (idle.rs, park.rs) where Go spreads it over proc.go (wakep, resetspinning,
 * findRunnable's park path). Policy is the caller's: when to spin and for how long, when to
 * park, and the wait on the doorbell itself (Atomics.wait or waitAsync) stay in runtime/m.ts
 * and runtime/loop-thread.ts. Every atomic goes through the AtomicsLike seam, and the word
 * positions and the number of Ps are parameters, so test/idle.model.test.ts runs this very
 * code under seeded interleavings (docs/design/scheduler.md, "The park protocol").
 *
 * Words. Global (`IdleLayout`; production: heap/layout.ts H): NMSPINNING (Ms counted as
 * spinning), NPIDLE (Ps counted idle), IDLE_MASK (bit p: P p is idle, `procs` bits). Per
 * thread t, in its record at `threads + t * T_WORDS` (sched/threads.ts T): DOORBELL (the
 * futex word it parks on), PARKED (1 from "about to park" to awake; 2 for the main pump's
 * short park), READY (Treiber stack of completed waiters, linked through W.LINK), SPINNING
 * (1 while counted in NMSPINNING; for heap dumps only). The M of P p is thread p + 1.
 *
 * Transitions (t: the calling M's thread index; "any": any thread):
 * - transitionToSpinning(t): claim a spinning slot, only while 2 × NMSPINNING < procs − NPIDLE.
 * - becomeSpinning(t): count t as spinning without the cap (an M whose last look found work).
 * - transitionFromSpinning(t): stop counting t; true if it was the last spinner, and then the
 *   caller must wakeP if work is queued (Go's resetspinning): a producer that saw it spinning
 *   left the wake-up to it.
 * - publishIdle(p): clear the doorbell, PARKED = 1, NPIDLE + 1, set p's idle bit. The caller
 *   must then look at every source of work once more before it waits on the doorbell.
 * - unpublishIdle(p): PARKED = 0 and clear p's bit. True if wakeP had claimed it, which
 *   counted this M in NMSPINNING (it is spinning now); false if the M took its own bit back
 *   (NPIDLE − 1 here).
 * - wakeP() (any): if no M spins and some P is idle, NMSPINNING 0 → 1, claim the lowest idle
 *   bit (NPIDLE − 1) and ring that P's M: the claim is the spinning hand-over.
 * - prepareToPark(t, how) / leavePark(t): the same doorbell and PARKED steps for a thread with
 *   no P (LoopThread's pump); publishIdle/unpublishIdle include them.
 * - pushReady(t, w) (any but t): push w on t's READY list, then ring t if PARKED.
 *   pushReadyQuiet + ringIfParked are its two halves, for a caller that rings later.
 * - takeReady(t, out) (t only): take the whole list, oldest first. hasReady(t): a look.
 * - ring(t) (any): DOORBELL = 1, notify.
 *
 * Invariants (test/idle.model.test.ts checks them):
 * - 0 ≤ NMSPINNING ≤ procs + 1: each M is counted once at most, plus the count a wakeP holds
 *   from its CAS to its claim or give-back (one at a time: the CAS needs 0). So the spinning
 *   cap can briefly count a wakeP in flight as a spinner. At quiescence NMSPINNING is the
 *   number of Ms whose SPINNING is 1 (0 once every M sleeps).
 * - popcount(IDLE_MASK) ≤ NPIDLE after every step (NPIDLE goes up before the bit is set and
 *   down after it is cleared); equal at quiescence. NPIDLE ≤ procs + the wakePs between their
 *   claim and their NPIDLE − 1 (the claimed M may wake for another reason and go idle again
 *   first): a reader such as the deadlock check must not take NPIDLE > procs as an error.
 * - Only wakeP clears another P's idle bit, with an `and` whose old value tells both sides
 *   who cleared it: the claimed M learns it was handed the spinning count from the same bit.
 * - No lost wake-up: publish-then-look on the parker's side (publishIdle, then the caller's
 *   last look) against publish-then-look on the producer's (queue a G, then wakeP; push on
 *   READY, then load PARKED). Sequentially consistent Atomics order each pair, so one side
 *   sees the other (docs/design/memory-model.md, "Dekker handshake").
 * - The doorbell is cleared before PARKED is published: a ring decided by seeing PARKED lands
 *   after the clear, so the wait on it returns at once or is notified.
 * - The READY list is push-only and emptied whole by its owner: no ABA (sched/waiter.ts).
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
