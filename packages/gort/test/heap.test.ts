// The shared heap allocator (src/heap/heap.ts), single-threaded, with two Heap objects on one
// buffer standing in for two threads.
import { describe, it, expect } from 'vitest';
import { Heap } from '../src/heap/heap.js';
import { HeapExhaustedError, RuntimeFatalError } from '../src/errors.js';
import { encodeArgs } from '../src/value/codec.js';

describe('heap', () => {
  it('allocates distinct, aligned, reusable blocks of every size class', () => {
    const heap = Heap.create(1, { maxBytes: 64 << 20 });
    const seen = new Set<number>();
    const live: number[] = [];
    for (const size of [1, 8, 9, 56, 100, 1000, 5000, 70_000, 1 << 20, 3 << 20]) {
      for (let k = 0; k < 4; k++) {
        const h = heap.alloc(size);
        expect(h % 8).toBe(0);
        expect(heap.sizeOf(h)).toBeGreaterThanOrEqual(size);
        expect(seen.has(h)).toBe(false);
        seen.add(h);
        live.push(h);
        heap.u8.fill(0xab, h, h + size); // writing the whole block must not corrupt others
      }
    }
    for (const h of live) heap.free(h);
    const again = heap.alloc(56);
    expect(seen.has(again)).toBe(true); // freed blocks are reused
  });

  it('a double free is a fatal runtime error, not corruption', () => {
    const heap = Heap.create(1, { maxBytes: 4 << 20 });
    const h = heap.alloc(32);
    heap.free(h);
    expect(() => heap.free(h)).toThrow(RuntimeFatalError);
  });

  it('another thread takes and uses blocks freed by the first, anywhere in the heap', () => {
    const a = Heap.create(1, { maxBytes: 256 << 20 });
    const b = new Heap(a.sab); // a second thread's views
    // Thread a carves far into the heap, then frees: the blocks land on a central list once
    // a's cache overflows, and thread b must be able to take and use them.
    const blocks: number[] = [];
    for (let k = 0; k < 4000; k++) blocks.push(a.alloc(1000));
    for (const h of blocks) a.free(h);
    const got: number[] = [];
    for (let k = 0; k < 4000; k++) got.push(b.alloc(1000));
    for (const h of got) {
      expect(Number.isInteger(h)).toBe(true);
      expect(h).toBeGreaterThan(0);
      b.i32[h >> 2] = 7;
      expect(a.i32[h >> 2]).toBe(7);
    }
    expect(new Set(got).size).toBe(got.length);
  });

  // A generation belongs to its block: a handle kept past its record's free (a stale handle,
  // a stale request) must differ from whatever the block holds next, whichever thread reuses
  // it and whatever it held in between. Generations used to come from a per-thread counter, so
  // a block freed on one thread and reused on another could get its old generation back.
  it("a block's generation steps at each counted use, across threads and uncounted uses", () => {
    const a = Heap.create(2, { maxBytes: 64 << 20 });
    const b = new Heap(a.sab);
    const h = a.allocCounted(56, 2);
    const gens = [a.genOf(h)];
    const letGo = (by: Heap): void => {
      expect(by.release(h)).toBe(true);
      by.freeCounted(h);
      by.releaseCache(); // to the central list, where the other thread's refills find it
    };
    // Allocate on `by` until block h comes back; the others are freed after.
    const take = (by: Heap, counted: boolean, kind: number): void => {
      const alloc = (): number => (counted ? by.allocCounted(56, kind) : by.alloc(56, kind));
      const others: number[] = [];
      for (let x = alloc(); x !== h; x = alloc()) {
        others.push(x);
        expect(others.length).toBeLessThan(100_000);
      }
      for (const x of others) {
        if (counted) by.release(x);
        if (counted) by.freeCounted(x);
        else by.free(x);
      }
    };
    letGo(a);
    // b takes a's block; in between its counted uses it holds untyped data (a waiter, a value).
    take(b, false, 0);
    b.free(h);
    take(b, false, 14);
    b.free(h);
    b.releaseCache();
    take(b, true, 2);
    gens.push(b.genOf(h));
    letGo(b);
    take(a, true, 2);
    gens.push(a.genOf(h));
    expect(gens).toEqual([gens[0]!, (gens[0]! + 1) & 0xffff, (gens[0]! + 2) & 0xffff]);
  });

  it('tags a block with its kind while it is live', () => {
    const heap = Heap.create(1, { maxBytes: 4 << 20 });
    const h = heap.alloc(40, 12);
    expect(heap.kindOf(h)).toBe(12);
    expect(heap.kindOf(heap.alloc(40))).toBe(0);
    expect(heap.kindOf(h + 8)).toBe(-1); // inside a block, not a handle
    expect(heap.kindOf(3)).toBe(-1);
    expect(heap.kindOf(1 << 30)).toBe(-1);
    heap.free(h);
    expect(heap.kindOf(h)).toBe(-1);
  });

  it('exhausting the limit is a HeapExhaustedError naming the option', () => {
    const heap = Heap.create(1, { maxBytes: 2 << 20 });
    expect(() => heap.alloc(4 << 20)).toThrow(HeapExhaustedError);
    expect(() => heap.alloc(4 << 20)).toThrow(/heapLimit/);
    // still usable afterwards
    expect(heap.alloc(64)).toBeGreaterThan(0);
  });

  it('after exhaustion, freed blocks of one class serve allocations of every other class', () => {
    const heap = Heap.create(1, { maxBytes: 24 << 20 });
    const other = new Heap(heap.sab); // frees on another thread, as a receiver would
    const held: number[] = [];
    expect(() => {
      for (;;) held.push(heap.alloc(128 << 10)); // 128 KiB + header: the 256 KiB class
    }).toThrow(HeapExhaustedError);
    expect(held.length).toBeGreaterThan(80);
    for (const h of held) other.free(h);
    // Smaller classes (split), a larger class, a large block: all from the freed space.
    const got = [heap.alloc(65536), heap.alloc(100), heap.alloc(600 << 10), heap.alloc(3 << 20)];
    for (const h of got) expect(heap.kindOf(h)).toBe(0);
    for (const h of got) heap.free(h);
    // Everything is free: a coalesce gives back one run as large as most of the heap.
    const big = heap.alloc(20 << 20);
    expect(heap.sizeOf(big)).toBeGreaterThanOrEqual(20 << 20);
    heap.free(big);
    // And the small classes fill the heap again, as far as they did the first time.
    let n = 0;
    try {
      for (;;) {
        heap.alloc(128 << 10);
        n++;
      }
    } catch (e) {
      expect(e).toBeInstanceOf(HeapExhaustedError);
    }
    expect(n).toBeGreaterThanOrEqual(held.length - 2);
  });

  it('seeded random allocs and frees near the limit never hand out overlapping blocks', () => {
    const seed = Number(process.env.GORT_SEED ?? (Date.now() % 1_000_000_007));
    let s = seed >>> 0 || 1;
    const rnd = (n: number): number => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) % n;
    };
    const limit = 4 << 20;
    const heap = Heap.create(1, { maxBytes: limit });
    const owner = new Int32Array(limit >> 4); // 16-byte granule -> 1 + index of the held block holding it
    const live = new Map<number, number>();
    const sizes = [8, 40, 300, 5000, 70_000, 300_000, 1_500_000];
    let fails = 0;
    for (let k = 0; k < 20_000; k++) {
      if (k % 500 === 0) {
        // The headers tile the heap, through splits and coalesces: a walk finds every held block.
        const c = heap.census();
        expect(c.byKind.get(0)?.count ?? 0, `seed ${seed}`).toBe(live.size);
        expect(c.live + c.free).toBe(c.used);
      }
      if (rnd(100) < 55) {
        const bytes = sizes[rnd(sizes.length)]! + rnd(64);
        let h: number;
        try {
          h = heap.alloc(bytes);
        } catch (e) {
          expect(e, `seed ${seed}`).toBeInstanceOf(HeapExhaustedError);
          fails++;
          continue;
        }
        for (let g = (h - 8) >> 4, end = (h + bytes + 15) >> 4; g < end; g++) {
          if (owner[g] !== 0) throw new Error(`seed ${seed} (GORT_SEED=${seed}): block ${h} overlaps a held one at byte ${g << 4}`);
          owner[g] = h;
        }
        live.set(h, bytes);
      } else if (live.size > 0) {
        const keys = [...live.keys()];
        const h = keys[rnd(keys.length)]!;
        const bytes = live.get(h)!;
        for (let g = (h - 8) >> 4, end = (h + bytes + 15) >> 4; g < end; g++) owner[g] = 0;
        live.delete(h);
        heap.free(h);
      }
    }
    expect(fails, `seed ${seed}`).toBeGreaterThan(0); // the limit was reached
    for (const h of live.keys()) heap.free(h);
    expect(heap.sizeOf(heap.alloc(limit >> 1))).toBeGreaterThanOrEqual(limit >> 1);
  });

  it('round-trips strings', () => {
    const heap = Heap.create(1);
    const s = 'héllo 🌍 ' + 'x'.repeat(10_000);
    expect(heap.readString(heap.allocString(s))).toBe(s);
  });

  it('an argument list that cannot be encoded frees what it had written and names the argument', () => {
    const heap = Heap.create(1);
    const s = 'y'.repeat(100);
    const probe = heap.allocString(s);
    heap.free(probe); // the next string block of this size is `probe` again, unless one is still held
    function work(): void {}
    expect(() => encodeArgs(heap, [1.5, s, Symbol('no')], work)).toThrow(/argument 2 of work/);
    expect(heap.allocString(s)).toBe(probe); // argument 1's string block came back
  });
});
