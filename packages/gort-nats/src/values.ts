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
 * WeakSet, WeakRef or FinalizationRegistry, a symbol.
 *
 * Invariant: `encode` either throws a TypeError or returns bytes that `decode` turns back
 * into an equal value on any process with the same modules. Any thread.
 */
import { serialize, deserialize } from 'node:v8';
import { fromModule } from 'gort';

/** gort's runtime objects carry this (gort value/codec.ts, GORT_HANDLE). */
const GORT_HANDLE = Symbol.for('gort.handle');
/** gort's module functions carry {url, name} under this (gort shipping/registry.ts, MODULE_REF). */
const MODULE_REF = Symbol.for('gort.moduleRef');
/** Key of the marker a module function travels as. */
const FN_MARK = '\u0000gort-nats.fn';

/** The module URL and export name of a `fromModule(url).name` function, or undefined. */
export function moduleRef(f: unknown): { url: string; name: string } | undefined {
  if (typeof f !== 'function') return undefined;
  const r = (f as unknown as Record<symbol, unknown>)[MODULE_REF] as { url?: unknown; name?: unknown } | undefined;
  return typeof r?.url === 'string' && typeof r.name === 'string' ? { url: r.url, name: r.name } : undefined;
}

const plainProtos = new Set<unknown>([
  Object.prototype,
  null,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
  Boolean.prototype,
  Number.prototype,
  String.prototype,
  BigInt.prototype,
]);
const never = new Map<unknown, string>([
  [WeakMap.prototype, 'a WeakMap'],
  [WeakSet.prototype, 'a WeakSet'],
  [WeakRef.prototype, 'a WeakRef'],
  [FinalizationRegistry.prototype, 'a FinalizationRegistry'],
  [Promise.prototype, 'a Promise'],
]);

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
  if (typeof v === 'symbol') throw new TypeError(`gort: ${path} is a symbol, which cannot be sent to another machine`);
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
  const no = never.get(proto) ?? (v instanceof Promise ? 'a Promise' : undefined);
  if (no !== undefined) {
    throw new TypeError(`gort: ${path} is ${no}, which cannot be sent to another machine` + (no === 'a Promise' ? '; await it and send the result' : ''));
  }
  if (ArrayBuffer.isView(v) || v instanceof Error) return v;
  if (!plainProtos.has(proto)) {
    throw new TypeError(
      `gort: ${path} is an instance of class ${kindOf(v)}; class instances lose their prototype and private ` +
        `fields when sent to another machine. Send a plain object (or its fields) instead`,
    );
  }
  seen.set(v, v);
  let out: unknown = v;
  const swap = (i: string | number, x: unknown, r: unknown): void => {
    if (r === x) return;
    if (out === v) out = Array.isArray(v) ? v.slice() : { ...(v as object) };
    (out as Record<string | number, unknown>)[i] = r;
  };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) swap(i, v[i], check(v[i], `${path}[${i}]`, seen));
  } else if (v instanceof Map) {
    let changed = false;
    const entries: [unknown, unknown][] = [];
    for (const [k, x] of v) {
      const rk = check(k, `${path} key`, seen);
      const rx = check(x, `${path}.get(${String(k)})`, seen);
      if (rk !== k || rx !== x) changed = true;
      entries.push([rk, rx]);
    }
    if (changed) out = new Map(entries);
  } else if (v instanceof Set) {
    let changed = false;
    const items: unknown[] = [];
    for (const x of v) {
      const rx = check(x, `${path} item`, seen);
      if (rx !== x) changed = true;
      items.push(rx);
    }
    if (changed) out = new Set(items);
  } else if (proto === Object.prototype || proto === null) {
    for (const k of Object.keys(v)) swap(k, (v as Record<string, unknown>)[k], check((v as Record<string, unknown>)[k], `${path}.${k}`, seen));
  }
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
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i], seen);
  } else if (v instanceof Map) {
    const entries = [...v].map(([k, x]) => [revive(k, seen), revive(x, seen)] as const);
    v.clear();
    for (const [k, x] of entries) v.set(k, x);
  } else if (v instanceof Set) {
    const items = [...v].map((x) => revive(x, seen));
    v.clear();
    for (const x of items) v.add(x);
  } else if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
    for (const k of Object.keys(v)) (v as Record<string, unknown>)[k] = revive((v as Record<string, unknown>)[k], seen);
  }
  return v;
}

/** The value of bytes made by `encode`. */
export function decode(bytes: Uint8Array): unknown {
  return revive(deserialize(bytes), new Set());
}
