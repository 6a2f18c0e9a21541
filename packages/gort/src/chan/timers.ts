/**
 * Timers as channels: Go's time.After, time.NewTimer, time.NewTicker, time.Sleep.
 *
 * A timer lives on the thread that made it (its event loop fires it) and delivers into a
 * channel of capacity 1 with a non-blocking send, as Go's do: a tick nobody took is
 * dropped, so a slow receiver sees the most recent pending tick, never a backlog.
 *
 * Invariants: every pending runtime timer is counted in the heap's TIMERS word (the deadlock
 * detector: goroutines waiting on a timer are not deadlocked); a fired or stopped timer has
 * cleared its Node timer and uncounted itself. Node timers are unref'd: like Go, a program
 * ends when main returns, whatever timers are pending. Durations beyond Node's limit
 * (2^31-1 ms, which Node would turn into 1 ms) are waited out in chained steps.
 * stop() and reset() called after the runtime that made the timer shut down do nothing (they
 * return false): a timer or signal handler may outlive run().
 */
import { H } from '../heap/layout.js';
import { current, need, type Thread } from '../runtime/thread.js';
import { tracePark, traceResume } from '../runtime/tracebuf.js';
import { G, Gstatus, waitCode } from '../sched/g.js';
import { TC } from '../sched/threads.js';

const WAIT_SLEEP = waitCode('sleep');
import { Chan } from './chan.js';

const MAX_STEP = 0x7fffffff;

function checkMs(ms: number, what: string): number {
  if (typeof ms !== 'number' || Number.isNaN(ms)) throw new TypeError(`gort: ${what} needs a duration in ms, got ${String(ms)}`);
  return ms < 0 ? 0 : ms;
}

/** A one-shot Node timer that can wait past MAX_STEP and is counted in TIMERS. */
export class NodeTimer {
  private handle: ReturnType<typeof setTimeout> | null = null;
  private due = -0; // a double from the start (Thread.now)

  constructor(
    private readonly t: Thread,
    private readonly fire: () => void,
  ) {}

  get pending(): boolean {
    return this.handle !== null;
  }

  start(ms: number): void {
    if (this.handle === null) {
      Atomics.add(this.t.heap.i32, H.TIMERS, 1);
      this.t.timers.add(this);
    } else clearTimeout(this.handle);
    this.due = performance.now() + ms;
    this.arm(ms);
  }

  private arm(ms: number): void {
    this.handle = setTimeout(() => {
      // A timer of a runtime that has shut down (shutdown clears them; this guards the race)
      // must not act: the thread may already belong to the next runtime.
      if (current !== this.t) return;
      const left = this.due - performance.now();
      if (left > 1) return this.arm(left);
      this.handle = null;
      this.t.timers.delete(this);
      Atomics.sub(this.t.heap.i32, H.TIMERS, 1);
      this.t.fromEventLoop();
      this.fire();
    }, Math.min(Math.max(ms, 0), MAX_STEP));
    this.handle.unref();
  }

  /** Stop it; true if it was pending. */
  stop(): boolean {
    if (this.handle === null) return false;
    clearTimeout(this.handle);
    this.handle = null;
    this.t.timers.delete(this);
    Atomics.sub(this.t.heap.i32, H.TIMERS, 1);
    return true;
  }
}

/**
 * Go's time.Timer, with Go 1.23's guarantee: once stop() or reset() returns, no receive from
 * `c` gets a value prepared before the call. Go makes timer channels unbuffered for that, and
 * sends only to a receiver that is there; a Node timer callback cannot wait for one, so here
 * the value waits in the channel's one hidden slot (`len` and `cap` still read 0, as in Go
 * 1.23: Chan.forTimer) and stop() and reset() take it back out. A timer that fired but whose value nobody received counts as
 * not yet delivered, as in Go 1.23: stop() returns true for it.
 */
export class Timer {
  /** Receives the time (ms since the epoch) once the duration has passed. */
  readonly c: Chan<number>;
  /** The sending side of c (c itself is receive-only). */
  private readonly tx: Chan<number>;
  private readonly nt: NodeTimer;
  private readonly t: Thread;

  constructor(ms: number) {
    const t = need('timer()');
    const d = checkMs(ms, 'timer()');
    this.t = t;
    this.tx = Chan.forTimer();
    this.c = Chan.recvOnly(this.tx.h, t.curG);
    this.nt = new NodeTimer(t, () => {
      this.tx.trySend(Date.now());
    });
    this.nt.start(d);
  }

  /** Stop the timer; true if that kept its value from being received (it was pending, or fired unreceived). */
  stop(): boolean {
    // Its runtime shut down (or stopped on a worker crash), and the timer with it.
    if (current !== this.t || this.t.crash !== null) return false;
    const pending = this.nt.stop();
    return dropStale(this.tx) || pending;
  }

  /** Restart it with a new duration; true if it was pending, or had fired unreceived. */
  reset(ms: number): boolean {
    const d = checkMs(ms, 'Timer.reset()');
    if (current !== this.t) return false;
    const pending = this.nt.pending;
    const stale = dropStale(this.tx);
    this.nt.start(d);
    return pending || stale;
  }
}

/** Take back a value a timer put in its channel and nobody received; whether there was one. */
function dropStale(c: Chan<number>): boolean {
  const r = c.tryRecv();
  return r !== undefined && r[1];
}

/**
 * Go's time.Ticker: `c` receives the time every `ms`; ticks a slow receiver misses are
 * dropped. As Timer: after stop() or reset() returns, no tick from before it is received.
 */
export class Ticker {
  /** Receives the time (ms since the epoch) at every tick; receive-only. */
  readonly c: Chan<number>;
  private readonly tx: Chan<number>;
  private readonly nt: NodeTimer;
  private period: number;
  private stopped = false;
  private readonly t: Thread;

  constructor(ms: number) {
    const t = need('tick()');
    this.t = t;
    const p = checkMs(ms, 'tick()');
    if (p <= 0) throw new RangeError('gort: non-positive interval for tick()');
    this.period = p;
    this.tx = Chan.forTimer();
    this.c = Chan.recvOnly(this.tx.h, t.curG);
    this.nt = new NodeTimer(t, () => {
      if (this.stopped) return;
      this.nt.start(this.period);
      this.tx.trySend(Date.now());
    });
    this.nt.start(p);
  }

  /** Stop the ticker: no tick is received after it returns (one made before it is dropped). */
  stop(): void {
    if (current !== this.t || this.t.crash !== null) return;
    this.stopped = true;
    this.nt.stop();
    dropStale(this.tx);
  }

  /** Stop it and start it again with period `ms`; no tick from before is received after it returns. */
  reset(ms: number): void {
    const p = checkMs(ms, 'Ticker.reset()');
    if (p <= 0) throw new RangeError('gort: non-positive interval for Ticker.reset()');
    if (current !== this.t) return;
    this.period = p;
    this.stopped = false;
    dropStale(this.tx);
    this.nt.start(p);
  }
}

/** Go's `time.NewTimer`: a `Timer` whose channel receives the time once, after `ms`. */
export function timer(ms: number): Timer {
  return new Timer(ms);
}

/** Go's `time.NewTicker`: a `Ticker` whose channel receives the time every `ms` (a positive number). */
export function tick(ms: number): Ticker {
  return new Ticker(ms);
}

/** Go's time.After: a channel that receives the time once, after ms. */
export function after(ms: number): Chan<number> {
  return new Timer(ms).c;
}

/** Go's time.Sleep. Counted as a pending timer, so a sleeping program is not deadlocked. */
export function sleep(ms: number): Promise<void> {
  const t = need('sleep()');
  const d = checkMs(ms, 'sleep()');
  const g = t.curG; // the goroutine calling, when gort can tell (its first synchronous stretch)
  if (t.tr !== null) tracePark(t, g, WAIT_SLEEP);
  if (g !== 0) {
    const heap = t.heap;
    heap.i32[t.ctr + TC.PARKS + WAIT_SLEEP]!++;
    heap.i32[(g >> 2) + G.WAIT] = WAIT_SLEEP;
    heap.f64[(g >> 3) + G.SINCE_F64 / 2] = t.clock();
    heap.i32[(g >> 2) + G.STATUS] = Gstatus.WAITING;
    if (t.stacks !== null) t.stacks.onPark(g);
  }
  return new Promise((resolve) =>
    new NodeTimer(t, () => {
      if (t.tr !== null) traceResume(t, g);
      if (g !== 0 && t.heap.i32[(g >> 2) + G.WAIT] === WAIT_SLEEP) {
        t.heap.i32[t.ctr + TC.WAKES + WAIT_SLEEP]!++;
        t.heap.i32[(g >> 2) + G.WAIT] = 0;
        t.heap.i32[(g >> 2) + G.STATUS] = Gstatus.RUNNING;
      }
      resolve();
    }).start(d),
  );
}
