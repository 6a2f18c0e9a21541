/**
 * MainRing: one M's debt of wake-ups to the main thread (docs/design/scheduler.md, "One ring
 * per turn for main" and "No ring at all while main is streaming").
 *
 * An M pushes completions for main onto main's READY list without ringing (M.pushReady,
 * owe()), and rings at most once per schedule turn, at the turn's end (settle(false)), or
 * whenever it is about to idle, block or wait for an import (settle(true)).
 *
 * Invariants: `owed` is true from a quiet push until a ring was made or found unnecessary
 * (READY already taken); while this M keeps running turns it rings at most once per
 * MAIN_RING_GAP_MS and never a main parked with PARKED = 2 (its timed streaming park: it
 * looks at READY when that wait ends); a forced settle always rings an owed, parked main.
 * One M's object, used on its thread only.
 */
import type { Heap } from '../heap/heap.js';
import { T, threadWord } from '../sched/threads.js';
import { heapIdle, type Idle } from '../sched/idle.js';

/**
 * Least time between two rings of main by one M while it keeps running turns: the longest a
 * completion for main waits for its ring while this M stays busy.
 */
const MAIN_RING_GAP_MS = 1;

export class MainRing {
  /** Main's READY list got completions from here that it was not rung for. */
  private owed = false;
  /** When this M last rang main for quiet completions (the M's coarse clock, ms). */
  private last = -Infinity;
  private readonly mainTw: number;
  private readonly idle: Idle;

  constructor(private readonly heap: Heap) {
    this.mainTw = threadWord(heap, 0);
    this.idle = heapIdle(heap);
  }

  /** Push completion w for main without a ring: one is owed. */
  owe(w: number): void {
    this.idle.pushReadyQuiet(0, w);
    this.owed = true;
  }

  /**
   * Ring main if completions were pushed to it quietly and it is parked. Unless `force`, at
   * most once per MAIN_RING_GAP_MS: waking a thread parked in waitAsync costs the ringer
   * 10-20 µs here, and with 10 µs goroutines (sched/fine) one ring per 16-goroutine turn took
   * 6% of each M's time. `now` is the M's coarse clock.
   */
  settle(force: boolean, now: number): void {
    if (!this.owed) return;
    const a = this.heap.i32;
    if (!force) {
      if (now - this.last < MAIN_RING_GAP_MS) return;
      // Main parked for at most a ring gap, having just settled completions (PARKED = 2,
      // LoopThread.pump): it will find ours on its own. It checks READY after storing PARKED
      // and we load PARKED after pushing, so it cannot miss them. We stay owed: an M about
      // to idle rings anyway (force), so that the last results of a batch (or the one result
      // main waits for) do not wait out that park. Clearing the debt here made back-to-back
      // spawn-and-await from main wait out that park: 588 µs from a 0.5 ms goroutine's end
      // to main resuming, against 64 µs (sched/idle, back-to-back row).
      if (Atomics.load(a, this.mainTw + T.PARKED) === 2) return;
    }
    this.owed = false;
    this.last = now;
    // Main may have taken our completions already (its park timed out): then no ring.
    if (this.idle.hasReady(0)) this.idle.ringIfParked(0);
  }
}
