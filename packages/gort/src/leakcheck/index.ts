/**
 * gort/leakcheck: Go's goleak for gort. `verifyNone()` resolves when no goroutine is left
 * beyond those expected, and otherwise rejects with a GoroutineLeakError that shows each
 * leaked goroutine as Go's debug=2 goroutine profile shows it (debug/profile.ts's
 * formatGoroutine: with where it was created and where it is parked when stacks are on).
 *
 * ```ts
 * import { verifyNone, ignoreCurrent, ignoreTopFunction } from 'gort/leakcheck';
 * const before = ignoreCurrent();
 * // … the code under test …
 * await verifyNone(before, ignoreTopFunction('poller'), { timeoutMs: 500 });
 * ```
 *
 * Contract:
 * - Options are values: filters made by ignoreTopFunction(), ignoreAnyFunction() and
 *   ignoreCurrent(), and plain `{ maxRetries, maxSleepMs, timeoutMs }` objects (a later
 *   setting wins); an array of them counts as its elements. Anything else is a TypeError at the
 *   call, and out-of-range numbers a RangeError.
 * - Main (goroutine 1) never counts, nor does the goroutine that calls verifyNone (its goid
 *   read at the call, as goleak skips the current goroutine; known as goid() knows it: in a
 *   module function only before its first await). The checker starts no
 *   goroutine: its waits are the calling thread's timers, and the stacks come over the
 *   runtime's debug BroadcastChannel (runtime/stacks.ts).
 * - A goroutine about to end is not a leak: the check is repeated, sleeping 1 µs, 2 µs, 4 µs, …
 *   (doubling, at most maxSleepMs) between attempts, up to maxRetries retries and while less
 *   than timeoutMs has passed since the call. Each attempt reads the G records without locks
 *   (debug.goroutines()); the stacks, which need every thread's answer, are gathered only
 *   when a filter needs them (top or any function, stacks on) and for the final report, so
 *   the report is of the goroutines live after the last wait.
 * - Needs a running runtime on the calling thread (RuntimeStateError, as every debug call).
 *   ignoreCurrent()'s snapshot belongs to the runtime it was taken in: under a later runtime
 *   (ids start over) it ignores nothing.
 *
 * @module gort/leakcheck
 */
import { need, type ThreadBase } from '../runtime/thread.js';
import { formatGoroutine, goroutineRecords, parseFrame, readRecords, type GoroutineRecord } from '../debug/profile.js';
import { describe } from '../value/describe.js';

export type { GoroutineRecord } from '../debug/profile.js';

/** What a filter looks at: a live goroutine's record (with its stacks once they are gathered). */
type Match = (r: GoroutineRecord, heap: object) => boolean;

/**
 * A filter option of verifyNone(): goroutines it matches are expected, not leaks. Made by
 * {@link ignoreTopFunction}, {@link ignoreAnyFunction} and {@link ignoreCurrent}.
 */
export class LeakFilter {
  /** What the filter matches, for messages: `ignoreTopFunction('poller')`. */
  readonly description: string;
  /** @internal */
  readonly match: Match;
  /** @internal whether the match reads the stacks (parkedAt), so that they must be gathered first */
  readonly needsStacks: boolean;

  /** @internal made by ignoreTopFunction(), ignoreAnyFunction() and ignoreCurrent() */
  constructor(description: string, match: Match, needsStacks: boolean) {
    if (typeof match !== 'function') throw new TypeError('gort: a LeakFilter is made by ignoreTopFunction(), ignoreAnyFunction() or ignoreCurrent()');
    this.description = description;
    this.match = match;
    this.needsStacks = needsStacks;
  }
}

/** The settings of verifyNone(), as a plain object among its options. */
export interface LeakSettings {
  /** Retries after the first check before giving up. Default 20, as goleak's. */
  maxRetries?: number;
  /** Longest sleep between two checks, in ms (sleeps double from 1 µs up to it). Default 100. */
  maxSleepMs?: number;
  /** No retry starts after this many ms since the call. Default 2000. */
  timeoutMs?: number;
}

/** One option of verifyNone(): a filter, settings, or an array of options. */
export type LeakOption = LeakFilter | LeakSettings | readonly LeakOption[];

/** verifyNone() found goroutines that were not expected. */
export class GoroutineLeakError extends Error {
  /** Always `'GoroutineLeakError'`. */
  override name = 'GoroutineLeakError';
  constructor(
    /** The leaked goroutines, by id, with their stacks when stacks are on. */
    readonly goroutines: GoroutineRecord[],
    /** Whether stacks were on (start()'s `stacks: true` or GORT_DEBUG=stacks=1). */
    readonly withStacks: boolean,
    /** Threads that did not hand over their stacks in time (a goroutine holds them): 0 main, 1..procs the Ms. */
    readonly missing: number[] = [],
  ) {
    const note =
      missing.length === 0 ? '' : `\n(no stacks from ${missing.map((k) => (k === 0 ? 'main' : `M${k}`)).join(', ')}: a goroutine holds ${missing.length === 1 ? 'it' : 'them'})`;
    super(`gort: found unexpected goroutines:\n${goroutines.map((r) => formatGoroutine(r, withStacks)).join('\n\n')}${note}`);
  }
}

function functionName(what: string, name: unknown): string {
  if (typeof name !== 'string' || name === '') throw new TypeError(`gort: ${what} needs a function name (a non-empty string), got ${describe(name)}`);
  return name;
}

/** Whether a goroutine's function is `name`: a module function's (`sumAll (tasks.mjs)`) by its name alone too. */
function isFunction(r: GoroutineRecord, name: string): boolean {
  return r.function === name || (r.function.startsWith(name) && r.function.startsWith(' (', name.length));
}

/** The function names of a record's parked frames, innermost first. */
function parkedNames(r: GoroutineRecord): string[] {
  return (r.parkedAt ?? []).map((f) => parseFrame(f).name);
}

/**
 * Ignore goroutines whose function is `name` (the function given to go()/spawn(), as dump()
 * names it; a module function's by its name alone, without the module), or, with stacks on, whose innermost parked frame is in a function of that name
 * (goleak's IgnoreTopFunction).
 */
export function ignoreTopFunction(name: string): LeakFilter {
  const fn = functionName('ignoreTopFunction()', name);
  return new LeakFilter(
    `ignoreTopFunction(${JSON.stringify(fn)})`,
    (r) => isFunction(r, fn) || (r.parkedAt !== undefined && r.parkedAt.length > 0 && parseFrame(r.parkedAt[0]!).name === fn),
    true,
  );
}

/**
 * Ignore goroutines whose function is `name`, or, with stacks on, with a function of that name
 * anywhere in the stack where they are parked (goleak's IgnoreAnyFunction).
 */
export function ignoreAnyFunction(name: string): LeakFilter {
  const fn = functionName('ignoreAnyFunction()', name);
  return new LeakFilter(`ignoreAnyFunction(${JSON.stringify(fn)})`, (r) => isFunction(r, fn) || parkedNames(r).includes(fn), true);
}

/**
 * Ignore the goroutines live now (goleak's IgnoreCurrent): a snapshot of their ids, taken
 * synchronously at this call, which later checks of the same runtime leave out. Needs a
 * running runtime.
 */
export function ignoreCurrent(): LeakFilter {
  const t = need('ignoreCurrent()');
  const ids = new Set(readRecords(t).map((r) => r.id));
  const heap = t.heap;
  return new LeakFilter(`ignoreCurrent() (${ids.size - 1} goroutines)`, (r, h) => h === heap && ids.has(r.id), false);
}

interface Plan {
  filters: LeakFilter[];
  maxRetries: number;
  maxSleepMs: number;
  timeoutMs: number;
}

const SETTINGS = ['maxRetries', 'maxSleepMs', 'timeoutMs'] as const;

function readOptions(what: string, options: readonly unknown[], plan: Plan, depth: number): void {
  for (const o of options) {
    if (o instanceof LeakFilter) plan.filters.push(o);
    else if (Array.isArray(o) && depth < 8) readOptions(what, o, plan, depth + 1);
    else if (typeof o === 'object' && o !== null && Object.getPrototypeOf(o) === Object.prototype) {
      for (const k of Object.keys(o)) {
        if (!(SETTINGS as readonly string[]).includes(k)) throw new TypeError(`gort: ${what} has no setting ${JSON.stringify(k)} (it takes ${SETTINGS.join(', ')})`);
        const v = (o as Record<string, unknown>)[k];
        if (v === undefined) continue;
        if (typeof v !== 'number' || Number.isNaN(v)) throw new TypeError(`gort: ${what}'s ${k} must be a number, got ${describe(v)}`);
        if (k === 'maxRetries' ? !Number.isInteger(v) || v < 0 || v > 1000 : !(v >= 0 && v <= 3_600_000)) {
          throw new RangeError(`gort: ${what}'s ${k} must be ${k === 'maxRetries' ? 'an integer from 0 to 1000' : 'from 0 to 3600000 ms'}, got ${v}`);
        }
        plan[k as (typeof SETTINGS)[number]] = v;
      }
    } else {
      throw new TypeError(
        `gort: ${what} takes filters (ignoreTopFunction(), ignoreAnyFunction(), ignoreCurrent()), { maxRetries, maxSleepMs, timeoutMs } objects or arrays of them, got ${describe(o)}`,
      );
    }
  }
}

/** @internal verifyNone's options read and checked (the vitest helper checks them at registration). */
export function planOf(what: string, options: readonly unknown[]): Plan {
  const plan: Plan = { filters: [], maxRetries: 20, maxSleepMs: 100, timeoutMs: 2000 };
  readOptions(what, options, plan, 0);
  return plan;
}

function sleep(us: number): Promise<void> {
  return new Promise((resolve) => {
    if (us < 1000) setImmediate(resolve);
    else setTimeout(resolve, us / 1000);
  });
}

/** The goroutines no filter expects (main and `self` left out). */
function unexpected(recs: GoroutineRecord[], plan: Plan, self: number, heap: object): GoroutineRecord[] {
  return recs.filter((r) => r.id !== 1 && r.id !== self && !plan.filters.some((f) => f.match(r, heap)));
}

/** The calling goroutine's id when it is not main (0 on main or when unknown). */
function selfId(t: ThreadBase): number {
  return t.index === 0 ? 0 : t.curGoid;
}

/**
 * Resolves when every live goroutine but main (and the caller) is expected by a filter, and
 * otherwise rejects with a {@link GoroutineLeakError}: Go's goleak.VerifyNone. Goroutines
 * about to end are given time: the check is retried with sleeps doubling from 1 µs to
 * `maxSleepMs` (default 100 ms), up to `maxRetries` (default 20) retries within `timeoutMs`
 * (default 2000 ms).
 *
 * ```ts
 * await verifyNone();                                          // nothing but main may be left
 * await verifyNone(ignoreCurrent(), ignoreTopFunction('poller'), { timeoutMs: 500 });
 * ```
 *
 * @param options filters ({@link ignoreTopFunction}, {@link ignoreAnyFunction},
 *   {@link ignoreCurrent}), {@link LeakSettings} objects, or arrays of them
 * @throws RuntimeStateError (at the call) without a running runtime on this thread
 * @throws TypeError / RangeError (at the call) for an option that is none of these
 */
export function verifyNone(...options: LeakOption[]): Promise<void> {
  const t = need('verifyNone()');
  const plan = planOf('verifyNone()', options);
  return check(t, plan, selfId(t));
}

async function check(t: ThreadBase, plan: Plan, self: number): Promise<void> {
  const heap = t.heap;
  const deadline = performance.now() + plan.timeoutMs;
  const stackFilters = plan.filters.some((f) => f.needsStacks) && t.stacks !== null;
  for (let i = 0; ; i++) {
    let left = unexpected(readRecords(t), plan, self, heap);
    if (left.length > 0 && stackFilters) left = unexpected((await goroutineRecords()).goroutines, plan, self, heap);
    if (left.length === 0) return;
    if (i >= plan.maxRetries || performance.now() >= deadline) break;
    await sleep(Math.min(2 ** Math.min(i, 40), plan.maxSleepMs * 1000));
  }
  const snap = await goroutineRecords();
  const leaked = unexpected(snap.goroutines, plan, self, heap);
  if (leaked.length === 0) return; // they ended while the stacks were gathered
  throw new GoroutineLeakError(leaked, snap.stacks, snap.missing);
}
