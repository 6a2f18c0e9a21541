/**
 * Functions as values, as Go passes `func` values: a function sent to another thread (a go()
 * or spawn() argument, a channel value, a select send, a goroutine's result, or nested in
 * any of these) travels as its function-table id (shipping/registry.ts), and a fromModule()
 * object as its module URL.
 *
 * What can be sent: a module function (`fromModule(url).name`), an inline function the table
 * takes (one go() would accept: no free variables but JS globals and gort's names), and a
 * function value received earlier (it carries its id). Encoding registers an inline function
 * on first use, as go() does; entries are never freed, so there is nothing to release when a
 * slot holding an id is dropped. What cannot be sent, a native or bound function, a class, a
 * function with free variables, is a TypeError at the sending call that names the value's
 * path and says what to send instead; the advice never points back at sending it.
 *
 * On the receiving thread (registry.ts `valueOf`), an id becomes one function per thread and
 * id, stamped with the id: go()/spawn()/Group.go of it, or sending it on, reuse the entry.
 * Calling it runs it on the calling thread: an inline function as itself (one that uses
 * goid() gets the caller's goroutine id as known at the call), a module function through an
 * async caller that imports the module on this thread's first use (so it returns a promise,
 * as `fromModule(url).name` does on the sending side).
 *
 * value/codec.ts uses this module at four places: `prepare` (Tag.FUNC, AUX = id), `check`
 * (a nested function or fromModule() object becomes a marker), `reviveDeep` (the marker
 * back), `read` (Tag.FUNC). Any thread with a runtime.
 */
import { RuntimeStateError } from '../errors.js';
import { MODULE_REF, type FnRegistry, type ModuleRef, type Refusal } from './registry.js';

/** Key of a nested function's marker: its table id (number), or a fromModule() object's URL (string). */
export const FN_MARK = '\u0000gort.fn';
/** A fromModule() object's own URL, so that it can be sent (as its URL) and revived. */
const MODULE_URL: unique symbol = Symbol('gort.moduleUrl') as never;

type AnyFn = (...args: never[]) => unknown;

/** This thread's function table registry (set by runtime/thread.ts: the codec does not import threads). */
let fnsHere: () => FnRegistry | undefined = () => undefined;
export function setFnLookup(f: () => FnRegistry | undefined): void {
  fnsHere = f;
}
function fns(what: string): FnRegistry {
  const r = fnsHere();
  if (r === undefined) throw new RuntimeStateError(`gort: ${what} needs a running runtime: call it inside run(main), or after start()`);
  return r;
}

/** The table id of fn, a value being sent at `path`; a TypeError saying what to send instead if it has none. */
export function fnId(fn: Function, path: string): number {
  const r = fns('sending a function').valueId(fn);
  if (typeof r === 'number') return r;
  throw refused(path || 'a value', r);
}

function refused(path: string, r: Refusal): TypeError {
  const base = r.name.replace(/^bound /, '');
  const mod = `move it into a module and pass fromModule(url).${base === 'anonymous' || base === '' ? 'name' : base}`;
  if (r.why === 'free') {
    const list = r.names.map((v) => `'${v}'`).join(', ');
    return new TypeError(
      `gort: ${path} is a function (${r.name}) that uses ${list} from an outer scope, which it would not ` +
        `have on another thread; make ${r.names.length > 1 ? 'them parameters' : 'it a parameter'} and pass the ` +
        `value${r.names.length > 1 ? 's' : ''} as arguments, or ${mod}`,
    );
  }
  if (r.why === 'class') {
    return new TypeError(
      `gort: ${path} is a class (${r.name}), which cannot be sent to another thread; send plain data, or ` +
        `export a function that uses the class from a module and pass fromModule(url).thatFunction`,
    );
  }
  return new TypeError(
    `gort: ${path} is a native or bound function (${r.name}), which has no source to send to another thread; ` +
      `send a JS function that calls it instead (for a bound function: the function itself, with the bound ` +
      `values as arguments), or ${mod}`,
  );
}

/** The marker standing for a function nested in a cloned value (value/codec.ts check). */
export function fnMarker(fn: Function, path: string): object {
  return { [FN_MARK]: fnId(fn, path) };
}

/** The marker standing for a fromModule() object nested in a cloned value, or undefined if v is not one. */
export function moduleMarker(v: object): object | undefined {
  const url = (v as { [MODULE_URL]?: string })[MODULE_URL];
  return url === undefined ? undefined : { [FN_MARK]: url };
}

/** The value a marker stands for, on this thread. */
export function reviveFn(marker: object): unknown {
  const x = (marker as Record<string, unknown>)[FN_MARK];
  return typeof x === 'string' ? moduleFunctions(x) : fnValue(x as number);
}

/** This thread's function for table entry id (Tag.FUNC). */
export function fnValue(id: number): AnyFn {
  return fns('receiving a function').valueOf(id);
}

/**
 * fromModule()'s object for the module at href (an absolute URL).
 *
 * The object handed out is plain: a reference made once is an own property of it, read as
 * fast as any other (a hot `go(tasks.f)` loop). Only a name not yet made falls through to the
 * Proxy on its prototype, which makes the reference and defines it on the object. (A Proxy as
 * the object itself ran its trap and a Map lookup on every read: ~55 ns each, 100,000 per
 * batch in sched/fine.)
 */
export function moduleFunctions<T>(href: string): T {
  const holder = Object.create(
    new Proxy(Object.create(null) as object, {
      get(_, name) {
        if (typeof name !== 'string' || name === 'then') return undefined;
        const ref: ModuleRef = { url: href, name };
        const f = Object.defineProperty(
          async (...args: unknown[]) => {
            const mod = (await import(href)) as Record<string, (...a: unknown[]) => unknown>;
            return mod[name]!(...args);
          },
          MODULE_REF,
          { value: ref },
        ) as AnyFn;
        Object.defineProperty(f, 'name', { value: name });
        Object.defineProperty(holder, name, { value: f, enumerable: true });
        return f;
      },
    }),
  ) as object;
  Object.defineProperty(holder, MODULE_URL, { value: href });
  return holder as T;
}
