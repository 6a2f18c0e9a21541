/**
 * Anchors: how a thread's JS objects hold the records they wrap (value/refs.ts).
 *
 * Every runtime object (a Chan, a Context, …) owns one reference count on its record, kept
 * for it in an *epoch* (objects of one record made one after another share an entry): the objects a thread makes in one stretch (at most EPOCH of them, and
 * never across a turn of its loop or a collection) share one Anchor, which each of them keeps
 * alive, and one FinalizationRegistry registration. The anchor's Hold lists each object's
 * record and how many counts it holds there. Once every object of the epoch is collected,
 * the anchor is, and the callback releases them all.
 *
 * Why epochs and not an anchor per record or per object: V8 clears weak references only in a
 * full collection, so a registered object, and a WeakRef, survives every young-generation
 * collection until then and is copied and promoted: an anchor per object took the server
 * pattern of mem/churn (four objects a request) from ~45k to ~28k requests/s, its scavenges
 * from 0.1-0.3 ms to 3-7 ms, and main's V8 heap from 15 to 88 MB. An epoch promotes one
 * anchor for up to EPOCH objects, and needs no map: a handle decoded here takes the slot's
 * count into the current epoch (no atomic operation), whatever other objects the thread has
 * for it. The price: one object that lives long keeps the counts of the other objects of its
 * epoch (at most EPOCH - 1 records) until it is collected.
 *
 * Spare counts: an object that sends its handle gives the slot one of its own spare counts,
 * taking 64 from the record when it has none (Hold.ns[i] > 1 are spares): a loop of
 * go(f, wg) costs one atomic add on the record per 64 goroutines. Spares are released with
 * the epoch, or when the object is disposed.
 *
 * Invariants:
 * - A Hold entry's counts are released once: by the anchor's collection or by dispose()
 *   (which zeroes the entry), and never after the runtime that made this thread stopped or
 *   crashed (the heap may be gone or half-written).
 * - The registry's held value is the Hold, never the Anchor.
 * - A finalizer callback throws only for a broken invariant (a RuntimeFatalError), never for
 *   a lock refused after a worker died.
 * One thread only: each thread has its own Anchors.
 */
import type { Heap } from '../heap/heap.js';
import { release } from '../value/refs.js';
import { RuntimeStateError } from '../errors.js';

/** Objects per epoch. */
const EPOCH = 16;
/** Counts taken from a record at once to lend to slots. */
const LEND = 64;

/** The registry's held value: the records an epoch's objects hold, and how many counts each. */
class Hold {
  readonly hs: number[] = [];
  readonly ns: number[] = [];
  /** Released (by the collection of its anchor). */
  dead = false;
}

/** An epoch: kept alive by its objects (and by Anchors.current until the epoch ends). */
export class Anchor {
  constructor(readonly hold: Hold) {}
}

/**
 * An object of epoch a (entry i) is sending its handle h: give the slot one of the object's
 * spare counts, taking LEND more from the record when it has none. False if entry i does not
 * hold h (an embedded object, which shares its owner's entry) or holds nothing (disposed):
 * the caller takes a count of its own then.
 */
export function lendFrom(heap: Heap, a: Anchor, i: number, h: number): boolean {
  const { hs, ns } = a.hold;
  if (hs[i] !== h || ns[i] === 0 || a.hold.dead) return false;
  if (ns[i]! <= 1) {
    heap.retainN(h, LEND);
    ns[i]! += LEND;
  }
  ns[i]!--;
  return true;
}

export class Anchors {
  private readonly registry = new FinalizationRegistry<Hold>((h) => this.collected(h));
  private current: Anchor | null = null;

  constructor(
    private readonly heap: Heap,
    /** Whether this thread's runtime is still up (false after shutdown or a crash). */
    private readonly live: () => boolean,
  ) {}

  /**
   * Hold one count on record h for a new object, which the caller hands over (a new record's
   * first count, or a consumed slot's), in the current epoch; returns the epoch, to keep,
   * and sets `index` to the object's entry in it.
   */
  take(h: number): Anchor {
    let a = this.current;
    // The same record again in this epoch (each goroutine of a loop decoding its WaitGroup):
    // the entry holds one more count, shared by its objects.
    if (a !== null && h === this.lastH) {
      const ns = a.hold.ns;
      const i = this.lastI;
      if (ns[i]! > 0) {
        ns[i]!++;
        this.index = i;
        return a;
      }
    }
    if (a === null || a.hold.hs.length >= EPOCH) {
      a = new Anchor(new Hold());
      this.registry.register(a, a.hold);
      this.current = a;
    }
    this.index = a.hold.hs.length;
    a.hold.hs.push(h);
    a.hold.ns.push(1);
    this.lastH = h;
    this.lastI = this.index;
    return a;
  }

  /** The record and entry take() added last to the current epoch. */
  private lastH = 0;
  private lastI = 0;

  /** The entry take() made last (a field, not a tuple: no allocation). */
  index = 0;

  /** As take(), for a record the caller holds but whose count it keeps: one more count is taken. */
  retainTake(h: number): Anchor {
    this.heap.retain(h);
    return this.take(h);
  }

  /** End the current epoch: its objects alone keep it now (each loop turn, before a collection). */
  endEpoch(): void {
    this.current = null;
    this.lastH = 0;
  }


  /**
   * The object of epoch a at entry i was disposed: release its count now. An entry may be
   * shared by several objects of one record and hold spare counts: one count goes, the rest
   * stay until the epoch is collected.
   */
  dispose(a: Anchor, i: number): void {
    const hold = a.hold;
    if (hold.ns[i] === 0 || hold.dead) return;
    hold.ns[i]!--;
    this.releaseAll(hold.hs[i]!, 1);
  }

  private collected(hold: Hold): void {
    if (hold.dead) return;
    hold.dead = true;
    const { hs, ns } = hold;
    for (let i = 0; i < hs.length; i++) if (ns[i]! > 0) this.releaseAll(hs[i]!, ns[i]!);
  }

  private releaseAll(h: number, n: number): void {
    if (!this.live()) return;
    try {
      if (n > 1) this.heap.releaseN(h, n - 1);
      release(this.heap, h);
    } catch (e) {
      // A lock refused because a worker died between the check and here: the runtime is
      // stopping, and its heap with it. Anything else is a broken invariant: loud, not hidden.
      if (!(e instanceof RuntimeStateError)) throw e;
    }
  }
}
