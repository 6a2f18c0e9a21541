/**
 * Stress test of the shared heap's allocators on real worker threads (the built
 * dist/heap/heap.js and dist/sched/galloc.js, via heap.stress.worker.mjs): 4 threads on one
 * SharedArrayBuffer allocate, free and swap blocks of every small size class and G records,
 * about 650,000 allocations each, in bursts, so that the central free lists of every class
 * are filled and drained by all of them at once. Conservation: a handle is never held by two threads at once
 * (a shared map of marks), a held block is never written by anyone else (stamps), and in the
 * end every block allocated was freed exactly once. The seed is printed.
 */
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { Heap } from '../src/heap/heap.js';
import { GAllocator } from '../src/sched/galloc.js';

const THREADS = 4;
const OPS = 20_000; // bursts of 1-64 allocations or frees, or one swap
const MAX_BYTES = 256 << 20;

interface Counts {
  allocs: number;
  frees: number;
  swaps: number;
  exhausted: number;
}

function runWorker(url: URL, workerData: Record<string, unknown>): Promise<Counts> {
  return new Promise((resolve, reject) => {
    const w = new Worker(url, { workerData });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`worker exited with ${code} before reporting`)));
  });
}

async function stress(maxBytes: number, tight: boolean, ops = OPS): Promise<Counts[]> {
  const dist = new URL('../dist/heap/heap.js', import.meta.url);
  expect(existsSync(dist), `${dist.pathname} missing: build dist first`).toBe(true);
  const seed = Number(process.env.GORT_SEED ?? (Date.now() % 1_000_000_007));
  console.log(`heap stress seed ${seed} (replay: GORT_SEED=${seed})`);
  const heap = Heap.create(THREADS, { maxBytes });
  const owned = new SharedArrayBuffer(maxBytes >> 3);
  const mail = new SharedArrayBuffer(64 * 2 * 4);
  const url = new URL('./heap.stress.worker.mjs', import.meta.url);
  const counts = await Promise.all(
    Array.from({ length: THREADS }, (_, id) => runWorker(url, { id, ops, seed: seed + id * 7919, sab: heap.sab, owned, mail, tight })),
  );
  // Blocks left in the mailbox: still held, by nobody in particular. Check and free them here.
  const m = new Int32Array(mail);
  const galloc = new GAllocator(heap);
  const marks = new Uint8Array(owned);
  let inMail = 0;
  for (let slot = 0; slot < m.length; slot += 2) {
    const h = m[slot]!;
    if (h === 0) continue;
    inMail++;
    expect(Atomics.sub(marks, h >> 3, 1)).toBe(1);
    if (m[slot + 1]! < 0) galloc.free(h);
    else heap.free(h);
  }
  const allocs = counts.reduce((n, c) => n + c.allocs, 0);
  const frees = counts.reduce((n, c) => n + c.frees, 0);
  expect(counts.every((c) => c.swaps > ops / 40)).toBe(true); // blocks really moved between threads (~10% of ops are swaps)
  console.log(`allocations ${allocs}, in the mailbox at the end ${inMail}, exhausted ${counts.map((c) => c.exhausted).join('/')}`);
  expect(frees + inMail).toBe(allocs);
  expect(marks.every((b) => b === 0)).toBe(true);
  if (tight) {
    // Everything is free again but the G chunks (never freed, and anywhere in the heap): after
    // a coalesce, 128 KiB blocks must fill at least half of it.
    let got = 0;
    try {
      for (;;) {
        heap.alloc((128 << 10) - 8);
        got += 128 << 10;
      }
    } catch (e) {
      expect((e as Error).name).toBe('HeapExhaustedError');
    }
    expect(got).toBeGreaterThanOrEqual(maxBytes >> 1);
  }
  return counts;
}

describe('heap stress (real workers)', () => {
  it('4 threads alloc, free and swap blocks and G records: no block held twice, every one freed once', async () => {
    await stress(MAX_BYTES, false);
  }, 120_000);

  it('the same in a heap too small for them: exhausted allocations reuse freed space of every class, concurrently', async () => {
    const counts = await stress(8 << 20, true, OPS / 4);
    expect(counts.reduce((n, c) => n + c.exhausted, 0)).toBeGreaterThan(0); // the tight path really ran
  }, 120_000);
});
