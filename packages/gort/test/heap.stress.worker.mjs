// One thread of the heap stress test (heap.stress.test.ts). Plain JavaScript because Node 20
// cannot load .ts in a Worker: it uses the BUILT allocators (dist/heap/heap.js,
// dist/sched/galloc.js), each thread with its own Heap and GAllocator on one buffer.
//
// It allocates blocks of random size classes and G records, in bursts, marks each in the shared OWNED
// map (Atomics.add must find 0: nobody else holds it) and stamps its first and last words,
// frees random held ones after checking the stamp and clearing the mark, and swaps held
// blocks with the other threads through a mailbox, so that a block is often freed by a
// thread that did not allocate it (main frees the Ms' results, the Ms free main's
// arguments). Counts are posted at the end; everything held is freed first.
import { workerData, parentPort } from 'node:worker_threads';

const { Heap } = await import(new URL('../dist/heap/heap.js', import.meta.url).href);
const { GAllocator } = await import(new URL('../dist/sched/galloc.js', import.meta.url).href);

const { id, ops, seed, tight } = workerData;
const owned = new Uint8Array(workerData.owned);
const mail = new Int32Array(workerData.mail); // [handle, size-or--1 for a G] pairs
const heap = new Heap(workerData.sab);
const galloc = new GAllocator(heap);
// In the tight variant the heap is small enough that allocations fail often, and the sizes
// reach the large classes, so the exhausted path (split a larger class or a large block,
// coalesce every central free block) runs while the other threads allocate and free.
const SIZES = tight
  ? [1, 24, 56, 200, 1000, 3000, 20_000, 70_000, 200_000, 1_100_000]
  : [1, 8, 24, 40, 56, 100, 200, 1000, 3000, 20_000];

let s = seed >>> 0 || 1;
const rnd = (n) => {
  s ^= s << 13;
  s ^= s >>> 17;
  s ^= s << 5;
  return (s >>> 0) % n;
};

const held = []; // [handle, words]; words = -1 for a G record
let serial = 0;
let allocs = 0;
let frees = 0;
let swaps = 0;
let exhausted = 0;

function fail(msg) {
  throw new Error(`thread ${id}: ${msg}`);
}
function mark(h) {
  if (Atomics.add(owned, h >> 3, 1) !== 0) fail(`handle ${h} handed out while held elsewhere`);
}
function unmark(h) {
  if (Atomics.sub(owned, h >> 3, 1) !== 1) fail(`handle ${h} freed while not held`);
}
// Stamp words: block words 0 and words-1; a G record's WAIT (2) and CREATOR (7).
function first(h, words) {
  return (h >> 2) + (words < 0 ? 2 : 0);
}
function last(h, words) {
  return (h >> 2) + (words < 0 ? 7 : words - 1);
}
function stamp(h, words) {
  const v = ((id + 1) << 24) | (++serial & 0xffffff);
  heap.i32[first(h, words)] = v;
  heap.i32[last(h, words)] = v;
}
function check(h, words) {
  const a = heap.i32[first(h, words)];
  if (a === 0 || a !== heap.i32[last(h, words)]) fail(`block ${h} overwritten while held (${a} / ${heap.i32[last(h, words)]})`);
}
function release(h, words) {
  check(h, words);
  unmark(h);
  if (words < 0) galloc.free(h);
  else heap.free(h);
  frees++;
}

for (let k = 0; k < ops; k++) {
  const r = rnd(100);
  // Bursts of up to 64 allocations of one kind, or frees: each thread's cache of a class
  // overflows and runs dry again and again, so the central lists are in constant use.
  const burst = 1 + rnd(64);
  if (r < 45 || held.length === 0) {
    const isG = rnd(4) === 0;
    const bytes = SIZES[rnd(SIZES.length)];
    for (let b = 0; b < burst; b++) {
      let h;
      let words;
      try {
        if (isG) {
          h = galloc.alloc();
          words = -1;
        } else {
          h = heap.alloc(bytes);
          words = Math.max(2, bytes >> 2);
        }
      } catch (e) {
        if (!tight || e?.name !== 'HeapExhaustedError') throw e;
        exhausted++;
        // Make room, as a program would once its work drains.
        for (let f = 0; f < 8 && held.length > 0; f++) {
          const [fh, fw] = held.pop();
          release(fh, fw);
        }
        break;
      }
      mark(h);
      stamp(h, words);
      held.push([h, words]);
      allocs++;
    }
  } else if (r < 90) {
    for (let b = 0; b < burst && held.length > 0; b++) {
      const j = rnd(held.length);
      const [h, words] = held[j];
      held[j] = held[held.length - 1];
      held.pop();
      release(h, words);
    }
  } else {
    // Swap a held block into a random mailbox slot; take ownership of what was there.
    const j = rnd(held.length);
    const [h, words] = held[j];
    check(h, words);
    const slot = rnd(mail.length >> 1) * 2;
    // The size word is published before the handle; a taker reads the handle first.
    let got;
    let gotWords;
    for (;;) {
      got = Atomics.load(mail, slot);
      if (got === -1) continue; // another thread is mid-swap on this slot
      if (Atomics.compareExchange(mail, slot, got, -1) === got) break;
    }
    gotWords = mail[slot + 1];
    mail[slot + 1] = words;
    Atomics.store(mail, slot, h);
    if (got !== 0) {
      check(got, gotWords);
      stamp(got, gotWords);
      held[j] = [got, gotWords];
    } else {
      held[j] = held[held.length - 1];
      held.pop();
    }
    swaps++;
  }
}
for (const [h, words] of held) release(h, words);
heap.releaseCache(); // as a thread does before it ends: nothing stays stranded in this cache
parentPort.postMessage({ allocs, frees, swaps, exhausted });
