/**
 * Chan: the program's handle on a channel (hchan.ts), with Go's operations as async methods,
 * plus blocking variants for synchronous code. Any thread with a runtime.
 *
 * Every operation first reads the record's OWNER word: a channel still local to this thread
 * takes the local path (local.ts); one local to another thread is shared first (a request to
 * its owner); a shared one (OWNER 0) takes the heap path below.
 *
 * Every operation encodes first (a value that cannot be cloned throws a TypeError before
 * anything is enqueued), then does Go's work under the channel lock, unlocks, and only then
 * completes the waiters it matched (complete(): STATE store + hand-off to their owners).
 * A value is encoded once into this thread's scratch slot and moved slot to slot. A blocked
 * operation on a buffered channel may first spin without the lock (spinLocked), retrying the
 * operation under the lock each time it may proceed; it parks only after that, never holding
 * the lock while it waits.
 *
 * sendSync/recvSync block the whole thread with Atomics.wait: goroutines parked on the same
 * M cannot resume until it returns, and its event loop stops (docs/architecture.md).
 *
 * Size: just past ~600 lines because RecvOnlyChan (a context's done(), a timer's c) lives
 * here: it overrides Chan's send paths and Chan.recvOnly makes it, so a file of its own would
 * import Chan while Chan imports it back.
 */
import { lock, unlock } from '../heap/lock.js';
import { ClosedChannelError } from '../errors.js';
import { RuntimeObject } from '../runtime/object.js';
import { parkCurrent, unparkSync } from '../runtime/park.js';
import { CLOSED, current, type Thread } from '../runtime/thread.js';
import { W, WFlag, WState, waiterAlloc } from '../sched/waiter.js';
import { waitCode } from '../sched/g.js';
import { drop, encodeInto, read, registerHandleKind, SLOT_BYTES, Tag } from '../value/codec.js';
import { Kind } from '../value/kinds.js';
import { onLastRelease } from '../value/refs.js';
import { CH, CH_BYTES, ChFlag, bufSlot, closeLocked, dequeue, enqueue, flushWakes, moveSlot, target } from './hchan.js';
import {
  chanOwner,
  DONE_LOCAL,
  ensureShared,
  formatRecv,
  localClose,
  localRecv,
  localSend,
  localTrySend,
  localTryRecv,
  makeLocal,
  recvFast,
  requestClose,
  requestShared,
  sendFast,
  requestsPendingHint,
  serveRequests,
  freeChan,
  WOULD_BLOCK,
  type LocalChan,
} from './local.js';

const RESOLVED = Promise.resolve();
const WAIT_SEND = waitCode('chan send');
const WAIT_RECV = waitCode('chan receive');
const MAX_CAP = 1 << 24;
/**
 * How long (ms) a blocked operation on a buffered channel watches it before parking, when its
 * thread allows spinning (Thread.spinWorth): 250 µs, the length of a young-generation GC
 * or an event-loop turn on the other side. Parking costs little here; what it sets off costs
 * much: the M, finding nothing to run, goes through its idle path (a macrotask turn, polls,
 * at last Atomics.wait), and the other side, once it has filled or drained the buffer, does
 * the same. A producer and a consumer on two Ms then take turns sleeping instead of
 * streaming, each turn costing a thread wake-up (0.1-4 ms on this VM). With an 8 µs budget
 * chan/prodcons-100 across Ms spent 30-50% of its time in such stalls (docs/design/scheduler.md,
 * "Why 250 µs, not 8"). The M would poll for as long before parking anyway.
 * Go does not spin on channels; its park and ready are cheap.
 */
const BLOCKED_SPIN_MS = 0.25;
let spinSink = 0;
/**
 * ~100 ns of register-only work between two looks at a channel: a spinner that reads the
 * channel's cache line back to back keeps taking it from the core that is about to write it,
 * slowing down exactly the thread it waits for.
 */
function pause(): void {
  let x = spinSink;
  for (let i = 0; i < 48; i++) x = (x * 31 + i) | 0;
  spinSink = x;
}

/** Result codes of the locked operations. */
export const DONE = 1;
export const BLOCK = 0;
export const CLOSED_CH = -1;

/**
 * Under c's lock: send the value in slot src. DONE, BLOCK, or CLOSED_CH. A matched receiver is
 * queued in t.wakes to complete after unlocking.
 */
export function sendLocked(t: Thread, c: number, src: number): number {
  const heap = t.heap;
  const ci = c >> 2;
  if (heap.i32[ci + CH.CLOSED] !== 0) return CLOSED_CH;
  const w = dequeue(heap, c, CH.RQ_HEAD);
  const a = heap.i32;
  if (w !== 0) {
    const tgt = target(a, w);
    moveSlot(a, src, tgt + W.VALUE * 4);
    t.wakes[t.nwakes++] = tgt;
    t.wakes[t.nwakes++] = WState.OK;
    return DONE;
  }
  const cap = a[ci + CH.CAP]!;
  const count = a[ci + CH.COUNT]!;
  if (count < cap) {
    const x = a[ci + CH.SENDX]!;
    moveSlot(a, src, bufSlot(a, c, x));
    a[ci + CH.SENDX] = x + 1 === cap ? 0 : x + 1;
    a[ci + CH.COUNT] = count + 1; // plain: under the lock; len reads it racily
    return DONE;
  }
  return BLOCK;
}

/** Under c's lock: receive into slot dst. DONE (a value), CLOSED_CH (closed and drained), or BLOCK. */
export function recvLocked(t: Thread, c: number, dst: number): number {
  const heap = t.heap;
  const ci = c >> 2;
  const w = dequeue(heap, c, CH.SQ_HEAD);
  const a = heap.i32;
  const cap = a[ci + CH.CAP]!;
  if (w !== 0) {
    const tgt = target(a, w);
    if (cap === 0) {
      moveSlot(a, w + W.VALUE * 4, dst); // straight from the sender
    } else {
      // Buffer full: take its head, and the sender's value goes to the tail.
      const x = a[ci + CH.RECVX]!;
      const slot = bufSlot(a, c, x);
      moveSlot(a, slot, dst);
      moveSlot(a, w + W.VALUE * 4, slot);
      const nx = x + 1 === cap ? 0 : x + 1;
      a[ci + CH.RECVX] = nx;
      a[ci + CH.SENDX] = nx;
    }
    // The value moved out of the sender's slot: its waiter (and its select's) now holds none,
    // so settling it must not decode and free the block the receiver owns.
    a[(w >> 2) + W.VALUE] = Tag.UNDEF;
    a[(tgt >> 2) + W.VALUE] = Tag.UNDEF;
    t.wakes[t.nwakes++] = tgt;
    t.wakes[t.nwakes++] = WState.OK;
    return DONE;
  }
  const count = a[ci + CH.COUNT]!;
  if (count > 0) {
    const x = a[ci + CH.RECVX]!;
    moveSlot(a, bufSlot(a, c, x), dst);
    a[ci + CH.RECVX] = x + 1 === cap ? 0 : x + 1;
    a[ci + CH.COUNT] = count - 1;
    return DONE;
  }
  return a[ci + CH.CLOSED] !== 0 ? CLOSED_CH : BLOCK;
}

/** Without the lock, a hint: a send on c might not block now (a receiver, room, or close). */
function sendMayProceed(a: Int32Array, ci: number): boolean {
  return Atomics.load(a, ci + CH.RQ_HEAD) !== 0 || Atomics.load(a, ci + CH.COUNT) < a[ci + CH.CAP]! || Atomics.load(a, ci + CH.CLOSED) !== 0;
}

/** Without the lock, a hint: a receive on c might not block now (a value, a sender, or close). */
function recvMayProceed(a: Int32Array, ci: number): boolean {
  return Atomics.load(a, ci + CH.COUNT) > 0 || Atomics.load(a, ci + CH.SQ_HEAD) !== 0 || Atomics.load(a, ci + CH.CLOSED) !== 0;
}

/**
 * A send (isSend) or receive found buffered channel c blocked and still holds its lock:
 * release it, watch c for up to BLOCKED_SPIN_MS (stopping early once this thread has other
 * work), and retry under the lock whenever the operation may proceed. Returns sendLocked's or
 * recvLocked's result, with the lock held again.
 *
 * Only for a buffered channel (see mayBlockSpin): there the other side moves through the
 * buffer without waiting for us. On an unbuffered one a spinning sender and a spinning
 * receiver would each wait for the other to enqueue, and both burn their whole budget
 * (ping-pong across Ms went from 5 to 35 µs).
 */
function spinLocked(t: Thread, c: number, slot: number, isSend: boolean): number {
  const a = t.heap.i32;
  const ci = c >> 2;
  unlock(a, ci + CH.LOCK);
  const deadline = performance.now() + BLOCKED_SPIN_MS;
  for (let k = 1; ; k++) {
    if (isSend ? sendMayProceed(a, ci) : recvMayProceed(a, ci)) {
      lock(a, ci + CH.LOCK);
      const r = isSend ? sendLocked(t, c, slot) : recvLocked(t, c, slot);
      if (r !== BLOCK) return r;
      unlock(a, ci + CH.LOCK);
    }
    if ((k & 15) === 0 && (!t.spinWorth() || performance.now() > deadline)) break;
    pause();
  }
  lock(a, ci + CH.LOCK);
  return isSend ? sendLocked(t, c, slot) : recvLocked(t, c, slot);
}

/** Whether a blocked operation on c should spin before parking: buffered, and the thread allows it. */
function mayBlockSpin(t: Thread, c: number): boolean {
  return t.heap.i32[(c >> 2) + CH.CAP] !== 0 && t.spinWorth();
}

/**
 * Go's `chan T`, usable from every thread: goroutines on any M, the main thread, attached
 * threads. Make one with `chan(capacity)`. Values are copied (structured clone) or, for
 * runtime objects and shared buffers, passed by reference, as for goroutine arguments.
 *
 * ```js
 * const c = chan<number>(10);
 * go(async (c) => { for (let i = 0; i < 3; i++) await c.send(i); c.close(); }, c);
 * for await (const v of c) console.log(v); // 0 1 2
 * ```
 *
 * Send on a closed channel and close of a closed channel throw `ClosedChannelError` (Go's
 * panics); a receive on a closed, drained channel resolves at once with `undefined`
 * (`recvOk`: `[undefined, false]`).
 */
export class Chan<T = unknown> extends RuntimeObject implements AsyncIterable<T> {

  /** A channel of `capacity` (0: unbuffered); `chan(capacity)` is the usual spelling. */
  constructor(capacity?: number);
  /** @internal revival of a handle */
  constructor(capacity: number, handle: number | undefined, g?: number);
  constructor(capacity = 0, handle?: number, g?: number) {
    if (handle === undefined && (!Number.isInteger(capacity) || capacity < 0 || capacity > MAX_CAP)) {
      throw new RangeError(`makechan: size out of range: ${String(capacity)} (an integer from 0 to ${MAX_CAP})`);
    }
    super('chan()', Kind.CHAN, CH_BYTES, handle, g);
    if (handle === undefined) {
      const heap = this.t.heap;
      const buf = capacity > 0 ? heap.alloc(capacity * SLOT_BYTES) : 0;
      heap.i32[(this.h >> 2) + CH.CAP] = capacity;
      heap.i32[(this.h >> 2) + CH.BUF] = buf;
      if (this.t.makesLocalChans) this.lst = makeLocal(this.t, this.h, capacity);
    }
  }

  /**
   * The record's owner word (thread index + 1 while local, 0 shared). When this thread is the
   * owner, requests other threads made are served first: a close another thread made, or
   * anything ordered after it, is then seen here (local.ts, requestClose).
   */
  private ownerNow(): number {
    const t = this.t;
    const o = chanOwner(t, this.h);
    if (o !== t.index + 1 || !requestsPendingHint(t)) return o;
    serveRequests(t);
    return chanOwner(t, this.h);
  }

  private lst: LocalChan | undefined;
  /** This thread's state of the channel while this thread owns it locally (chan/local.ts). */
  private local(): LocalChan {
    return (this.lst ??= this.t.locals.get(this.h)!);
  }

  /** Throw the TypeError that sending v would throw (a send that must first wait to share the channel). */
  private checkValue(v: T): void {
    encodeInto(this.t.heap, this.t.scratch, v, 'the value sent');
    drop(this.t.heap, this.t.scratch);
  }

  /**
   * @internal A timer's channel (chan/timers.ts): one slot for the value a Node timer callback
   * delivers (it cannot wait for a receiver), reported as unbuffered (len and cap 0), as Go
   * 1.23's timer channels are.
   */
  static forTimer(): Chan<number> {
    const c = new Chan<number>(1);
    c.t.heap.i32[(c.h >> 2) + CH.FLAGS] = ChFlag.TIMER | ChFlag.RECV_ONLY; // before the channel can reach another thread
    return c;
  }

  /** @internal A context's done channel: unbuffered, closed by the runtime only. */
  static forDone(): Chan<void> {
    const c = new Chan<void>(0);
    c.t.heap.i32[(c.h >> 2) + CH.FLAGS] = ChFlag.RECV_ONLY;
    return c;
  }

  /** @internal The receive-only object programs get for a channel the runtime sends on or closes. */
  static recvOnly<T>(h: number, g: number): Chan<T> {
    return new RecvOnlyChan<T>(0, h, g);
  }

  /** Buffer slots; 0 for a timer's channel (Go 1.23: timer channels are unbuffered). */
  get cap(): number {
    const a = this.t.heap.i32;
    return (a[(this.h >> 2) + CH.FLAGS]! & ChFlag.TIMER) !== 0 ? 0 : a[(this.h >> 2) + CH.CAP]!;
  }

  /** Values buffered now (a racy snapshot, as Go's len(ch)); always 0 for a timer's channel, as in Go 1.23. */
  get len(): number {
    if ((this.t.heap.i32[(this.h >> 2) + CH.FLAGS]! & ChFlag.TIMER) !== 0) return 0;
    if (this.ownerNow() === this.t.index + 1) return this.local().count;
    return this.t.heap.i32[(this.h >> 2) + CH.COUNT]!;
  }

  /**
   * Encode v into the scratch slot and try to send it now. DONE: sent, lock released.
   * CLOSED_CH: throws ClosedChannelError (lock released, value dropped). BLOCK: the lock is
   * still held and the value is in the scratch slot, for the caller to park with.
   */
  private sendNow(v: T, spin: boolean): number {
    const t = this.t;
    const heap = t.heap;
    const src = t.scratch;
    encodeInto(heap, src, v, 'the value sent');
    const c = this.h;
    lock(heap.i32, (c >> 2) + CH.LOCK);
    let r = sendLocked(t, c, src);
    if (r === BLOCK && spin && mayBlockSpin(t, c)) r = spinLocked(t, c, src, true);
    if (r === BLOCK) return r;
    unlock(heap.i32, (c >> 2) + CH.LOCK);
    flushWakes(t);
    if (r === CLOSED_CH) {
      drop(heap, src);
      throw new ClosedChannelError('send on closed channel');
    }
    t.activity++; // the sender continues in a microtask: see M.loop
    return r;
  }

  /**
   * Send v; resolves when a receiver took it or it is buffered. The local fast path
   * (local.ts, sendFast/recvFast) is written out at the top of send, recv, recvOk and the
   * iterator: a shared helper method cost the uncontended send+recv ~140 instructions
   * (benchmarks/icount.mjs: 1,952 against 1,810).
   */
  send(v: T): Promise<void> {
    const st = this.lst;
    if (st !== undefined) {
      const p = sendFast(this.t, this.h, st, v, this.g, this);
      if (p !== undefined) return p;
    }
    const o = this.ownerNow();
    if (o !== 0) return this.sendLocal(v, o);
    if (this.sendNow(v, true) === DONE) return this.t.yieldDue() ? this.t.yieldTurn(undefined) : RESOLVED;
    const t = this.t;
    const heap = t.heap;
    const src = t.scratch;
    const c = this.h;
    const p = this.park<void>(WAIT_SEND);
    const w = t.lastWaiter;
    moveSlot(heap.i32, src, w + W.VALUE * 4);
    enqueue(heap.i32, c, CH.SQ_HEAD, w);
    unlock(heap.i32, (c >> 2) + CH.LOCK);
    return p;
  }

  /** send() on a channel still local to thread o - 1: ours, or to be shared first. */
  private sendLocal(v: T, o: number): Promise<void> {
    const t = this.t;
    if (o === t.index + 1) {
      const r = localSend(t, this.h, this.local(), v, this.g, WAIT_SEND, this);
      if (r !== DONE_LOCAL) return r as Promise<void>;
      return t.yieldDue() ? t.yieldTurn(undefined) : RESOLVED;
    }
    return this.sendShared(v, o);
  }

  /**
   * send() on a channel local to another thread: share it first. Its own method because the
   * closure would otherwise make every sendLocal call allocate a context for v.
   */
  private sendShared(v: T, o: number): Promise<void> {
    this.checkValue(v);
    return requestShared(this.t, this.h, o - 1).then(() => this.send(v));
  }

  /** Receive a value; undefined once the channel is closed and drained. */
  recv(): Promise<T | undefined> {
    const st = this.lst;
    if (st !== undefined) {
      const p = recvFast(this.t, this.h, st, WFlag.RECV_VALUE, this.g, this);
      if (p !== undefined) return p as Promise<T | undefined>;
    }
    const r = this.recvNow(WFlag.RECV_VALUE);
    if (r instanceof Promise) return r as Promise<T | undefined>;
    const v = r === CLOSED ? undefined : (r as T);
    return this.t.yieldDue() ? this.t.yieldTurn(v) : Promise.resolve(v);
  }

  /** Receive a value and whether it came from a send ([undefined, false] once closed and drained). */
  recvOk(): Promise<[T | undefined, boolean]> {
    const st = this.lst;
    if (st !== undefined) {
      const p = recvFast(this.t, this.h, st, WFlag.RECV_PAIR, this.g, this);
      if (p !== undefined) return p as Promise<[T | undefined, boolean]>;
    }
    const r = this.recvNow(WFlag.RECV_PAIR);
    if (r instanceof Promise) return r as Promise<[T | undefined, boolean]>;
    const v: [T | undefined, boolean] = r === CLOSED ? [undefined, false] : [r as T, true];
    return this.t.yieldDue() ? this.t.yieldTurn(v) : Promise.resolve(v);
  }

  /**
   * recvRaw(), with a channel this thread owns locally tried first: recvRaw carries the heap
   * path and is too big for V8 to inline into recv (chan/uncontended: ~5 ns per pair).
   */
  private recvNow(mode: number): unknown {
    const st = this.lst;
    if (st !== undefined && this.ownerNow() === this.t.index + 1) return localRecv(this.t, this.h, st, mode, this.g, WAIT_RECV, this);
    return this.recvRaw(mode);
  }

  /** recvRaw() on a channel local to another thread: share it first (apart, as sendShared). */
  private recvShared(mode: number, o: number): Promise<unknown> {
    return requestShared(this.t, this.h, o - 1).then(() => {
      const r = this.recvRaw(mode);
      return r instanceof Promise ? r : formatRecv(mode, r === CLOSED ? undefined : r, r !== CLOSED);
    });
  }

  /** The value now, CLOSED now, or a promise settled as `mode` (WFlag.RECV_*) says. */
  private recvRaw(mode: number): unknown {
    const t = this.t;
    const heap = t.heap;
    const dst = t.scratch;
    const c = this.h;
    const o = this.ownerNow();
    if (o !== 0) {
      if (o === t.index + 1) return localRecv(t, c, this.local(), mode, this.g, WAIT_RECV, this);
      return this.recvShared(mode, o);
    }
    lock(heap.i32, (c >> 2) + CH.LOCK);
    let r = recvLocked(t, c, dst);
    if (r === BLOCK && mayBlockSpin(t, c)) r = spinLocked(t, c, dst, false);
    if (r === DONE) {
      unlock(heap.i32, (c >> 2) + CH.LOCK);
      flushWakes(t);
      t.activity++;
      return read(heap, dst, true, this.g);
    }
    if (r === CLOSED_CH) {
      unlock(heap.i32, (c >> 2) + CH.LOCK);
      return CLOSED;
    }
    const p = this.park<unknown>(WAIT_RECV);
    const w = t.lastWaiter;
    heap.i32[(w >> 2) + W.FLAGS] = mode;
    enqueue(heap.i32, c, CH.RQ_HEAD, w);
    unlock(heap.i32, (c >> 2) + CH.LOCK);
    return p;
  }

  /** Send v if that can happen now (a receiver waits, or the buffer has room); Go's select with default. */
  trySend(v: T): boolean {
    const o = this.ownerNow();
    if (o === this.t.index + 1) return localTrySend(this.t, this.h, this.local(), v);
    if (o !== 0) ensureShared(this.t, this.h);
    if (this.sendNow(v, false) === DONE) return true;
    unlock(this.t.heap.i32, (this.h >> 2) + CH.LOCK);
    drop(this.t.heap, this.t.scratch);
    return false;
  }

  /**
   * Receive if that can happen now (a value is buffered, a sender waits, or the channel is
   * closed): [value, true], or [undefined, false] once closed and drained; undefined if it
   * would have to wait. Go's select with one receive case and a default, without a promise.
   */
  tryRecv(): [T | undefined, boolean] | undefined {
    const t = this.t;
    const o = this.ownerNow();
    if (o === t.index + 1) {
      const r = localTryRecv(t, this.h, this.local(), this.g);
      if (r === WOULD_BLOCK) return undefined;
      return r === CLOSED ? [undefined, false] : [r as T, true];
    }
    if (o !== 0) ensureShared(t, this.h);
    const heap = t.heap;
    const c = this.h;
    lock(heap.i32, (c >> 2) + CH.LOCK);
    const r = recvLocked(t, c, t.scratch);
    unlock(heap.i32, (c >> 2) + CH.LOCK);
    if (r === BLOCK) return undefined;
    if (r === CLOSED_CH) return [undefined, false];
    flushWakes(t);
    t.activity++;
    return [read(heap, t.scratch, true, this.g) as T, true];
  }

  /** Close: receivers drain the buffer, then get [undefined, false]; blocked senders throw. */
  close(): void {
    const t = this.t;
    const heap = t.heap;
    const c = this.h;
    const ci = c >> 2;
    const o = this.ownerNow();
    if (o === t.index + 1) return localClose(t, c, this.local());
    if (o !== 0) return requestClose(t, c, o - 1);
    lock(heap.i32, ci + CH.LOCK);
    if (heap.i32[ci + CH.CLOSED] !== 0) {
      unlock(heap.i32, ci + CH.LOCK);
      throw new ClosedChannelError('close of closed channel');
    }
    closeLocked(t, c);
    unlock(heap.i32, ci + CH.LOCK);
    flushWakes(t);
  }

  /** Send, blocking this thread until done (Atomics.wait). */
  sendSync(v: T): void {
    ensureShared(this.t, this.h);
    if (this.sendNow(v, true) === DONE) return;
    const heap = this.t.heap;
    const src = this.t.scratch;
    const c = this.h;
    const w = this.syncWaiter(WAIT_SEND);
    moveSlot(heap.i32, src, w + W.VALUE * 4);
    enqueue(heap.i32, c, CH.SQ_HEAD, w);
    unlock(heap.i32, (c >> 2) + CH.LOCK);
    const state = this.block(w);
    heap.free(w);
    if (state === WState.SEND_CLOSED) throw new ClosedChannelError('send on closed channel');
  }

  /** Receive, blocking this thread until a value or close. */
  recvSync(): T | undefined {
    const [v] = this.recvOkSync();
    return v;
  }

  /** `recvOk()`, blocking this thread until a value or close (for synchronous code; freezes its event loop). */
  recvOkSync(): [T | undefined, boolean] {
    const t = this.t;
    ensureShared(t, this.h);
    const heap = t.heap;
    const dst = t.scratch;
    const c = this.h;
    lock(heap.i32, (c >> 2) + CH.LOCK);
    const r = recvLocked(t, c, dst);
    if (r !== BLOCK) {
      unlock(heap.i32, (c >> 2) + CH.LOCK);
      flushWakes(t);
      return r === DONE ? [read(heap, dst, true, this.g) as T, true] : [undefined, false];
    }
    const w = this.syncWaiter(WAIT_RECV);
    enqueue(heap.i32, c, CH.RQ_HEAD, w);
    unlock(heap.i32, (c >> 2) + CH.LOCK);
    const state = this.block(w);
    const out: [T | undefined, boolean] = state === WState.CLOSED ? [undefined, false] : [read(heap, w + W.VALUE * 4, true, this.g) as T, true];
    heap.free(w);
    return out;
  }

  private syncWaiter(reason: number): number {
    const t = this.t;
    const w = waiterAlloc(t.heap, t.index, 0, 0);
    t.heap.i32[(w >> 2) + W.FLAGS] = WFlag.SYNC;
    parkCurrent(t, w, reason, this.g);
    return w;
  }

  private block(w: number): number {
    this.t.beforeBlock();
    const a = this.t.heap.i32;
    const i = (w >> 2) + W.STATE;
    for (;;) {
      const s = Atomics.load(a, i);
      if (s !== WState.PENDING) {
        unparkSync(this.t, w);
        return s;
      }
      Atomics.wait(a, i, WState.PENDING); // pairs with complete()'s store + notify
    }
  }

  /**
   * `for await (const v of ch)`: Go's `for v := range ch`, until the channel is closed and
   * drained. A plain iterator object, not an async generator: each step is one receive
   * settled straight into an iterator result (WFlag.RECV_ITER), where a generator took two
   * more promise turns per value.
   */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: (): Promise<IteratorResult<T, undefined>> => {
        const st = this.lst;
        if (st !== undefined) {
          const p = recvFast(this.t, this.h, st, WFlag.RECV_ITER, this.g, this);
          if (p !== undefined) return p as Promise<IteratorResult<T, undefined>>;
        }
        const r = this.recvNow(WFlag.RECV_ITER);
        if (r instanceof Promise) return r as Promise<IteratorResult<T, undefined>>;
        const res: IteratorResult<T, undefined> = r === CLOSED ? ITER_DONE : { value: r as T, done: false };
        return this.t.yieldDue() ? this.t.yieldTurn(res) : Promise.resolve(res);
      },
      return: (): Promise<IteratorResult<T, undefined>> => Promise.resolve(ITER_DONE),
    };
  }
}

const ITER_DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

function recvOnlyError(op: string): TypeError {
  return new TypeError(`gort: ${op} on a receive-only channel (a context's done() or a timer's c, which only the runtime sends on or closes)`);
}

/**
 * Go's <-chan: a context's done() and a timer's or ticker's `c`. Receiving works as on any
 * channel; send, trySend, sendSync and close are TypeErrors (Go rejects them at compile time).
 * A program that closed done() used to make the context's cancel throw halfway through,
 * with its children left uncanceled. Revived as such on every thread (ChFlag.RECV_ONLY).
 */
export class RecvOnlyChan<T = unknown> extends Chan<T> {
  override send(_v: T): Promise<void> {
    throw recvOnlyError('send');
  }
  override trySend(_v: T): boolean {
    throw recvOnlyError('send');
  }
  override sendSync(_v: T): void {
    throw recvOnlyError('send');
  }
  override close(): void {
    throw recvOnlyError('close');
  }
}

/** Go's make(chan T, capacity). */
export function chan<T = unknown>(capacity = 0): Chan<T> {
  return new Chan<T>(capacity);
}

registerHandleKind(Kind.CHAN, (h, g) =>
  // A read of an unchecked handle, to pick the class; the constructor checks the kind.
  ((current?.heap.i32[(h >> 2) + CH.FLAGS] ?? 0) & ChFlag.RECV_ONLY) !== 0 ? new RecvOnlyChan(0, h, g) : new Chan(0, h, g),
);
onLastRelease(Kind.CHAN, freeChan);
