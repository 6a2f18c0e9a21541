/**
 * A channel in the shared heap: Go's hchan (src/runtime/chan.go), usable from any thread.
 *
 * | word | name    | written by               | read by             | note                          |
 * |------|---------|--------------------------|---------------------|-------------------------------|
 * | 0    | LOCK    | any (futex, heap/lock.ts)| any                 | guards COUNT, SENDX, RECVX, the queues and the buffer |
 * | 1    | CLOSED  | Atomics: CAS 0→1 while local (chan/local.ts), store under LOCK once shared | under LOCK; any (Atomics.load) | 1 once closed |
 * | 2    | CAP     | creator, once            | any                 | buffer slots (0: unbuffered)  |
 * | 3    | COUNT   | under LOCK (plain)       | any, racily (len, a blocked op's watch) | values in the buffer; len is a snapshot |
 * | 4    | SENDX   | under LOCK               |                     | next buffer slot to fill      |
 * | 5    | RECVX   | under LOCK               |                     | next buffer slot to take      |
 * | 6    | BUF     | creator, once            |                     | CAP value slots (16 B each)   |
 * | 7, 8 | RQ_HEAD, RQ_TAIL | under LOCK      |                     | parked receivers (waiters)    |
 * | 9, 10| SQ_HEAD, SQ_TAIL | under LOCK      |                     | parked senders, VALUE = value |
 * | 11   | OWNER   | creator; owner once (→ 0)| any                 | thread index + 1 while local, 0 once shared (chan/local.ts) |
 * | 12   | FLAGS   | creator, once            | any                 | ChFlag bits                   |
 * | 13   | CTX     | creator, once            | its destructor      | a done channel's context (counted: the channel keeps it), else 0 |
 *
 * Invariants (Go's): at most one of RQ and SQ is non-empty; RQ non-empty implies COUNT = 0;
 * SQ non-empty implies COUNT = CAP; a value moves by copying its 16-byte slot, which hands
 * over its out-of-line block, so each value is owned by exactly one slot at a time (the slot
 * moved from is then marked UNDEF, or is a scratch slot that is overwritten before reuse). Waiter
 * queues are FIFO, doubly linked through W.NEXT/W.PREV with WFlag.INQ set while linked.
 * A select's case waiter is taken from a queue only after CAS-ing its select's waiter from
 * PENDING to CLAIMED; a case whose select already fired is unlinked and skipped.
 * Completions (the STATE store and the hand-off to the owner) are made after unlocking.
 */
import type { Heap } from '../heap/heap.js';
import { complete } from '../runtime/park.js';
import type { Thread } from '../runtime/thread.js';
import { W, WFlag, WState } from '../sched/waiter.js';
import { drop, dropInto, SLOT_BYTES, Tag } from '../value/codec.js';
import { fatal } from '../errors.js';

export const CH = {
  LOCK: 0,
  CLOSED: 1,
  CAP: 2,
  COUNT: 3,
  SENDX: 4,
  RECVX: 5,
  BUF: 6,
  RQ_HEAD: 7,
  RQ_TAIL: 8,
  SQ_HEAD: 9,
  SQ_TAIL: 10,
  OWNER: 11,
  FLAGS: 12,
  CTX: 13,
} as const;
export const CH_BYTES = 56;

export const ChFlag = {
  /** A timer's or ticker's channel: len and cap read 0, as Go 1.23's synchronous timer channels. */
  TIMER: 1,
  /**
   * Only the runtime sends on or closes it (a context's done channel, a timer's or ticker's):
   * programs get a RecvOnlyChan for it (chan.ts), as Go's <-chan.
   */
  RECV_ONLY: 2,
} as const;

/**
 * Free shared channel h, whose last reference is gone (value/refs.ts): drop its buffered
 * values (their handles go onto `more`), free its buffer, let go of its context (a done
 * channel: doneFreed clears the context's DONE word) and free the record. Nobody can be
 * parked on it: a parked goroutine's waiter keeps the object it parked through until it is
 * settled (LocalPromises.keep, LocalWaiter.keep), so a queued waiter here is a broken
 * invariant (fatal).
 */
export function freeShared(heap: Heap, h: number, more: number[]): void {
  const a = heap.i32;
  const i = h >> 2;
  if (a[i + CH.RQ_HEAD] !== 0 || a[i + CH.SQ_HEAD] !== 0) fatal(`chan ${h}: freed with goroutines still queued on it`);
  const cap = a[i + CH.CAP]!;
  const buf = a[i + CH.BUF]!;
  for (let k = 0, n = a[i + CH.COUNT]!, x = a[i + CH.RECVX]!; k < n; k++, x = x + 1 === cap ? 0 : x + 1) dropInto(heap, buf + x * SLOT_BYTES, more);
  if (buf !== 0) heap.free(buf);
  const ctx = a[i + CH.CTX]!;
  // Cleared before the free: until then a tryRetain through DONE sees a count of 0 and fails;
  // after it, the block may be another record's.
  if (ctx !== 0) doneFreed!(heap, ctx, h);
  heap.freeCounted(h);
  if (ctx !== 0) more.push(ctx);
}

let doneFreed: ((heap: Heap, ctx: number, ch: number) => void) | null = null;
/** context.ts: what to do to context `ctx` when its done channel `ch` is freed (clear DONE under its lock). */
export function onDoneFreed(f: (heap: Heap, ctx: number, ch: number) => void): void {
  doneFreed = f;
}

/** Copy a 16-byte value slot (hands over its out-of-line block). */
export function moveSlot(a: Int32Array, from: number, to: number): void {
  const f = from >> 2;
  const t = to >> 2;
  a[t] = a[f]!;
  a[t + 1] = a[f + 1]!;
  a[t + 2] = a[f + 2]!;
  a[t + 3] = a[f + 3]!;
}

export function bufSlot(a: Int32Array, c: number, k: number): number {
  return a[(c >> 2) + CH.BUF]! + k * SLOT_BYTES;
}

/** Append w to the queue at word q (RQ_HEAD or SQ_HEAD) of channel c. Under c's lock. */
export function enqueue(a: Int32Array, c: number, q: number, w: number): void {
  const ci = c >> 2;
  const wi = w >> 2;
  const tail = a[ci + q + 1]!;
  a[wi + W.NEXT] = 0;
  a[wi + W.PREV] = tail;
  if (tail === 0) a[ci + q] = w;
  else a[(tail >> 2) + W.NEXT] = w;
  a[ci + q + 1] = w;
  a[wi + W.FLAGS] = a[wi + W.FLAGS]! | WFlag.INQ;
}

/** Unlink w from the queue at word q of channel c. Under c's lock. */
export function unlink(a: Int32Array, c: number, q: number, w: number): void {
  const ci = c >> 2;
  const wi = w >> 2;
  const next = a[wi + W.NEXT]!;
  const prev = a[wi + W.PREV]!;
  if (prev === 0) a[ci + q] = next;
  else a[(prev >> 2) + W.NEXT] = next;
  if (next === 0) a[ci + q + 1] = prev;
  else a[(next >> 2) + W.PREV] = prev;
  a[wi + W.FLAGS] = a[wi + W.FLAGS]! & ~WFlag.INQ;
}

/**
 * Take the first waiter that can still be completed (Go's waitq.dequeue). For a select
 * case, claims its select first; returns the waiter to complete (the plain waiter, or the
 * select's own waiter with CASE set) and, in `caseOut`, the dequeued case waiter. Under c's lock.
 */
export function dequeue(heap: Heap, c: number, q: number): number {
  const a = heap.i32;
  for (;;) {
    const w = a[(c >> 2) + q]!;
    if (w === 0) return 0;
    unlink(heap.i32, c, q, w);
    const sel = heap.i32[(w >> 2) + W.SEL]!;
    if (sel === 0) return w;
    if (Atomics.compareExchange(heap.i32, (sel >> 2) + W.STATE, WState.PENDING, WState.CLAIMED) === WState.PENDING) {
      heap.i32[(sel >> 2) + W.CASE] = heap.i32[(w >> 2) + W.CASE]!;
      return w;
    }
    // that select already fired elsewhere: its owner frees this case waiter
  }
}

/** The waiter whose promise a dequeued waiter w settles: its select's, or itself. */
export function target(a: Int32Array, w: number): number {
  const sel = a[(w >> 2) + W.SEL]!;
  return sel === 0 ? w : sel;
}

/**
 * Under c's lock: mark c closed and queue every parked receiver (CLOSED) and sender
 * (SEND_CLOSED) in t.wakes, to complete with flushWakes after unlocking.
 */
export function closeLocked(t: Thread, c: number): void {
  const heap = t.heap;
  Atomics.store(heap.i32, (c >> 2) + CH.CLOSED, 1);
  for (let w = dequeue(heap, c, CH.RQ_HEAD); w !== 0; w = dequeue(heap, c, CH.RQ_HEAD)) {
    const tgt = target(heap.i32, w);
    heap.i32[(tgt >> 2) + W.VALUE] = Tag.UNDEF;
    t.wakes[t.nwakes++] = tgt;
    t.wakes[t.nwakes++] = WState.CLOSED;
  }
  for (let w = dequeue(heap, c, CH.SQ_HEAD); w !== 0; w = dequeue(heap, c, CH.SQ_HEAD)) {
    const tgt = target(heap.i32, w);
    if (tgt === w) drop(heap, w + W.VALUE * 4); // a select's unsent values are its own to drop
    t.wakes[t.nwakes++] = tgt;
    t.wakes[t.nwakes++] = WState.SEND_CLOSED;
  }
}

/** Complete the waiters matched under a lock that is now released. */
export function flushWakes(t: Thread): void {
  const n = t.nwakes;
  if (n === 0) return;
  const wk = t.wakes;
  t.nwakes = 0;
  for (let k = 0; k < n; k += 2) complete(t, wk[k]!, wk[k + 1]!);
}
