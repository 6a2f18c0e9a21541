/**
 * Thread-local channels: a channel made on an M lives in that M's JS memory until another
 * thread touches it, then moves to its heap record (hchan.ts) for good. Biased locking, for
 * channels: most channels in pipelines and worker pools are made, used and dropped by
 * goroutines of one M, and a hand-off between two of them then takes no lock, no heap
 * waiter and no encoding of primitives: ~1.6-1.7x a bare promise channel's cost, where the
 * heap path took ~2-2.5x (docs/architecture.md, "Thread-local channels" and "Limits").
 *
 * Size: past ~600 lines because freeing a local channel (freeChan, FREE_REQ) is one more
 * request of the same owner protocol as sharing and closing, and uses its private helpers.
 *
 * Invariants:
 * - CH.OWNER is the owning thread's index + 1 while the channel is local, 0 once shared. Only
 *   the owner writes it: at creation (before the handle can reach another thread) and once
 *   in toShared (last, after every heap word of the channel is written). It never goes back.
 * - While local, only the owner touches the channel's state (LocalChan, on its thread); the
 *   heap words COUNT and CLOSED are mirrors for racy readers (len) and nothing else.
 * - Another thread that finds the channel local asks the owner to share it (a request record
 *   on the owner's CONVREQ stack, ringing it if parked) and waits; the owner serves requests
 *   with its READY list (M.drainReady, every 16 runtime operations and every loop turn), and
 *   before any operation of its own on a local channel (Chan.ownerNow). A close from another
 *   thread does not wait: it claims the heap CLOSED word and leaves a request (requestClose).
 * - An M about to block its thread (Atomics.wait) first shares every channel it owns and
 *   serves its requests (M.beforeBlock); a requester that finds the channel shared after
 *   pushing its request gives up waiting (CAS PENDING → ABANDONED; the owner frees the
 *   record). So no two threads can wait on each other through requests.
 * - A request record is touched by nobody once freed. A share request is freed by its
 *   requester once completed, or by the owner once abandoned; a close or free request, which
 *   nobody waits for, by the second of its two holders to let go (letGo).
 * - Local waiters keep Go's order: FIFO for receivers and senders; toShared moves them to the
 *   heap queues in that order, registering their resolve functions in the thread's promise
 *   table (Thread.adoptLocal), so they settle like heap waiters. t.localParked counts the
 *   local waiters of thread t.
 * - A value is kept as itself when it is a primitive (immutable: a copy would be identical)
 *   and otherwise encoded into a heap slot at once, so a value that cannot be cloned still
 *   throws a TypeError in the sender, and a receiver gets a copy as with heap channels.
 * - LocalChan.shared is the owner's JS mirror of OWNER = 0: toShared sets it when it moves
 *   the channel. The fast paths (sendFast, recvFast) read it instead of the heap word, and
 *   take only what cannot need the general path: a primitive, an open channel (for a send),
 *   no request pending. They repeat localSend's and localRecv's steps; a change to one pair
 *   is a change to the other.
 */
import { lock, unlock } from '../heap/lock.js';
import { ClosedChannelError } from '../errors.js';
import { complete } from '../runtime/park.js';
import { traceLocalWake, tracePark } from '../runtime/tracebuf.js';
import { G, Gstatus, waitCode } from '../sched/g.js';
import { CLOSED, type Thread } from '../runtime/thread.js';
import { T, TC, threadWord } from '../sched/threads.js';
import { W, WFlag, WState, W_BYTES, waiterAlloc } from '../sched/waiter.js';
import { drop, encodeInto, read, SLOT_BYTES, Tag } from '../value/codec.js';
import { bufSlot, CH, closeLocked, enqueue, flushWakes, freeShared, moveSlot } from './hchan.js';
import { current } from '../runtime/thread.js';
import { release } from '../value/refs.js';
import { Kind } from '../value/kinds.js';
import type { Heap } from '../heap/heap.js';

/** A value that is not a primitive, encoded into its own heap slot. */
class Encoded {
  constructor(readonly slot: number) {}
}

/** A goroutine parked on a local channel (a class: one shape for every waiter). */
class LocalWaiter {
  /** resolves its promise (registered in the owner's table only if the channel is shared) */
  resolve: (v: unknown) => void = NO_RESOLVE;
  constructor(
    /** its G record (0: not known) */
    readonly g: number,
    /** WFlag.RECV_* for a receiver, 0 for a sender */
    readonly mode: number,
    /** a sender's value (primitive or Encoded) */
    readonly x: unknown,
    /**
     * The object it parked through, kept until it is woken: a suspended async function need
     * not keep it (LocalPromises.keep), and the channel's record must outlive the wait.
     */
    readonly keep: unknown = undefined,
  ) {}
}

/**
 * The FIFO of a local channel's parked goroutines, kept in the LocalChan object itself: the
 * oldest in a field, the rest in an array (made on the second waiter) with a head index. One
 * queue serves both sides, because only one side of a channel ever waits: receivers park
 * only when nothing is buffered and no sender waits, senders only when no receiver waits and
 * the buffer is full (Go's hchan keeps two queues, one of them always empty). `senders` says
 * which side the queued waiters are. A sieve has thousands of channels, and each object less
 * per channel is memory its hand-offs do not touch: this, the lazy array and the shared
 * empty buffer (NO_BUF) took the 2,000-prime sieve on procs 2 from 1.02 to 0.84 s, procs 1
 * from 0.91 to 0.86 s (in-process A/B, medians of 5; docs/architecture.md, Limits).
 */
class WaitQueue {
  private first: LocalWaiter | undefined = undefined;
  private rest: LocalWaiter[] | undefined = undefined;
  private h = 0;
  /** The queued waiters are senders (else receivers, or none). */
  private senders = false;

  /** Queue w: a sender if `sender`, else a receiver (the other side has none queued). */
  enqueue(w: LocalWaiter, sender: boolean): void {
    this.senders = sender;
    if (this.first === undefined) this.first = w;
    else if (this.rest === undefined) this.rest = [w];
    else this.rest.push(w);
  }
  /** The oldest parked receiver, removed; undefined if none. */
  shiftRecv(): LocalWaiter | undefined {
    return this.senders ? undefined : this.shift();
  }
  /** The oldest parked sender, removed; undefined if none. */
  shiftSend(): LocalWaiter | undefined {
    return this.senders ? this.shift() : undefined;
  }
  /** A sender is parked here. */
  get sendWaiting(): boolean {
    return this.senders && this.first !== undefined;
  }
  private shift(): LocalWaiter | undefined {
    const w = this.first;
    const rest = this.rest;
    if (rest === undefined) {
      this.first = undefined;
      return w;
    }
    this.first = rest[this.h];
    rest[this.h++] = undefined as never;
    if (this.h === rest.length) {
      this.rest = undefined;
      this.h = 0;
    }
    return w;
  }
  /** Take every parked receiver, oldest first. */
  drainRecv(): LocalWaiter[] {
    return this.senders ? [] : this.drain();
  }
  /** Take every parked sender, oldest first. */
  drainSend(): LocalWaiter[] {
    return this.senders ? this.drain() : [];
  }
  private drain(): LocalWaiter[] {
    const out = this.first === undefined ? [] : [this.first, ...(this.rest === undefined ? [] : this.rest.slice(this.h))];
    this.first = undefined;
    this.rest = undefined;
    this.h = 0;
    return out;
  }
}

/** The buffer of every unbuffered local channel: never written (count < cap never holds). */
const NO_BUF = Object.freeze([]) as unknown as unknown[];

/** The state of a thread-local channel, on its owner's thread. */
export class LocalChan extends WaitQueue {
  readonly buf: unknown[];
  head = 0;
  count = 0;
  closed = false;
  /**
   * Set by toShared, on the owner, when the channel moves to its heap record: the JS mirror of
   * OWNER = 0 for this thread's fast paths, which then touch no heap word of the channel.
   */
  shared = false;
  constructor(readonly cap: number) {
    super();
    this.buf = cap > 0 ? new Array<unknown>(Math.min(cap, 1024)) : NO_BUF;
  }
  put(x: unknown): void {
    const i = this.head + this.count;
    this.buf[i >= this.cap ? i - this.cap : i] = x;
    this.count++;
  }
  take(): unknown {
    const x = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = this.head + 1 === this.cap ? 0 : this.head + 1;
    this.count--;
    return x;
  }
}

export const DONE_LOCAL = 1;
const RESOLVED = Promise.resolve();
const WAIT_SEND = waitCode('chan send');
const WAIT_RECV = waitCode('chan receive');

function primitive(v: unknown): boolean {
  const ty = typeof v;
  return ty === 'number' || ty === 'string' || ty === 'boolean' || ty === 'undefined' || ty === 'bigint' || v === null;
}

/** v as kept in a local channel: itself, or encoded (throws TypeError if it cannot be cloned). */
function box(t: Thread, v: unknown, path: string): unknown {
  if (primitive(v)) return v;
  const slot = t.heap.alloc(SLOT_BYTES);
  try {
    encodeInto(t.heap, slot, v, path);
  } catch (e) {
    t.heap.free(slot);
    throw e;
  }
  return new Encoded(slot);
}

/** The value a receiver (of goroutine g) gets from x. */
function unbox(t: Thread, x: unknown, g: number): unknown {
  if (!(x instanceof Encoded)) return x;
  const v = read(t.heap, x.slot, true, g);
  t.heap.free(x.slot);
  return v;
}

function dropBox(t: Thread, x: unknown): void {
  if (x instanceof Encoded) {
    drop(t.heap, x.slot);
    t.heap.free(x.slot);
  }
}

/** Move x into a heap value slot (toShared). */
function boxToSlot(t: Thread, x: unknown, slot: number): void {
  if (x instanceof Encoded) {
    moveSlot(t.heap.i32, x.slot, slot);
    t.heap.free(x.slot);
  } else {
    encodeInto(t.heap, slot, x, 'a buffered value');
  }
}

/** What a receive settles with, for its mode (WFlag.RECV_*), as Thread.settleAs formats it. */
export function formatRecv(mode: number, v: unknown, ok: boolean): unknown {
  if (mode === WFlag.RECV_PAIR) return ok ? [v, true] : [undefined, false];
  if (mode === WFlag.RECV_ITER) return ok ? { value: v, done: false } : { value: undefined, done: true };
  return ok ? v : undefined;
}

/**
 * Settle a local waiter now. No yieldDue check here: the woken goroutine runs one step and
 * its next runtime operation makes that check, so a slice that is over still ends there
 * (Thread.yieldDue); the operation that woke it makes its own. The G record writes are
 * unparkG's, inline (as parkLocal's are parkG's): this is the hot path of every hand-off.
 */
function wake(t: Thread, w: LocalWaiter, ok: boolean, v: unknown): void {
  t.localParked--;
  const g = w.g;
  if (t.tr !== null) traceLocalWake(t, g);
  if (g !== 0) {
    const a = t.heap.i32;
    a[t.ctr + TC.WAKES + a[(g >> 2) + G.WAIT]!]!++;
    a[(g >> 2) + G.WAIT] = 0;
    a[(g >> 2) + G.STATUS] = Gstatus.RUNNING;
  }
  w.resolve(ok ? v : Promise.reject(v));
}

/**
 * Park goroutine g (0: the current one) on st: a sender if mode is 0. One shared executor
 * (takeResolve) puts the resolve function into the waiter, which parkLocal leaves in
 * `parking` just before: a literal arrow executor costs a closure and its context per park.
 * The literal saved ~30 instructions per hand-off (icount relay: 2,252 against 2,280), but
 * the two objects per park cost more: the 2,000-prime sieve took 917 → 788 ms on procs 2 and
 * 925 → 792 on procs 1 without them (medians of 15 rounds in one process, alternating
 * builds; the promise version 570). t.now is the M's coarse clock.
 */
function parkLocal<R>(t: Thread, g: number, reason: number, mode: number, x: unknown, st: LocalChan, keep: unknown): Promise<R> {
  const pg = g !== 0 ? g : t.curG;
  if (t.tr !== null) tracePark(t, pg, reason);
  if (pg !== 0) {
    const heap = t.heap;
    heap.i32[t.ctr + TC.PARKS + reason]!++;
    heap.i32[(pg >> 2) + G.WAIT] = reason;
    heap.f64[(pg >> 3) + G.SINCE_F64 / 2] = t.now;
    heap.i32[(pg >> 2) + G.STATUS] = Gstatus.WAITING;
    if (t.stacks !== null) t.stacks.onPark(pg);
  }
  t.activity++;
  t.localParked++;
  const w = new LocalWaiter(pg, mode, x, keep);
  parking = w;
  const p = new Promise<R>(takeResolve);
  parking = NO_WAITER; // do not keep w (its value, its resolved promise) alive past its wake-up
  st.enqueue(w, mode === 0);
  return p;
}

const NO_RESOLVE = (): void => {};
/** The waiter parkLocal is making a promise for (one shared executor: no closure per park). */
const NO_WAITER = new LocalWaiter(0, 0, undefined);
let parking: LocalWaiter = NO_WAITER;
const takeResolve = (resolve: (v: never) => void): void => {
  parking.resolve = resolve as (v: unknown) => void;
};

/** The heap record's owner word: thread index + 1 while local, 0 once shared. */
export function chanOwner(t: Thread, h: number): number {
  return t.heap.i32[(h >> 2) + CH.OWNER]!;
}

/** Make channel h local to thread t (its creator, an M); its LocalChan. */
export function makeLocal(t: Thread, h: number, cap: number): LocalChan {
  t.heap.i32[(h >> 2) + CH.OWNER] = t.index + 1;
  const st = new LocalChan(cap);
  t.locals.set(h, st);
  return st;
}

/**
 * Send x (boxed) on local channel h now if that cannot block: true when a parked receiver
 * took it or the buffer had room. Throws (dropping x) once the channel is closed.
 */
function sendNowLocal(t: Thread, h: number, st: LocalChan, x: unknown): boolean {
  if (st.closed) {
    dropBox(t, x);
    throw new ClosedChannelError('send on closed channel');
  }
  const r = st.shiftRecv();
  if (r !== undefined) {
    wake(t, r, true, formatRecv(r.mode, unbox(t, x, r.g), true));
    return true;
  }
  if (st.count < st.cap) {
    st.put(x);
    t.heap.i32[(h >> 2) + CH.COUNT] = st.count;
    return true;
  }
  return false;
}

/** Send on local channel h: DONE_LOCAL, or a promise of the parked send. Throws as Chan.send. */
export function localSend(t: Thread, h: number, st: LocalChan, v: unknown, g: number, reason: number, keep: unknown): number | Promise<void> {
  const x = box(t, v, 'the value sent');
  if (sendNowLocal(t, h, st, x)) {
    t.activity++;
    return DONE_LOCAL;
  }
  return parkLocal<void>(t, g, reason, 0, x, st, keep);
}

/**
 * Chan.send's fast path, on channel h whose LocalChan st this thread holds: a primitive value
 * on a channel still local and open, with no request from another thread pending. Returns
 * the send's promise, or undefined when the general path (Chan.send) must take it. One flat
 * function, small enough for V8 to inline into the goroutine's code: the hot path of every
 * hand-off in a pipeline (chan/sieve). Same steps as localSend.
 */
export function sendFast(t: Thread, h: number, st: LocalChan, v: unknown, g: number, keep: unknown): Promise<void> | undefined {
  if (st.shared || st.closed || requestsPendingHint(t)) return undefined;
  const ty = typeof v;
  if (ty !== 'number' && ty !== 'string' && ty !== 'boolean' && ty !== 'undefined') return undefined;
  const r = st.shiftRecv();
  if (r !== undefined) {
    wake(t, r, true, r.mode === WFlag.RECV_VALUE ? v : formatRecv(r.mode, v, true));
  } else if (st.count < st.cap) {
    st.put(v);
    t.heap.i32[(h >> 2) + CH.COUNT] = st.count;
  } else {
    return parkLocal<void>(t, g, WAIT_SEND, 0, v, st, keep);
  }
  return t.yieldDue() ? t.yieldTurn(undefined) : RESOLVED;
}

/**
 * Chan.recv's fast path (mode WFlag.RECV_*), as sendFast's: the receive's promise, or
 * undefined for the general path (a request pending, the channel shared or closed).
 */
export function recvFast(t: Thread, h: number, st: LocalChan, mode: number, g: number, keep: unknown): Promise<unknown> | undefined {
  if (st.shared || requestsPendingHint(t)) return undefined;
  let x: unknown;
  if (st.count > 0) {
    x = st.take();
    const s = st.shiftSend();
    if (s !== undefined) {
      st.put(s.x);
      wake(t, s, true, undefined);
    }
    t.heap.i32[(h >> 2) + CH.COUNT] = st.count;
  } else {
    const s = st.shiftSend();
    if (s === undefined) return st.closed ? undefined : parkLocal<unknown>(t, g, WAIT_RECV, mode, undefined, st, keep);
    wake(t, s, true, undefined);
    x = s.x;
  }
  const v = typeof x === 'object' && x !== null ? unbox(t, x, g) : x;
  const out = mode === WFlag.RECV_VALUE ? v : formatRecv(mode, v, true);
  return t.yieldDue() ? t.yieldTurn(out) : Promise.resolve(out);
}

/** Send now if that cannot block (Chan.trySend). */
export function localTrySend(t: Thread, h: number, st: LocalChan, v: unknown): boolean {
  const x = box(t, v, 'the value sent');
  if (sendNowLocal(t, h, st, x)) return true;
  dropBox(t, x);
  return false;
}

/** Receive from local channel h: the value, CLOSED, or a promise settled as `mode` says. */
export function localRecv(t: Thread, h: number, st: LocalChan, mode: number, g: number, reason: number, keep: unknown): unknown {
  if (st.count > 0) {
    const x = st.take();
    const s = st.shiftSend();
    if (s !== undefined) {
      st.put(s.x);
      wake(t, s, true, undefined);
    }
    t.heap.i32[(h >> 2) + CH.COUNT] = st.count;
    t.activity++;
    return unbox(t, x, g);
  }
  const s = st.shiftSend();
  if (s !== undefined) {
    wake(t, s, true, undefined);
    t.activity++;
    return unbox(t, s.x, g);
  }
  if (st.closed) return CLOSED;
  return parkLocal<unknown>(t, g, reason, mode, undefined, st, keep);
}

/** Receive from local channel h only if that cannot block (Chan.tryRecv): the value, CLOSED, or WOULD_BLOCK. */
export function localTryRecv(t: Thread, h: number, st: LocalChan, g: number): unknown {
  if (st.count === 0 && !st.sendWaiting && !st.closed) return WOULD_BLOCK;
  return localRecv(t, h, st, WFlag.RECV_VALUE, g, WAIT_RECV, undefined); // cannot park now
}

/** What a non-blocking receive returns when it would have had to wait. */
export const WOULD_BLOCK: unique symbol = Symbol('gort.wouldBlock') as never;

/**
 * Close local channel h (Chan.close). The heap CLOSED word decides who closes: the owner here,
 * or another thread (requestClose) that set it first.
 */
export function localClose(t: Thread, h: number, st: LocalChan): void {
  if (Atomics.compareExchange(t.heap.i32, (h >> 2) + CH.CLOSED, 0, 1) !== 0) throw new ClosedChannelError('close of closed channel');
  closeWaiters(t, st);
}

/** Mark st closed: every parked receiver gets closed, every parked sender throws. */
function closeWaiters(t: Thread, st: LocalChan): void {
  st.closed = true;
  t.activity++;
  for (const r of st.drainRecv()) wake(t, r, true, formatRecv(r.mode, undefined, false));
  for (const s of st.drainSend()) {
    dropBox(t, s.x);
    wake(t, s, false, new ClosedChannelError('send on closed channel'));
  }
}

/**
 * Move local channel h (owned by t) to its heap record: buffer, parked receivers and senders
 * (as heap waiters with their promise tokens, in order), closed flag; then publish OWNER = 0.
 */
export function toShared(t: Thread, h: number): void {
  const st = t.locals.get(h);
  if (st === undefined) return;
  t.locals.delete(h);
  st.shared = true;
  const heap = t.heap;
  const ci = h >> 2;
  // Another thread closed it (requestClose) and its request is not served yet: apply the close
  // to the local waiters first, so no heap waiter is left parked on a closed channel.
  if (!st.closed && Atomics.load(heap.i32, ci + CH.CLOSED) !== 0) closeWaiters(t, st);
  lock(heap.i32, ci + CH.LOCK);
  for (let k = 0; k < st.count; k++) {
    const i = st.head + k;
    boxToSlot(t, st.buf[i >= st.cap ? i - st.cap : i], bufSlot(heap.i32, h, k));
  }
  heap.i32[ci + CH.COUNT] = st.count;
  heap.i32[ci + CH.RECVX] = 0;
  heap.i32[ci + CH.SENDX] = st.count === st.cap ? 0 : st.count;
  for (const r of st.drainRecv()) {
    const w = waiterAlloc(heap, t.index, r.g, t.adoptLocal(r.resolve, r.keep));
    heap.i32[(w >> 2) + W.FLAGS] = r.mode;
    enqueue(heap.i32, h, CH.RQ_HEAD, w);
  }
  for (const s of st.drainSend()) {
    const w = waiterAlloc(heap, t.index, s.g, t.adoptLocal(s.resolve, s.keep));
    boxToSlot(t, s.x, w + W.VALUE * 4);
    enqueue(heap.i32, h, CH.SQ_HEAD, w);
  }
  if (st.closed) Atomics.store(heap.i32, ci + CH.CLOSED, 1);
  Atomics.store(heap.i32, ci + CH.OWNER, 0); // last: publishes every word above
  unlock(heap.i32, ci + CH.LOCK);
}

/** Share every channel t owns (before t blocks its thread). */
export function shareAll(t: Thread): void {
  for (const h of [...t.locals.keys()]) toShared(t, h);
}

/** Push request w on thread `owner`'s CONVREQ stack and ring it if parked. */
function pushRequest(t: Thread, owner: number, w: number): void {
  const a = t.heap.i32;
  const tw = threadWord(t.heap, owner);
  // The channel's generation, so that a request served after its channel was freed and its
  // block reused (a close the receiver saw on the CLOSED word before the owner served it)
  // cannot act on the new channel (serveRequests).
  a[(w >> 2) + W.SEL] = t.heap.genOf(a[(w >> 2) + W.CASE]!);
  for (;;) {
    const head = Atomics.load(a, tw + T.CONVREQ);
    a[(w >> 2) + W.LINK] = head;
    if (Atomics.compareExchange(a, tw + T.CONVREQ, head, w) === head) break; // publishes w's fields
  }
  t.idle.ringIfParked(owner); // Dekker pair with the parker's PARKED store (sched/idle.ts)
}

/**
 * After pushing request w for channel h: if h is shared already, nobody may serve w (its
 * owner served its requests before sharing everything to block): give it up, unless the
 * owner claimed it first. True if given up (the owner frees w).
 */
function abandonIfShared(t: Thread, h: number, w: number): boolean {
  const a = t.heap.i32;
  if (Atomics.load(a, (h >> 2) + CH.OWNER) !== 0) return false;
  return Atomics.compareExchange(a, (w >> 2) + W.STATE, WState.PENDING, WState.ABANDONED) === WState.PENDING;
}

/** Wake everything parked on shared channel h, whose CLOSED word a close already set. */
function closeShared(t: Thread, h: number): void {
  lock(t.heap.i32, (h >> 2) + CH.LOCK);
  closeLocked(t, h);
  unlock(t.heap.i32, (h >> 2) + CH.LOCK);
  flushWakes(t);
}

/**
 * Close channel h, local to thread `owner`, from another thread, without waiting for the
 * owner: claim the close on the heap CLOSED word (a second close throws here, as Go's does),
 * then leave a request that makes the owner share the channel and wake its waiters. The
 * owner serves requests before any local operation (Chan.ownerNow), so whatever is ordered
 * after this close sees the channel closed. If the channel turns out shared already and its
 * owner may never look at the request, this thread wakes the waiters itself.
 */
export function requestClose(t: Thread, h: number, owner: number): void {
  const heap = t.heap;
  if (Atomics.compareExchange(heap.i32, (h >> 2) + CH.CLOSED, 0, 1) !== 0) throw new ClosedChannelError('close of closed channel');
  const w = waiterAlloc(heap, t.index, 0, REQ_HOLDERS);
  heap.i32[(w >> 2) + W.FLAGS] = WFlag.CLOSE_REQ;
  heap.i32[(w >> 2) + W.CASE] = h;
  pushRequest(t, owner, w);
  const gaveUp = abandonIfShared(t, h, w);
  letGo(heap, w);
  if (gaveUp) closeShared(t, h);
}

/**
 * A close or free request (requestClose, freeChan) has two holders: its requester, which
 * pushes it and may then abandon it, and the owner, which serves it. Either may be first to
 * be done with it (the owner can serve it and move on before the requester's abandon step),
 * so each lets go of it here and the second frees it. Freeing it on the owner's side alone
 * let the requester's CAS on STATE land in whatever the block held next: a channel's CLOSED
 * word, closing it (test/local.model.test.ts models this).
 */
const REQ_HOLDERS = 2;
function letGo(heap: Heap, w: number): void {
  if (Atomics.sub(heap.i32, (w >> 2) + W.TOKEN, 1) === 1) heap.free(w);
}

/** The owner is done with request w: a close or free request is let go of, any other freed. */
function ownerDone(heap: Heap, w: number, flags: number): void {
  if ((flags & (WFlag.CLOSE_REQ | WFlag.FREE_REQ)) !== 0) letGo(heap, w);
  else heap.free(w);
}

/**
 * Channel h's last reference is gone (value/refs.ts destructor). A shared channel is freed
 * here. A local one is made shared first by its owner, which holds its state: here if this
 * thread owns it, else through a request the owner serves (FREE_REQ); if the channel turns
 * out shared before the owner looked, this thread frees it.
 */
export function freeChan(heap: Heap, h: number, more: number[]): void {
  const o = Atomics.load(heap.i32, (h >> 2) + CH.OWNER);
  if (o !== 0) {
    const t = current as Thread | null;
    if (t === null) return; // no runtime on this thread: the heap is being torn down
    if (o !== t.index + 1) {
      const w = waiterAlloc(heap, t.index, 0, REQ_HOLDERS);
      heap.i32[(w >> 2) + W.FLAGS] = WFlag.FREE_REQ;
      heap.i32[(w >> 2) + W.CASE] = h;
      pushRequest(t, o - 1, w);
      const gaveUp = abandonIfShared(t, h, w);
      letGo(heap, w);
      if (!gaveUp) return;
    } else toShared(t, h);
  }
  freeShared(heap, h, more);
}

/** Ask channel h's owner to share it; resolves once it is shared. Any thread but the owner. */
export function requestShared(t: Thread, h: number, owner: number): Promise<void> {
  const p = t.waiter<void>(0);
  const w = t.lastWaiter;
  const token = t.heap.i32[(w >> 2) + W.TOKEN]!; // read now: once abandoned, w is the owner's to free
  t.heap.i32[(w >> 2) + W.CASE] = h;
  pushRequest(t, owner, w);
  if (abandonIfShared(t, h, w)) {
    t.promises.cancel(token);
    return RESOLVED;
  }
  return p;
}

/** Make channel h shared before returning, blocking this thread if another owns it. */
export function ensureShared(t: Thread, h: number): void {
  const o = chanOwner(t, h);
  if (o === 0) return;
  if (o === t.index + 1) return toShared(t, h);
  const heap = t.heap;
  const w = waiterAlloc(heap, t.index, 0, 0);
  heap.i32[(w >> 2) + W.FLAGS] = WFlag.SYNC;
  heap.i32[(w >> 2) + W.CASE] = h;
  pushRequest(t, o - 1, w);
  if (abandonIfShared(t, h, w)) return;
  t.beforeBlock(); // an M shares its own channels and serves its requests: no waiting cycle
  const a = heap.i32;
  const i = (w >> 2) + W.STATE;
  for (;;) {
    const s = Atomics.load(a, i);
    if (s !== WState.PENDING && s !== WState.CLAIMED) break;
    Atomics.wait(a, i, s); // pairs with complete()'s store + notify
  }
  heap.free(w);
}

/** Serve the requests other threads made to share t's channels. Owner only. */
export function serveRequests(t: Thread): void {
  const heap = t.heap;
  const ri = t.tw + T.CONVREQ;
  if (Atomics.load(heap.i32, ri) === 0) return;
  let w = Atomics.exchange(heap.i32, ri, 0);
  while (w !== 0) {
    const a = heap.i32;
    const next = a[(w >> 2) + W.LINK]!;
    const h = a[(w >> 2) + W.CASE]!;
    const flags = a[(w >> 2) + W.FLAGS]!;
    const close = (flags & WFlag.CLOSE_REQ) !== 0;
    if (heap.kindOf(h) !== Kind.CHAN || heap.genOf(h) !== a[(w >> 2) + W.SEL]) {
      // Its channel is gone: a close that its receivers already saw on the CLOSED word, after
      // which the channel was freed (its block may hold another channel now). Nothing to do.
      ownerDone(heap, w, flags);
      w = next;
      continue;
    }
    if (chanOwner(t, h) === t.index + 1) toShared(t, h);
    if (Atomics.compareExchange(heap.i32, (w >> 2) + W.STATE, WState.PENDING, WState.CLAIMED) === WState.PENDING) {
      if ((flags & WFlag.FREE_REQ) !== 0) {
        letGo(heap, w);
        const more: number[] = [];
        freeShared(heap, h, more);
        for (const x of more) release(heap, x);
      } else if (close) {
        closeShared(t, h);
        letGo(heap, w);
      } else {
        heap.i32[(w >> 2) + W.VALUE] = Tag.UNDEF;
        complete(t, w, WState.OK);
      }
    } else {
      ownerDone(heap, w, flags); // abandoned by its requester
    }
    w = next;
  }
}

export function requestsPending(t: Thread): boolean {
  return Atomics.load(t.heap.i32, t.tw + T.CONVREQ) !== 0;
}

/**
 * requestsPending with a plain read, for the owner's check before each local operation (two
 * per hand-off; an Atomics.load costs ~8 ns here, a plain read ~1). A request that is
 * ordered before the operation (the close another thread made before a hand-off that reached
 * us) is seen: happens-before holds for plain reads too. One that is not ordered is served at
 * the next check or by the READY-list drain. Never in a spin loop: a compiler may keep a
 * plain load out of one.
 */
export function requestsPendingHint(t: Thread): boolean {
  return t.heap.i32[t.tw + T.CONVREQ] !== 0;
}
