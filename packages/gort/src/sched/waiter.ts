/**
 * Waiter records (Go's sudog) and each thread's ready list.
 *
 * A parked goroutine, or a thread awaiting a result (spawn), owns a waiter record. Whoever
 * completes it writes the outcome into the record, then hands the record to the owner: the
 * owner's own thread resolves the local promise at once; another thread pushes the record on
 * the owner's READY list and rings the owner's doorbell if it is parked (sched/idle.ts's
 * pushReady, which links records through LINK).
 *
 * | word | name   | written by                 | note                                          |
 * |------|--------|----------------------------|-----------------------------------------------|
 * | 0    | OWNER  | owner, at allocation       | thread index whose promise this settles       |
 * | 1    | STATE  | Atomics: completer         | WState                                        |
 * | 2    | LINK   | pusher, before its CAS     | next on the owner's READY list                |
 * | 3    | G      | owner                      | the goroutine waiting (0: a non-goroutine)    |
 * | 4    | TOKEN  | owner                      | index of the promise in the owner's table; a close or free request: holders left (chan/local.ts letGo) |
 * | 5    | FLAGS  | owner; INQ under the lock  | WFlag bits                                    |
 * | 6-9  | VALUE  | completer, before STATE    | one value slot (value/codec.ts), 8-aligned    |
 * | 10   | NEXT   | under the primitive's lock | next in a primitive's queue of waiters        |
 * | 11   | PREV   | under the primitive's lock | previous in that queue (O(1) unlink: select)  |
 * | 12   | SEL    | owner                      | a select case: the select's own waiter        |
 * | 13   | CASE   | owner (case) / winner (select waiter) | the case index                 |
 *
 * The READY list is a push-only Treiber stack emptied whole with `exchange(READY, 0)`; with no
 * pop of single nodes there is no ABA: a pusher's CAS succeeds only if the head it linked to
 * is still the head. The taker reverses the list to restore completion order.
 */
import type { Heap } from '../heap/heap.js';
import { RecordKind } from '../value/kinds.js';

export const W = { OWNER: 0, STATE: 1, LINK: 2, G: 3, TOKEN: 4, FLAGS: 5, VALUE: 6, NEXT: 10, PREV: 11, SEL: 12, CASE: 13 } as const;
export const WFlag = {
  /** a select's own waiter: settles with [case, value, ok] */
  SELECT: 1,
  /** linked in a channel queue (cleared when dequeued) */
  INQ: 2,
  /** a thread blocked in Atomics.wait on STATE (sendSync/recvSync), not a promise */
  SYNC: 4,
  /** a receive: settles with the value, or undefined once closed (Chan.recv) */
  RECV_VALUE: 8,
  /** a receive: settles with [value, ok] (Chan.recvOk) */
  RECV_PAIR: 16,
  /** a receive: settles with an iterator result (Chan's async iterator) */
  RECV_ITER: 32,
  /** a request to share a local channel and close it; nobody waits for it (chan/local.ts) */
  CLOSE_REQ: 64,
  /** a request to share a local channel whose last reference is gone, then free it (chan/local.ts) */
  FREE_REQ: 128,
} as const;
export const W_BYTES = 56;
export const WState = {
  PENDING: 0,
  /** completed with VALUE */
  OK: 1,
  /** VALUE is an error to throw */
  ERROR: 2,
  /** a receive completed by close: no value */
  CLOSED: 3,
  /** a send on a channel closed while it waited: throw ClosedChannelError */
  SEND_CLOSED: 4,
  /** a select waiter claimed by a counterpart, being completed */
  CLAIMED: 5,
  /** the result could not be stored: the heap is full (settles as HeapExhaustedError) */
  HEAP_EXHAUSTED: 6,
  /** a request to share a local channel that its requester gave up waiting for (chan/local.ts): the owner frees it */
  ABANDONED: 7,
} as const;

export function waiterAlloc(heap: Heap, owner: number, g: number, token: number): number {
  const w = heap.alloc(W_BYTES, RecordKind.WAITER);
  const i = w >> 2;
  const a = heap.i32;
  a[i + W.OWNER] = owner;
  a[i + W.STATE] = WState.PENDING;
  a[i + W.LINK] = 0;
  a[i + W.G] = g;
  a[i + W.TOKEN] = token;
  a[i + W.FLAGS] = 0;
  a[i + W.VALUE] = 0;
  a[i + W.SEL] = 0;
  return w;
}
