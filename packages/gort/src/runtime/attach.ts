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
 *
 * A ref is plain data anyone can make: exportRef() checks the object's handle names a live
 * record of its kind, and attach() checks the ref's handle against the heap's kind tag
 * before it claims a thread record or revives anything (a TypeError otherwise).
 */
import { isMainThread } from 'node:worker_threads';
import { Heap } from '../heap/heap.js';
import { H } from '../heap/layout.js';
import { RuntimeStateError } from '../errors.js';
import { SPARE_THREADS } from '../sched/threads.js';
import { GORT_HANDLE, type HandleObject, reviveHandle } from '../value/codec.js';
import { LoopThread } from './loop-thread.js';
import { describe } from '../value/describe.js';
import { kindName } from '../value/kinds.js';
import { current, setCurrent } from './thread.js';

/**
 * What `exportRef()` makes: plain, cloneable data naming a runtime object, to pass to a thread
 * gort did not start (in `postMessage`, `workerData` or a piscina task) and `attach()` there.
 */
export interface RuntimeRef {
  /** Marks the object as a ref. */
  readonly gort: 'ref';
  /** The runtime's shared heap. */
  readonly sab: SharedArrayBuffer;
  /** The object's kind (channel, WaitGroup, …). */
  readonly kind: number;
  /** The object's record in the heap. */
  readonly handle: number;
}

/** Whether `v` looks like a `RuntimeRef` (`attach()` checks it fully). */
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
  if (current.heap.kindOf(handle) !== kind) {
    throw new TypeError(`gort: exportRef() was given an object whose handle ${String(handle)} names no live runtime object of its kind`);
  }
  Atomics.store(current.heap.i32, H.EXPORTED, 1); // outside threads may take part: deadlock.ts
  // A ref is plain data that may be copied anywhere and attached any number of times, so no
  // one can tell when the last copy is gone: an exported object is pinned for the runtime's life.
  current.heap.retain(handle);
  return { gort: 'ref', sab: current.heap.sab, kind, handle };
}

/** Join the runtime a ref belongs to (once per thread) and return the live object. */
export function attach<T = unknown>(ref: RuntimeRef): T {
  if (!isRuntimeRef(ref) || !(ref.sab instanceof SharedArrayBuffer) || typeof ref.kind !== 'number' || typeof ref.handle !== 'number') {
    throw new TypeError(`gort: attach() takes what exportRef() made, got ${describe(ref)}`);
  }
  const badKind = (): TypeError =>
    new TypeError(`gort: attach() was given a ref whose handle ${ref.handle} names no live ${kindName[ref.kind] ?? `runtime object of kind ${ref.kind}`}`);
  if (current === null || current.heap.sab !== ref.sab) {
    if (current !== null) throw new RuntimeStateError('gort: this thread already belongs to another gort runtime');
    if (isMainThread) throw new RuntimeStateError('gort: attach() is for other threads; the main thread uses run() or start()');
    const heap = new Heap(ref.sab);
    if (heap.kindOf(ref.handle) !== ref.kind) throw badKind(); // before claiming a thread record
    const a = heap.i32;
    const procs = a[H.PROCS]!;
    const n = Atomics.add(a, H.ATTACHED, 1);
    if (n >= SPARE_THREADS) {
      Atomics.sub(a, H.ATTACHED, 1);
      throw new RuntimeStateError(`gort: more than ${SPARE_THREADS} outside threads attached to one runtime`);
    }
    setCurrent(new LoopThread(heap, procs + 1 + n, true));
  }
  if (current!.heap.kindOf(ref.handle) !== ref.kind) throw badKind();
  return reviveHandle(ref.kind, ref.handle) as T;
}
