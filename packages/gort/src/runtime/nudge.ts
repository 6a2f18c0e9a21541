/**
 * LoopNudge: the M's schedule loop waits here after a busy turn that started nothing
 * (M.loop; docs/design/scheduler.md, "The M loop", step 5), until a nudge or, failing one,
 * the next event-loop turn.
 *
 * The loop took a turn per microtask round before, which for one goroutine streaming over a
 * channel was a turn per operation: a channel shared with another M then moved 1.32M
 * values/s against 2.21M without those turns (geometric means of 30 runs of
 * chan/prodcons-100 across Ms, in one process, alternating builds), and one goroutine's
 * buffered send+recv took 1,811 instructions against 1,698 (benchmarks/icount.mjs). What a
 * turn is for still gets one soon, because the M nudges on each of those events: a G queued
 * on this M (ready), a gosched, a goroutine parking on a heap waiter (the M may have to watch
 * for its wake-up: loop, poll), a completion for main (its ring is made at a turn's end).
 * Completions from other Ms need no turn: every 16th operation drains READY
 * (Thread.yieldDue). Otherwise the wait ends at the next event-loop turn (`fallback`): when
 * the microtask queue drains, or at the latest at the end of the slice (yieldDue), as Go's
 * scheduler looks at its global queue only when a goroutine blocks or is preempted. Nudging
 * from yieldDue's 16th-operation check as well cost ~250 instructions per send+recv: it put
 * a promise resolution on every operation's fast path.
 *
 * Invariants: at most one wait is pending (only the loop waits); at most one fallback
 * immediate is queued; a nudge with no wait pending does nothing (the loop is running, and
 * looks at everything on its turn).
 */
export class LoopNudge {
  private resolve: (() => void) | null = null;
  private readonly keep = (r: () => void): void => {
    this.resolve = r;
  };
  private fallbackQueued = false;
  private readonly fallback = (): void => {
    this.fallbackQueued = false;
    this.release(false);
  };
  /** The last wait ended with a nudge, not the fallback. */
  nudged = false;

  /** Resolves at the next nudge, or at the next event-loop turn. */
  wait(): Promise<void> {
    if (!this.fallbackQueued) {
      this.fallbackQueued = true;
      setImmediate(this.fallback);
    }
    return new Promise<void>(this.keep);
  }

  /** End the pending wait, if any. */
  nudge(): void {
    this.release(true);
  }

  private release(byNudge: boolean): void {
    const r = this.resolve;
    if (r !== null) {
      this.resolve = null;
      this.nudged = byNudge;
      r();
    }
  }
}
