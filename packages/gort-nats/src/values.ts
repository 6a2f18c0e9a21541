/**
 * Values between machines: gort's own rules (structured clone, as a goroutine's argument or
 * a channel value is copied between threads), encoded with `v8.serialize` for the wire.
 *
 * What crosses: primitives (not symbols), plain objects, arrays, Map, Set, Date, RegExp,
 * ArrayBuffer and its (non-shared) views, Errors, and a module function
 * (`fromModule(url).name`), which travels as its URL and export name and is revived on the
 * receiving process as `fromModule(url)[name]` (so the module must be at the same URL there).
 *
 * What does not, each a TypeError at the sending call that names the value's path: a runtime
 * object (a Chan, WaitGroup, Mutex, Context, … anything carrying gort's handle symbol: its
 * state lives in one machine's shared memory), a SharedArrayBuffer or a view of one (shared
 * memory does not span machines), any other function (an inline function's table entry is
 * one runtime's), a class instance (it would lose its prototype), a Promise, a WeakMap,
 * WeakSet, WeakRef or FinalizationRegistry, a symbol. What structured clone copies faithfully,
 * the walk over a value's containers and those messages are gort's own (`gort/internal`, its
 * value/cloneable.ts, not gort's public API), so a value is judged here as gort judges it
 * between threads, plus the limits of crossing machines.
 *
 * Invariant: `encode` either throws a TypeError or returns bytes that `decode` turns back
 * into an equal value on any process with the same modules. `decode` of other bytes throws a
 * DecodeError naming what was being decoded, unless they happen to be a v8 serialization
 * (then it returns what they encode: the callers check a reply's shape). Any thread.
 */
import { serialize, deserialize } from 'node:v8';
import { fromModule } from 'gort';
import { DecodeError } from './errors.js';
// Not gort's public API: the rules gort's own codec applies between threads (value/cloneable.ts).
import {
  GORT_HANDLE,
  MODULE_REF,
  classInstanceError,
  mapChildren,
  plainProtos,
  reviveChildren,
  symbolError,
  uncloneableError,
  uncloneableName,
  type ModuleRef,
} from 'gort/internal';

const WHERE = 'another machine';
/** Key of the marker a module function travels as. */
const FN_MARK = '\u0000gort-nats.fn';

/** The module URL and export name of a `fromModule(url).name` function, or undefined. */
export function moduleRef(f: unknown): ModuleRef | undefined {
  if (typeof f !== 'function') return undefined;
  const r = (f as { [MODULE_REF]?: { url?: unknown; name?: unknown } })[MODULE_REF];
  return typeof r?.url === 'string' && typeof r.name === 'string' ? { url: r.url, name: r.name } : undefined;
}

function kindOf(v: object): string {
  const name = (Object.getPrototypeOf(v) as { constructor?: { name?: string } } | null)?.constructor?.name;
  return name ?? 'object';
}

/** Walk v; throw a TypeError at what cannot cross; replace module functions by markers. */
function check(v: unknown, path: string, seen: Map<object, unknown>): unknown {
  if (typeof v === 'function') {
    const ref = moduleRef(v);
    if (ref !== undefined) return { [FN_MARK]: [ref.url, ref.name] };
    throw new TypeError(
      `gort: ${path} is a function (${v.name || 'anonymous'}), which cannot be sent to another machine; ` +
        `only a module function (fromModule(url).name) can, as its module URL and name`,
    );
  }
  if (typeof v === 'symbol') throw symbolError(path, WHERE);
  if (typeof v !== 'object' || v === null) return v;
  if (seen.has(v)) return seen.get(v);
  if (GORT_HANDLE in v) {
    throw new TypeError(
      `gort: ${path} is a runtime object (${kindOf(v)}), which lives in one machine's shared memory and cannot be ` +
        `sent to another machine; use a cluster channel (net.chan(name)) or send plain data`,
    );
  }
  if (v instanceof SharedArrayBuffer || (ArrayBuffer.isView(v) && v.buffer instanceof SharedArrayBuffer)) {
    throw new TypeError(
      `gort: ${path} is a SharedArrayBuffer (or a view of one), which cannot be shared between machines; ` +
        `send a copy (new Uint8Array(view)) instead`,
    );
  }
  const proto = Object.getPrototypeOf(v) as object | null;
  const no = uncloneableName(v, proto);
  if (no !== undefined) throw uncloneableError(path, no, WHERE);
  if (ArrayBuffer.isView(v) || v instanceof Error) return v;
  if (!plainProtos.has(proto)) throw classInstanceError(path, proto, WHERE);
  seen.set(v, v);
  const out = mapChildren(v, proto, path, (x, p) => check(x, p, seen));
  if (out !== v) seen.set(v, out);
  return out;
}

/** The wire bytes of v, or a TypeError naming the part of v (under `path`) that cannot cross. */
export function encode(v: unknown, path: string): Uint8Array {
  const checked = check(v, path, new Map());
  try {
    return serialize(checked);
  } catch (e) {
    throw new TypeError(`gort: ${path} cannot be cloned: ${(e as Error).message}`, { cause: e });
  }
}

/** Revive the markers `check` left. */
function revive(v: unknown, seen: Set<object>): unknown {
  if (typeof v !== 'object' || v === null || seen.has(v)) return v;
  seen.add(v);
  if (!Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype && FN_MARK in v) {
    const [url, name] = (v as Record<string, [string, string]>)[FN_MARK]!;
    return (fromModule(url) as Record<string, unknown>)[name];
  }
  reviveChildren(v, (x) => revive(x, seen));
  return v;
}

/** The value of bytes made by `encode`; a DecodeError naming `what` (e.g. `a value on 'jobs'`) for other bytes. */
export function decode(bytes: Uint8Array, what: string): unknown {
  try {
    return revive(deserialize(bytes), new Set());
  } catch (e) {
    throw new DecodeError(`gort: ${what} (${bytes.length} bytes) could not be decoded: ${(e as Error).message}`, { cause: e });
  }
}
