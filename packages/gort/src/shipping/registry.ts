/**
 * The function table: how a goroutine's function reaches the thread that runs it.
 *
 * Two forms (docs/architecture.md, "Goroutine functions"):
 * - inline: the function's source, checked for free variables on the calling thread, stored
 *   in the heap and compiled once per thread with gort's names in scope;
 * - module: a (module URL, export name) pair made by `fromModule()`; each thread imports the
 *   module on first use, so the function may import anything and keep module state.
 *
 * Table entry (4 words at FN_TABLE + 16 * id):
 * | word | name  | note                                                         |
 * |------|-------|--------------------------------------------------------------|
 * | 0    | KIND  | 0 while being written; 1 inline, 2 module (Atomics.store, last) |
 * | 1    | SRC   | string: compiled body (inline) or module URL (module)        |
 * | 2    | NAME  | string: function name (inline) or export name (module)       |
 * | 3    | FLAGS | bit 0: the body is a per-goroutine factory (uses goid)       |
 *
 * Invariants: an id is registered (KIND stored) before any G naming it is published, so a
 * thread that reads a G sees its entry. Entries are immutable once published. Each thread
 * registers a given function or source once (caches below); two threads may register the
 * same source under two ids, which is harmless.
 *
 * Functions as values (shipping/fnvalue.ts): a function sent to another thread travels as its
 * id, registered by the sender's `valueId` (`idOf`'s refusals are returned, for the caller to
 * word). `valueOf(id)` makes the receiving thread's function for an id, once per thread, and
 * stamps it with the id: sending it on, or go() of it, finds the same entry without
 * registering anything. A direct call runs it on the calling thread: an inline function as
 * compiled here (a per-goroutine one, FLAG_PER_G, with goid() bound to the caller's goroutine
 * as known at the call: `goidNow`), a module function through `get` (imported on first use;
 * the call returns a promise).
 */
import { H } from '../heap/layout.js';
import type { Heap } from '../heap/heap.js';
import { FreeVariableError, fatal } from '../errors.js';
import { analyzeFunctionSource } from './freevars.js';
import { checkModuleUrl, importModule } from './typescript.js';
import { originOf, placeBody } from './origin.js';

export const FN_CAP = 16384;
const KIND_INLINE = 1;
const KIND_MODULE = 2;
const FLAG_PER_G = 1;

export const MODULE_REF: unique symbol = Symbol.for('gort.moduleRef') as never;
export interface ModuleRef {
  readonly url: string;
  readonly name: string;
}

/** What a thread runs for a table entry. */
export interface Compiled {
  readonly name: string;
  /** The function, or — when perG — a factory taking the goroutine's context. */
  readonly fn: (...args: never[]) => unknown;
  readonly perG: boolean;
}

/** Per-goroutine values bound into inline functions that use them. */
export interface GContext {
  readonly id: number;
}

/** Why a function cannot be in the table; the caller words the error for its own call. */
export type Refusal =
  | { readonly why: 'native' | 'class'; readonly name: string }
  | { readonly why: 'free'; readonly name: string; readonly names: readonly string[] };

type AnyFn = (...args: never[]) => unknown;

/** Names that an inline goroutine may use without declaring: the facade's exports. */
let namespace: Record<string, unknown> = {};
let gortNames = new Set<string>();
export function setNamespace(ns: Record<string, unknown>): void {
  namespace = ns;
  gortNames = new Set(Object.keys(ns));
}

const IMPORT_VAR = /\b(?:__vi_import_\d+__|__vite_ssr_import_\d+__)\b/g;
/** Helpers that source-to-source compilers inject into function bodies. */
const INJECTED = new Set(['__name']);
const ALWAYS_BOUND = new Set(['undefined', 'NaN', 'Infinity', 'globalThis', 'arguments']);

export function initFnTable(heap: Heap): void {
  const t = heap.alloc(FN_CAP * 16);
  heap.i32.fill(0, t >> 2, (t >> 2) + FN_CAP * 4);
  Atomics.store(heap.i32, H.FN_TABLE, t);
}

export class FnRegistry {
  /** Fallback identity cache for functions that cannot carry FN_ID (frozen ones). */
  private readonly byFn = new WeakMap<object, number>();
  private readonly bySrc = new Map<string, number>();
  private readonly byModule = new Map<string, number>();
  /** One symbol per registry: ids of one runtime never leak into the next. */
  private readonly key = Symbol('gort.fnId');
  private readonly compiled: Array<Compiled | Promise<Compiled> | undefined> = [];
  private readonly modules = new Map<string, Promise<Record<string, unknown>>>();
  /** This thread's function value for each id received (valueOf). */
  private readonly values: Array<AnyFn | undefined> = [];

  constructor(
    private readonly heap: Heap,
    /** The calling goroutine's id, for a direct call of a per-goroutine inline function (valueOf). */
    private readonly goidNow: () => number = () => 0,
  ) {}

  /** The table id for fn, registering it on first use. Throws at the call site on misuse. */
  idOf(fn: unknown): number {
    if (typeof fn !== 'function') throw new TypeError(`gort: go() and spawn() take a function, got ${typeof fn}`);
    const id = this.valueId(fn);
    if (typeof id === 'number') return id;
    if (id.why === 'free') throw new FreeVariableError(id.names, id.name);
    if (id.why === 'class') throw new TypeError(`gort: ${id.name} is a class, not a function`);
    throw new TypeError(`gort: ${id.name} is a native or bound function; goroutines need a function with source, or fromModule()`);
  }

  /** idOf for a function sent as a value: what keeps it out of the table is returned, not thrown. */
  valueId(fn: Function): number | Refusal {
    // An own property keyed by a per-registry symbol: ~10 ns, where a WeakMap entry costs
    // ~150 ns and GC work for every fresh closure (`go(() => …)` in a loop makes one each time).
    const f = fn as unknown as Record<symbol, number | undefined>;
    const known = f[this.key] ?? this.byFn.get(fn);
    if (known !== undefined) return known;
    const ref = (fn as unknown as { [MODULE_REF]?: ModuleRef })[MODULE_REF];
    const id = ref !== undefined ? this.registerModule(ref) : this.registerInline(fn);
    if (typeof id === 'number') this.stamp(fn, id);
    return id;
  }

  private stamp(fn: Function, id: number): void {
    if (Object.isExtensible(fn)) (fn as unknown as Record<symbol, number>)[this.key] = id;
    else this.byFn.set(fn, id);
  }

  private registerModule(ref: ModuleRef): number {
    const key = `${ref.url}#${ref.name}`;
    let id = this.byModule.get(key);
    if (id === undefined) {
      checkModuleUrl(ref.url);
      id = this.publish(KIND_MODULE, ref.url, ref.name, 0);
      this.byModule.set(key, id);
    }
    return id;
  }

  private registerInline(fn: Function): number | Refusal {
    const src = Function.prototype.toString.call(fn);
    const cached = this.bySrc.get(src);
    if (cached !== undefined) return cached;
    const name = fn.name || 'anonymous';
    if (src.endsWith('{ [native code] }')) return { why: 'native', name };
    const report = analyzeFunctionSource(src);
    if (report.kind === 'class') return { why: 'class', name };
    const bad: string[] = [];
    const used: string[] = [];
    for (const v of report.free) {
      if (gortNames.has(v)) used.push(v);
      else if (!(v in globalThis) && !ALWAYS_BOUND.has(v) && !INJECTED.has(v)) bad.push(v);
    }
    for (const m of report.importMembers) if (m !== '*' && !gortNames.has(m)) bad.push(m);
    if (bad.length > 0) return { why: 'free', name, names: bad };
    const perG = used.includes('goid') || report.importMembers.includes('goid');
    let prologue = '"use strict";';
    const shared = used.filter((v) => v !== 'goid');
    if (shared.length > 0) prologue += `const {${shared.join(',')}} = __ns;`;
    // vitest rewrites `goid()` to `__vi_import_N__.goid()`: give such a goroutine its own view.
    const nsExpr = perG ? '{ ...__ns, goid: () => __g.id }' : '__ns';
    for (const v of new Set(src.match(IMPORT_VAR) ?? [])) prologue += `const ${v} = ${nsExpr};`;
    if (src.includes('__name')) prologue += 'const __name = (f) => f;';
    if (perG) prologue += 'const goid = () => __g.id;';
    const expr = report.isMethod ? `Object.values({${src}})[0]` : `(${src})`;
    const body = placeBody(prologue, `return ${expr};`, originOf(src));
    const id = this.publish(KIND_INLINE, body, name, perG ? FLAG_PER_G : 0);
    this.bySrc.set(src, id);
    return id;
  }

  private publish(kind: number, src: string, name: string, flags: number): number {
    const heap = this.heap;
    const id = Atomics.add(heap.i32, H.FN_COUNT, 1);
    if (id >= FN_CAP) throw new RangeError(`gort: more than ${FN_CAP} distinct goroutine functions`);
    const e = (heap.i32[H.FN_TABLE]! >> 2) + id * 4;
    const s = heap.allocString(src);
    const n = heap.allocString(name);
    heap.i32[e + 1] = s;
    heap.i32[e + 2] = n;
    heap.i32[e + 3] = flags;
    Atomics.store(heap.i32, e, kind); // publish the entry; pairs with load(KIND) in get
    return id;
  }

  /** A name for dumps and errors. Any thread. */
  nameOf(id: number): string {
    return fnNameOf(this.heap, id);
  }

  /**
   * The function value for entry id on this thread, made once and stamped with id (see the
   * header): an inline function compiled here, or a module function's async caller.
   */
  valueOf(id: number): AnyFn {
    const known = this.values[id];
    if (known !== undefined) return known;
    if (!(id >= 0 && id < Atomics.load(this.heap.i32, H.FN_COUNT) && id < FN_CAP)) fatal(`a function value names table entry ${id}, which was never registered`);
    const heap = this.heap;
    const e = (heap.i32[H.FN_TABLE]! >> 2) + id * 4;
    let f: AnyFn;
    if (Atomics.load(heap.i32, e) === KIND_MODULE) {
      const ref: ModuleRef = { url: heap.readString(heap.i32[e + 1]!), name: heap.readString(heap.i32[e + 2]!) };
      const call = async (...args: never[]): Promise<unknown> => {
        const c = this.get(id);
        return (c instanceof Promise ? await c : c).fn(...args);
      };
      f = Object.defineProperty(call, MODULE_REF, { value: ref });
      Object.defineProperty(f, 'name', { value: ref.name });
    } else {
      const c = this.get(id) as Compiled; // inline: compiled synchronously (get refuses an unpublished entry)
      if (!c.perG) f = c.fn;
      else {
        const make = c.fn as unknown as (g: GContext) => (...a: unknown[]) => unknown;
        const goidNow = this.goidNow;
        f = function (this: unknown, ...args: unknown[]): unknown {
          return make({ id: goidNow() }).apply(this, args);
        } as AnyFn;
      }
      // The sender's name for it (`const triple = (x) => …` compiles to an unnamed arrow).
      if (f.name !== c.name && c.name !== 'anonymous') Object.defineProperty(f, 'name', { value: c.name });
    }
    this.stamp(f, id);
    this.values[id] = f;
    return f;
  }

  /** The runnable form of entry id on this thread: compiled once, or imported once. */
  get(id: number): Compiled | Promise<Compiled> {
    const c = this.compiled[id];
    if (c !== undefined) return c;
    const heap = this.heap;
    const e = (heap.i32[H.FN_TABLE]! >> 2) + id * 4;
    const kind = Atomics.load(heap.i32, e);
    const src = heap.readString(heap.i32[e + 1]!);
    const name = heap.readString(heap.i32[e + 2]!);
    const flags = heap.i32[e + 3]!;
    if (kind === KIND_INLINE) {
      // eslint-disable-next-line @typescript-eslint/no-implied-eval
      const factory = new Function('__ns', '__g', src) as (ns: unknown, g: unknown) => (...a: never[]) => unknown;
      const perG = (flags & FLAG_PER_G) !== 0;
      const out: Compiled = perG
        ? { name, perG, fn: ((g: GContext) => factory(namespace, g)) as never }
        : { name, perG, fn: factory(namespace, null) };
      this.compiled[id] = out;
      return out;
    }
    if (kind !== KIND_MODULE) fatal(`function table entry ${id} is not published`);
    const p = this.importModule(src).then((mod) => {
      const f = mod[name];
      if (typeof f !== 'function') {
        throw new TypeError(`gort: module ${src} has no exported function '${name}'`);
      }
      const out: Compiled = { name: `${name} (${src.slice(src.lastIndexOf('/') + 1)})`, perG: false, fn: f as never };
      this.compiled[id] = out;
      return out;
    });
    this.compiled[id] = p;
    p.catch(() => {
      this.compiled[id] = undefined; // let a later G retry and report the error again
    });
    return p;
  }

  private importModule(url: string): Promise<Record<string, unknown>> {
    let p = this.modules.get(url);
    if (p === undefined) {
      p = importModule(url);
      this.modules.set(url, p);
    }
    return p;
  }
}

/** Entry id's name for dumps and errors, read from the table: any thread, with or without a registry (sysmon). */
export function fnNameOf(heap: Heap, id: number): string {
  const e = (heap.i32[H.FN_TABLE]! >> 2) + id * 4;
  const kind = Atomics.load(heap.i32, e);
  if (kind === 0) return `fn#${id}`;
  const name = heap.readString(heap.i32[e + 2]!);
  if (kind === KIND_MODULE) {
    const url = heap.readString(heap.i32[e + 1]!);
    return `${name} (${url.slice(url.lastIndexOf('/') + 1)})`;
  }
  return name;
}
