/**
 * The shared heap: one SharedArrayBuffer, a thread-safe block allocator, views.
 *
 * Follows the tcmalloc shape: power-of-two size classes (16 B … 1 MiB, see layout.ts), a
 * per-thread cache of free blocks per class (plain JS arrays, no atomics on the fast path),
 * and central free lists plus a bump pointer behind ALLOC_LOCK. Blocks above 1 MiB come
 * from a central first-fit list.
 *
 * Invariants:
 * - A handle is the byte offset of a block's payload: a multiple of 8, > 0. The 8 bytes
 *   before it are the block header: word 0 its size class (or -bytes for a large block),
 *   word 1 LIVE_TAG | kind while allocated (kind: what the block holds, value/kinds.ts
 *   RecordKind; 0 for untyped data), FREE once freed (a double free is fatal, not corruption).
 * - The buffer is made at its limit and never changes size; a handle stays valid until freed.
 *   Every thread's views are fixed-length and cover the whole buffer, so no thread can hold a
 *   view that ends before a block another thread allocated. (The buffer used to grow, and a
 *   path that forgot to refresh its views read `undefined` and dropped writes past their end:
 *   lost wake-ups once the heap had grown. Reserving costs nothing: Linux commits a page of a
 *   SharedArrayBuffer when it is first touched, and BUMP only moves up as blocks are carved.)
 * - Exhausting the limit throws HeapExhaustedError at the allocating call site, with the lock
 *   released and nothing half-written.
 * Any thread may call any method; a Heap object itself belongs to one thread.
 */
import { HeapExhaustedError, fatal } from '../errors.js';
import { lock, unlock } from './lock.js';
import { H, HEADER_BYTES, MAGIC, NCLASS } from './layout.js';

/** Header word 1 of an allocated block: LIVE_TAG | kind (kind < 2^16). */
const LIVE_TAG = 0x11570000;
const FREE = 0xf4ee;
const LARGE_UNIT = 1 << 16;

function classOf(total: number): number {
  // total includes the 8-byte header; class c holds 16 << c bytes.
  return total <= 16 ? 0 : 32 - Math.clz32(total - 1) - 4;
}

/** How many blocks a thread takes from (or gives back to) the central list at once. */
function batchOf(c: number): number {
  return c <= 6 ? 64 : Math.max(1, 64 >> (c - 6));
}

export interface HeapOptions {
  /** The size of the buffer, reserved at once; pages are committed as they are first touched. Default 1 GiB. */
  maxBytes?: number;
}

export class Heap {
  readonly sab: SharedArrayBuffer;
  i32!: Int32Array;
  u32!: Uint32Array;
  f64!: Float64Array;
  i64!: BigInt64Array;
  u8!: Uint8Array;
  u16!: Uint16Array;
  private readonly cache: number[][] = [];

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    for (let c = 0; c < NCLASS; c++) this.cache.push([]);
    const n = sab.byteLength;
    this.i32 = new Int32Array(sab, 0, n >> 2);
    this.u32 = new Uint32Array(sab, 0, n >> 2);
    this.f64 = new Float64Array(sab, 0, n >> 3);
    this.i64 = new BigInt64Array(sab, 0, n >> 3);
    this.u8 = new Uint8Array(sab, 0, n);
    this.u16 = new Uint16Array(sab, 0, n >> 1);
    if (this.i32[H.MAGIC] !== MAGIC) fatal('heap: bad magic word; not a gort heap');
  }

  static create(procs: number, opts: HeapOptions = {}): Heap {
    // A multiple of 64 KiB, at least 1 MiB, below 2 GiB (handles are int32).
    const max = Math.min(Math.max(opts.maxBytes ?? 1 << 30, 1 << 20), 0x7fff0000) & ~0xffff;
    const sab = new SharedArrayBuffer(max);
    const i32 = new Int32Array(sab, 0, HEADER_BYTES >> 2);
    i32[H.PROCS] = procs;
    i32[H.LIMIT_KB] = Math.floor(max / 1024);
    i32[H.BUMP] = (HEADER_BYTES + 63) & ~63;
    Atomics.store(i32, H.MAGIC, MAGIC); // written before the buffer is handed to any other thread (postMessage orders it)
    return new Heap(sab);
  }

  get limitBytes(): number {
    return this.sab.byteLength;
  }

  /** Allocate a block of at least `bytes` bytes, tagged with `kind`; returns its handle. */
  alloc(bytes: number, kind = 0): number {
    const total = bytes + 8;
    if (total > 16 << (NCLASS - 1)) return this.allocLarge(total, kind);
    const c = classOf(total);
    const list = this.cache[c]!;
    let h = list.pop();
    if (h === undefined) {
      this.refill(c);
      h = list.pop()!;
    }
    this.i32[(h >> 2) - 1] = LIVE_TAG | kind;
    return h;
  }

  /**
   * The kind a live block was allocated with, or -1 when `h` names no live block (not a
   * multiple of 8, outside the heap, or freed). A plain read: call it on a handle this thread
   * was given (by user code, or decoded from a value), to check it before writing through it.
   */
  kindOf(h: number): number {
    if (typeof h !== 'number' || (h | 0) !== h || (h & 7) !== 0 || h < HEADER_BYTES || h >= this.sab.byteLength) return -1;
    const w = this.i32[(h >> 2) - 1]!;
    return (w & 0xffff0000) === LIVE_TAG ? w & 0xffff : -1;
  }

  free(h: number): void {
    const i = h >> 2;
    if ((h & 7) !== 0 || h < HEADER_BYTES || h >= this.sab.byteLength || (this.i32[i - 1]! & 0xffff0000) !== LIVE_TAG) {
      fatal(`heap: free of a bad or freed handle ${h}`);
    }
    this.i32[i - 1] = FREE;
    const c = this.i32[i - 2]!;
    if (c < 0) return this.freeLarge(h, -c);
    const list = this.cache[c]!;
    list.push(h);
    const b = batchOf(c);
    if (list.length >= 2 * b) this.giveBack(c, b);
  }

  /** Usable bytes of a live block. */
  sizeOf(h: number): number {
    const c = this.i32[(h >> 2) - 2]!;
    return c < 0 ? -c - 8 : (16 << c) - 8;
  }

  /**
   * Take one batch from the central list of class c, or carve a fresh one. Only the unlink
   * of the batch is made under ALLOC_LOCK; its blocks are walked after. (A list of single
   * blocks was walked under the lock: main's refills and the Ms' give-backs then queued on
   * it, ~10 ms per 100,000 spawns of sched/fine.)
   */
  private refill(c: number): void {
    const a = this.i32;
    const list = this.cache[c]!;
    let first: number;
    let fresh = 0;
    lock(a, H.ALLOC_LOCK);
    try {
      first = a[H.FREE_HEAD + c]!;
      if (first !== 0) {
        a[H.FREE_HEAD + c] = this.i32[(first >> 2) + 1]!;
      } else {
        fresh = this.bumpReserve((16 << c) * batchOf(c), 16 << c);
      }
    } finally {
      unlock(this.i32, H.ALLOC_LOCK);
    }
    if (first === 0) return this.carve(c, fresh, batchOf(c), list);
    for (let h = first; h !== 0; h = this.i32[h >> 2]!) list.push(h);
  }

  /** Cut `n` blocks of class c from `start`, bytes this thread reserved from the bump pointer. */
  private carve(c: number, start: number, n: number, out: number[]): void {
    const size = 16 << c;
    for (let k = n - 1; k >= 0; k--) {
      const blk = start + k * size;
      this.i32[blk >> 2] = c;
      out.push(blk + 8); // lowest address on top: popped first
    }
  }

  /** Under ALLOC_LOCK: advance BUMP by `bytes` (aligned to min(align, 64)). */
  private bumpReserve(bytes: number, align: number): number {
    const a = this.i32;
    const al = Math.min(align, 64);
    const start = (a[H.BUMP]! + al - 1) & ~(al - 1);
    const need = start + bytes;
    if (need > this.sab.byteLength) throw new HeapExhaustedError(this.sab.byteLength, bytes);
    Atomics.store(this.i32, H.BUMP, need);
    return start;
  }

  /**
   * Return n blocks of class c to the central list as one batch: linked through word 0
   * (0-terminated) outside the lock, the batch's first block's word 1 naming the next batch.
   */
  private giveBack(c: number, n: number): void {
    const list = this.cache[c]!;
    const a = this.i32;
    let first = 0;
    for (let k = 0; k < n; k++) {
      const h = list.pop()!;
      a[h >> 2] = first;
      first = h;
    }
    lock(a, H.ALLOC_LOCK);
    a[(first >> 2) + 1] = a[H.FREE_HEAD + c]!;
    a[H.FREE_HEAD + c] = first;
    unlock(a, H.ALLOC_LOCK);
  }

  private allocLarge(total: number, kind: number): number {
    const size = Math.ceil(total / LARGE_UNIT) * LARGE_UNIT;
    const a = this.i32;
    lock(a, H.ALLOC_LOCK);
    try {
      // First fit that wastes at most half the block; words: [next, size] in the payload.
      let prev = 0;
      let cur = a[H.LARGE_HEAD]!;
      while (cur !== 0) {
        const sz = this.i32[(cur >> 2) + 1]!;
        const next = this.i32[cur >> 2]!;
        if (sz >= size && sz <= size * 2) {
          if (prev === 0) this.i32[H.LARGE_HEAD] = next;
          else this.i32[prev >> 2] = next;
          this.i32[(cur >> 2) - 2] = -sz;
          this.i32[(cur >> 2) - 1] = LIVE_TAG | kind;
          return cur;
        }
        prev = cur;
        cur = next;
      }
      const blk = this.bumpReserve(size, 64);
      this.i32[blk >> 2] = -size;
      this.i32[(blk >> 2) + 1] = LIVE_TAG | kind;
      return blk + 8;
    } finally {
      unlock(this.i32, H.ALLOC_LOCK);
    }
  }

  private freeLarge(h: number, size: number): void {
    lock(this.i32, H.ALLOC_LOCK);
    const a = this.i32;
    a[h >> 2] = a[H.LARGE_HEAD]!;
    a[(h >> 2) + 1] = size;
    a[H.LARGE_HEAD] = h;
    unlock(a, H.ALLOC_LOCK);
  }

  // ---- strings (UTF-16 code units, for function sources and names) ----

  allocString(s: string): number {
    const h = this.alloc(4 + s.length * 2);
    this.i32[h >> 2] = s.length;
    const u = this.u16;
    const base = (h + 4) >> 1;
    for (let k = 0; k < s.length; k++) u[base + k] = s.charCodeAt(k);
    return h;
  }

  readString(h: number): string {
    const n = this.i32[h >> 2]!;
    const base = (h + 4) >> 1;
    let out = '';
    for (let k = 0; k < n; k += 4096) {
      out += String.fromCharCode.apply(null, Array.from(this.u16.subarray(base + k, base + Math.min(n, k + 4096))));
    }
    return out;
  }
}
