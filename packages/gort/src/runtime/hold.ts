/**
 * Holding runnext: an M keeps a new goroutine that was spawned with one of its local
 * channels, and thieves leave it there while that M makes progress (docs/design/scheduler.md,
 * "Holding `runnext`"). Go keeps a spawner and its partners together by moving a woken G to
 * its waker's P; a started goroutine here never moves, so where it starts is the one choice.
 *
 * Each M owns one RunnextHold. Its own record's words:
 * - T.HOLD: 1 while its runnext G was spawned with a channel local to it; written by the
 *   owner only (mark, drop), before the G is published in runnext, and only when it changes.
 * - T.BEAT: the owner's heartbeat (Thread.beat: every 16 runtime operations, and each held
 *   spawn).
 *
 * Invariants: thieves read HOLD and BEAT racily; they decide *when* a thief takes a runnext
 * G, never *whether* it runs: the take itself is runq.ts's CAS, and a held G is taken by any
 * thief once the holder's heartbeat has stood still for HOLD_GRACE_MS. An M that goes idle
 * drops its hold, and the spawn that starts a new one rings an idle P, so an idle M is
 * either rung or parked with a HOLD_GRACE_MS timeout (watch) while a hold exists.
 */
import type { Heap } from '../heap/heap.js';
import { T, ThreadState, threadWord } from '../sched/threads.js';
import type { RunqStealer } from '../sched/runq.js';
import { RuntimeObject } from './object.js';

/**
 * How long a holder's heartbeat must stand still before a thief takes its held G. Longer
 * than this VM's young-generation GC pauses (1-6 ms in the sieve), during which an M
 * publishes nothing but is not computing: a hold broken then put an early sieve filter on
 * the other M and every number through it crossed threads twice.
 */
export const HOLD_GRACE_MS = 5;

/** mark(): the G is not held; wake an idle P, as Go's newproc does. */
export const NOT_HELD = 0;
/** mark(): the G is held and a hold starts here: wake an idle P, so that it watches. */
export const HOLD_STARTS = 1;
/** mark(): the G is held and this M held its last spawn too: the other Ms already watch. */
export const STILL_HELD = 2;

export class RunnextHold {
  /** Per victim (victims' order): its thread record, and the heartbeat last seen there and when. */
  private readonly victimT: number[] = [];
  private readonly beatSeen: number[] = [];
  private readonly beatAt: number[] = [];

  constructor(
    private readonly heap: Heap,
    /** this M's thread record */
    private readonly tw: number,
    /** this M's local channels, by handle (chan/local.ts) */
    private readonly locals: ReadonlyMap<number, unknown>,
    /** the victims' P indexes, in the order of the M's victims array */
    victimPs: readonly number[],
    private readonly victims: readonly RunqStealer[],
  ) {
    for (const p of victimPs) {
      this.victimT.push(threadWord(heap, p + 1));
      this.beatSeen.push(-1);
      this.beatAt.push(0);
    }
  }

  /** Publish whether a G made with args, about to enter runnext, is held: NOT_HELD, HOLD_STARTS or STILL_HELD. */
  mark(args: readonly unknown[]): number {
    const a = this.heap.i32;
    const hold = args.length !== 0 && this.locals.size !== 0 && this.holdsLocal(args) ? 1 : 0;
    const was = a[this.tw + T.HOLD];
    if (was !== hold) a[this.tw + T.HOLD] = hold;
    return hold === 0 ? NOT_HELD : was === 0 ? HOLD_STARTS : STILL_HELD;
  }

  /** Going idle: whatever runs here next starts a new hold (mark rings for it). */
  drop(): void {
    if (this.heap.i32[this.tw + T.HOLD] !== 0) this.heap.i32[this.tw + T.HOLD] = 0;
  }

  /**
   * Whether to take victim vi's runnext G. Yes, as in Go, unless the victim holds it: then
   * only once its heartbeat has stood still for HOLD_GRACE_MS by our clock (its spawner
   * computes synchronously, `go(f, ch); compute()`, and will not start it soon).
   */
  mayTake(vi: number): boolean {
    const a = this.heap.i32;
    const tw = this.victimT[vi]!;
    if (a[tw + T.HOLD] === 0) return true;
    const beat = a[tw + T.BEAT]!;
    const now = performance.now();
    if (beat !== this.beatSeen[vi]) {
      this.beatSeen[vi] = beat;
      this.beatAt[vi] = now;
      return false;
    }
    return now - this.beatAt[vi]! >= HOLD_GRACE_MS;
  }

  /**
   * Whether a victim holds a runnext G, or runs goroutines and held its last spawn: it may
   * hold one without ringing us, so an idle M parks only until a grace may be over. Go's
   * sysmon, in miniature and only while an M holds.
   */
  watch(): boolean {
    const a = this.heap.i32;
    for (let vi = 0; vi < this.victimT.length; vi++) {
      const tw = this.victimT[vi]!;
      if (a[tw + T.HOLD] !== 0 && (this.victims[vi]!.hasRunnext() || a[tw + T.STATE] === ThreadState.RUNNING)) return true;
    }
    return false;
  }

  /** Whether one of args is a channel local to this M. */
  private holdsLocal(args: readonly unknown[]): boolean {
    for (const x of args) if (x instanceof RuntimeObject && this.locals.has(x.h)) return true;
    return false;
  }
}
