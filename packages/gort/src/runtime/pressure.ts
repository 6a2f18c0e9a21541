/**
 * Heap pressure: asking every thread to collect its JS garbage, so that finalizers release
 * the records that garbage held (runtime/anchors.ts).
 *
 * A FinalizationRegistry callback runs only after a major GC, and a thread that allocates
 * little JS memory (an M parked, main awaiting) may go minutes without one while the shared
 * heap fills with records that only its dead objects still hold. The heap bumps GC_SEQ when
 * the bytes of live counted records (COUNTED) pass GC_NEXT, twice the lowest COUNTED seen
 * since the last ask (at least 16 MiB more, at most an eighth of the limit; heap.ts
 * flushCounted), and, once the bump pointer is spent, at most every 50 ms (heap.ts
 * spentPressure); every thread compares GC_SEQ with the last it saw at each turn of its loop
 * (an M) or every 25 ms (main and attached threads, an unref'd interval), just after it ends
 * its epoch (runtime/anchors.ts), and runs a full GC when it moved. The thread that asked
 * rings the parked ones (docs/design/memory.md, "Heap pressure").
 *
 * gc() is V8's, exposed with `v8.setFlagsFromString('--expose-gc')` before the Ms start (the
 * main thread takes it from a fresh context; workers made after the flag get globalThis.gc).
 * `start({ gcOnPressure: false })` leaves V8's flags alone; records are then released when
 * V8 collects on its own schedule.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Heap } from '../heap/heap.js';
import { H } from '../heap/layout.js';

type Gc = () => void;

let exposed: Gc | null = null;

/** Expose V8's gc() to this thread and to workers made after this call (main thread, start()). */
export function exposeGc(): void {
  if (exposed !== null || typeof (globalThis as { gc?: Gc }).gc === 'function') return;
  try {
    setFlagsFromString('--expose-gc');
    exposed = runInNewContext('gc') as Gc;
  } catch {
    exposed = null;
  }
}

/** This thread's gc(): the global one (node --expose-gc, or an M started after exposeGc), or exposeGc's; null if neither. */
export function threadGc(): Gc | null {
  const g = (globalThis as { gc?: Gc }).gc;
  return typeof g === 'function' ? g : exposed;
}

/** One thread's view of GC_SEQ. */
export class Pressure {
  private seen: number;
  /** Full collections this thread made on request. */
  collections = 0;

  constructor(
    private readonly heap: Heap,
    private readonly gc: Gc | null,
    /** Ring every other thread that may be parked. */
    private readonly ringAll: () => void,
  ) {
    this.seen = Atomics.load(heap.i32, H.GC_SEQ);
  }

  /** Whether the heap asked for a collection this thread has not made yet (one load). */
  asked(): boolean {
    return Atomics.load(this.heap.i32, H.GC_SEQ) !== this.seen;
  }

  /** Cheap: one load. Runs gc() if the heap asked since the last look; rings the others if this thread's refill asked. */
  poll(): void {
    if (this.heap.pressured) {
      this.heap.pressured = false;
      this.ringAll();
    }
    const s = Atomics.load(this.heap.i32, H.GC_SEQ);
    if (s === this.seen) return;
    this.seen = s;
    if (this.gc === null) return;
    this.collections++;
    this.gc();
  }
}
