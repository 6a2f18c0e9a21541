/**
 * A thread without a P that takes part in the runtime from its own event loop: the main
 * thread (index 0), and any thread that joined with attach() (a spare thread record).
 *
 * It runs no goroutines. Goroutines it creates go to the global queue: the first of a
 * microtask turn at once, the rest in batches flushed at the end of the turn (or every
 * INJECT_BATCH); each flush wakes one idle P (wakeP). Its waiters' completions come back
 * through its READY list; a pump drains them and parks on the doorbell with
 * Atomics.waitAsync only while some waiter is outstanding. An attached
 * thread holds a ref'd handle while its pump waits (a pending waitAsync does not keep a
 * thread alive: docs/architecture.md, "Shutdown"); the main thread needs none while Ms run.
 *
 * After a worker died (abandon): every waiter of this thread is rejected with the
 * WorkerCrashError, the pump stops, and a later park throws RuntimeStateError.
 */
import type { Heap } from '../heap/heap.js';
import { globrunqPutBatch } from '../sched/globrunq.js';
import { T } from '../sched/threads.js';
import { Parked } from '../sched/idle.js';
import { ThreadBase, crashedError, current } from './thread.js';
import { H } from '../heap/layout.js';
import { traceSync } from './tracebuf.js';

const INJECT_BATCH = 128;
/**
 * Longest park of the pump right after it settled completions (PARKED = 2): a busy M skips
 * its throttled ring of such a thread (M.ringMain), which then finds the completions itself
 * within this long. Equal to the ring gap that throttling allows (M's MAIN_RING_GAP_MS).
 */
const STREAM_PARK_MS = 1;

export class LoopThread extends ThreadBase {
  private pending: number[] = [];
  private flushQueued = false;
  private pumping = false;
  stopped = false;
  /** The pump is parked: this thread waits on a runtime primitive (deadlock check). */
  parked = false;
  private readonly buf: number[] = [];

  constructor(
    heap: Heap,
    index: number,
    private readonly keepAlive: boolean,
  ) {
    super(heap, index);
    const poll = setInterval(() => {
      if (current !== this || this.stopped) clearInterval(poll);
      else {
        this.anchors.endEpoch();
        this.pressure.poll();
        if (this.heap.i32[H.TRACE] !== this.traceWord) traceSync(this); // an execution trace started or stopped
        this.shared.tick(performance.now());
      }
    }, 25);
    poll.unref();
  }

  override ready(g: number): void {
    this.pending.push(g);
    if (this.pending.length >= INJECT_BATCH) return this.flush();
    if (this.flushQueued) return;
    // The first G of a microtask turn goes out at once, and wakes an idle M now: a parked M
    // takes ~50 µs to wake here, and that wait then overlaps with the rest of this turn (the
    // caller's code, the pump setting up its waitAsync) instead of following it. The Gs
    // after it in the same turn are batched as before. (sched/idle: the ring came ~90 µs
    // after spawn() was called, 65 of them before the flush ran.)
    this.flush();
    this.flushQueued = true;
    queueMicrotask(this.flush);
  }

  readonly flush = (): void => {
    this.flushQueued = false;
    if (this.pending.length === 0 || this.stopped) return;
    globrunqPutBatch(this.heap, this.pending);
    this.pending.length = 0;
    this.idle.wakeP();
  };

  override beforeBlock(): void {
    this.flush();
  }

  override watch(): void {
    // After a worker died nothing will ever settle a new waiter here: refuse the park.
    if (this.crash !== null) throw crashedError('a wait on the main thread', this.crash);
    if (this.pumping) return;
    this.pumping = true;
    void this.pump();
  }

  /**
   * A worker died (Runtime.crashed): reject every waiter of this thread with `err` (joins,
   * parks of the main goroutine) and stop the pump. Later parks throw (watch), later
   * runtime calls too (need).
   */
  abandon(err: Error): void {
    this.crash = err;
    this.stopped = true;
    this.pending.length = 0;
    this.promises.rejectAll(err);
    this.idle.ring(this.index); // the pump, parked in waitAsync, sees `stopped` and ends
  }

  /** Settle this thread's waiters as their READY records arrive; park while none has. */
  private async pump(): Promise<void> {
    // Start after the current microtask: the waiter that started the pump is usually about to
    // be handed to an M (spawn: the ring in ready()), and that wake-up should not wait for this
    // thread's waitAsync set-up (~20 µs after idleness).
    await undefined;
    const a = this.heap.i32;
    const tw = this.tw;
    const hold = this.keepAlive ? setInterval(() => {}, 1 << 30) : null;
    let streaming = false;
    try {
      while (this.promises.size > 0 && !this.stopped) {
        if (this.heap.i32[H.TRACE] !== this.traceWord) traceSync(this); // a trace started or stopped (the starter rings us)
        if (this.tr !== null) this.tr.turn(); // the pump runs between this thread's own steps: none is open
        if (this.idle.hasReady(this.index)) {
          const n = this.idle.takeReady(this.index, this.buf);
          for (const w of this.buf) this.settle(w);
          Atomics.add(a, tw + T.PROGRESS, n);
          streaming = true;
          await undefined;
          continue;
        }
        // No polling here: on 2 cores a polling event-loop thread takes a core from the Ms
        // that would produce the completion (measured: main<->goroutine round trips got slower).
        // But right after completions came, more are likely: park for at most
        // STREAM_PARK_MS, and say so (PARKED = 2), so that a busy M need not ring this thread
        // for each batch it completes (M.ringMain): the ring of a thread parked in waitAsync
        // cost the ringer 45-65 µs here, up to 2 per ms from 2 Ms in sched/fine.
        const timed = streaming;
        streaming = false;
        this.idle.prepareToPark(this.index, timed ? Parked.BRIEFLY : Parked.YES); // doorbell cleared, then PARKED
        if (!this.idle.hasReady(this.index)) {
          const r = Atomics.waitAsync(a, tw + T.DOORBELL, 0, timed ? STREAM_PARK_MS : Infinity);
          if (r.async) {
            this.parked = true;
            await r.value;
            this.parked = false;
          }
        }
        this.idle.leavePark(this.index);
      }
    } finally {
      if (hold !== null) clearInterval(hold);
      this.pumping = false;
    }
  }
}
