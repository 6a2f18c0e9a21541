/**
 * Go's sync/atomic Int32 and Int64 as shared-heap cells, usable from any thread.
 * AtomicInt32 is one Int32 word; AtomicBigInt64 one 8-aligned BigInt64 word. Every
 * operation is an Atomics op: sequentially consistent.
 */
import { RuntimeObject } from '../runtime/object.js';
import { registerHandleKind } from '../value/codec.js';
import { Kind } from '../value/kinds.js';

export class AtomicInt32 extends RuntimeObject {
  protected readonly kind = Kind.ATOMIC32;

  constructor(initial = 0, handle?: number, g?: number) {
    super('new AtomicInt32()', 8, handle, g);
    if (handle === undefined) Atomics.store(this.t.heap.i32, this.h >> 2, initial | 0);
  }

  load(): number {
    return Atomics.load(this.t.heap.i32, this.h >> 2);
  }
  store(v: number): void {
    Atomics.store(this.t.heap.i32, this.h >> 2, v | 0);
  }
  /** Add delta; returns the new value (as Go's Add). */
  add(delta: number): number {
    return (Atomics.add(this.t.heap.i32, this.h >> 2, delta | 0) + delta) | 0;
  }
  sub(delta: number): number {
    return (Atomics.sub(this.t.heap.i32, this.h >> 2, delta | 0) - delta) | 0;
  }
  /** Store v; returns the old value. */
  swap(v: number): number {
    return Atomics.exchange(this.t.heap.i32, this.h >> 2, v | 0);
  }
  compareAndSwap(old: number, v: number): boolean {
    return Atomics.compareExchange(this.t.heap.i32, this.h >> 2, old | 0, v | 0) === (old | 0);
  }
}

export class AtomicBigInt64 extends RuntimeObject {
  protected readonly kind = Kind.ATOMIC64;

  constructor(initial: bigint = 0n, handle?: number, g?: number) {
    super('new AtomicBigInt64()', 8, handle, g);
    if (handle === undefined) Atomics.store(this.t.heap.i64, this.h >> 3, BigInt.asIntN(64, initial));
  }

  load(): bigint {
    return Atomics.load(this.t.heap.i64, this.h >> 3);
  }
  store(v: bigint): void {
    Atomics.store(this.t.heap.i64, this.h >> 3, BigInt.asIntN(64, v));
  }
  add(delta: bigint): bigint {
    return BigInt.asIntN(64, Atomics.add(this.t.heap.i64, this.h >> 3, BigInt.asIntN(64, delta)) + delta);
  }
  sub(delta: bigint): bigint {
    return BigInt.asIntN(64, Atomics.sub(this.t.heap.i64, this.h >> 3, BigInt.asIntN(64, delta)) - delta);
  }
  swap(v: bigint): bigint {
    return Atomics.exchange(this.t.heap.i64, this.h >> 3, BigInt.asIntN(64, v));
  }
  compareAndSwap(old: bigint, v: bigint): boolean {
    const o = BigInt.asIntN(64, old);
    return Atomics.compareExchange(this.t.heap.i64, this.h >> 3, o, BigInt.asIntN(64, v)) === o;
  }
}

registerHandleKind(Kind.ATOMIC32, (h, g) => new AtomicInt32(0, h, g));
registerHandleKind(Kind.ATOMIC64, (h, g) => new AtomicBigInt64(0n, h, g));
