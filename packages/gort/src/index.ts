/**
 * gort: Go-style concurrency for Node.js. Goroutines on worker threads (`run`, `go`,
 * `spawn`), channels and `select`, and Go's `sync`, `context` and `errgroup`, shared by every
 * thread. Every name exported here is also in scope inside inline goroutines.
 *
 * (The public facade; the engine is under runtime/ and sched/.)
 *
 * @module gort
 */
import * as self from './index.js';
import { need, current } from './runtime/thread.js';
import { newproc } from './runtime/proc.js';
import { M } from './runtime/m.js';
import { liveGoroutines } from './sched/threads.js';
import { setNamespace } from './shipping/registry.js';
import { moduleFunctions } from './shipping/fnvalue.js';
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import { describe } from './value/describe.js';
import { checkModuleUrl, moduleHref } from './shipping/typescript.js';

export { run, start, Runtime, type RuntimeOptions, type WorkerResourceLimits } from './runtime/host.js';
export { WaitGroup, Mutex, RWMutex, Once, Cond, Semaphore, AtomicInt32, AtomicBigInt64, type Locker } from './sync/index.js';
export { Chan, RecvOnlyChan, chan } from './chan/chan.js';
export { select, recv, send, type SelectCase, type SelectOptions, type SelectResult } from './chan/select.js';
export { selectable, type Selectable, type ExternalCase, type ExternalCaseOp, type CaseSignal } from './chan/external.js';
export { after, tick, timer, sleep, Timer, Ticker } from './chan/timers.js';
export * from './context/index.js';
// errgroup's Group at the root; its withContext is Group.withContext here (the bare name, from
// gort/errgroup, would read as context's to a Go user).
export { Group } from './errgroup/index.js';
export { exportRef, attach, isRuntimeRef, type RuntimeRef } from './runtime/attach.js';
export {
  HeapExhaustedError,
  FreeVariableError,
  GoroutinePanic,
  WorkerCrashError,
  RuntimeStateError,
  RuntimeFatalError,
  ClosedChannelError,
  DeadlockError,
  SyncError,
  TypeScriptLoaderError,
} from './errors.js';

/** Go's `go f(x)`: run fn(...args) as a new goroutine. Any thread with a runtime. */
export function go<A extends unknown[]>(fn: (...args: A) => unknown, ...args: A): void {
  newproc(need('go()'), fn, args, 0);
}

/**
 * Like go(), and join it: resolves with fn's result, or rejects with what it threw (a
 * joined goroutine's error is its joiner's to handle, so it is not a panic).
 */
export function spawn<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>> {
  const t = need('spawn()');
  if (t.joinsEarly) {
    const p = t.waiter<Awaited<R>>(0);
    const w = t.lastWaiter;
    try {
      newproc(t, fn, args, w);
    } catch (e) {
      t.cancelWaiter(w);
      throw e;
    }
    return p;
  }
  const w = t.joinRecord();
  try {
    newproc(t, fn, args, w);
  } catch (e) {
    t.heap.free(w);
    throw e;
  }
  return t.joinPromise<Awaited<R>>(w);
}

/** Yield: let other goroutines on this thread run, then continue. */
export function gosched(): Promise<void> {
  const t = need('gosched()');
  if (t instanceof M) return t.gosched();
  return new Promise((r) => setImmediate(r));
}

/**
 * A preemption point for long synchronous loops: returns a promise (await it) when this
 * goroutine has held its thread for a while and other work is waiting, else undefined.
 * Use as `await checkpoint()` — awaiting undefined costs almost nothing.
 */
export function checkpoint(): Promise<void> | void {
  const t = current;
  if (t instanceof M && t.shouldYield()) return t.gosched();
  return undefined;
}

/** Live goroutines, main included. */
export function numGoroutine(): number {
  return liveGoroutines(need('numGoroutine()').heap) + 1;
}

/** Number of Ps. */
export function gomaxprocs(): number {
  return need('gomaxprocs()').procs;
}

/**
 * The current goroutine's id (1 for main). Inside an inline goroutine it is always exact;
 * inside a module function it is exact until the function's first await (0 after).
 */
export function goid(): number {
  const t = need('goid()');
  return t.index === 0 ? 1 : t.curGoid;
}

/** A module function as fromModule() hands it out: called directly, it returns a promise of the result. */
export type ModuleFunction<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
/** The function exports of module M, as goroutine references (and function values: they can be sent). */
export type ModuleFunctions<Mod> = { readonly [K in keyof Mod as Mod[K] extends (...args: never[]) => unknown ? K : never]: ModuleFunction<Mod[K]> };

/**
 * Goroutine functions defined in an ES module: each thread imports the module on first use,
 * so the functions may import anything and keep module-level state.
 *
 *   const tasks = fromModule<typeof import('./tasks.js')>(new URL('./tasks.js', import.meta.url));
 *   go(tasks.fib, 30);
 *
 * Each property is a reference to the export of that name; calling it directly runs the
 * function on the calling thread (it returns a promise). A reference is a value like any
 * other: it can be passed to a goroutine, sent on a channel and returned, and the receiver
 * can call it or go() it; so can the fromModule() object itself.
 */
export function fromModule<Mod>(url: string | URL): ModuleFunctions<Mod> {
  let href: string;
  if (!(url instanceof URL) && typeof url !== 'string') {
    throw new TypeError(`gort: fromModule() needs a URL or an absolute path, got ${describe(url)}`);
  }
  if (url instanceof URL) href = url.href;
  else if (/^[a-z][a-z0-9+.-]*:/i.test(url)) href = url;
  else if (isAbsolute(url)) href = pathToFileURL(url).href;
  else throw new TypeError(`gort: fromModule() needs a URL or an absolute path, got '${url}' (try new URL('${url}', import.meta.url))`);
  href = moduleHref(href);
  checkModuleUrl(href);
  return moduleFunctions<ModuleFunctions<Mod>>(href);
}

setNamespace(self as unknown as Record<string, unknown>);
