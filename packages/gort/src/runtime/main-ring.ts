/**
 * MainRing: one M's debt of wake-ups to the main thread (docs/design/scheduler.md, "One ring
 * per turn for main", "No ring at all while main is streaming" and "A parked main is rung at
 * once").
 *
 * An M pushes completions for main onto main's READY list without ringing (M.pushReady,
 * owe()). If main is parked untimed (PARKED = 1) nothing else would wake it, and this M may go
 * on running synchronous code for as long as its goroutines like before its turn ends: owe()
 * rings it at once, unless its doorbell already rang. Otherwise (main running, or in its
 * timed streaming park, PARKED = 2, from which it looks at READY within STREAM_PARK_MS) the
 * ring is owed, and made at most once per schedule turn, at the turn's end (settle(false)),
 * or whenever the M is about to idle, block or wait for an import (settle(true)).
 *
 * Invariants: a completion pushed while main is parked untimed is followed by a ring of main
 * by this M or by an earlier one (DOORBELL 1) before owe() returns; `owed` is true from a
 * quiet push until a ring was made or found unnecessary (READY already taken); while this M
 * keeps running turns its turn-end rings come at most once per MAIN_RING_GAP_MS and never
 * ring a main parked with PARKED = 2; a forced settle always rings an owed, parked main.
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

  /** Push completion w for main; ring main now if it is parked untimed, else owe it a ring. */
  owe(w: number): void {
    this.idle.pushReadyQuiet(0, w);
    const a = this.heap.i32;
    // Loaded after the push: the Dekker pair with the pump's store of PARKED, then load of
    // READY (LoopThread.pump). A main parked untimed waits for a ring and nothing else: a
    // ring deferred to the turn's end waited for every goroutine after this one in the turn,
    // up to 0.8 s for 8 goroutines of 50-400 ms of synchronous work, and forever when the
    // next goroutine loops until main answers (test/sched.prompt.test.ts). A DOORBELL already
    // 1 means main was rung since it stored 0 before this park, or is waking from the last
    // one, and looks at READY after that: no second notify. (The notify-once rule rejected in
    // the essay was for every push; here main is not streaming, see below.)
    if (Atomics.load(a, this.mainTw + T.PARKED) === 1) { // pairs with the pump's store(PARKED) before its load(READY)
      this.owed = false;
      // pairs with the pump's store(DOORBELL, 0) before its store(PARKED)
      if (Atomics.load(a, this.mainTw + T.DOORBELL) === 0) this.idle.ring(0);
      return;
    }
    // Main is running (its pump looks at READY before it parks) or parked timed, streaming
    // (PARKED = 2: it looks at READY within STREAM_PARK_MS): a ring can wait for the turn's end.
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
