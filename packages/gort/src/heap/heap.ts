/**
 * The shared heap: one SharedArrayBuffer, a thread-safe block allocator, views.
 *
 * Follows the tcmalloc shape: power-of-two size classes (16 B … 1 MiB, see layout.ts), a
 * per-thread cache of free blocks per class (plain JS arrays, no atomics on the fast path),
 * and central free lists plus a bump pointer behind ALLOC_LOCK. Blocks above 1 MiB come
 * from a central first-fit list of large free blocks, split as needed. Once the bump pointer
 * reaches the limit, a refill splits a large or larger-class free block, and as a last resort
 * coalesces every central free block (coalesce); so freed space serves any size class.
 *
 * Invariants:
 * - A handle is the byte offset of a block's payload: a multiple of 8, > 0. The 8 bytes
 *   before it are the block header: word 0 its size class in bits 0-4, and in a counted
 *   record its reference count in bits 5-30 (or -bytes for a large block, never counted);
 *   word 1 LIVE | generation << 8 | kind while allocated (kind: what the block holds,
 *   value/kinds.ts RecordKind, 0 for untyped data), FREED | generation << 8 once freed (a
 *   double free is fatal, not corruption). The generation belongs to the block: it is kept
 *   across frees and uncounted uses and stepped by one at each allocCounted, so a handle kept
 *   past its record's free (a stale handle) differs from whatever the block holds later until
 *   2^16 counted records have lived there. A block cut from fresh or coalesced memory starts
 *   at a value from a per-thread counter.
 *   docs/design/memory.md gives the rules of the count.
 * - The buffer is made at its limit and never changes size; a handle stays valid until freed.
 *   Every thread's views are fixed-length and cover the whole buffer, so no thread can hold a
 *   view that ends before a block another thread allocated. (The buffer used to grow, and a
 *   path that forgot to refresh its views read `undefined` and dropped writes past their end:
 *   lost wake-ups once the heap had grown. Reserving costs nothing: Linux commits a page of a
 *   SharedArrayBuffer when it is first touched, and BUMP moves up as blocks are carved.)
 * - Tiling: from the first block up to BUMP, every block header gives the block's size, and
 *   the size is written only under ALLOC_LOCK (alloc and free flip word 1 alone;
 *   allocCounted, retain and release change only the count bits of word 0); alignment gaps
 *   are 16-byte (0, 0) granules. census() walks this under the lock.
 * - Exhausting the limit throws HeapExhaustedError at the allocating call site, with the lock
 *   released and nothing half-written.
 * Any thread may call any method; a Heap object itself belongs to one thread.
 *
 * Size: ~700 lines, past the ~600 mark, on purpose: the counted-record methods (allocCounted,
 * retain, release, the pressure balance) and checkfree's poisoning read and write the same
 * block headers and per-thread state (caches, generation, balance) as the allocator, and a
 * second class over one header would have to expose what this one keeps private.
 */
import { HeapExhaustedError, fatal } from '../errors.js';
import { lock, unlock } from './lock.js';
import { H, HEADER_BYTES, MAGIC, NCLASS } from './layout.js';

/**
 * Header word 1: LIVE (top byte) | generation << 8 | kind while allocated, FREED | generation
 * << 8 once free. The generation (16 bits, the block's own) tells a stale handle (one kept past
 * its block's free, the block then reused) from the new object where a handle is decoded, and
 * a stale request from a live one (chan/local.ts serveRequests).
 */
const LIVE = 0x57;
const FREED = 0xf4;
const GEN_BITS = 0xffff00;
/** Header word 0 of a small block: class in bits 0-4, reference count in bits 5-30 (REF each). */
const CLASS_MASK = 31;
const REF = 32;
/** Past this, the next 2^16 references could carry into the sign bit: a count that large is a leak of counts. */
const MAX_REFS = 0x7fffffff - (1 << 21);

function refFault(h: number, old: number): never {
  return old < REF
    ? fatal(`heap: retain of record ${h}, which has no references (freed, or not counted)`)
    : fatal(`heap: record ${h} has ${old >>> 5} references, near the 2^26 a header can count (a holder that never releases?)`);
}
/** What a freed block's payload is filled with under checkfree. */
const POISON = 0x5eadbeef | 0;
/** H.DEBUG bit: freed blocks are poisoned and checked when reused (GORT_DEBUG=checkfree=1). */
export const DEBUG_CHECKFREE = 1;
/** H.DEBUG bit: every thread records where goroutines are created and park (GORT_DEBUG=stacks=1, runtime/stacks.ts). */
export const DEBUG_STACKS = 2;
const LARGE_UNIT = 1 << 16;

function classOf(total: number): number {
  // total includes the 8-byte header; class c holds 16 << c bytes.
  return total <= 16 ? 0 : 32 - Math.clz32(total - 1) - 4;
}

/** How many blocks a thread takes from (or gives back to) the central list at once. */
function batchOf(c: number): number {
  return c <= 6 ? 64 : Math.max(1, 64 >> (c - 6));
}

/**
 * Classes from this one up (64 KiB blocks and larger) are not kept in a thread's cache: a
 * free goes straight to the central list, where any thread (and coalesce) can reuse it. A
 * cache of two 1 MiB blocks per thread would strand megabytes on threads that do not need them.
 */
const UNCACHED = 12;

/** What census() found: bytes (headers included) and live blocks by kind (value/kinds.ts). */
export interface HeapCensus {
  /** The heap's size. */
  limit: number;
  /** Bytes below BUMP: every block ever carved and not given back by a coalesce. */
  used: number;
  /** Bytes of live blocks. */
  live: number;
  /** Bytes below BUMP that are free: central lists, threads' caches, alignment gaps. */
  free: number;
  byKind: Map<number, { count: number; bytes: number }>;
}

export interface HeapOptions {
  /** The size of the buffer, reserved at once; pages are committed as they are first touched. Default 1 GiB. */
  maxBytes?: number;
  /** Poison freed blocks and check the poison when one is reused (every thread of the heap). */
  checkFree?: boolean;
  /** Record goroutine stacks on every thread (runtime/stacks.ts). */
  stacks?: boolean;
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
  /** H.DEBUG has DEBUG_CHECKFREE: poison freed blocks, check the poison when one is reused. */
  readonly checkFree: boolean;
  /** Counter for the generation of blocks this thread cuts from fresh or coalesced memory (freeWord). */
  private gen = (Math.random() * 0xffff) | 0;

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
    this.checkFree = (this.i32[H.DEBUG]! & DEBUG_CHECKFREE) !== 0;
  }

  static create(procs: number, opts: HeapOptions = {}): Heap {
    // A multiple of 64 KiB, at least 1 MiB, below 2 GiB (handles are int32).
    const max = Math.min(Math.max(opts.maxBytes ?? 1 << 30, 1 << 20), 0x7fff0000) & ~0xffff;
    const sab = new SharedArrayBuffer(max);
    const i32 = new Int32Array(sab, 0, HEADER_BYTES >> 2);
    i32[H.PROCS] = procs;
    i32[H.LIMIT_KB] = Math.floor(max / 1024);
    i32[H.DEBUG] = (opts.checkFree === true ? DEBUG_CHECKFREE : 0) | (opts.stacks === true ? DEBUG_STACKS : 0);
    i32[H.BUMP] = (HEADER_BYTES + 63) & ~63;
    i32[H.SHARED_ID] = (Math.random() * 0x7fffffff) | 0;
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
    if (this.checkFree) this.checkPoison(h, 16 << c);
    const i = (h >> 2) - 1;
    this.i32[i] = (LIVE << 24) | (this.i32[i]! & GEN_BITS) | kind;
    return h;
  }

  /**
   * Allocate a counted record (a runtime object, value/kinds.ts Kind): its reference count
   * starts at 1, owned by the caller, and its block's generation steps by one. Freed by the
   * release that takes the count to 0 (release), never by free().
   */
  allocCounted(bytes: number, kind: number): number {
    const h = this.alloc(bytes, kind);
    const i = h >> 2;
    const c = this.i32[i - 2]!;
    if (c < 0) fatal('heap: a counted record must be a small block');
    this.i32[i - 2] = (c & CLASS_MASK) | REF;
    if ((this.counted += 16 << c) >= 16384) this.flushCounted();
    this.i32[i - 1] = (LIVE << 24) | ((this.i32[i - 1]! + 0x100) & GEN_BITS) | kind;
    return h;
  }

  /** The generation of block h: 16 bits, compared where a handle to a counted record is decoded. */
  genOf(h: number): number {
    return (this.i32[(h >> 2) - 1]! >>> 8) & 0xffff;
  }

  /** Take one more reference to counted record h, for a holder that names it. The caller holds one already. */
  retain(h: number): void {
    const old = Atomics.add(this.i32, (h >> 2) - 2, REF);
    if (old < REF || old > MAX_REFS) refFault(h, old);
  }

  /**
   * Take a reference to counted record h only if it still has one: false when its count has
   * reached 0 (its release is freeing it). For a link that does not count (a context's child
   * list, its done channel), read under the lock its owner's release takes to clear it.
   */
  tryRetain(h: number): boolean {
    const i = (h >> 2) - 2;
    for (let w = Atomics.load(this.i32, i); ; ) {
      if (w < REF) return false;
      const seen = Atomics.compareExchange(this.i32, i, w, w + REF);
      if (seen === w) return true;
      w = seen;
    }
  }

  /**
   * Drop one reference to counted record h. True when that was the last: the caller then owns
   * the record alone and must release what it holds and free it (freeCounted).
   */
  release(h: number): boolean {
    const old = Atomics.sub(this.i32, (h >> 2) - 2, REF);
    if (old < REF) fatal(`heap: release of record ${h}, which had no references left (a double release)`);
    return old < 2 * REF;
  }

  /** Take n more references to counted record h; the caller holds one already. */
  retainN(h: number, n: number): void {
    const old = Atomics.add(this.i32, (h >> 2) - 2, n * REF);
    if (old < REF || old > MAX_REFS) refFault(h, old);
  }

  /** Drop n references to record h that are not its last (the caller keeps one). */
  releaseN(h: number, n: number): void {
    const old = Atomics.sub(this.i32, (h >> 2) - 2, n * REF);
    if (old < (n + 1) * REF) fatal(`heap: releaseN(${n}) of record ${h}, which had ${old >>> 5} references`);
  }

  /** References held on counted record h (for tests and census). */
  refsOf(h: number): number {
    return Atomics.load(this.i32, (h >> 2) - 2) >>> 5;
  }

  /** Free a counted record whose last reference was released. */
  freeCounted(h: number): void {
    if ((this.counted -= 16 << this.i32[(h >> 2) - 2]!) <= -16384) this.flushCounted();
    this.free(h);
  }

  /** Under checkfree: fill a freed block's payload (past its two link words) with POISON. */
  private poison(h: number, size: number): void {
    this.i32.fill(POISON, (h >> 2) + 2, (h - 8 + size) >> 2);
  }

  /** Under checkfree: a block about to be reused must still hold its poison (every free block is poisoned: free, carve, linkBatch). */
  private checkPoison(h: number, size: number): void {
    const a = this.i32;
    const from = (h >> 2) + 2;
    const to = (h - 8 + size) >> 2;
    if (from >= to) return;
    for (let k = from; k < to; k++) {
      if (a[k] !== POISON) fatal(`heap: block ${h} was written after it was freed (checkfree: word ${k - (h >> 2)})`);
    }
  }

  /**
   * The kind a live block was allocated with, or -1 when `h` names no live block (not a
   * multiple of 8, outside the heap, or freed). A plain read: call it on a handle this thread
   * was given (by user code, or decoded from a value), to check it before writing through it.
   */
  kindOf(h: number): number {
    if (typeof h !== 'number' || (h | 0) !== h || (h & 7) !== 0 || h < HEADER_BYTES || h >= this.sab.byteLength) return -1;
    const w = this.i32[(h >> 2) - 1]!;
    return w >>> 24 === LIVE ? w & 0xff : -1;
  }

  free(h: number): void {
    const i = h >> 2;
    if ((h & 7) !== 0 || h < HEADER_BYTES || h >= this.sab.byteLength || this.i32[i - 1]! >>> 24 !== LIVE) {
      fatal(`heap: free of a bad or freed handle ${h}`);
    }
    this.i32[i - 1] = (FREED << 24) | (this.i32[i - 1]! & GEN_BITS);
    const w0 = this.i32[i - 2]!;
    if (w0 < 0) return this.freeLarge(h, -w0);
    if (w0 >= REF) fatal(`heap: free of record ${h}, which still has ${w0 >>> 5} references`);
    const c = w0;
    if (this.checkFree) this.poison(h, 16 << c);
    const list = this.cache[c]!;
    list.push(h);
    const b = batchOf(c);
    if (list.length >= 2 * b || c >= UNCACHED) this.giveBack(c, c >= UNCACHED ? list.length : b);
  }

  /** Return every block this thread caches to the central lists, e.g. before the thread ends. */
  releaseCache(): void {
    lock(this.i32, H.ALLOC_LOCK);
    this.flushCachesLocked();
    unlock(this.i32, H.ALLOC_LOCK);
  }

  /** Usable bytes of a live block. */
  sizeOf(h: number): number {
    const c = this.i32[(h >> 2) - 2]!;
    return c < 0 ? -c - 8 : (16 << (c & CLASS_MASK)) - 8;
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
    const size = 16 << c;
    let first: number;
    let fresh = 0;
    let bytes = 0;
    lock(a, H.ALLOC_LOCK);
    try {
      first = a[H.FREE_HEAD + c]!;
      if (first !== 0) {
        a[H.FREE_HEAD + c] = this.i32[(first >> 2) + 1]!;
      } else {
        bytes = size * batchOf(c);
        fresh = this.bumpTry(bytes, size);
        if (fresh < 0) {
          // The bump pointer is spent: take a range freed earlier, from another class.
          fresh = this.rangeFor(c, size);
          bytes = this.rangeBytes;
          // More blocks than one batch: the rest go to the central list, in batches.
          for (let n = Math.floor(bytes / size), b = batchOf(c); n > b; ) {
            const k = Math.min(b, n - b);
            n -= k;
            this.linkBatch(c, fresh + n * size, k);
          }
          bytes = Math.min(bytes, size * batchOf(c));
        }
        // Under the lock, so that every byte below BUMP is always tiled by block headers
        // (census walks them); at most 64 header writes.
        this.carve(c, fresh, Math.floor(bytes / size), list);
      }
    } finally {
      unlock(this.i32, H.ALLOC_LOCK);
    }
    if (first !== 0) for (let h = first; h !== 0; h = this.i32[h >> 2]!) list.push(h);
  }

  /** Bytes of counted records this thread allocated minus those it freed, not yet added to COUNTED. */
  private counted = 0;

  /**
   * Add this thread's counted-record balance to COUNTED, and ask every thread to collect
   * (GC_SEQ) once it passes GC_NEXT, so that the JS objects that are garbage get finalized and
   * release the records they held (runtime/pressure.ts). GC_NEXT follows the lowest COUNTED
   * seen plus a step of as much again (at least 16 MiB, at most an eighth of the limit), as
   * Go's GOGC=100 lets its heap double between collections: a program with few live runtime
   * objects collects often (cheap: small heaps), one with many, rarely.
   */
  private flushCounted(): void {
    const a = this.i32;
    const d = this.counted;
    this.counted = 0;
    const now = Atomics.add(a, H.COUNTED, d) + d;
    // Go's GOGC=100 over counted records: the next ask once they have doubled since their low,
    // and at least 16 MiB more (each ask costs every thread a full collection), but at most
    // an eighth of the limit.
    const step = Math.min(this.sab.byteLength >> 3, Math.max(16 << 20, now));
    for (let next = Atomics.load(a, H.GC_NEXT); ; ) {
      let want: number;
      if (next === 0 || now + step < next) want = now + step;
      else if (now >= next) want = now + step;
      else return;
      const seen = Atomics.compareExchange(a, H.GC_NEXT, next, want);
      if (seen !== next) {
        next = seen;
        continue;
      }
      if (next !== 0 && now >= next) this.askCollect();
      return;
    }
  }

  /**
   * Under ALLOC_LOCK, once BUMP is spent (every later block is a reused one): ask at most
   * every 50 ms, whatever COUNTED says, since COUNTED does not see the data blocks (buffers,
   * values) that garbage records hold.
   */
  private spentPressure(): void {
    const a = this.i32;
    const now = Date.now() & 0x3fffffff;
    if (((now - a[H.GC_AT]!) & 0x3fffffff) < 50) return;
    this.askCollect();
  }

  private askCollect(): void {
    this.i32[H.GC_AT] = Date.now() & 0x3fffffff;
    Atomics.add(this.i32, H.GC_SEQ, 1);
    this.pressured = true;
  }

  /** Set by askCollect on the asking thread's Heap; that thread rings the others and clears it (runtime/pressure.ts). */
  pressured = false;

  /**
   * Word 1 of a block header written where none was (fresh or coalesced memory): free, with a
   * generation from this thread's counter, so that a block that was two before a coalesce does
   * not start over at the same value on both threads.
   */
  private freeWord(): number {
    this.gen = (this.gen + 1) & 0xffff;
    return (FREED << 24) | (this.gen << 8);
  }

  /** Under ALLOC_LOCK: cut `n` free blocks of class c from `start`, bytes this thread reserved. */
  private carve(c: number, start: number, n: number, out: number[]): void {
    const size = 16 << c;
    for (let k = n - 1; k >= 0; k--) {
      const blk = start + k * size;
      this.i32[blk >> 2] = c;
      this.i32[(blk >> 2) + 1] = this.freeWord();
      if (this.checkFree) this.poison(blk + 8, size);
      out.push(blk + 8); // lowest address on top: popped first
    }
  }

  /**
   * Every block below BUMP, walked under ALLOC_LOCK (for stats(): O(blocks), it holds up other
   * threads' refills for its duration, ~1 ms per 100,000 blocks). Relies on the tiling
   * invariant: from the first block to BUMP, each block's header gives its size (class, or
   * -bytes), and every header is written under ALLOC_LOCK (carve, linkBatch, takeLarge,
   * allocLarge, freeRange); alloc and free only flip word 1 between LIVE|generation|kind and
   * FREED|generation, and allocCounted, retain and release change only the count bits of word 0 (the
   * walk masks them).
   * A word 0 of 0 and word 1 of 0 is a 16-byte alignment gap, counted as free.
   */
  census(): HeapCensus {
    const a = this.i32;
    const byKind = new Map<number, { count: number; bytes: number }>();
    let live = 0;
    let free = 0;
    const base = (HEADER_BYTES + 63) & ~63;
    lock(a, H.ALLOC_LOCK);
    let top: number;
    try {
      top = a[H.BUMP]!;
      let x = base;
      while (x < top) {
        const w0 = a[x >> 2]!;
        const w1 = a[(x >> 2) + 1]!;
        const size = w0 >= 0 ? 16 << (w0 & CLASS_MASK) : -w0;
        if ((w0 & CLASS_MASK) >= NCLASS || size < 16 || (size & 15) !== 0 || x + size > top) fatal(`heap: census found a bad block header at ${x}`);
        if (w1 >>> 24 === LIVE) {
          const k = w1 & 0xff;
          const e = byKind.get(k);
          if (e === undefined) byKind.set(k, { count: 1, bytes: size });
          else {
            e.count++;
            e.bytes += size;
          }
          live += size;
        } else free += size;
        x += size;
      }
    } finally {
      unlock(a, H.ALLOC_LOCK);
    }
    return { limit: this.sab.byteLength, used: top - base, live, free, byKind };
  }

  /** Under ALLOC_LOCK: push `n` free blocks of class c starting at byte `start` as one central batch. */
  private linkBatch(c: number, start: number, n: number): void {
    const a = this.i32;
    const size = 16 << c;
    let first = 0;
    for (let k = n - 1; k >= 0; k--) {
      const h = start + k * size + 8;
      a[(h >> 2) - 2] = c;
      a[(h >> 2) - 1] = this.freeWord();
      if (this.checkFree) this.poison(h, size);
      a[h >> 2] = first;
      first = h;
    }
    a[(first >> 2) + 1] = a[H.FREE_HEAD + c]!;
    a[H.FREE_HEAD + c] = first;
  }

  /**
   * Under ALLOC_LOCK: advance BUMP by `bytes` (start aligned to min(align, 64)); the start, or
   * -1 when the buffer has no room left.
   */
  private bumpTry(bytes: number, align: number): number {
    const a = this.i32;
    const al = Math.min(align, 64);
    const start = (a[H.BUMP]! + al - 1) & ~(al - 1);
    const need = start + bytes;
    if (need > this.sab.byteLength) return -1;
    // Mark the alignment gap as gap granules (0, 0): below a BUMP that a coalesce moved down,
    // memory holds stale headers, and census must not read one there.
    for (let g = a[H.BUMP]!; g < start; g += 16) {
      a[g >> 2] = 0;
      a[(g >> 2) + 1] = 0;
    }
    Atomics.store(this.i32, H.BUMP, need);
    return start;
  }

  /** Bytes of the range rangeFor last returned. */
  private rangeBytes = 0;

  /**
   * Under ALLOC_LOCK, once BUMP cannot give `size` bytes for class c: a free range of at least
   * `size` bytes (its length in rangeBytes, a multiple of `size`), from the first that has one:
   * BUMP's last bytes, a large free block (split), a free block of a larger class (split),
   * and, after all of those, the same again once every central free block has been coalesced
   * (coalesce). Throws HeapExhaustedError when none has room.
   */
  private rangeFor(c: number, size: number): number {
    this.spentPressure();
    for (let pass = 0; pass < 2; pass++) {
      if (pass === 1) this.coalesce();
      let start = this.bumpTry(size, size);
      if (start >= 0) {
        this.rangeBytes = size;
        return start;
      }
      start = this.takeLarge(Math.max(size, LARGE_UNIT), true);
      if (start >= 0) return start;
      for (let d = c + 1; d < NCLASS; d++) {
        const h = this.i32[H.FREE_HEAD + d]!;
        if (h === 0) continue;
        // Take the first block of the first batch; the batch's other blocks stay a batch.
        const rest = this.i32[h >> 2]!;
        const nextBatch = this.i32[(h >> 2) + 1]!;
        if (rest !== 0) {
          this.i32[(rest >> 2) + 1] = nextBatch;
          this.i32[H.FREE_HEAD + d] = rest;
        } else this.i32[H.FREE_HEAD + d] = nextBatch;
        this.rangeBytes = 16 << d;
        return h - 8;
      }
    }
    throw new HeapExhaustedError(this.sab.byteLength, size - 8);
  }

  /**
   * Under ALLOC_LOCK: unlink the first large free block of at least `size` bytes (a multiple of
   * LARGE_UNIT) and return the byte where it starts; a block larger than `size` is split, its
   * tail staying on the list. With `whole`, a small-class caller takes the whole block when it
   * is at most 2 units (rangeBytes says how much). -1 when none is large enough.
   */
  private takeLarge(size: number, whole = false): number {
    const a = this.i32;
    let prev = 0;
    for (let cur = a[H.LARGE_HEAD]!; cur !== 0; cur = a[cur >> 2]!) {
      const sz = a[(cur >> 2) + 1]!;
      if (sz >= size) {
        const next = a[cur >> 2]!;
        let take = sz;
        if (sz > size && !(whole && sz <= 2 * LARGE_UNIT)) {
          // Split: the tail [cur - 8 + size, …) stays a free large block in cur's place.
          take = size;
          const t = cur + size;
          a[(t >> 2) - 2] = -(sz - size);
          a[(t >> 2) - 1] = this.freeWord();
          a[t >> 2] = next;
          a[(t >> 2) + 1] = sz - size;
          if (prev === 0) a[H.LARGE_HEAD] = t;
          else a[prev >> 2] = t;
        } else if (prev === 0) a[H.LARGE_HEAD] = next;
        else a[prev >> 2] = next;
        this.rangeBytes = take;
        return cur - 8;
      }
      prev = cur;
    }
    return -1;
  }

  /**
   * Under ALLOC_LOCK, when the heap is exhausted: merge every block on the central free lists
   * (small classes and large) with its free neighbours. A merged run that ends at BUMP moves
   * BUMP down to its start; any other run is cut into one large block (its 64-byte-aligned
   * whole LARGE_UNITs) and power-of-two blocks for its two ends, each a central batch of one.
   * This thread's cache is returned first; blocks in other threads' caches are not free to
   * this function and stay as they are (each thread caches a bounded number per class). Cost: one bit per 16 bytes below BUMP, and a walk of
   * every central free block; it runs only when an allocation would otherwise fail.
   */
  private coalesce(): void {
    const a = this.i32;
    this.flushCachesLocked();
    const bump = a[H.BUMP]!;
    const bits = new Uint32Array(((bump >> 4) + 31) >>> 5);
    const mark = (from: number, bytes: number): void => {
      for (let g = from >> 4, end = (from + bytes) >> 4; g < end; g++) bits[g >>> 5]! |= 1 << (g & 31);
    };
    for (let c = 0; c < NCLASS; c++) {
      for (let batch = a[H.FREE_HEAD + c]!; batch !== 0; batch = a[(batch >> 2) + 1]!) {
        for (let h = batch; h !== 0; h = a[h >> 2]!) mark(h - 8, 16 << c);
      }
      a[H.FREE_HEAD + c] = 0;
    }
    for (let h = a[H.LARGE_HEAD]!; h !== 0; h = a[h >> 2]!) mark(h - 8, a[(h >> 2) + 1]!);
    a[H.LARGE_HEAD] = 0;
    const n = bump >> 4;
    let g = 0;
    while (g < n) {
      if ((bits[g >>> 5]! & (1 << (g & 31))) === 0) {
        g++;
        continue;
      }
      const s = g;
      while (g < n && (bits[g >>> 5]! & (1 << (g & 31))) !== 0) g++;
      const from = s << 4;
      const to = g << 4;
      if (to === bump) Atomics.store(a, H.BUMP, from);
      else this.freeRange(from, to);
    }
  }

  /** Under ALLOC_LOCK: put the free bytes [from, to) back on the central lists (see coalesce). */
  private freeRange(from: number, to: number): void {
    const a = this.i32;
    const mid = (from + 63) & ~63;
    const units = Math.floor((to - mid) / LARGE_UNIT);
    if (mid < to && units > 0) {
      this.freeSmall(from, mid);
      const h = mid + 8;
      a[(h >> 2) - 2] = -(units * LARGE_UNIT);
      a[(h >> 2) - 1] = this.freeWord();
      a[h >> 2] = a[H.LARGE_HEAD]!;
      a[(h >> 2) + 1] = units * LARGE_UNIT;
      a[H.LARGE_HEAD] = h;
      from = mid + units * LARGE_UNIT;
    }
    this.freeSmall(from, to);
  }

  /** Under ALLOC_LOCK: cut [from, to) (multiples of 16) into the largest class blocks that fit. */
  private freeSmall(from: number, to: number): void {
    while (from < to) {
      const c = Math.min(NCLASS - 1, 31 - Math.clz32(to - from) - 4);
      this.linkBatch(c, from, 1);
      from += 16 << c;
    }
  }

  /** Under ALLOC_LOCK: return every block this thread caches to the central lists, one batch each. */
  private flushCachesLocked(): void {
    const a = this.i32;
    for (let c = 0; c < NCLASS; c++) {
      const list = this.cache[c]!;
      if (list.length === 0) continue;
      let first = 0;
      for (const h of list) {
        a[h >> 2] = first;
        first = h;
      }
      list.length = 0;
      a[(first >> 2) + 1] = a[H.FREE_HEAD + c]!;
      a[H.FREE_HEAD + c] = first;
    }
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
      // First fit, split; words: [next, size] in the payload of a free large block.
      let blk = this.takeLarge(size);
      if (blk < 0) blk = this.bumpTry(size, 64);
      if (blk < 0) {
        this.spentPressure();
        this.coalesce();
        blk = this.takeLarge(size);
        if (blk < 0) blk = this.bumpTry(size, 64);
        if (blk < 0) throw new HeapExhaustedError(this.sab.byteLength, total - 8);
      }
      a[blk >> 2] = -size;
      a[(blk >> 2) + 1] = (LIVE << 24) | kind;
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
