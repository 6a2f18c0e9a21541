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
 *
 * Lifetime (value/refs.ts): every object owns one reference count on its record, kept in its
 * epoch (runtime/anchors.ts): a new record's first count, a consumed slot's count (the
 * codec sets decoding.consume), or one taken for it. The record lives while any object on
 * any thread, any value slot or any counting link names it. Embedded objects share their
 * owner's epoch entry (shareAnchor); `borrowed` ones (the runtime's own short-lived objects
 * for a handle it holds) have none.
 */
import { current, need, type Thread } from './thread.js';
import { RuntimeStateError } from '../errors.js';
import { parkCurrent } from './park.js';
import type { WaitReason } from '../sched/g.js';
import { GORT_HANDLE, type HandleObject } from '../value/codec.js';
import { decoding, kindName } from '../value/kinds.js';
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
  /** @internal the owning goroutine's G record, or 0 (read by select() for its parks) */
  readonly g: number;

  /** @internal the record's kind (value/kinds.ts) */
  protected readonly kind: number;
  /** @internal this object's epoch (runtime/anchors.ts; null: borrowed; an embedded object's is its owner's, shareAnchor) */
  protected anchor: Anchor | null;
  /** @internal this object's entry in its epoch */
  protected ai = 0;

  protected constructor(what: string, kind: number, bytes: number, handle: number | undefined, g: number | undefined, embedded = false) {
    const t = need(what);
    this.t = t;
    this.g = g ?? t.curG;
    this.kind = kind;
    if (handle !== undefined) {
      if (!embedded && !decoding.checked && t.heap.kindOf(handle) !== kind) throw badHandle(what, kind, t.heap.kindOf(handle), handle);
      this.h = handle;
      if (embedded || borrowing) this.anchor = null;
      else if (decoding.consume === handle) {
        decoding.consume = 0; // the consumed slot's count is this object's
        this.anchor = t.anchors.take(handle);
      } else this.anchor = t.anchors.retainTake(handle);
    } else {
      this.h = t.heap.allocCounted(bytes, kind);
      t.heap.i32.fill(0, this.h >> 2, (this.h + bytes) >> 2);
      this.anchor = t.anchors.take(this.h);
    }
    this.ai = t.anchors.index;
  }

  /**
   * The kind and handle, to send it. Only on the thread and runtime that made this object: a
   * handle of a runtime that has shut down may name another object in the next runtime's
   * heap (allocation is deterministic), so sending it would alias that object silently.
   */
  [GORT_HANDLE](): readonly [number, number, unknown?, number?] {
    if (current !== this.t) throw staleObject(this.kind);
    return [this.kind, this.h, this.anchor, this.ai];
  }

  /**
   * `using` / explicit release: this thread lets go of the record now instead of when the
   * object is collected, if no other object on this thread was made for it (otherwise when
   * those are collected). The object is unusable afterwards: every method throws a
   * RuntimeStateError. Idempotent.
   */
  [Symbol.dispose](): void {
    disposeObject(this, this.t, this.anchor, this.ai, this.kind);
  }

  /** A waiter owned by this thread for this object's goroutine, recorded as parked (in t.lastWaiter). */
  protected park<R>(reason: WaitReason | number): Promise<R> {
    const p = this.t.waiter<R>(0);
    this.t.pinLast(this);
    parkCurrent(this.t, this.t.lastWaiter, reason, this.g);
    return p;
  }
}

const disposedProtos = new WeakMap<object, object>();

/**
 * The prototype a disposed object gets: its class's, with every method and accessor
 * replaced by one that throws. Made once per class. Swapping the prototype costs the
 * methods nothing while an object is in use; only call sites that see a disposed object
 * see a second shape.
 */
function disposedProto(proto: object, kind: number): object {
  let d = disposedProtos.get(proto);
  if (d !== undefined) return d;
  d = Object.create(proto) as object;
  const fail = (): never => {
    throw new RuntimeStateError(`gort: this ${kindName[kind] ?? 'runtime object'} was disposed ([Symbol.dispose]); it cannot be used any more`);
  };
  const seen = new Set<PropertyKey>(['constructor', Symbol.dispose]);
  for (let p: object | null = proto; p !== null && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    for (const key of Reflect.ownKeys(p)) {
      if (seen.has(key)) continue;
      seen.add(key);
      const desc = Object.getOwnPropertyDescriptor(p, key)!;
      if (typeof desc.value === 'function') Object.defineProperty(d, key, { value: fail, configurable: true });
      else if (desc.get !== undefined) Object.defineProperty(d, key, { get: fail, configurable: true });
    }
  }
  Object.defineProperty(d, Symbol.dispose, { value: () => {}, configurable: true });
  disposedProtos.set(proto, d);
  return d;
}

const disposedSet = new WeakSet<object>();

/** [Symbol.dispose] of a runtime object or a Context: release this object's counts now (its epoch entry); make obj unusable. */
export function disposeObject(obj: object, t: Thread, anchor: Anchor | null, ai: number, kind: number): void {
  if (disposedSet.has(obj)) return;
  disposedSet.add(obj);
  if (anchor !== null && current === t) t.anchors.dispose(anchor, ai);
  Object.setPrototypeOf(obj, disposedProto(Object.getPrototypeOf(obj) as object, kind));
}

/** Whether obj was disposed: for functions that read another object's record directly (select, context). */
export function isDisposed(obj: object): boolean {
  return disposedSet.has(obj);
}

/** The TypeError for a disposed object given to a function (select(), withCancel(), …). */
export function disposedArg(what: string, kind: number): RuntimeStateError {
  return new RuntimeStateError(`gort: ${what} was given a ${kindName[kind] ?? 'runtime object'} that was disposed ([Symbol.dispose])`);
}

/** An owner's embedded object (a Group's WaitGroup, an RWMutex's or Once's Mutex) shares the owner's epoch entry: pinning it while parked pins the record. */
export function shareAnchor(embedded: RuntimeObject, owner: RuntimeObject): void {
  const e = embedded as unknown as { anchor: Anchor | null; ai: number };
  const o = owner as unknown as { anchor: Anchor | null; ai: number };
  e.anchor = o.anchor;
  e.ai = o.ai;
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
