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
 * Spare counts: a cell may hold more than its one count (`extra`). A value decoded on this
 * thread hands its slot's count to the anchor its object took (absorbSlotRef) instead of
 * releasing it, and a value encoded here takes one from there (lendSlotRef) instead of
 * raising the record's count, which it raises 64 at a time when it has none to spare: a
 * loop of go(f, wg) costs one atomic add on the record per 64 goroutines, and the M that
 * decodes them none. The cell releases 1 + extra when it is dropped; above 65,536 spare
 * counts it gives half back at once. Spare counts never outlive the anchor, so they delay
 * no record's free beyond the last object on this thread.
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
import { RuntimeStateError } from '../errors.js';

class Cell {
  dead = false;
  /** Counts held beyond the anchor's own (see above). */
  extra = 0;
  constructor(readonly h: number) {}
}

/**
 * The cell of the anchor the last hold() or adopt() on this thread returned (module state is
 * per thread). The cell, not the anchor: holding the anchor would keep it from being collected.
 */
let last: Cell | null = null;

/**
 * A value slot naming h was consumed on this thread and its object took `last`'s anchor:
 * keep the slot's count there. False if that is not the anchor just taken (release it then).
 */
export function absorbSlotRef(heap: Heap, h: number): boolean {
  const c = last;
  if (c === null || c.h !== h || c.dead) return false;
  if (++c.extra >= 1 << 16) {
    heap.releaseN(h, 1 << 15);
    c.extra -= 1 << 15;
  }
  return true;
}

/**
 * A slot is being written with a handle whose object holds anchor a: give it one of a's
 * spare counts (taking 64 more from the record when none is left). False if a's cell was
 * already dropped (a disposed object): the caller takes a count of its own then.
 */
export function lendSlotRef(heap: Heap, a: Anchor): boolean {
  const c = a.cell;
  if (c.dead) return false;
  if (c.extra === 0) {
    heap.retainN(c.h, 64);
    c.extra = 64;
  }
  c.extra--;
  return true;
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
    const r = new WeakRef(a);
    this.map.set(h, r);
    this.lastH = h;
    this.lastRef = r;
    last = a.cell;
    return a;
  }

  /** The last hold()'s record and anchor: a run of decodes of one handle skips the map. */
  private lastH = 0;
  private lastRef: WeakRef<Anchor> | undefined;

  /** The anchor for record h, which the caller holds a reference to (it is live). */
  hold(h: number): Anchor {
    const a = (h === this.lastH ? this.lastRef!.deref() : undefined) ?? this.find(h);
    // A disposed object's anchor may still be reachable (through that object) but holds nothing.
    if (a !== undefined && !a.cell.dead) {
      a.n++;
      last = a.cell;
      return a;
    }
    this.heap.retain(h);
    return this.adopt(h);
  }

  private find(h: number): Anchor | undefined {
    const r = this.map.get(h);
    if (r === undefined) return undefined;
    this.lastH = h;
    this.lastRef = r;
    return r.deref();
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
      if (c.extra > 0) this.heap.releaseN(c.h, c.extra);
      release(this.heap, c.h);
    } catch (e) {
      // A lock refused because a worker died between the check and here: the runtime is
      // stopping, and its heap with it. Anything else is a broken invariant: loud, not hidden.
      if (!(e instanceof RuntimeStateError)) throw e;
    }
  }
}
