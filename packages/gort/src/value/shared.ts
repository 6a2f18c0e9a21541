/**
 * Shared memory by reference: a SharedArrayBuffer, and a typed array or DataView over one,
 * travels between threads as a handle to the same memory, never as a copy.
 *
 * Registration. The first time a thread sends a buffer, it allocates a counted record for it
 * (Kind.SHARED_BUFFER, value/refs.ts: word 0 a serial number, unique in the runtime) and posts
 * the buffer object on the runtime's BroadcastChannel, which every thread of the runtime
 * listens on, before the handle is written anywhere. Node enqueues a posted message on every
 * listening port at once, so a thread that later decodes the handle finds the buffer there:
 * the event loop hands it over (onmessage), or the decoder pulls it synchronously
 * (receiveMessageOnPort), which works on a thread that has not turned its loop since.
 * Sending the buffer again, from any thread that has it, is a table look-up: no message.
 *
 * Per thread, for each live record:
 * - a *keeper*: the buffer object as it arrived from the channel (on the registering thread,
 *   a clone made at once), held strongly while the record lives and never handed to the program. From it the thread can make a new object
 *   for the memory after the program's was collected (structuredClone of a SharedArrayBuffer
 *   shares its memory).
 * - at most one *user object*: what decoding returns, a clone of the keeper (or, on the thread
 *   that registered the buffer, the program's own object). Decoding the same buffer again
 *   while it lives gives it again, so identity holds on each thread. It holds one count on the
 *   record in this thread's epochs (runtime/anchors.ts); the epoch's anchor is the value of a
 *   WeakMap entry keyed by the user object, so it lives at least as long as that object.
 * The record lives while a user object on some thread or a value slot names it; keepers do not
 * count. Once it is freed, every thread drops its keeper at its next sweep, which runs when
 * the table has doubled since the last (amortized O(1) per entry), at least once a second from
 * the thread's loop while the table is not empty, and after collect().
 *
 * A thread that joined after a buffer was posted (attach()) has no message for it: on a miss it
 * posts a request, and any thread that holds the keeper posts the buffer again (the main
 * thread listens from the runtime's first moment, so it always can).
 *
 * Invariants:
 * - The buffer is posted before its handle is published (prepare runs before write).
 * - Entries are keyed by serial, not handle: a freed record's block may be reused for another
 *   buffer's record, and messages from two threads may arrive in either order.
 * - A user object's count is released only through its epoch (never twice, never after the
 *   runtime stopped: Anchors).
 * One thread per instance: each thread has its own SharedBuffers.
 */
import { BroadcastChannel, receiveMessageOnPort } from 'node:worker_threads';
import { Serializer } from 'node:v8';
import type { Heap } from '../heap/heap.js';
import { H } from '../heap/layout.js';
import type { Anchor, Anchors } from '../runtime/anchors.js';
import { RuntimeFatalError } from '../errors.js';
import { decoding, Kind } from './kinds.js';

/** Bytes of a buffer's record: [serial, unused]. */
const REC_BYTES = 8;

/** What a thread knows of one registered buffer. */
interface Entry {
  readonly h: number;
  /** The keeper (undefined until its message arrived here; on the registering thread, a clone made at once). */
  k: SharedArrayBuffer | undefined;
  /** This thread's user object, if it made one. */
  u: WeakRef<SharedArrayBuffer> | undefined;
}

/** A user object's hold: its record and its count's epoch. */
export interface Held {
  readonly h: number;
  readonly serial: number;
  readonly anchor: Anchor;
  readonly ai: number;
}

type Message = { h: number; s: number; b: SharedArrayBuffer } | { want: number; h: number };

/** The channel name of a runtime: its heap's id. */
export function channelName(heap: Heap): string {
  return `gort.shared.${heap.i32[H.SHARED_ID]!}`;
}

/** The constructors a view can have, by the index that travels. */
export const VIEW_TYPES = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
] as const;
const viewIndex = new Map<unknown, number>(VIEW_TYPES.map((c, i) => [c.prototype, i]));

/** Index of a view's type in VIEW_TYPES (-1: not one of them). */
export function viewTypeOf(v: ArrayBufferView): number {
  return viewIndex.get(Object.getPrototypeOf(v)) ?? -1;
}

/**
 * Whether a view over a growable buffer tracks its buffer's length (made without a length).
 * No JS API tells; V8's own serializer writes it as bit 0 of the view's last field.
 */
export function isLengthTracking(v: ArrayBufferView): boolean {
  const s = new Serializer();
  (s as unknown as { _getSharedArrayBufferId(): number })._getSharedArrayBufferId = () => 0;
  s.writeValue(v);
  const b = s.releaseBuffer();
  return (b[b.length - 1]! & 1) !== 0;
}

/** Rebuild a view: type index t, byte offset o, length n in elements (bytes for a DataView), -1 when it tracks. */
export function makeView(b: SharedArrayBuffer, t: number, o: number, n: number): ArrayBufferView {
  const C = VIEW_TYPES[t] as (new (b: SharedArrayBuffer, o?: number, n?: number) => ArrayBufferView) | undefined;
  if (C === undefined) throw new RuntimeFatalError(`runtime: a shared view of unknown type ${t} was decoded`);
  return n < 0 ? new C(b, o) : new C(b, o, n);
}

export class SharedBuffers {
  /** The runtime's channel: this thread posts and listens on one instance (a post never comes back to it). */
  private readonly bc: BroadcastChannel;
  private readonly bySerial = new Map<number, Entry>();
  private readonly users = new WeakMap<SharedArrayBuffer, Held>();
  private sweepAt = 64;
  private sweptAt = 0;
  private closed = false;

  constructor(
    private readonly heap: Heap,
    private readonly anchors: Anchors,
  ) {
    this.bc = new BroadcastChannel(channelName(heap));
    this.bc.onmessage = (e: unknown) => this.take((e as { data: Message }).data);
    this.bc.unref();
  }

  /** Stop listening (the runtime stopped). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.bc.close();
    this.bySerial.clear();
  }

  /** The serial of live record h. */
  private serialOf(h: number): number {
    return this.heap.kindOf(h) === Kind.SHARED_BUFFER ? Atomics.load(this.heap.i32, h >> 2) : -1;
  }

  /**
   * The hold of buffer b's user object here (its record, and the epoch entry of its count, which
   * a slot may borrow from), registering b on its first trip from this thread.
   */
  handleFor(b: SharedArrayBuffer): Held {
    const held = this.users.get(b);
    if (held !== undefined) return held;
    if (this.closed) throw new RuntimeFatalError('runtime: a shared buffer was sent on a thread whose runtime stopped');
    const heap = this.heap;
    const h = heap.allocCounted(REC_BYTES, Kind.SHARED_BUFFER);
    const serial = (Atomics.add(heap.i32, H.SHARED_SEQ, 1) + 1) | 0;
    Atomics.store(heap.i32, h >> 2, serial);
    Atomics.store(heap.i32, (h >> 2) + 1, 0);
    this.bc.postMessage({ h, s: serial, b } satisfies Message);
    // This thread's keeper: its own post does not come back to it.
    const e: Entry = { h, k: structuredClone(b), u: undefined };
    this.bySerial.set(serial, e);
    const own = this.own(e, serial, b, this.anchors.take(h));
    this.sweepIfDue();
    return own;
  }

  /**
   * This thread's object for live record h (its handle just decoded and checked). A new user
   * object takes the consumed slot's count if there is one (decoding.consume), else one of its own.
   */
  adopt(h: number): SharedArrayBuffer {
    const serial = this.serialOf(h);
    let e = this.bySerial.get(serial);
    const u = e?.u?.deref();
    if (u !== undefined) return u;
    if (e === undefined || e.k === undefined) e = this.fetch(h, serial);
    const b = structuredClone(e.k!);
    let a: Anchor;
    if (decoding.consume === h) {
      decoding.consume = 0;
      a = this.anchors.take(h);
    } else a = this.anchors.retainTake(h);
    this.own(e, serial, b, a);
    return b;
  }

  private own(e: Entry, serial: number, b: SharedArrayBuffer, a: Anchor): Held {
    // The hold is reachable only through b's WeakMap entry: nothing else here may keep the
    // anchor, or the epoch (and up to 15 other records' counts) would outlive its objects.
    const held: Held = { h: e.h, serial, anchor: a, ai: this.anchors.index };
    e.u = new WeakRef(b);
    this.users.set(b, held);
    return held;
  }

  /** Take the messages that arrived (without turning the event loop). */
  private drain(): void {
    for (let m = receiveMessageOnPort(this.bc as never); m !== undefined; m = receiveMessageOnPort(this.bc as never)) {
      this.take((m as { message: Message }).message);
    }
  }

  private take(m: Message): void {
    if (this.closed) return;
    if ('want' in m) {
      const e = this.bySerial.get(m.want);
      const b = e?.k ?? e?.u?.deref();
      if (b !== undefined) this.bc.postMessage({ h: m.h, s: m.want, b } satisfies Message);
      return;
    }
    const e = this.bySerial.get(m.s);
    if (e === undefined) {
      this.bySerial.set(m.s, { h: m.h, k: m.b, u: undefined });
      this.sweepIfDue();
    } else if (e.k === undefined) e.k = m.b;
  }

  /** The entry with a keeper for record h: pull the channel, and ask the other threads if it is not there. */
  private fetch(h: number, serial: number): Entry {
    this.drain();
    let e = this.bySerial.get(serial);
    if (e?.k !== undefined) return e;
    // Joined after it was posted: ask, and wait for an answer from a thread's event loop.
    this.bc.postMessage({ want: serial, h } satisfies Message);
    const nap = new Int32Array(new SharedArrayBuffer(4));
    for (let waited = 0; waited < 10_000; waited++) {
      Atomics.wait(nap, 0, 0, 1);
      this.drain();
      e = this.bySerial.get(serial);
      if (e?.k !== undefined) return e;
    }
    throw new RuntimeFatalError(`runtime: shared buffer record ${h} (serial ${serial}) was decoded, but no thread sent its buffer within 10 s`);
  }

  /** Sweep when the table doubled since the last sweep. */
  private sweepIfDue(): void {
    if (this.bySerial.size >= this.sweepAt) this.sweep();
  }

  /** Called every few tens of ms by the thread's loop: sweep at least once a second while the table is not empty. */
  tick(now: number): void {
    if (this.bySerial.size > 0 && now - this.sweptAt > 1000) this.sweep();
  }

  /** Drop the keepers of freed records (and with them the memory of buffers no one uses). */
  sweep(): void {
    for (const [s, e] of this.bySerial) {
      if (e.u?.deref() === undefined && this.serialOf(e.h) !== s) this.bySerial.delete(s);
    }
    this.sweepAt = Math.max(64, 2 * this.bySerial.size);
    this.sweptAt = performance.now();
  }

  /** Entries in this thread's table (tests, stats). */
  get size(): number {
    return this.bySerial.size;
  }
}
