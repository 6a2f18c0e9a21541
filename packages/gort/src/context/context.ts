/**
 * Go's context package over the shared heap: cancellation and deadlines that reach every
 * goroutine on every thread holding the context.
 *
 * | word  | name      | written by          | note                                                  |
 * |-------|-----------|---------------------|-------------------------------------------------------|
 * | 0     | LOCK      | futex lock          | guards STATE, CHILD_HEAD and this record's links      |
 * | 1     | STATE     | under LOCK (Atomics)| 0 active, 1 canceled, 2 deadline exceeded              |
 * | 2     | PARENT    | creator             | parent context handle, 0 for background                |
 * | 3     | DONE      | first done(), under LOCK | channel handle closed on cancellation; 0 until a done() asks (made closed if STATE ≠ 0 by then) |
 * | 4     | CHILD_HEAD| under LOCK          | first child still attached                             |
 * | 5, 6  | NEXT, PREV| under the parent's LOCK | sibling links in the parent's child list           |
 * | 7     | HAS_VALUE | creator             | 1: a withValue context: KEY/VALUE hold its pair; it has no state of its own — err(), done() and children are its nearest cancelable ancestor's (Go's valueCtx). 2: an afterFunc record (below) |
 * | 8-9   | DEADLINE  | creator (f64)       | ms since the epoch; 0 = none (inherited from parent)   |
 * | 10-13 | KEY       | creator             | value slot (value/codec.ts)                            |
 * | 14-17 | VALUE     | creator             | value slot                                             |
 * | 18    | OWNER     | creator             | the cancelable ancestor whose child list holds it      |
 * | 19    | CAUSE_FROM| under LOCK, before STATE | record whose CAUSE slot holds the cause (itself or an ancestor), 0: none (cause = err()) |
 * | 20-23 | CAUSE     | creator (deadline cause) or the canceler, under LOCK | value slot: the cause given to cancel, or to withDeadlineCause |
 * | 24    | ROOT      | creator             | 1: never canceled (background, withoutCancel): children do not link into it |
 *
 * An afterFunc record sits in its context's child list like a child: KEY word 0 holds the
 * function's table id, word 1 its encoded arguments; STATE goes 0 → 1 (started, by the
 * cancel that reaches it) or 0 → 2 (stopped, by its stop()), once, under its LOCK.
 *
 * Invariants: STATE goes 0 → 1|2 once, under LOCK, and DONE is closed right after, so a
 * receiver on DONE sees err() != null. DONE is made lazily, as Go's done channel is: most
 * contexts of a server are cancelled without anyone receiving from done(). done() makes it
 * under LOCK, closed at once if STATE ≠ 0; cancel reads DONE under the same LOCK section
 * that stores STATE and closes it after, so exactly one of the two closes it. A value
 * context has no DONE of its own: its done() is its nearest cancelable ancestor's. CAUSE_FROM is written in the same section, before
 * the STATE store, so a reader that sees STATE != 0 sees it and the slot it names. A child
 * canceled by its parent takes the parent's CAUSE_FROM (Go's Cause: the parent's cause). A child is linked into its parent's list under the
 * parent's LOCK only while the parent is active; otherwise it is canceled at creation.
 * Cancel detaches the context from its parent (O(1), doubly linked), so a loop of
 * withCancel + cancel does not grow the parent. Lock order: parent before child is never
 * needed — cancel takes one record's LOCK at a time. A child unlinks itself from its parent's
 * list only while the parent is active: a canceled parent's list belongs to its cancel.
 *
 * Lifetime (value/refs.ts): PARENT counts (a child keeps its ancestors, whose values and
 * cause it reads); a child list and DONE do not. A cancel takes its children out of the list
 * under its LOCK and keeps those whose count it can still raise (heap.tryRetain); a context
 * freed while linked unlinks itself under its owner's LOCK first. A done channel counts on
 * its context (CH.CTX), so a goroutine waiting on done() of a context nobody else holds still
 * sees it canceled by its parent (the goroutine's waiter keeps the channel's object, whatever
 * its suspended function keeps); the channel's destructor clears DONE under LOCK before its
 * block is freed. A pending afterFunc record holds itself (and so its context) until it
 * starts or is stopped. The JS side holds through epochs (runtime/anchors.ts): a Context
 * object, and the cancel function and deadline timer, which keep the Context object.
 *
 * Size: past ~600 lines because the destructors and afterFunc records share the record
 * layout, the lock protocol and unlinkFrom with cancel(); split, each file would re-export C.
 *
 * Misuse: every function checks its context argument is a Context (instanceof) and its
 * duration or deadline before it allocates anything; a Context made from a handle checks
 * the record is a context (its heap kind). A cancel function is idempotent, as Go's: called
 * after the runtime that made it shut down (from a timer or signal handler, say) it does
 * nothing.
 */
import { lock, unlock } from '../heap/lock.js';
import { Chan } from '../chan/chan.js';
import { NodeTimer } from '../chan/timers.js';
import { current, need, type Thread } from '../runtime/thread.js';
import { badHandle, staleObject } from '../runtime/object.js';
import { describe } from '../value/describe.js';
import { drop, dropArgs, dropArgsInto, dropInto, encodeArgs, encodeInto, read, registerHandleKind, GORT_HANDLE, SLOT_BYTES, type HandleObject } from '../value/codec.js';
import { newprocEncoded } from '../runtime/proc.js';
import { CH, moveSlot, onDoneFreed } from '../chan/hchan.js';
import { onLastRelease, release } from '../value/refs.js';
import { borrowed, disposeObject, disposedArg, isDisposed } from '../runtime/object.js';
import type { Anchor } from '../runtime/anchors.js';
import type { Heap } from '../heap/heap.js';
import { fatal } from '../errors.js';
import { decoding, Kind, RecordKind } from '../value/kinds.js';

/** Word offsets of a context record (the table above); an afterFunc record has the same size. */
export const C = { LOCK: 0, STATE: 1, PARENT: 2, DONE: 3, CHILD_HEAD: 4, NEXT: 5, PREV: 6, HAS_VALUE: 7, DEADLINE_F64: 8, KEY: 10, VALUE: 14, OWNER: 18, CAUSE_FROM: 19, CAUSE: 20, ROOT: 24 } as const;
export const C_BYTES = 25 * 4;

/** The record whose STATE, DONE and children apply to h: h, or for a value context its nearest cancelable ancestor. */
function cancelable(a: Int32Array, h: number): number {
  while (a[(h >> 2) + C.HAS_VALUE] === 1) h = a[(h >> 2) + C.PARENT]!;
  return h;
}

/** Go's context.Canceled. */
export class CanceledError extends Error {
  /** Always `'CanceledError'`. */
  override name = 'CanceledError';
  constructor() {
    super('context canceled');
  }
}
/** Go's context.DeadlineExceeded. */
export class DeadlineExceededError extends Error {
  /** Always `'DeadlineExceededError'`. */
  override name = 'DeadlineExceededError';
  constructor() {
    super('context deadline exceeded');
  }
}
/** What `err()` returns once a context is canceled (one per thread, so `ctx.err() === Canceled` holds). */
export const Canceled = new CanceledError();
/** What `err()` returns once a context's deadline passed (one per thread, as `Canceled`). */
export const DeadlineExceeded = new DeadlineExceededError();

/** Cancels its context (and every context made from it). Idempotent, as Go's: later calls, and calls after the runtime ended, do nothing. */
export type CancelFunc = () => void;

/**
 * Go's `context.Context`, shared by every thread that holds it: cancellation, a deadline and
 * values that reach goroutines on every M. Made by `background()`, `withCancel()`,
 * `withTimeout()`, `withDeadline()`, `withValue()` and their kin; passed to goroutines like any
 * runtime object.
 *
 * ```js
 * const [ctx, cancel] = withTimeout(background(), 500);
 * const steps = await spawn(async (ctx) => {
 *   let i = 0;
 *   while (ctx.err() === null) { i++; await sleep(1); } // until the 500 ms have passed
 *   return i;
 * }, ctx);
 * cancel(); // always: it releases the context's timer
 * ```
 */
export class Context implements HandleObject {
  /** @internal */
  readonly h: number;
  private readonly t: Thread;
  private readonly g: number;
  private doneChan: Chan<void> | null = null;
  private ac: AbortController | null = null;
  /** This object's epoch and entry in it (runtime/anchors.ts). */
  private readonly anchor: Anchor;
  private readonly ai: number;

  /** @internal contexts are made by background(), withCancel(), … (fresh: h's first reference is handed over) */
  constructor(h: number, g?: number, fresh = false) {
    this.t = need('context');
    const k = this.t.heap.kindOf(h);
    if (k !== Kind.CONTEXT) throw badHandle('Context', Kind.CONTEXT, k, h);
    this.h = h;
    this.g = g ?? this.t.curG;
    if (fresh) this.anchor = this.t.anchors.take(h);
    else if (decoding.consume === h) {
      decoding.consume = 0; // the consumed slot's count is this object's
      this.anchor = this.t.anchors.take(h);
    } else this.anchor = this.t.anchors.retainTake(h);
    this.ai = this.t.anchors.index;
  }

  /** @hidden how a runtime object travels (value/codec.ts); not stripped: exportRef() takes it */
  [GORT_HANDLE](): readonly [number, number, unknown?, number?] {
    if (current !== this.t) throw staleObject(Kind.CONTEXT); // as RuntimeObject's
    return [Kind.CONTEXT, this.h, this.anchor, this.ai];
  }

  /** As a runtime object's: release this object's count now (runtime/anchors.ts dispose); this object is unusable after. */
  [Symbol.dispose](): void {
    disposeObject(this, this.t, this.anchor, this.ai, Kind.CONTEXT);
  }

  /** A channel closed when the context is canceled or its deadline passes. */
  done(): Chan<void> {
    if (this.doneChan === null) this.doneChan = doneOf(this.t, cancelable(this.t.heap.i32, this.h), this.g);
    return this.doneChan;
  }

  /** null while active; then Canceled or DeadlineExceeded. */
  err(): Error | null {
    const a = this.t.heap.i32;
    const s = Atomics.load(a, (cancelable(a, this.h) >> 2) + C.STATE);
    return s === 0 ? null : s === 1 ? Canceled : DeadlineExceeded;
  }

  /**
   * Go 1.20's context.Cause(ctx), as a method (a free `cause` would be one more name in scope
   * in every inline goroutine): null while active; then the cause given to the cancel of
   * withCancelCause (or to withDeadlineCause) that ended this context or an ancestor, as a
   * clone; else err().
   */
  cause(): unknown {
    const heap = this.t.heap;
    const a = heap.i32;
    const h = cancelable(a, this.h);
    const s = Atomics.load(a, (h >> 2) + C.STATE);
    if (s === 0) return null;
    const from = a[(h >> 2) + C.CAUSE_FROM]!;
    if (from === 0) return s === 1 ? Canceled : DeadlineExceeded;
    return read(heap, from + C.CAUSE * 4, false, this.g);
  }

  /** [deadline in ms since the epoch, true], or [undefined, false] without one. */
  deadline(): [number | undefined, boolean] {
    const d = this.t.heap.f64[(this.h >> 3) + C.DEADLINE_F64 / 2]!;
    return d > 0 ? [d, true] : [undefined, false];
  }

  /** The value for key, from this context or the nearest ancestor that has one. */
  value(key: string | number | boolean): unknown {
    const heap = this.t.heap;
    for (let c = this.h; c !== 0; c = heap.i32[(c >> 2) + C.PARENT]!) {
      if (heap.i32[(c >> 2) + C.HAS_VALUE] === 1 && read(heap, c + C.KEY * 4, false) === key) {
        return read(heap, c + C.VALUE * 4, false, this.g);
      }
    }
    return undefined;
  }

  /** An AbortSignal on this thread that aborts (with err()) when the context is done. */
  get signal(): AbortSignal {
    if (this.ac === null) {
      const ac = new AbortController();
      this.ac = ac;
      const e = this.err();
      if (e !== null) ac.abort(e);
      else void this.done().recv().then(() => ac.abort(this.err()));
    }
    return this.ac.signal;
  }
}

/** A new context record with one reference (the caller's), holding `parent` (counted). */
function alloc(t: Thread, parent: number, deadline: number): number {
  const heap = t.heap;
  const h = heap.allocCounted(C_BYTES, Kind.CONTEXT);
  heap.i32.fill(0, h >> 2, (h + C_BYTES) >> 2);
  if (parent !== 0) heap.retain(parent);
  heap.i32[(h >> 2) + C.PARENT] = parent;
  heap.f64[(h >> 3) + C.DEADLINE_F64 / 2] = deadline;
  return h;
}

/**
 * The DONE channel of cancelable record h as a receive-only object for goroutine g, made on
 * first use (closed if h is already done). Under h's LOCK: DONE does not count, so the channel
 * it names is taken only if its count can still be raised (it may be being freed).
 */
function doneOf(t: Thread, h: number, g: number): Chan<void> {
  const heap = t.heap;
  const a = heap.i32;
  const i = h >> 2;
  lock(a, i + C.LOCK);
  try {
    const d = a[i + C.DONE]!;
    if (d !== 0 && heap.tryRetain(d)) {
      const c = Chan.recvOnly<void>(d, g); // retains a count of its own (runtime/anchors.ts retainTake)
      heap.release(d); // not the last: the object holds one
      return c;
    }
    const c = Chan.forDone();
    heap.retain(h); // the channel keeps its context
    a[(c.h >> 2) + CH.CTX] = h;
    if (a[i + C.STATE] !== 0) c.close(); // canceled before anyone asked: Go's closedchan
    Atomics.store(a, i + C.DONE, c.h);
    return Chan.recvOnly<void>(c.h, g);
  } finally {
    unlock(a, i + C.LOCK);
  }
}

/** Done channel `ch` of context `ctx` is being freed: DONE stops naming it (hchan.ts freeShared). */
onDoneFreed((heap, ctx, ch) => {
  const a = heap.i32;
  lock(a, (ctx >> 2) + C.LOCK);
  if (a[(ctx >> 2) + C.DONE] === ch) a[(ctx >> 2) + C.DONE] = 0;
  unlock(a, (ctx >> 2) + C.LOCK);
});

/** A context's last reference is gone: leave its owner's child list, drop its values, let go of its parent. */
onLastRelease(Kind.CONTEXT, (heap, h, more) => {
  const a = heap.i32;
  const i = h >> 2;
  if (a[i + C.DONE] !== 0) fatal(`context ${h}: freed while its done channel ${a[i + C.DONE]} is live`);
  unlinkFrom(heap, h);
  dropInto(heap, h + C.KEY * 4, more);
  dropInto(heap, h + C.VALUE * 4, more);
  dropInto(heap, h + C.CAUSE * 4, more);
  const parent = a[i + C.PARENT]!;
  heap.freeCounted(h);
  if (parent !== 0) more.push(parent);
});

/** An afterFunc record's last reference is gone (it started or was stopped, and its stop function was collected). */
onLastRelease(RecordKind.AFTER_FUNC, (heap, h, more) => {
  const a = heap.i32;
  unlinkFrom(heap, h);
  dropArgsInto(heap, a[(h >> 2) + C.KEY + 1]!, more);
  const parent = a[(h >> 2) + C.PARENT]!;
  heap.freeCounted(h);
  more.push(parent);
});

let backgroundH = 0;
let backgroundHeap: unknown = null;

/** The root context: never canceled, no deadline, no values. One per runtime. */
export function background(): Context {
  const t = need('background()');
  if (backgroundHeap !== t.heap) {
    backgroundHeap = t.heap;
    // Each thread has its own; they are equivalent (never canceled, no parent). Its first
    // reference is never released: it lives as long as the runtime.
    backgroundH = alloc(t, 0, 0);
    t.heap.i32[(backgroundH >> 2) + C.ROOT] = 1;
  }
  return new Context(backgroundH);
}

/** Go's context.TODO: the same as background(). */
export const todo = background;

/** `v` as a Context, or the TypeError that names the call (before anything is made). */
function ctxArg(what: string, v: unknown, role = 'a parent'): Context {
  if (v instanceof Context) {
    if (isDisposed(v)) throw disposedArg(what, Kind.CONTEXT);
    return v;
  }
  const hint = typeof v === 'number' || typeof v === 'string' || v instanceof Date ? ` (the ${role.replace(/^an? /, '')} context comes first: ${what.replace('()', '')}(parent, …))` : '';
  throw new TypeError(`gort: ${what} needs ${role} Context (e.g. background()), got ${describe(v)}${hint}`);
}

/** A duration in ms: a finite number (negative: already expired, as Go's). */
function msArg(what: string, ms: unknown): number {
  if (typeof ms !== 'number') throw new TypeError(`gort: ${what} needs a timeout in ms (a number), got ${describe(ms)}`);
  if (!Number.isFinite(ms)) throw new RangeError(`gort: ${what} needs a finite timeout in ms, got ${ms}`);
  return ms;
}

/** A deadline: ms since the epoch (finite) or a valid Date. */
function deadlineArg(what: string, d: unknown): number {
  if (d instanceof Date) {
    const n = d.getTime();
    if (Number.isNaN(n)) throw new RangeError(`gort: ${what} got an invalid Date`);
    return n;
  }
  if (typeof d !== 'number') throw new TypeError(`gort: ${what} needs a deadline (ms since the epoch, or a Date), got ${describe(d)}`);
  if (!Number.isFinite(d)) throw new RangeError(`gort: ${what} needs a finite deadline, got ${d}`);
  return d;
}

/** This thread, if the runtime that made t is still running on it; null once it shut down. */
function still(t: Thread): Thread | null {
  // A runtime stopped by a worker crash refuses new work, but a cancel is idempotent in Go
  // and often runs from a handler or a finally: it does nothing then, as after shutdown.
  return current === t && t.crash === null ? t : null;
}

/** Attach a new child of parent; returns its handle (canceled at once if parent is done). */
function child(t: Thread, parent: Context, deadline: number): number {
  const heap = t.heap;
  const ph = cancelable(heap.i32, parent.h);
  const pd = heap.f64[(ph >> 3) + C.DEADLINE_F64 / 2]!;
  const d = pd > 0 && (deadline === 0 || pd < deadline) ? pd : deadline;
  const h = alloc(t, parent.h, d);
  const a = heap.i32;
  if (a[(ph >> 2) + C.ROOT] === 1) return h; // never canceled: nothing to link into
  heap.i32[(h >> 2) + C.OWNER] = ph;
  lock(a, (ph >> 2) + C.LOCK);
  const ps = a[(ph >> 2) + C.STATE]!;
  const pcause = a[(ph >> 2) + C.CAUSE_FROM]!;
  if (ps === 0) {
    const head = a[(ph >> 2) + C.CHILD_HEAD]!;
    a[(h >> 2) + C.NEXT] = head;
    a[(h >> 2) + C.PREV] = 0;
    if (head !== 0) a[(head >> 2) + C.PREV] = h;
    a[(ph >> 2) + C.CHILD_HEAD] = h;
  }
  unlock(a, (ph >> 2) + C.LOCK);
  if (ps !== 0) cancel(t, h, ps, false, pcause);
  return h;
}

/**
 * Cancel context h with state (1 canceled, 2 deadline), then its children; detach it.
 * causeFrom: the record whose CAUSE slot holds the cause (0: none). causeSlot: a slot with a
 * cause encoded by the caller, moved into h's CAUSE if this call is the one that cancels
 * (causeFrom must then be h), dropped otherwise.
 */
function cancel(t: Thread, h: number, state: number, detach: boolean, causeFrom = 0, causeSlot = 0): void {
  const heap = t.heap;
  const i = h >> 2;
  lock(heap.i32, i + C.LOCK);
  if (heap.i32[i + C.STATE] !== 0) {
    unlock(heap.i32, i + C.LOCK);
    if (causeSlot !== 0) drop(heap, causeSlot);
    return;
  }
  if (causeSlot !== 0) moveSlot(heap.i32, causeSlot, h + C.CAUSE * 4);
  heap.i32[i + C.CAUSE_FROM] = causeFrom;
  Atomics.store(heap.i32, i + C.STATE, state);
  // The list is taken whole; a child whose count is already 0 is being freed (its destructor
  // finds this context canceled and leaves the list alone), the others are held until canceled.
  let kids: number[] | null = null;
  for (let c = heap.i32[i + C.CHILD_HEAD]!; c !== 0; ) {
    const next = heap.i32[(c >> 2) + C.NEXT]!;
    heap.i32[(c >> 2) + C.NEXT] = 0;
    heap.i32[(c >> 2) + C.PREV] = 0;
    if (heap.tryRetain(c)) (kids ??= []).push(c);
    c = next;
  }
  heap.i32[i + C.CHILD_HEAD] = 0;
  const d = heap.i32[i + C.DONE]!; // read with STATE's store: a later done() makes it closed
  const done = d !== 0 && heap.tryRetain(d) ? d : 0;
  unlock(heap.i32, i + C.LOCK);
  if (done !== 0) {
    borrowed(() => new Chan<void>(0, done, 0)).close();
    release(heap, done);
  }
  if (kids !== null) {
    for (const c of kids) {
      if (heap.i32[(c >> 2) + C.HAS_VALUE] === AFTER) startAfter(t, c);
      else cancel(t, c, state, false, causeFrom);
      release(heap, c);
    }
  }
  if (detach) unlink(t, h);
}

/** Take record h (a context or an afterFunc record) out of its owner's child list. */
function unlink(t: Thread, h: number): void {
  unlinkFrom(t.heap, h);
}

function unlinkFrom(heap: Heap, h: number): void {
  const i = h >> 2;
  const p = heap.i32[i + C.OWNER]!;
  if (p === 0) return;
  lock(heap.i32, (p >> 2) + C.LOCK);
  // Once the parent is canceled, its cancel took the whole list and walks it without a
  // lock: a child must not unlink itself from it then (it would cut the walk short).
  const prev = heap.i32[i + C.PREV]!;
  const next = heap.i32[i + C.NEXT]!;
  if (heap.i32[(p >> 2) + C.STATE] === 0 && (prev !== 0 || heap.i32[(p >> 2) + C.CHILD_HEAD] === h)) {
    if (prev === 0) heap.i32[(p >> 2) + C.CHILD_HEAD] = next;
    else heap.i32[(prev >> 2) + C.NEXT] = next;
    if (next !== 0) heap.i32[(next >> 2) + C.PREV] = prev;
    heap.i32[i + C.NEXT] = 0;
    heap.i32[i + C.PREV] = 0;
  }
  unlock(heap.i32, (p >> 2) + C.LOCK);
}

/** HAS_VALUE of an afterFunc record. */
const AFTER = 2;

/** Start afterFunc record h's goroutine, unless stop() came first (any thread: the one canceling). */
function startAfter(t: Thread, h: number): void {
  const heap = t.heap;
  const i = h >> 2;
  lock(heap.i32, i + C.LOCK);
  const pending = heap.i32[i + C.STATE] === 0;
  if (pending) Atomics.store(heap.i32, i + C.STATE, 1);
  const args = heap.i32[i + C.KEY + 1]!;
  if (pending) heap.i32[i + C.KEY + 1] = 0; // the goroutine takes them
  unlock(heap.i32, i + C.LOCK);
  if (!pending) return;
  try {
    newprocEncoded(t, heap.i32[i + C.KEY]!, args, [], 0);
  } finally {
    release(heap, h); // no longer pending
  }
}

/**
 * Go 1.21's context.AfterFunc: run fn(...args) in its own goroutine once ctx is done (at
 * once if it is already), from the thread whose cancel (or deadline) ends it. fn is a
 * goroutine function, as for go(): checked, and its arguments cloned, here. stop() ends the
 * arrangement: true if that kept fn from starting, false if it had started or was stopped.
 */
export function afterFunc<A extends unknown[]>(ctx: Context, fn: (...args: A) => unknown, ...args: A): () => boolean {
  const t = need('afterFunc()');
  ctxArg('afterFunc()', ctx, 'a');
  if (typeof fn !== 'function') throw new TypeError(`gort: afterFunc() needs a goroutine function, got ${describe(fn)}`);
  const heap = t.heap;
  const fnId = t.fns.idOf(fn);
  const a = heap.i32;
  const ph = cancelable(a, ctx.h);
  if (a[(ph >> 2) + C.ROOT] === 1) {
    // A context that is never canceled never runs fn: nothing to record (Go's does the same).
    let stopped = false;
    return () => !stopped && (stopped = true);
  }
  const argsH = args.length === 0 ? 0 : encodeArgs(heap, args, fn);
  let h: number;
  try {
    h = heap.allocCounted(C_BYTES, RecordKind.AFTER_FUNC); // this reference: "pending", dropped when it starts or stops
  } catch (e) {
    dropArgs(heap, argsH);
    throw e;
  }
  a.fill(0, h >> 2, (h + C_BYTES) >> 2);
  a[(h >> 2) + C.HAS_VALUE] = AFTER;
  a[(h >> 2) + C.KEY] = fnId;
  a[(h >> 2) + C.KEY + 1] = argsH;
  heap.retain(ctx.h);
  a[(h >> 2) + C.PARENT] = ctx.h;
  a[(h >> 2) + C.OWNER] = ph;
  const hold = t.anchors.retainTake(h); // the stop function's count: the closure keeps its epoch
  lock(a, (ph >> 2) + C.LOCK);
  const ps = a[(ph >> 2) + C.STATE]!;
  if (ps === 0) {
    const head = a[(ph >> 2) + C.CHILD_HEAD]!;
    a[(h >> 2) + C.NEXT] = head;
    if (head !== 0) a[(head >> 2) + C.PREV] = h;
    a[(ph >> 2) + C.CHILD_HEAD] = h;
  }
  unlock(a, (ph >> 2) + C.LOCK);
  if (ps !== 0) startAfter(t, h);
  return () => {
    const st = still(t);
    if (st === null) return false; // the runtime shut down: nothing will start it now
    const sh = st.heap;
    void hold; // kept by this closure, it keeps the record's count
    const rec = h;
    lock(sh.i32, (rec >> 2) + C.LOCK);
    const pending = sh.i32[(rec >> 2) + C.STATE] === 0;
    if (pending) Atomics.store(sh.i32, (rec >> 2) + C.STATE, 2);
    const argsNow = sh.i32[(rec >> 2) + C.KEY + 1]!;
    if (pending) sh.i32[(rec >> 2) + C.KEY + 1] = 0;
    unlock(sh.i32, (rec >> 2) + C.LOCK);
    if (!pending) return false;
    unlink(st, rec);
    dropArgs(sh, argsNow);
    release(sh, rec); // no longer pending
    return true;
  };
}

/** @internal cancel context h (errgroup). */
export function cancelContext(t: Thread, h: number): void {
  cancel(t, h, 1, true);
}

/** Go's context.WithCancel: a child canceled by cancel() or when parent is. */
export function withCancel(parent: Context): [Context, CancelFunc] {
  const t = need('withCancel()');
  const ctx = new Context(child(t, ctxArg('withCancel()', parent), 0), undefined, true);
  return [
    ctx,
    () => {
      const ct = still(t);
      if (ct !== null) cancel(ct, ctx.h, 1, true); // the closure keeps ctx, and so the record
    },
  ];
}

/** Go's context.WithDeadline: also canceled (DeadlineExceeded) at `deadline` (ms since the epoch, or a Date). */
export function withDeadline(parent: Context, deadline: number | Date): [Context, CancelFunc] {
  return deadlineCtx('withDeadline()', parent, deadlineArg('withDeadline()', deadline), false, undefined);
}

/** Go 1.21's context.WithDeadlineCause: as withDeadline, and cause(ctx) is `cause` once the deadline passes. */
export function withDeadlineCause(parent: Context, deadline: number | Date, cause: unknown): [Context, CancelFunc] {
  return deadlineCtx('withDeadlineCause()', parent, deadlineArg('withDeadlineCause()', deadline), true, cause);
}

/** Go 1.21's context.WithTimeoutCause. */
export function withTimeoutCause(parent: Context, ms: number, cause: unknown): [Context, CancelFunc] {
  ctxArg('withTimeoutCause()', parent);
  return deadlineCtx('withTimeoutCause()', parent, Date.now() + msArg('withTimeoutCause()', ms), true, cause);
}

function deadlineCtx(what: string, parent: Context, d: number, hasCause: boolean, cause: unknown): [Context, CancelFunc] {
  const t = need(what);
  ctxArg(what, parent);
  const heap = t.heap;
  // The deadline's cause waits in the record's CAUSE slot; only the deadline points
  // CAUSE_FROM at it. Encoded first, so that a value that cannot be cloned throws here with
  // nothing made.
  const tmp = hasCause ? heap.alloc(SLOT_BYTES) : 0;
  if (hasCause) {
    try {
      encodeInto(heap, tmp, cause, 'the cause');
    } catch (e) {
      heap.free(tmp);
      throw e;
    }
  }
  const h = child(t, parent, d);
  const ctx = new Context(h, undefined, true);
  if (hasCause) {
    moveSlot(heap.i32, tmp, h + C.CAUSE * 4);
    heap.free(tmp);
  }
  const from = hasCause ? h : 0;
  const eff = t.heap.f64[(h >> 3) + C.DEADLINE_F64 / 2]!;
  // The timer keeps ctx (and so the record) until it fires or is stopped, as Go's does.
  const timer = new NodeTimer(t, () => cancel(t, ctx.h, 2, true, from));
  if (Atomics.load(t.heap.i32, (h >> 2) + C.STATE) === 0) {
    const left = eff - Date.now();
    if (left <= 0) cancel(t, h, 2, true, from);
    else timer.start(left);
  }
  return [
    ctx,
    () => {
      const ct = still(t);
      if (ct === null) return;
      timer.stop();
      cancel(ct, ctx.h, 1, true);
    },
  ];
}

/** Go's context.WithTimeout. */
export function withTimeout(parent: Context, ms: number): [Context, CancelFunc] {
  ctxArg('withTimeout()', parent);
  return deadlineCtx('withTimeout()', parent, Date.now() + msArg('withTimeout()', ms), false, undefined);
}

/**
 * Go 1.20's context.WithCancelCause: cancel(cause) records `cause` (cloned into the heap, so
 * any thread reads it with ctx.cause()); cancel() or cancel(undefined) records Canceled.
 */
export function withCancelCause(parent: Context): [Context, (cause?: unknown) => void] {
  const t = need('withCancelCause()');
  const ctx = new Context(child(t, ctxArg('withCancelCause()', parent), 0), undefined, true);
  return [
    ctx,
    (cause?: unknown) => {
      const ct = still(t);
      if (ct === null) return;
      const h = ctx.h; // the closure keeps ctx, and so the record
      if (cause === undefined || cause === null) return cancel(ct, h, 1, true);
      encodeInto(ct.heap, ct.scratch, cause, 'the cause'); // throws before anything changed
      cancel(ct, h, 1, true, h, ct.scratch);
    },
  ];
}

/**
 * Go 1.21's context.WithoutCancel: parent's values, but never canceled, no deadline, and not
 * canceled with parent.
 */
export function withoutCancel(parent: Context): Context {
  const t = need('withoutCancel()');
  const h = alloc(t, ctxArg('withoutCancel()', parent).h, 0);
  t.heap.i32[(h >> 2) + C.ROOT] = 1;
  return new Context(h, undefined, true);
}

/** Go's context.WithValue: key and value are cloned into the heap (any thread sees them). */
export function withValue(parent: Context, key: string | number | boolean, value: unknown): Context {
  need('withValue()');
  ctxArg('withValue()', parent);
  if (key === null || key === undefined) throw new TypeError('context: nil key');
  if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean') {
    throw new TypeError(`context: a key must be a string, number or boolean (compared by value across threads), got ${typeof key}`);
  }
  const t = need('withValue()');
  const heap = t.heap;
  const owner = cancelable(heap.i32, parent.h);
  const h = alloc(t, parent.h, heap.f64[(owner >> 3) + C.DEADLINE_F64 / 2]!);
  try {
    encodeInto(heap, h + C.KEY * 4, key, 'the context key');
    encodeInto(heap, h + C.VALUE * 4, value, 'the context value');
  } catch (e) {
    release(heap, h); // frees it, and what was encoded
    throw e;
  }
  heap.i32[(h >> 2) + C.HAS_VALUE] = 1;
  return new Context(h, undefined, true);
}

registerHandleKind(Kind.CONTEXT, (h, g) => new Context(h, g));
