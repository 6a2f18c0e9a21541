/**
 * What structured clone copies faithfully, and the walk over the containers of a value about
 * to be cloned or just deserialized. Shared by codec.ts (values between threads) and, through
 * the gort/internal entry point, by gort-nats (values between machines), so that both say
 * the same about the same value.
 *
 * - A plain prototype (`plainProtos`) is one whose instances structured clone copies with
 *   their type: Object (and null), Array, Map, Set, Date, RegExp, ArrayBuffer,
 *   SharedArrayBuffer, DataView and the boxed primitives. Typed arrays (`typedArrayProto`,
 *   ArrayBuffer.isView) and Errors are the callers' to accept.
 * - An uncloneable object (`uncloneableName`) has no copy at all: a WeakMap, WeakSet, WeakRef,
 *   FinalizationRegistry or Promise (a Promise subclass too).
 * - Any other prototype is a class instance, which would arrive as a plain object without its
 *   prototype and private fields (`classInstanceError`).
 * - `mapChildren` maps a plain container's children (array elements, Map keys and values, Set
 *   items, a plain object's own enumerable string keys), each with its path for messages,
 *   copying the container only if some child changed; `reviveChildren` replaces the children
 *   of a deserialized container in place.
 *
 * The errors are TypeErrors prefixed `gort:`, naming the value's path and where it was going
 * (`'another thread'`, `'another machine'`). Pure functions of their arguments; any thread.
 */

/** Prototypes whose instances structured clone copies with their type. */
export const plainProtos: ReadonlySet<unknown> = new Set<unknown>([
  Object.prototype,
  null,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  SharedArrayBuffer.prototype,
  DataView.prototype,
  Boolean.prototype,
  Number.prototype,
  String.prototype,
  BigInt.prototype,
]);

/** %TypedArray%.prototype, the prototype of Uint8Array.prototype and its siblings. */
export const typedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;

/** Objects structured clone refuses outright (not a prototype lost: no copy exists at all). */
const uncloneable = new Map<unknown, string>([
  [WeakMap.prototype, 'a WeakMap'],
  [WeakSet.prototype, 'a WeakSet'],
  [WeakRef.prototype, 'a WeakRef'],
  [FinalizationRegistry.prototype, 'a FinalizationRegistry'],
  [Promise.prototype, 'a Promise'],
]);

/** What v (of prototype proto) is, `'a WeakMap'` …, when structured clone has no copy of it; else undefined. */
export function uncloneableName(v: object, proto: object | null): string | undefined {
  return uncloneable.get(proto) ?? (v instanceof Promise ? 'a Promise' : undefined);
}

/** The TypeError for an uncloneable value (`name` from uncloneableName) sent to `where`. */
export function uncloneableError(path: string, name: string, where: string): TypeError {
  return new TypeError(
    `gort: ${path} is ${name}, which cannot be sent to ${where} at all (no copy of it can exist there)` +
      (name === 'a Promise' ? '; await it and send the result' : ''),
  );
}

/** The TypeError for a class instance (an object whose prototype is not plain) sent to `where`. */
export function classInstanceError(path: string, proto: object | null, where: string): TypeError {
  const name = (proto as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'unknown';
  return new TypeError(
    `gort: ${path} is an instance of class ${name}; class instances lose their prototype and private ` +
      `fields when sent to ${where}. Send a plain object (or its fields) instead`,
  );
}

/** The TypeError for a symbol sent to `where`. */
export function symbolError(path: string, where: string): TypeError {
  return new TypeError(`gort: ${path} is a symbol, which cannot be sent to ${where}`);
}

/**
 * f applied to each child of v, a container of a plain prototype `proto` (other plain values
 * have no children), with the child's path under `path`. Returns v itself when f returned
 * every child unchanged, else a copy of v holding f's results.
 */
export function mapChildren(v: object, proto: object | null, path: string, f: (x: unknown, path: string) => unknown): unknown {
  let out: unknown = v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = f(v[i], `${path}[${i}]`);
      if (r !== v[i]) {
        if (out === v) out = v.slice();
        (out as unknown[])[i] = r;
      }
    }
  } else if (v instanceof Map) {
    let changed = false;
    const entries: [unknown, unknown][] = [];
    for (const [k, x] of v) {
      const rk = f(k, `${path} key`);
      const rx = f(x, `${path}.get(${String(k)})`);
      if (rk !== k || rx !== x) changed = true;
      entries.push([rk, rx]);
    }
    if (changed) out = new Map(entries);
  } else if (v instanceof Set) {
    let changed = false;
    const items: unknown[] = [];
    for (const x of v) {
      const rx = f(x, `${path} item`);
      if (rx !== x) changed = true;
      items.push(rx);
    }
    if (changed) out = new Set(items);
  } else if (proto === Object.prototype || proto === null) {
    for (const k of Object.keys(v)) {
      const x = (v as Record<string, unknown>)[k];
      const r = f(x, `${path}.${k}`);
      if (r !== x) {
        if (out === v) out = { ...v };
        (out as Record<string, unknown>)[k] = r;
      }
    }
  }
  return out;
}

/**
 * Replace each child of v, just deserialized, by f(child), in place: array elements, Map keys
 * and values, Set items, a plain object's own enumerable string keys.
 */
export function reviveChildren(v: object, f: (x: unknown) => unknown): void {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = f(v[i]);
  } else if (v instanceof Map) {
    const entries = [...v];
    v.clear();
    for (const [k, x] of entries) v.set(f(k), f(x));
  } else if (v instanceof Set) {
    const items = [...v];
    v.clear();
    for (const x of items) v.add(f(x));
  } else {
    const proto = Object.getPrototypeOf(v) as object | null;
    if (proto === Object.prototype || proto === null) {
      for (const k of Object.keys(v)) (v as Record<string, unknown>)[k] = f((v as Record<string, unknown>)[k]);
    }
  }
}
