/**
 * Base of every runtime object a program holds (WaitGroup, Chan, …): a handle into the heap,
 * the thread it was made on, and the goroutine it belongs to.
 *
 * Each thread makes its own JS object for a handle (the heap record is what is shared). `g`
 * is the G record of the goroutine that created or received this object (0: main, or not
 * known); a park through the object is recorded against it in dump(). Objects are
 * per-goroutine in inline goroutines (each G decodes its own arguments); module code that
 * shares one object between goroutines through module state gets the first goroutine's id.
 *
 * Kinds: a new object's record is allocated with its kind (value/kinds.ts). Given a handle
 * (a reviver decoding a slot, attach(), a constructor called with one), the constructor
 * checks the record's kind first and throws a TypeError on a mismatch, so no method ever
 * reads or writes a record of another kind through it: one int compare. The only handles
 * not checked are `embedded` ones: an object whose layout starts a bigger record of its
 * owner's (a Group's WaitGroup, an RWMutex's or a Once's Mutex), made by that owner.
 */
import { current, need, type Thread } from './thread.js';
import { RuntimeStateError } from '../errors.js';
import { parkCurrent } from './park.js';
import type { WaitReason } from '../sched/g.js';
import { GORT_HANDLE, type HandleObject } from '../value/codec.js';
import { kindName } from '../value/kinds.js';
import type { Anchor } from './anchors.js';

let borrowing = false;
/**
 * Make a runtime object for a handle the caller holds a reference to, without taking one for
 * the object (no anchor): for the runtime's own objects that do not outlive the call (a
 * cancel closing a done channel, a group releasing its semaphore).
 */
export function borrowed<T>(make: () => T): T {
  borrowing = true;
  try {
    return make();
  } finally {
    borrowing = false;
  }
}

export abstract class RuntimeObject implements HandleObject {
  /** @internal the heap record */
  readonly h: number;
  /** @internal */
  protected readonly t: Thread;
  /** @internal the owning goroutine's G record, or 0 */
  protected readonly g: number;

  /** @internal the record's kind (value/kinds.ts) */
  protected readonly kind: number;
  /** @internal this thread's hold on the record (null: embedded or borrowed) */
  protected readonly anchor: Anchor | null;

  protected constructor(what: string, kind: number, bytes: number, handle: number | undefined, g: number | undefined, embedded = false) {
    const t = need(what);
    this.t = t;
    this.g = g ?? t.curG;
    this.kind = kind;
    if (handle !== undefined) {
      if (!embedded && t.heap.kindOf(handle) !== kind) throw badHandle(what, kind, t.heap.kindOf(handle), handle);
      this.h = handle;
      this.anchor = embedded || borrowing ? null : t.anchors.hold(handle);
    } else {
      this.h = t.heap.allocCounted(bytes, kind);
      t.heap.i32.fill(0, this.h >> 2, (this.h + bytes) >> 2);
      this.anchor = t.anchors.adopt(this.h);
    }
  }

  /**
   * The kind and handle, to send it. Only on the thread and runtime that made this object: a
   * handle of a runtime that has shut down may name another object in the next runtime's
   * heap (allocation is deterministic), so sending it would alias that object silently.
   */
  [GORT_HANDLE](): readonly [number, number] {
    if (current !== this.t) throw staleObject(this.kind);
    return [this.kind, this.h];
  }

  /** A waiter owned by this thread for this object's goroutine, recorded as parked (in t.lastWaiter). */
  protected park<R>(reason: WaitReason | number): Promise<R> {
    const p = this.t.waiter<R>(0);
    parkCurrent(this.t, this.t.lastWaiter, reason, this.g);
    return p;
  }
}

/** The error for an object of a runtime that has shut down, used in another (or none). */
export function staleObject(kind: number): RuntimeStateError {
  return new RuntimeStateError(`gort: this ${kindName[kind] ?? 'runtime object'} belongs to a runtime that has shut down; make a new one in the running runtime`);
}

/** The TypeError for a handle whose record is not of the kind expected (`got`: heap.kindOf). */
export function badHandle(what: string, kind: number, got: number, handle: unknown): TypeError {
  const found = got < 0 ? 'no live runtime object' : got === 0 ? 'untyped data' : `a ${kindName[got] ?? `kind ${got}`}`;
  return new TypeError(`gort: ${what} was given handle ${String(handle)}, which names ${found}, not a ${kindName[kind] ?? `kind ${kind}`}`);
}
