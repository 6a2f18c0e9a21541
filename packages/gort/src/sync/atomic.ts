/**
 * Go's sync/atomic Int32 and Int64 as shared-heap cells, usable from any thread.
 * AtomicInt32 is one Int32 word; AtomicBigInt64 one 8-aligned BigInt64 word. Every
 * operation is an Atomics op: sequentially consistent. Arguments are checked: AtomicInt32
 * takes numbers that are int32 integers (add and sub wrap their result, as Go's), and
 * AtomicBigInt64 bigints; anything else is a TypeError or RangeError, never a silent `| 0`.
 */
import { RuntimeObject } from '../runtime/object.js';
import { registerHandleKind } from '../value/codec.js';
import { Kind } from '../value/kinds.js';
import { describe } from '../value/describe.js';

/** v as an int32 (Go's int32: a number that is an integer in range; a TypeError or RangeError otherwise). */
function i32(v: unknown, what: string): number {
  if (typeof v === 'number' && (v | 0) === v) return v;
  if (typeof v !== 'number') throw new TypeError(`sync: ${what} needs an int32 (a number), got ${describe(v)}`);
  throw new RangeError(`sync: ${what} needs an integer from -2^31 to 2^31-1, got ${v}`);
}

/** v as a bigint (Go's int64; wrapped to 64 bits as before). */
function i64(v: unknown, what: string): bigint {
  if (typeof v !== 'bigint') throw new TypeError(`sync: ${what} needs a bigint, got ${describe(v)}`);
  return BigInt.asIntN(64, v);
}

/**
 * Go's `atomic.Int32`: one shared int32, every operation an `Atomics` operation (sequentially
 * consistent). Arguments must be int32 integers (a `TypeError` or `RangeError` otherwise, never
 * a silent `| 0`); `add` and `sub` wrap as Go's do.
 */
export class AtomicInt32 extends RuntimeObject {

  /** An AtomicInt32 holding `initial`. */
  constructor(initial?: number);
  /** @internal revival of a handle */
  constructor(initial: number, handle: number | undefined, g?: number);
  constructor(initial = 0, handle?: number, g?: number) {
    if (handle === undefined) i32(initial, 'new AtomicInt32()');
    super('new AtomicInt32()', Kind.ATOMIC32, 8, handle, g);
    if (handle === undefined) Atomics.store(this.t.heap.i32, this.h >> 2, initial);
  }

  /** The current value. */
  load(): number {
    return Atomics.load(this.t.heap.i32, this.h >> 2);
  }
  /** Set the value to `v`. */
  store(v: number): void {
    Atomics.store(this.t.heap.i32, this.h >> 2, i32(v, 'AtomicInt32.store'));
  }
  /** Add delta; returns the new value (as Go's Add). */
  add(delta: number): number {
    return (Atomics.add(this.t.heap.i32, this.h >> 2, i32(delta, 'AtomicInt32.add')) + delta) | 0;
  }
  /** Subtract delta; returns the new value. */
  sub(delta: number): number {
    return (Atomics.sub(this.t.heap.i32, this.h >> 2, i32(delta, 'AtomicInt32.sub')) - delta) | 0;
  }
  /** Store v; returns the old value. */
  swap(v: number): number {
    return Atomics.exchange(this.t.heap.i32, this.h >> 2, i32(v, 'AtomicInt32.swap'));
  }
  /** Set the value to `v` if it is `old`: true if it was. */
  compareAndSwap(old: number, v: number): boolean {
    const o = i32(old, 'AtomicInt32.compareAndSwap');
    return Atomics.compareExchange(this.t.heap.i32, this.h >> 2, o, i32(v, 'AtomicInt32.compareAndSwap')) === o;
  }
}

/**
 * Go's `atomic.Int64` as a `bigint`: one shared 64-bit word, every operation an `Atomics`
 * operation. Arguments must be bigints; results wrap to 64 bits as Go's do.
 */
export class AtomicBigInt64 extends RuntimeObject {

  /** An AtomicBigInt64 holding `initial`. */
  constructor(initial?: bigint);
  /** @internal revival of a handle */
  constructor(initial: bigint, handle: number | undefined, g?: number);
  constructor(initial: bigint = 0n, handle?: number, g?: number) {
    if (handle === undefined) i64(initial, 'new AtomicBigInt64()');
    super('new AtomicBigInt64()', Kind.ATOMIC64, 8, handle, g);
    if (handle === undefined) Atomics.store(this.t.heap.i64, this.h >> 3, i64(initial, 'new AtomicBigInt64()'));
  }

  /** The current value. */
  load(): bigint {
    return Atomics.load(this.t.heap.i64, this.h >> 3);
  }
  /** Set the value to `v`. */
  store(v: bigint): void {
    Atomics.store(this.t.heap.i64, this.h >> 3, i64(v, 'AtomicBigInt64.store'));
  }
  /** Add delta; returns the new value. */
  add(delta: bigint): bigint {
    return BigInt.asIntN(64, Atomics.add(this.t.heap.i64, this.h >> 3, i64(delta, 'AtomicBigInt64.add')) + delta);
  }
  /** Subtract delta; returns the new value. */
  sub(delta: bigint): bigint {
    return BigInt.asIntN(64, Atomics.sub(this.t.heap.i64, this.h >> 3, i64(delta, 'AtomicBigInt64.sub')) - delta);
  }
  /** Store v; returns the old value. */
  swap(v: bigint): bigint {
    return Atomics.exchange(this.t.heap.i64, this.h >> 3, i64(v, 'AtomicBigInt64.swap'));
  }
  /** Set the value to `v` if it is `old`: true if it was. */
  compareAndSwap(old: bigint, v: bigint): boolean {
    const o = i64(old, 'AtomicBigInt64.compareAndSwap');
    return Atomics.compareExchange(this.t.heap.i64, this.h >> 3, o, i64(v, 'AtomicBigInt64.compareAndSwap')) === o;
  }
}

registerHandleKind(Kind.ATOMIC32, (h, g) => new AtomicInt32(0, h, g));
registerHandleKind(Kind.ATOMIC64, (h, g) => new AtomicBigInt64(0n, h, g));
