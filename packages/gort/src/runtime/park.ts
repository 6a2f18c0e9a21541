/**
 * Parking and waking goroutines on runtime primitives (WaitGroup, channels, select).
 *
 * A primitive parks by making a waiter (Thread.waiter) and returning its promise; the
 * goroutine `await`s it. parkCurrent records, in the G record when the running G is known,
 * the status WAITING, the printable wait reason and the time, for dump(). The G is known in
 * a goroutine's first synchronous segment; after an await that gort did not resume, JS gives
 * no way to know it (docs/architecture.md, "What a goroutine is"), and the record is left
 * alone rather than guessed.
 */
import { G, Gstatus, waitCode, type WaitReason } from '../sched/g.js';
import { W, WFlag, WState } from '../sched/waiter.js';
import { T, TC } from '../sched/threads.js';
import { Tag } from '../value/codec.js';
import type { Thread } from './thread.js';
import { tracePark, traceResume, traceWake } from './tracebuf.js';

export function parkCurrent(t: Thread, w: number, reason: WaitReason | number, owner = 0): void {
  const g = owner !== 0 ? owner : t.curG;
  if (g === 0) {
    if (t.tr !== null) tracePark(t, 0, typeof reason === 'number' ? reason : waitCode(reason));
    // The main goroutine has no G record: its thread record keeps the reason for dump().
    if (t.index === 0) {
      t.heap.i32[t.tw + T.WAIT] = typeof reason === 'number' ? reason : waitCode(reason);
      if (t.stacks !== null) t.stacks.onParkMain();
    }
    return;
  }
  t.heap.i32[(w >> 2) + W.G] = g;
  parkG(t, g, reason);
}

/** Record goroutine g (not 0) as waiting for `reason` since now, and count the park (TC.PARKS). */
export function parkG(t: Thread, g: number, reason: WaitReason | number): void {
  const heap = t.heap;
  const code = typeof reason === 'number' ? reason : waitCode(reason);
  heap.i32[t.ctr + TC.PARKS + code]!++;
  if (t.tr !== null) tracePark(t, g, code);
  // Plain writes: these words are for dump() and the deadlock check, which read them racily
  // and (deadlock) only trust two observations in a row.
  heap.i32[(g >> 2) + G.WAIT] = code;
  heap.f64[(g >> 3) + G.SINCE_F64 / 2] = t.clock();
  heap.i32[(g >> 2) + G.STATUS] = Gstatus.WAITING;
  if (t.stacks !== null) t.stacks.onPark(g);
}

/** Goroutine g (not 0) runs again: count the wake by the reason it waited for (TC.WAKES). */
export function unparkG(t: Thread, g: number): void {
  t.heap.i32[t.ctr + TC.WAKES + t.heap.i32[(g >> 2) + G.WAIT]!]!++;
  t.heap.i32[(g >> 2) + G.WAIT] = 0;
  t.heap.i32[(g >> 2) + G.STATUS] = Gstatus.RUNNING; // plain: see parkG
}

/** A blocking (Atomics.wait) park ended: the goroutine it recorded runs again. */
export function unparkSync(t: Thread, w: number): void {
  const g = t.heap.i32[(w >> 2) + W.G]!;
  if (t.tr !== null) traceResume(t, g);
  if (g === 0) return;
  t.heap.i32[t.ctr + TC.WAKES + t.heap.i32[(g >> 2) + G.WAIT]!]!++;
  t.heap.i32[(g >> 2) + G.WAIT] = 0;
  t.heap.i32[(g >> 2) + G.STATUS] = Gstatus.RUNNING;
}

/** Complete waiter w with `undefined` and hand it to its owner. Any thread. */
export function wakeWaiter(t: Thread, w: number): void {
  t.heap.i32[(w >> 2) + W.VALUE] = Tag.UNDEF;
  complete(t, w, WState.OK);
}

/**
 * Publish waiter w's outcome (its VALUE slot is already written) and hand it to its owner:
 * a thread blocked in Atomics.wait is notified; the owner's own thread settles it now;
 * another thread gets it on its READY list. Any thread; call it after releasing locks.
 */
export function complete(t: Thread, w: number, state: number): void {
  const heap = t.heap;
  if (t.tr !== null) traceWake(t, w);
  const i = w >> 2;
  const flags = heap.i32[i + W.FLAGS]!;
  if ((flags & WFlag.SYNC) !== 0) {
    Atomics.store(heap.i32, i + W.STATE, state);
    Atomics.notify(heap.i32, i + W.STATE); // pairs with the sync waiter's Atomics.wait on STATE
    return;
  }
  const owner = heap.i32[i + W.OWNER]!;
  // Our own waiter, settled now: nobody else reads its STATE (a plain waiter is freed by the
  // settle), so it is not stored. A select's waiter keeps the store: its record outlives the
  // settle until the select has unlinked its cases.
  if (owner === t.index && (flags & WFlag.SELECT) === 0 && !t.yieldDue()) {
    t.settleAs(w, state);
    return;
  }
  Atomics.store(heap.i32, i + W.STATE, state); // publishes VALUE; pairs with the load in settle
  if (owner !== t.index) t.idle.pushReady(owner, w);
  else if ((flags & WFlag.SELECT) === 0 || t.yieldDue()) void t.yieldTurn(w).then((x) => t.settle(x)); // a preemption point
  else t.settle(w);
}
