/**
 * Values in shared memory: one 16-byte *slot* per value, plus an out-of-line block when the
 * value is not a primitive.
 *
 * | byte | slot field | meaning                                                        |
 * |------|------------|----------------------------------------------------------------|
 * | 0    | TAG        | Tag below                                                      |
 * | 4    | AUX        | INT: the value; STRING: string block; HANDLE: the handle; CLONED: bytes block; VIEW: view block; FUNC: function-table id |
 * | 8    | NUM (f64)  | NUMBER: the value; HANDLE: kind + 256 × generation             |
 *
 * Tags: UNDEF 0, NULL 1, FALSE 2, TRUE 3, NUMBER 4, STRING 5, HANDLE 6, CLONED 7, INT 8, FUNC 9, VIEW 10.
 *
 * A view of a SharedArrayBuffer as the whole value is a VIEW: a 32-byte block [handle,
 * generation, type, pad, byteOffset f64, length f64 (-1: tracking)], no serializer.
 *
 * Numbers, booleans, null, undefined and runtime handles are inline (no allocation); strings
 * are copied as UTF-16; anything else is checked (the rules of value/cloneable.ts, which
 * gort-nats applies between machines too), then encoded with structured-clone semantics
 * (`v8.serialize`). Runtime objects nested inside a cloned value are replaced by a
 * marker and revived on the other side, so a channel inside an object still costs one word.
 * A function travels as its function-table id (FUNC; nested: a marker), a fromModule() object
 * as its URL (nested only), both made and revived by shipping/fnvalue.ts.
 *
 * Invariants:
 * - `prepare` runs every check and may throw a TypeError naming the offending path; it
 *   allocates nothing but a function's table entry, registered as go() registers it (entries
 *   are permanent and shared, not part of the value). Given the heap, it checks that a runtime object's handle names a live
 *   record of the object's kind (heap.kindOf), so a forged handle object is refused where it
 *   is sent, not where it is decoded; revivers check the kind again on the receiving side. `write` allocates and cannot fail except on heap exhaustion, after
 *   which nothing it allocated is left behind.
 * - A slot's out-of-line block belongs to the slot: `read` with `consume` frees it, `drop`
 *   frees it without decoding. A block is freed exactly once.
 * - A slot holds one reference (value/refs.ts) to the record of every handle it carries: a
 *   HANDLE slot's own, and each handle inside a CLONED value (listed after the bytes, so that
 *   `drop` finds them without deserializing). `write` takes them; moving the slot's 16 bytes
 *   hands them over; `read` with `consume` hands a HANDLE slot's count to the object it makes
 *   (decoding.consume) and releases it only if none took it, and releases a CLONED value's
 *   after its objects retained their own; `drop` releases them.
 * - A handle carries its record's generation (heap.genOf). Decoding one whose record is gone
 *   or was reused (the generation or kind differs) is a RuntimeFatalError naming both, never
 *   an object for the wrong record.
 * Any thread.
 */
import { serialize, deserialize } from 'node:v8';
import type { Heap } from '../heap/heap.js';
import { fatal, RuntimeFatalError } from '../errors.js';
import { decoding, Kind, kindName } from './kinds.js';
import { release } from './refs.js';
import { Anchor, lendFrom } from '../runtime/anchors.js';
import { isLengthTracking, makeView, viewTypeOf, type SharedBuffers } from './shared.js';
import { FN_MARK, fnId, fnMarker, fnValue, moduleMarker, reviveFn } from '../shipping/fnvalue.js';
import { classInstanceError, mapChildren, plainProtos, reviveChildren, symbolError, typedArrayProto, uncloneableError, uncloneableName } from './cloneable.js';

export const Tag = { UNDEF: 0, NULL: 1, FALSE: 2, TRUE: 3, NUMBER: 4, STRING: 5, HANDLE: 6, CLONED: 7, INT: 8, FUNC: 9, VIEW: 10 } as const;

/**
 * Whether n travels as Tag.INT: an int32 that is not -0. Such a number must come out of the
 * slot as a small integer, not as a double read from the f64 view: V8 records the double in
 * the receiving code's type feedback and compiles that code for float arithmetic — a module
 * fib() fed its argument from a slot ran 2x slower on the Ms than on main, and `%` on doubles
 * calls fmod (docs/design/memory-model.md, "Numbers").
 */
function isInt(n: number): boolean {
  return (n | 0) === n && (n !== 0 || 1 / n > 0);
}
export const SLOT_BYTES = 16;

/** Runtime objects (channels, wait groups, …) implement this to travel as their handle. */
export const GORT_HANDLE: unique symbol = Symbol.for('gort.handle') as never;
export interface HandleObject {
  /** kind and handle; the runtime's own objects add their epoch and entry (runtime/anchors.ts), which may lend a count to the slot. */
  [GORT_HANDLE](): readonly [kind: number, handle: number, anchor?: unknown, index?: number];
}
/**
 * Revivers make the receiving thread's object for a handle. `g` is the G record of the
 * goroutine the value is decoded for (its argument, or what it received), or 0: the object
 * remembers it, so a park through it is attributed to the right goroutine even after awaits
 * that gort cannot see (docs/architecture.md, "What a goroutine is").
 */
type Reviver = (h: number, g: number) => unknown;
const revivers: Array<Reviver | undefined> = [];
export function registerHandleKind(kind: number, revive: Reviver): void {
  revivers[kind] = revive;
}
/** The live object for a handle on this thread (attach()). */
export function reviveHandle(kind: number, h: number): unknown {
  return revive(kind, h, 0);
}
function revive(kind: number, h: number, g: number): unknown {
  const r = revivers[kind];
  if (r === undefined) throw new TypeError(`gort: unknown runtime handle kind ${kind}`);
  return r(h, g);
}

/** A handle decoded from a slot must name a live record of its kind and generation. */
function checkLive(heap: Heap, kind: number, h: number, gen: number): void {
  const k = heap.kindOf(h);
  if (k === kind && heap.genOf(h) === gen) return;
  const name = kindName[kind] ?? `kind ${kind}`;
  const now = k < 0 ? 'no live record' : `a ${kindName[k] ?? (k === 0 ? 'data block' : `kind ${k}`)} of generation ${heap.genOf(h)}`;
  throw new RuntimeFatalError(`runtime: stale handle: a ${name} handle ${h} of generation ${gen} was decoded, but the heap holds ${now} there (its record was freed while a value still named it)`);
}

const MARK = '\u0000gort.handle';

/** This thread's shared-buffer table (set by runtime/thread.ts: the codec does not import threads). */
let sharedHere: () => SharedBuffers | undefined = () => undefined;
export function setSharedLookup(f: () => SharedBuffers | undefined): void {
  sharedHere = f;
}
function sharedFor(path: string): SharedBuffers {
  const s = sharedHere();
  if (s === undefined) throw new TypeError(`gort: ${path} is a SharedArrayBuffer (or a view of one), which can be shared only inside a running runtime`);
  return s;
}
registerHandleKind(Kind.SHARED_BUFFER, (h) => sharedFor('a decoded value').adopt(h));

/**
 * The marker a shared buffer or a view of one travels as inside a cloned value: its record,
 * the view's type (-1: the bare buffer), byte offset and length (-1: it tracks a growable
 * buffer's length).
 */
interface SharedMark {
  [MARK]: number;
  h: number;
  gen: number;
  t: number;
  o: number;
  n: number;
}
function sharedMark(v: SharedArrayBuffer | ArrayBufferView, path: string, heap: Heap | undefined, hs: number[]): SharedMark {
  const b = (v instanceof SharedArrayBuffer ? v : v.buffer) as SharedArrayBuffer;
  const h = sharedFor(path).handleFor(b).h;
  hs.push(h);
  const gen = heap === undefined ? 0 : heap.genOf(h);
  if (v instanceof SharedArrayBuffer) return { [MARK]: Kind.SHARED_BUFFER, h, gen, t: -1, o: 0, n: 0 };
  return { [MARK]: Kind.SHARED_BUFFER, h, gen, t: checkedViewType(v, path), o: v.byteOffset, n: viewLength(v) };
}
function checkedViewType(v: ArrayBufferView, path: string): number {
  const t = viewTypeOf(v);
  if (t < 0) throw new TypeError(`gort: ${path} is a view of a SharedArrayBuffer of a type gort cannot rebuild (${(Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'unknown'})`);
  return t;
}
/** A view's length as it travels: elements (bytes for a DataView), or -1 when it tracks a growable buffer. */
function viewLength(v: ArrayBufferView): number {
  if ((v.buffer as SharedArrayBuffer).growable && isLengthTracking(v)) return -1;
  return v instanceof DataView ? v.byteLength : (v as Uint8Array).length;
}

/** A value made ready for `write`: the checks are done, the bytes computed. */
export type Prepared =
  | { tag: 0 | 1 | 2 | 3 }
  | { tag: 4; num: number }
  | { tag: 5; str: string }
  | { tag: 6; kind: number; h: number; a: Anchor | undefined; ai: number }
  | { tag: 7; bytes: Uint8Array; handles: number[] | null }
  | { tag: 9; id: number }
  | { tag: 10; h: number; a: Anchor; ai: number; t: number; o: number; n: number };

const P_UNDEF = { tag: 0 } as const;
const P_NULL = { tag: 1 } as const;
const P_FALSE = { tag: 2 } as const;
const P_TRUE = { tag: 3 } as const;

/** [kind, handle, anchor?, index?] of a runtime object, checked against the heap when one is given. */
function handleOf(v: object, path: string, heap: Heap | undefined): readonly [number, number, unknown?, number?] {
  const r = (v as HandleObject)[GORT_HANDLE]() as unknown as ArrayLike<unknown> | null | undefined;
  const kind = r?.[0];
  const h = r?.[1] as number;
  if (typeof kind !== 'number' || revivers[kind] === undefined) {
    throw new TypeError(`gort: ${path} claims to be a runtime object but names no known kind of one`);
  }
  // kindOf is -1 for anything that is not a live block's handle (a non-number too).
  if (heap !== undefined && heap.kindOf(h) !== kind) {
    throw new TypeError(`gort: ${path} claims to be a runtime object, but its handle ${String(h)} names no live record of its kind (${kind})`);
  }
  return r as readonly [number, number, unknown?, number?];
}

export function prepare(v: unknown, path: string, heap?: Heap): Prepared {
  switch (typeof v) {
    case 'number':
      return { tag: 4, num: v };
    case 'boolean':
      return v ? P_TRUE : P_FALSE;
    case 'undefined':
      return P_UNDEF;
    case 'string':
      return { tag: 5, str: v };
    case 'function':
      return { tag: 9, id: fnId(v, path) };
    case 'symbol':
      throw symbolError(path, 'another thread');
    default:
      break;
  }
  if (v === null) return P_NULL;
  if (v instanceof SharedArrayBuffer) {
    const held = sharedFor(path).handleFor(v);
    return { tag: 6, kind: Kind.SHARED_BUFFER, h: held.h, a: held.anchor, ai: held.ai };
  }
  if (ArrayBuffer.isView(v) && v.buffer instanceof SharedArrayBuffer) {
    const held = sharedFor(path).handleFor(v.buffer);
    return { tag: 10, h: held.h, a: held.anchor, ai: held.ai, t: checkedViewType(v, path), o: v.byteOffset, n: viewLength(v) };
  }
  if (typeof v === 'object' && GORT_HANDLE in v) {
    const [kind, h, a, ai] = handleOf(v, path, heap);
    return { tag: 6, kind, h, a: a instanceof Anchor ? a : undefined, ai: ai ?? 0 };
  }
  const handles: number[] = [];
  const replaced = check(v, path, new Map(), heap, handles);
  try {
    return { tag: 7, bytes: serialize(replaced), handles: handles.length === 0 ? null : handles };
  } catch (e) {
    throw new TypeError(`gort: ${path} cannot be cloned: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Walk an object graph: reject what structured clone would reject or silently mangle
 * (symbols, class instances, which lose their prototype and private state, functions that
 * have no table entry), replace nested runtime objects, functions and fromModule() objects
 * by markers. Returns v itself when nothing was replaced.
 */
function check(v: unknown, path: string, seen: Map<object, unknown>, heap: Heap | undefined, hs: number[]): unknown {
  if (typeof v === 'function') return fnMarker(v, path);
  if (typeof v === 'symbol') throw symbolError(path, 'another thread');
  if (typeof v !== 'object' || v === null) return v;
  if (seen.has(v)) return seen.get(v);
  if (GORT_HANDLE in v) {
    const [kind, h] = handleOf(v, path, heap);
    hs.push(h);
    return { [MARK]: kind, h, gen: heap === undefined ? 0 : heap.genOf(h) };
  }
  const proto = Object.getPrototypeOf(v) as object | null;
  const never = uncloneableName(v, proto);
  if (never !== undefined) throw uncloneableError(path, never, 'another thread');
  if (v instanceof SharedArrayBuffer || (ArrayBuffer.isView(v) && v.buffer instanceof SharedArrayBuffer)) {
    // v8.serialize would copy it, where structured clone shares it: it travels as a marker
    // naming its record (value/shared.ts), the same marker each time it recurs in this value.
    const m = sharedMark(v, path, heap, hs);
    seen.set(v, m);
    return m;
  }
  if (ArrayBuffer.isView(v) || proto === typedArrayProto) return v;
  if (v instanceof Error) {
    return v;
  }
  if (!plainProtos.has(proto)) {
    const mod = moduleMarker(v);
    if (mod !== undefined) return mod;
    throw classInstanceError(path, proto, 'another thread');
  }
  seen.set(v, v);
  return mapChildren(v, proto, path, (x, p) => check(x, p, seen, heap, hs));
}

/** Revive markers left by `check`. */
function reviveDeep(heap: Heap, v: unknown, seen: Map<object, unknown>, g: number): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (seen.has(v)) return seen.get(v);
  if (FN_MARK in v) return reviveFn(v);
  if (MARK in v) {
    const m = v as unknown as SharedMark;
    const kind = m[MARK];
    checkLive(heap, kind, m.h, m.gen);
    let out = revive(kind, m.h, g);
    if (kind === Kind.SHARED_BUFFER && m.t >= 0) out = makeView(out as SharedArrayBuffer, m.t, m.o, m.n);
    seen.set(v, out); // a marker that recurs is one object, as the view or buffer it stands for was
    return out;
  }
  seen.set(v, v);
  reviveChildren(v, (x) => reviveDeep(heap, x, seen, g));
  return v;
}

/** Write p into the slot at byte offset `slot`. */
export function write(heap: Heap, slot: number, p: Prepared): void {
  let aux = 0;
  let num = 0;
  switch (p.tag) {
    case 4:
      num = p.num;
      break;
    case 5:
      aux = heap.allocString(p.str);
      break;
    case 6:
      if (p.a === undefined || !lendFrom(heap, p.a, p.ai, p.h)) heap.retain(p.h);
      aux = p.h;
      num = p.kind + 256 * heap.genOf(p.h);
      break;
    case 7: {
      // [byte count][bytes][pad to 4][handle count][handles]: the handles, for drop.
      const n = p.bytes.length;
      const hs = p.handles;
      const at = (4 + n + 3) & ~3;
      aux = heap.alloc(at + (hs === null ? 4 : 4 + 4 * hs.length));
      heap.i32[aux >> 2] = n;
      heap.u8.set(p.bytes, aux + 4);
      heap.i32[(aux + at) >> 2] = hs === null ? 0 : hs.length;
      if (hs !== null) {
        for (let k = 0; k < hs.length; k++) {
          heap.retain(hs[k]!);
          heap.i32[((aux + at) >> 2) + 1 + k] = hs[k]!;
        }
      }
      break;
    }
    case 9:
      aux = p.id;
      break;
    case 10: {
      if (!lendFrom(heap, p.a, p.ai, p.h)) heap.retain(p.h);
      aux = heap.alloc(VIEW_BYTES);
      const w = aux >> 2;
      heap.i32[w] = p.h;
      heap.i32[w + 1] = heap.genOf(p.h);
      heap.i32[w + 2] = p.t;
      heap.f64[(aux + 16) >> 3] = p.o;
      heap.f64[(aux + 24) >> 3] = p.n;
      break;
    }
    default:
      break;
  }
  if (p.tag === 4 && isInt(num)) {
    heap.i32[slot >> 2] = Tag.INT;
    heap.i32[(slot >> 2) + 1] = num;
    return;
  }
  heap.i32[slot >> 2] = p.tag;
  heap.i32[(slot >> 2) + 1] = aux;
  heap.f64[(slot + 8) >> 3] = num;
}

/** Encode v into the slot (prepare + write). */
export function encodeInto(heap: Heap, slot: number, v: unknown, path: string): void {
  if (typeof v === 'number') {
    if (isInt(v)) {
      heap.i32[slot >> 2] = Tag.INT;
      heap.i32[(slot >> 2) + 1] = v;
    } else {
      heap.i32[slot >> 2] = Tag.NUMBER;
      heap.f64[(slot + 8) >> 3] = v;
    }
    return;
  }
  write(heap, slot, prepare(v, path, heap));
}

/** Decode the slot (for goroutine g, or 0); with `consume`, free its out-of-line block. */
export function read(heap: Heap, slot: number, consume: boolean, g = 0): unknown {
  const i = slot >> 2;
  const tag = heap.i32[i]!;
  switch (tag) {
    case Tag.INT:
      return heap.i32[i + 1];
    case Tag.NUMBER:
      return heap.f64[(slot + 8) >> 3];
    case Tag.UNDEF:
      return undefined;
    case Tag.NULL:
      return null;
    case Tag.FALSE:
      return false;
    case Tag.TRUE:
      return true;
    case Tag.STRING: {
      const b = heap.i32[i + 1]!;
      const s = heap.readString(b);
      if (consume) heap.free(b);
      return s;
    }
    case Tag.HANDLE: {
      const num = heap.f64[(slot + 8) >> 3]!;
      const kind = num & 0xff;
      const h = heap.i32[i + 1]!;
      checkLive(heap, kind, h, (num - kind) / 256);
      decoding.checked = true;
      if (consume) decoding.consume = h; // the object made for h takes the slot's count
      let obj: unknown;
      try {
        obj = revive(kind, h, g);
      } finally {
        decoding.checked = false;
      }
      if (decoding.consume === h) {
        decoding.consume = 0;
        if (consume) release(heap, h); // no object took it
      }
      return obj;
    }
    case Tag.VIEW: {
      const b = heap.i32[i + 1]!;
      const h = heap.i32[b >> 2]!;
      checkLive(heap, Kind.SHARED_BUFFER, h, heap.i32[(b >> 2) + 1]!);
      if (consume) decoding.consume = h; // the buffer's new user object takes the slot's count
      const buf = revive(Kind.SHARED_BUFFER, h, g) as SharedArrayBuffer;
      const view = makeView(buf, heap.i32[(b >> 2) + 2]!, heap.f64[(b + 16) >> 3]!, heap.f64[(b + 24) >> 3]!);
      if (consume) {
        heap.free(b);
        if (decoding.consume === h) {
          decoding.consume = 0;
          release(heap, h); // the buffer already had its object here
        }
      }
      return view;
    }
    case Tag.CLONED: {
      const b = heap.i32[i + 1]!;
      const n = heap.i32[b >> 2]!;
      // slice(), not subarray(): deserialize() makes typed arrays that alias its input, and
      // the block is freed (and reused) right after; they must own a private copy.
      const v = deserialize(heap.u8.slice(b + 4, b + 4 + n)) as unknown;
      const out = reviveDeep(heap, v, new Map(), g);
      if (consume) dropCloned(heap, b);
      return out;
    }
    case Tag.FUNC:
      return fnValue(heap.i32[i + 1]!);
    default:
      return fatal(`value slot ${slot} has bad tag ${tag}`);
  }
}

const VIEW_BYTES = 32;
/** Free a VIEW block; the handle it names, whose count the caller releases. */
function dropView(heap: Heap, b: number): number {
  const h = heap.i32[b >> 2]!;
  heap.free(b);
  return h;
}

/** Free a CLONED block; release the handles it lists, or push them onto `into` (a destructor's). */
function dropCloned(heap: Heap, b: number, into?: number[]): void {
  const at = (b + 4 + heap.i32[b >> 2]! + 3) & ~3;
  const n = heap.i32[at >> 2]!;
  const hs = n === 0 ? null : Array.from(heap.i32.subarray((at >> 2) + 1, (at >> 2) + 1 + n));
  heap.free(b);
  if (hs === null) return;
  if (into !== undefined) into.push(...hs);
  else for (const h of hs) release(heap, h);
}

/**
 * drop() for a destructor (value/refs.ts): the handles the slot carries are pushed onto
 * `into` for the caller's release loop instead of released here, so that freeing a chain of
 * records that hold each other does not recurse.
 */
export function dropInto(heap: Heap, slot: number, into: number[]): void {
  const tag = heap.i32[slot >> 2]!;
  if (tag === Tag.STRING) heap.free(heap.i32[(slot >> 2) + 1]!);
  else if (tag === Tag.CLONED) dropCloned(heap, heap.i32[(slot >> 2) + 1]!, into);
  else if (tag === Tag.VIEW) into.push(dropView(heap, heap.i32[(slot >> 2) + 1]!));
  else if (tag === Tag.HANDLE) into.push(heap.i32[(slot >> 2) + 1]!);
  heap.i32[slot >> 2] = Tag.UNDEF;
}

/** dropArgs() for a destructor: handles go onto `into`. */
export function dropArgsInto(heap: Heap, block: number, into: number[]): void {
  if (block === 0) return;
  const n = heap.i32[block >> 2]!;
  for (let k = 0; k < n; k++) dropInto(heap, block + 8 + k * SLOT_BYTES, into);
  heap.free(block);
}

/** Free the slot's out-of-line block without decoding it, and release the handles it carries. */
export function drop(heap: Heap, slot: number): void {
  const tag = heap.i32[slot >> 2]!;
  if (tag === Tag.STRING) heap.free(heap.i32[(slot >> 2) + 1]!);
  else if (tag === Tag.CLONED) dropCloned(heap, heap.i32[(slot >> 2) + 1]!);
  else if (tag === Tag.VIEW) {
    heap.i32[slot >> 2] = Tag.UNDEF;
    release(heap, dropView(heap, heap.i32[(slot >> 2) + 1]!));
  } else if (tag === Tag.HANDLE) {
    heap.i32[slot >> 2] = Tag.UNDEF;
    release(heap, heap.i32[(slot >> 2) + 1]!);
  }
  heap.i32[slot >> 2] = Tag.UNDEF;
}

// ---- argument lists: [count word, pad word, slot × count] ----

/**
 * Encode argument k of fn into its slot. The path that an error names ("argument 1 of f") is
 * built only once encoding failed: made up front, it cost every go(f, wg) a string (a
 * template with a number in it) on the spawning thread, ~100 ns and ~50 B of garbage.
 */
function encodeArg(heap: Heap, slot: number, v: unknown, k: number, fn: unknown): void {
  try {
    encodeInto(heap, slot, v, '');
  } catch (e) {
    // prepare() makes every check before write() allocates: run it again to throw its error
    // naming the argument (a value that passed once, e.g. through a getter, keeps e).
    if (e instanceof TypeError) prepare(v, `argument ${k} of ${(fn as { name?: string } | null)?.name || 'anonymous'}`, heap);
    throw e;
  }
}

export function encodeArgs(heap: Heap, args: readonly unknown[], fn: unknown): number {
  const n = args.length;
  if (n === 0) return 0;
  // Straight into the block, slot by slot: no Prepared per argument. The spawn() loop of
  // sched/fine allocated ~60 B per call here, and every young-generation collection that
  // garbage triggers copies the 100,000 promises still pending on the main thread.
  const block = heap.alloc(8 + n * SLOT_BYTES);
  heap.i32[block >> 2] = n;
  let k = 0;
  try {
    for (; k < n; k++) encodeArg(heap, block + 8 + k * SLOT_BYTES, args[k], k, fn);
  } catch (e) {
    for (let j = 0; j < k; j++) drop(heap, block + 8 + j * SLOT_BYTES);
    heap.free(block);
    throw e;
  }
  return block;
}

export function decodeArgs(heap: Heap, block: number, g = 0): unknown[] {
  const n = heap.i32[block >> 2]!;
  const out: unknown[] = new Array(n);
  for (let k = 0; k < n; k++) out[k] = read(heap, block + 8 + k * SLOT_BYTES, true, g);
  heap.free(block);
  return out;
}

export function dropArgs(heap: Heap, block: number): void {
  if (block === 0) return;
  const n = heap.i32[block >> 2]!;
  for (let k = 0; k < n; k++) drop(heap, block + 8 + k * SLOT_BYTES);
  heap.free(block);
}
