/**
 * Goroutine creation and completion: Go's newproc and goexit. Waking an idle P (Go's wakep)
 * is sched/idle.ts's wakeP. Runs on any thread with a runtime (main or M).
 *
 * Ordering: every field of a new G is written before `Thread.ready` publishes its handle on
 * a run queue (an Atomics store), and the function-table entry it names was published before
 * that. A G's result is written into its join waiter before the waiter's STATE store and the
 * READY-list CAS that hands it to the owner.
 */
import { G, Gstatus } from '../sched/g.js';
import { W, WState } from '../sched/waiter.js';
import { dropArgs, encodeArgs, encodeInto, prepare, Tag, write } from '../value/codec.js';
import { HeapExhaustedError } from '../errors.js';
import type { Thread } from './thread.js';
import { traceWake } from './tracebuf.js';

/**
 * Create a goroutine running fn(...args); join is a waiter to complete with its result, or 0.
 * group: an errgroup whose outcome bookkeeping the M running it does (G.GROUP), or 0.
 */
export function newproc(t: Thread, fn: unknown, args: readonly unknown[], join: number, group = 0): number {
  const heap = t.heap;
  const fnId = t.fns.idOf(fn);
  const argsH = args.length === 0 ? 0 : encodeArgs(heap, args, fn);
  return newprocEncoded(t, fnId, argsH, args, join, group);
}

/**
 * newproc for a function already in the table and arguments already encoded (argsH, taken
 * over: freed here if the G cannot be made, else by the M that starts it). `args` is only
 * for Thread.ready (an M's runnext hold looks at them); pass [] if they are not at hand.
 */
export function newprocEncoded(t: Thread, fnId: number, argsH: number, args: readonly unknown[], join: number, group = 0): number {
  const heap = t.heap;
  let g: number;
  try {
    g = t.galloc.alloc();
  } catch (e) {
    dropArgs(heap, argsH);
    throw e;
  }
  const a = heap.i32;
  const i = g >> 2;
  const goid = t.newGoid();
  a[i + G.GOID] = goid;
  a[i + G.WAIT] = 0;
  a[i + G.FN] = fnId;
  a[i + G.ARGS] = argsH;
  a[i + G.SCHEDLINK] = 0;
  a[i + G.M] = -1;
  a[i + G.CREATOR] = t.curGoid;
  a[i + G.JOIN] = join;
  a[i + G.CREATED_T] = t.index;
  a[i + G.GROUP] = group;
  heap.f64[(g >> 3) + G.SINCE_F64 / 2] = 0;
  Atomics.store(a, i + G.STATUS, Gstatus.RUNNABLE);
  if (t.tr !== null) t.tr.spawn(goid, fnId);
  if (t.stacks !== null) t.stacks.onCreate(goid, g);
  t.ready(g, args);
  return goid;
}

/**
 * Whether another thread waits for the end of goroutine g, started on thread t: its joiner's
 * owner is another thread, or it ends a WaitGroup's or an errgroup's count (whose waiters may
 * be anywhere, and an errgroup's siblings on t itself look at its first error). t only.
 */
export function endAwaitedElsewhere(t: Thread, g: number): boolean {
  const a = t.heap.i32;
  const join = a[(g >> 2) + G.JOIN]!;
  if (join > 0) return a[(join >> 2) + W.OWNER] !== t.index;
  return join < 0 || a[(g >> 2) + G.GROUP] !== 0;
}

/** Write a goroutine's outcome into waiter w and hand it to its owner. Any thread. */
export function completeWaiter(t: Thread, w: number, value: unknown, isErr: boolean): void {
  const heap = t.heap;
  const slot = w + W.VALUE * 4;
  let state: number = isErr ? WState.ERROR : WState.OK;
  try {
    encodeInto(heap, slot, value, isErr ? 'the error thrown by the goroutine' : 'the goroutine result');
  } catch (e) {
    state = WState.ERROR;
    try {
      if (e instanceof HeapExhaustedError) throw e;
      // The result (or the thrown value) cannot be cloned: the joiner gets that TypeError instead.
      write(heap, slot, prepare(new TypeError(e instanceof Error ? e.message : String(e)), 'error'));
    } catch {
      // No room even for the error: a state that needs no allocation (settle makes the error).
      heap.i32[slot >> 2] = Tag.UNDEF;
      state = WState.HEAP_EXHAUSTED;
    }
  }
  if (t.tr !== null) traceWake(t, w);
  Atomics.store(heap.i32, (w >> 2) + W.STATE, state);
  const owner = heap.i32[(w >> 2) + W.OWNER]!;
  if (owner === t.index) t.settle(w);
  else t.pushReady(owner, w);
}
