/**
 * G record allocation from registered chunks, so that any thread can enumerate every G
 * (dump, stats) by walking GCHUNK_DIR. A chunk holds GCHUNK_GS records of G_STRIDE bytes.
 *
 * Invariants: a G record is live from gAlloc until gFree; a freed record has STATUS=DEAD (a
 * never-used one IDLE), so the dump skips both. Each thread keeps a cache of free records;
 * surplus goes back to the central G_FREE_HEAD list in batches of BATCH records: linked
 * through word 0 (GOID; 0-terminated) before taking ALLOC_LOCK, the batch's first record's
 * SCHEDLINK naming the next batch. Under the lock a refill or a give-back only unlinks or
 * links one batch.
 */
import { H, MAX_GCHUNKS } from '../heap/layout.js';
import { lock, unlock } from '../heap/lock.js';
import type { Heap } from '../heap/heap.js';
import { G, G_STRIDE, Gstatus } from './g.js';
import { RecordKind } from '../value/kinds.js';

export const GCHUNK_GS = 1023;
const BATCH = 128;
const GCHUNK_BYTES = GCHUNK_GS * G_STRIDE;

export class GAllocator {
  private readonly cache: number[] = [];
  constructor(private readonly heap: Heap) {}

  alloc(): number {
    const g = this.cache.pop();
    if (g !== undefined) return g;
    this.refill();
    return this.cache.pop()!;
  }

  free(g: number): void {
    Atomics.store(this.heap.i32, (g >> 2) + G.STATUS, Gstatus.DEAD);
    this.cache.push(g);
    if (this.cache.length >= 2 * BATCH) this.giveBack();
  }

  private refill(): void {
    const heap = this.heap;
    lock(heap.i32, H.ALLOC_LOCK);
    const first = heap.i32[H.G_FREE_HEAD]!;
    if (first !== 0) {
      heap.i32[H.G_FREE_HEAD] = heap.i32[(first >> 2) + G.SCHEDLINK]!;
    }
    unlock(heap.i32, H.ALLOC_LOCK);
    for (let g = first; g !== 0; g = heap.i32[g >> 2]!) {
      this.cache.push(g);
    }
    if (this.cache.length > 0) return;
    // A new chunk. heap.alloc takes ALLOC_LOCK itself, so it is called outside it.
    const chunk = heap.alloc(GCHUNK_BYTES, RecordKind.G_CHUNK);
    const base = (chunk + 63) & ~63;
    const usable = Math.floor((chunk + GCHUNK_BYTES - base) / G_STRIDE);
    heap.i32.fill(0, base >> 2, (base + usable * G_STRIDE) >> 2);
    lock(heap.i32, H.ALLOC_LOCK);
    const n = heap.i32[H.GCHUNK_COUNT]!;
    if (n >= MAX_GCHUNKS) {
      unlock(heap.i32, H.ALLOC_LOCK);
      heap.free(chunk);
      throw new RangeError(`gort: too many goroutines alive at once (limit ${MAX_GCHUNKS * GCHUNK_GS})`);
    }
    heap.i32[H.GCHUNK_DIR + 2 * n] = base;
    heap.i32[H.GCHUNK_DIR + 2 * n + 1] = usable;
    Atomics.store(heap.i32, H.GCHUNK_COUNT, n + 1); // publishes the directory entry; pairs with load in forEachG
    unlock(heap.i32, H.ALLOC_LOCK);
    for (let k = usable - 1; k >= 0; k--) this.cache.push(base + k * G_STRIDE + 8);
  }

  private giveBack(): void {
    const heap = this.heap;
    const a = heap.i32;
    let first = 0;
    for (let k = 0; k < BATCH; k++) {
      const g = this.cache.pop()!;
      a[g >> 2] = first;
      first = g;
    }
    lock(a, H.ALLOC_LOCK);
    a[(first >> 2) + G.SCHEDLINK] = a[H.G_FREE_HEAD]!;
    a[H.G_FREE_HEAD] = first;
    unlock(a, H.ALLOC_LOCK);
  }
}

/** Visit every G record that is neither never-used nor dead. Any thread; racy by design. */
export function forEachG(heap: Heap, f: (g: number) => void): void {
  const n = Atomics.load(heap.i32, H.GCHUNK_COUNT);
  for (let c = 0; c < n; c++) {
    const base = heap.i32[H.GCHUNK_DIR + 2 * c]!;
    const count = heap.i32[H.GCHUNK_DIR + 2 * c + 1]!;
    for (let k = 0; k < count; k++) {
      const g = base + k * G_STRIDE + 8;
      const st = Atomics.load(heap.i32, (g >> 2) + G.STATUS);
      if (st !== Gstatus.IDLE && st !== Gstatus.DEAD) f(g);
    }
  }
}
