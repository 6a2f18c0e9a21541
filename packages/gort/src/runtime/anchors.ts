/**
 * Anchors: how a thread's JS objects hold the records they wrap (value/refs.ts).
 *
 * A thread may make many JS objects for one record (each goroutine decodes its own copy of
 * an argument, each receive makes a new object). They share one Anchor per (thread, record):
 * the anchor holds one reference count, every wrapper holds the anchor, and a
 * FinalizationRegistry releases the count once the anchor is collected, which happens only
 * after every wrapper on this thread is. So a wrapper never costs a registration of its own:
 * decoding a handle the thread already holds is a Map look-up and a WeakRef deref.
 *
 * Invariants:
 * - An anchor in the map whose WeakRef still derefs holds a count on its record, so that
 *   record is live and its handle names it: a handle found in the map is never stale.
 * - A cell is released once: by its anchor's collection or by dispose(), whichever comes
 *   first marks it dead. The registry's held value is the cell, never the anchor.
 * - Nothing is released after the runtime that made this thread stopped or crashed (the heap
 *   may be gone or half-written), and a finalizer callback never throws.
 *
 * Lag: a finalizer runs only after a major GC, in a later task. The runtime asks its threads
 * to collect under heap pressure (runtime/pressure.ts); deterministic paths (a cancel, a
 * close) free what they can without waiting for either.
 * One thread only: each thread has its own Anchors.
 */
import type { Heap } from '../heap/heap.js';
import { release } from '../value/refs.js';

class Cell {
  dead = false;
  constructor(readonly h: number) {}
}

/** One thread's hold on one record; wrappers keep it alive. */
export class Anchor {
  /** Wrappers made with it and not disposed (dispose releases early when the last goes). */
  n = 1;
  constructor(readonly cell: Cell) {}
}

export class Anchors {
  private readonly map = new Map<number, WeakRef<Anchor>>();
  private readonly registry = new FinalizationRegistry<Cell>((c) => this.collected(c));

  constructor(
    private readonly heap: Heap,
    /** Whether this thread's runtime is still up (false after shutdown or a crash). */
    private readonly live: () => boolean,
  ) {}

  /** An anchor for record h whose reference the caller hands over (a new record's first). */
  adopt(h: number): Anchor {
    const a = new Anchor(new Cell(h));
    this.registry.register(a, a.cell);
    this.map.set(h, new WeakRef(a));
    return a;
  }

  /** The anchor for record h, which the caller holds a reference to (it is live). */
  hold(h: number): Anchor {
    const a = this.map.get(h)?.deref();
    if (a !== undefined) {
      a.n++;
      return a;
    }
    this.heap.retain(h);
    return this.adopt(h);
  }

  /** A wrapper of a was disposed: release a's count now if no other wrapper was made with it. */
  dispose(a: Anchor): void {
    if (--a.n > 0 || a.cell.dead) return;
    this.drop(a.cell);
  }

  /** Records held by anchors on this thread (live or awaiting their finalizer). */
  get size(): number {
    return this.map.size;
  }

  private collected(c: Cell): void {
    if (!c.dead) this.drop(c);
  }

  private drop(c: Cell): void {
    c.dead = true;
    const r = this.map.get(c.h);
    if (r !== undefined && (r.deref() === undefined || r.deref()!.cell === c)) this.map.delete(c.h);
    if (!this.live()) return;
    try {
      release(this.heap, c.h);
    } catch {
      // A lock refused because a worker died between the check and here: the runtime is
      // stopping, and its heap with it.
    }
  }
}
