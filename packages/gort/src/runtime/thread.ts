/**
 * The runtime as seen from one thread: its heap views, caches, and local promise table.
 *
 * Exactly one `Thread` exists per JS thread while a runtime is up: the main thread's is made
 * by start(), each M's by its worker entry. `current` is null elsewhere, and every public
 * call that needs a runtime goes through `need()`, which throws RuntimeStateError.
 *
 * `waiters` maps a waiter handle to the local promise it settles; only this thread touches
 * it, so it is a plain Map. Waiters owned by this thread are settled here (settle), either
 * directly by a completion on this thread or from the READY list.
 */
import type { Heap } from '../heap/heap.js';
import { RuntimeStateError } from '../errors.js';
import { GAllocator } from '../sched/galloc.js';
import { W, WState } from '../sched/waiter.js';
import { read } from '../value/codec.js';
import { FnRegistry } from '../shipping/registry.js';

export interface Resolver {
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

export interface Thread {
  readonly heap: Heap;
  /** Thread index: 0 main, 1..procs the Ms. */
  readonly index: number;
  readonly procs: number;
  readonly fns: FnRegistry;
  readonly galloc: GAllocator;
  readonly waiters: Map<number, Resolver>;
  /** goid of the goroutine whose synchronous code is running now (0: none / main). */
  curGoid: number;
  /** Hand a freshly made G to this thread's scheduler (M: own run queue; main: inject). */
  ready(g: number): void;
  /** A local waiter was registered: make sure something will drain the READY list. */
  watch(): void;
}

export let current: Thread | null = null;

export function setCurrent(t: Thread | null): void {
  current = t;
}

export function need(what: string): Thread {
  if (current === null) {
    throw new RuntimeStateError(`gort: ${what} needs a running runtime: call it inside run(main), or after start()`);
  }
  return current;
}

export function makeThreadBase(heap: Heap, index: number) {
  return {
    heap,
    index,
    procs: heap.i32[1]!,
    fns: new FnRegistry(heap),
    galloc: new GAllocator(heap),
    waiters: new Map<number, Resolver>(),
    curGoid: 0,
  };
}

/** Settle the local promise of waiter w (owned by t) from its record, and free the record. */
export function settle(t: Thread, w: number): void {
  const r = t.waiters.get(w);
  t.waiters.delete(w);
  const heap = t.heap;
  const state = Atomics.load(heap.i32, (w >> 2) + W.STATE);
  let v: unknown;
  try {
    v = read(heap, w + W.VALUE * 4, true);
  } catch (e) {
    v = e;
  }
  heap.free(w);
  if (r === undefined) return;
  if (state === WState.OK) r.resolve(v);
  else r.reject(v);
}
