/**
 * Runtime objects in threads gort did not start: piscina tasks, plain worker_threads,
 * comlink endpoints. `exportRef(obj)` makes a plain, cloneable description (the heap's
 * SharedArrayBuffer, the object's kind and handle) to pass in postMessage, workerData or a
 * piscina task; `attach(ref)` on the other thread joins that heap (once per thread: it
 * claims a spare thread record) and returns a live object there.
 *
 * An attached thread has no P: it waits with Atomics.waitAsync (async methods) or
 * Atomics.wait (the *Sync methods), never through the scheduler, and it may start
 * goroutines with go()/spawn() (they run on the Ms). Thread records are claimed with an
 * atomic counter and never returned: at most SPARE_THREADS threads attach per runtime.
 */
import { isMainThread } from 'node:worker_threads';
import { Heap } from '../heap/heap.js';
import { H } from '../heap/layout.js';
import { RuntimeStateError } from '../errors.js';
import { SPARE_THREADS } from '../sched/threads.js';
import { GORT_HANDLE, type HandleObject, reviveHandle } from '../value/codec.js';
import { LoopThread } from './loop-thread.js';
import { current, setCurrent } from './thread.js';

export interface RuntimeRef {
  readonly gort: 'ref';
  readonly sab: SharedArrayBuffer;
  readonly kind: number;
  readonly handle: number;
}

export function isRuntimeRef(v: unknown): v is RuntimeRef {
  return typeof v === 'object' && v !== null && (v as { gort?: unknown }).gort === 'ref';
}

/** A cloneable description of a runtime object (a channel, WaitGroup, Mutex, context, …). */
export function exportRef(obj: HandleObject): RuntimeRef {
  if (current === null) throw new RuntimeStateError('gort: exportRef() needs a running runtime');
  if (typeof obj !== 'object' || obj === null || !(GORT_HANDLE in obj)) {
    throw new TypeError('gort: exportRef() takes a runtime object (chan, WaitGroup, Mutex, Context, …)');
  }
  const [kind, handle] = obj[GORT_HANDLE]();
  Atomics.store(current.heap.i32, H.EXPORTED, 1); // outside threads may take part: deadlock.ts
  return { gort: 'ref', sab: current.heap.sab, kind, handle };
}

/** Join the runtime a ref belongs to (once per thread) and return the live object. */
export function attach<T = unknown>(ref: RuntimeRef): T {
  if (!isRuntimeRef(ref)) throw new TypeError('gort: attach() takes what exportRef() made');
  if (current === null || current.heap.sab !== ref.sab) {
    if (current !== null) throw new RuntimeStateError('gort: this thread already belongs to another gort runtime');
    if (isMainThread) throw new RuntimeStateError('gort: attach() is for other threads; the main thread uses run() or start()');
    const heap = new Heap(ref.sab);
    const a = heap.i32;
    const procs = a[H.PROCS]!;
    const n = Atomics.add(a, H.ATTACHED, 1);
    if (n >= SPARE_THREADS) {
      Atomics.sub(a, H.ATTACHED, 1);
      throw new RuntimeStateError(`gort: more than ${SPARE_THREADS} outside threads attached to one runtime`);
    }
    setCurrent(new LoopThread(heap, procs + 1 + n, true));
  }
  return reviveHandle(ref.kind, ref.handle) as T;
}
