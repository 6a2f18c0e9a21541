/**
 * select: Go's selectgo (src/runtime/select.go) over heap channels. Any thread.
 *
 * 1. Encode every send case's value (a TypeError here leaves nothing behind).
 * 2. Lock every distinct channel in handle order (the global lock order, so two selects
 *    cannot deadlock), poll the cases in a random order, and take the first that can
 *    proceed: among ready cases the choice is uniform.
 * 3. None ready: return the default, or enqueue a case waiter on every channel — all
 *    pointing at one select waiter that owns the promise — unlock, and park.
 * 4. The counterpart that dequeues a case waiter claims the select (CAS PENDING → CLAIMED,
 *    hchan.ts) and completes the select waiter with the case index. On waking, the select
 *    re-locks its channels, unlinks its remaining case waiters, unlocks, drops the values of
 *    sends that did not happen and frees the case waiters, then its own waiter — never
 *    earlier: a linked case waiter names it, and a reused record would be claimed by a
 *    counterpart by mistake (Go's select2 leak test covers the "nothing left" half).
 * A null channel's case never fires; select([]) with no default parks forever.
 * A case on an object outside the runtime (external.ts's protocol, e.g. a cluster channel)
 * takes no part in steps 1-2: the select parks on its channels (also with a default), then
 * starts the external cases, which claim the select waiter with the CAS of step 4.
 *
 * Misuse: recv()/send() check their channel (a Chan or null) and callback (a function, or
 * none: a receive case then yields the value, a send case undefined) when the case is made;
 * select() checks every case is one recv()/send() made, and its options, before it encodes
 * a value or touches a channel — so a bad case never costs a value. A Context, a WaitGroup
 * or anything else where a channel belongs is a TypeError, never a read of its record as a
 * channel's.
 */
import { lock, unlock } from '../heap/lock.js';
import { ClosedChannelError } from '../errors.js';
import { need, CLOSED, type Thread } from '../runtime/thread.js';
import { parkCurrent } from '../runtime/park.js';
import { W, WFlag, waiterAlloc } from '../sched/waiter.js';
import { drop, encodeInto, read, SLOT_BYTES } from '../value/codec.js';
import { CH, enqueue, moveSlot, unlink } from './hchan.js';
import { BLOCK, CLOSED_CH, DONE, recvLocked, sendLocked, Chan, RecvOnlyChan } from './chan.js';
import { describe } from '../value/describe.js';
import { flushWakes } from './hchan.js';
import { chanOwner, ensureShared, requestShared } from './local.js';
import { disposedArg, isDisposed } from '../runtime/object.js';
import { Kind } from '../value/kinds.js';
import { DEFAULT_CASE, ExtCase, ExternalRun, externalCase, selectable, type Selectable } from './external.js';

declare const caseResult: unique symbol;
/** A case of select(), made by recv() or send(); R is what select() resolves to when it is chosen. */
export interface SelectCase<R> {
  /** Carries R for the types only: no such property exists at run time. */
  readonly [caseResult]?: R;
  /** @internal */ readonly dir: 'send' | 'recv';
  /** @internal */ readonly ch: Chan<unknown> | null;
  /** @internal */ readonly value: unknown;
  /** @internal */ readonly fn: (value: unknown, ok: boolean) => R;
}

/** The only SelectCase objects select() takes: made by recv() and send(), frozen. */
class Case<R> implements SelectCase<R> {
  constructor(
    readonly dir: 'send' | 'recv',
    readonly ch: Chan<unknown> | null,
    readonly value: unknown,
    readonly fn: (value: unknown, ok: boolean) => R,
  ) {
    Object.freeze(this);
  }
}

/** chanArg's answer for an object that is not a channel but offers itself as a case (external.ts). */
const EXTERNAL = 1;

function chanArg(what: string, ch: unknown): Chan<unknown> | null | typeof EXTERNAL {
  if (ch instanceof Chan && isDisposed(ch)) throw disposedArg(what, Kind.CHAN);
  if (ch === null || ch instanceof Chan) return ch;
  if (typeof ch === 'object' && typeof (ch as { [selectable]?: unknown })[selectable] === 'function') return EXTERNAL;
  const hint = typeof ch === 'object' && ch !== null && typeof (ch as { done?: unknown }).done === 'function' && typeof (ch as { err?: unknown }).err === 'function' ? ' (for a Context, use ctx.done())' : '';
  throw new TypeError(`gort: ${what} needs a Chan (or null, which never fires, or an object that implements gort's select protocol, Symbol.for('gort.selectable')), got ${describe(ch)}${hint}`);
}

function fnArg(what: string, fn: unknown): void {
  if (fn !== undefined && typeof fn !== 'function') throw new TypeError(`gort: ${what}'s callback must be a function (or left out), got ${describe(fn)}`);
}

const identity = (v: unknown): unknown => v;
const nothing = (): undefined => undefined;

/**
 * A receive case: fn(value, ok) runs if it is chosen, and select() resolves to its result.
 * Without fn, select() resolves to the value received (undefined once closed and drained).
 * `ch` may also be an object outside the runtime that implements the {@link Selectable}
 * protocol, such as a cluster channel of gort-nats.
 */
export function recv<T, R = T | undefined>(ch: Chan<T> | Selectable<T> | null, fn?: (value: T | undefined, ok: boolean) => R): SelectCase<R> {
  const c = chanArg('recv()', ch);
  fnArg('recv()', fn);
  const f = (fn ?? identity) as (v: unknown, ok: boolean) => R;
  if (c === EXTERNAL) return new ExtCase<R>('recv', externalCase(ch, 'recv', undefined)!, f);
  return new Case<R>('recv', c, undefined, f);
}

/**
 * A send case: fn() runs if it is chosen (without fn, select() resolves to undefined). `ch`
 * may also be an object that implements the {@link Selectable} protocol.
 */
export function send<T, R = undefined>(ch: Chan<T> | Selectable<T> | null, value: T, fn?: () => R): SelectCase<R> {
  const c = chanArg('send()', ch);
  if (c instanceof RecvOnlyChan) throw new TypeError(`gort: send() on a receive-only channel (a context's done() or a timer's c)`);
  fnArg('send()', fn);
  const f = (fn ?? nothing) as () => R;
  if (c === EXTERNAL) return new ExtCase<R>('send', externalCase(ch, 'send', value)!, () => f());
  return new Case<R>('send', c, value, () => f());
}

/** Check what select() was given, before it touches anything; true if some case is external (external.ts). */
function checkSelect(cases: unknown, options: unknown): boolean {
  if (!Array.isArray(cases)) throw new TypeError(`gort: select() needs an array of cases made by recv() and send(), got ${describe(cases)}`);
  let ext = false;
  for (let k = 0; k < cases.length; k++) {
    if (!(cases[k] instanceof Case)) {
      if (cases[k] instanceof ExtCase) ext = true;
      else throw new TypeError(`gort: select() case ${k} is not a case made by recv() or send(), got ${describe(cases[k])}`);
    }
  }
  if (options === undefined) return ext;
  if (typeof options !== 'object' || options === null) throw new TypeError(`gort: select()'s options must be an object, got ${describe(options)}`);
  const d = (options as { default?: unknown }).default;
  if (d !== undefined && typeof d !== 'function') throw new TypeError(`gort: select()'s options.default must be a function, got ${describe(d)}`);
  return ext;
}

/** Options of `select()`. */
export interface SelectOptions<R> {
  /** Taken when no case can proceed at once: `select()` then resolves to its result without waiting (Go's `default:`). */
  default?: () => R;
}

function handleOf(ch: Chan<unknown>): number {
  return ch.h;
}
function ownerOf(ch: Chan<unknown>): number {
  return ch.g;
}

/** What a case resolves select() to. */
export type SelectResult<C> = C extends SelectCase<infer R> ? R : never;

/**
 * Go's `select`: wait until one of the cases can proceed, run it, and resolve to what its
 * function returned (or, with `default`, run that at once when none can). When several can
 * proceed, one is chosen at random, as in Go; a case on a `null` channel never fires (Go's nil
 * channel). Each case's result type is its own; the promise is their union (and `default`'s).
 *
 * ```js
 * const r = await select([
 *   recv(results, (v, ok) => (ok ? v : 'closed')),
 *   recv(after(1000), () => 'timeout'),
 * ]);
 * ```
 */
// `readonly object[]`, not `readonly SelectCase<unknown>[]`: the latter would give each case's
// result type `unknown` as its inference context, and `recv(c)` (no fn) would lose its T.
export function select<const C extends readonly object[], D = never>(
  cases: C,
  options: SelectOptions<D> = {},
): Promise<Awaited<SelectResult<C[number]> | D>> {
  return selectImpl(cases as unknown as readonly SelectCase<unknown>[], options as SelectOptions<unknown>) as Promise<Awaited<SelectResult<C[number]> | D>>;
}

function selectImpl<R>(cases: readonly SelectCase<R>[], options: SelectOptions<R>): Promise<Awaited<R>> {
  const t = need('select()');
  const ext = checkSelect(cases, options);
  const live: number[] = [];
  for (let k = 0; k < cases.length; k++) if (cases[k]!.ch !== null) live.push(k);
  if (live.length === 0 && !ext) {
    if (options.default) return Promise.resolve(options.default()) as Promise<Awaited<R>>;
    const p = t.waiter<never>(0);
    parkCurrent(t, t.lastWaiter, 'select (no cases)');
    return p;
  }
  const heap = t.heap;
  // 1. encode the send values into slots of one block
  const vals = heap.alloc(cases.length * SLOT_BYTES);
  let encoded = 0;
  try {
    for (const k of live) {
      const c = cases[k]!;
      heap.i32[(vals + k * SLOT_BYTES) >> 2] = 0;
      if (c.dir === 'send') encodeInto(heap, vals + k * SLOT_BYTES, c.value, `the value of select case ${k}`);
      encoded++;
    }
  } catch (e) {
    for (const k of live.slice(0, encoded)) if (cases[k]!.dir === 'send') drop(heap, vals + k * SLOT_BYTES);
    heap.free(vals);
    throw e;
  }
  // 2. lock in handle order, poll in random order (a thread-local channel is shared first)
  const chans = [...new Set(live.map((k) => handleOf(cases[k]!.ch!)))].sort((x, y) => x - y);
  // Channels local to another thread: a select that may wait asks their owners to share them
  // and runs again once they have; one with a default must decide now, and waits for them.
  if (!options.default || ext) {
    const foreign = chans.filter((c) => chanOwner(t, c) !== 0 && chanOwner(t, c) !== t.index + 1);
    if (foreign.length > 0) {
      dropUnsent(t, cases, live, vals, -1);
      return Promise.all(foreign.map((c) => requestShared(t, c, chanOwner(t, c) - 1))).then(() => select(cases, options));
    }
  }
  for (const c of chans) ensureShared(t, c);
  for (const c of chans) lock(heap.i32, (c >> 2) + CH.LOCK);
  const order = live.slice();
  for (let k = order.length - 1; k > 0; k--) {
    const j = Math.floor(Math.random() * (k + 1));
    const tmp = order[k]!;
    order[k] = order[j]!;
    order[j] = tmp;
  }
  for (const k of order) {
    const cs = cases[k]!;
    const c = handleOf(cs.ch!);
    if (cs.dir === 'send') {
      const r = sendLocked(t, c, vals + k * SLOT_BYTES);
      if (r === BLOCK) continue;
      unlockAll(t, chans);
      flushWakes(t);
      dropUnsent(t, cases, live, vals, r === DONE ? k : -1);
      if (r === CLOSED_CH) throw new ClosedChannelError('send on closed channel');
      return t.settled(cs.fn(undefined, true)) as Promise<Awaited<R>>;
    }
    const r = recvLocked(t, c, t.scratch);
    if (r === BLOCK) continue;
    unlockAll(t, chans);
    flushWakes(t);
    dropUnsent(t, cases, live, vals, -1);
    const v = r === DONE ? read(heap, t.scratch, true, ownerOf(cs.ch!)) : undefined;
    return t.settled(cs.fn(v, r === DONE)) as Promise<Awaited<R>>;
  }
  // 3. nothing ready (a select with external cases parks even with a default: external.ts)
  if (options.default && !ext) {
    unlockAll(t, chans);
    dropUnsent(t, cases, live, vals, -1);
    return t.settled(options.default()) as Promise<Awaited<R>>;
  }
  const p = t.waiter<[number, unknown]>(0);
  t.pinLast(cases); // the channels parked on: their records must outlive the wait
  const sw = t.lastWaiter;
  heap.i32[(sw >> 2) + W.FLAGS] = WFlag.SELECT;
  parkCurrent(t, sw, 'select', live.length === 0 ? 0 : ownerOf(cases[live[0]!]!.ch!));
  const g = heap.i32[(sw >> 2) + W.G]!;
  // Enqueue in the random poll order (Go's lock order comes out of a sort of the random poll
  // order too): cases on one channel then reach a counterpart in random order.
  // waiters[j] is case order[j]'s. Both arrays live as long as the select waits: made at their
  // length, not grown by push (which gives room for 17), they cost a parked select of two
  // cases 1,759 bytes of its M's V8 heap, not 1,999 (mem/parked-breakdown.mjs select).
  const waiters: number[] = new Array<number>(order.length);
  for (let j = 0; j < order.length; j++) {
    const k = order[j]!;
    const cs = cases[k]!;
    const w = waiterAlloc(heap, t.index, g, 0);
    const wi = w >> 2;
    heap.i32[wi + W.SEL] = sw;
    heap.i32[wi + W.CASE] = k;
    if (cs.dir === 'send') moveSlot(heap.i32, vals + k * SLOT_BYTES, w + W.VALUE * 4);
    enqueue(heap.i32, handleOf(cs.ch!), cs.dir === 'send' ? CH.SQ_HEAD : CH.RQ_HEAD, w);
    waiters[j] = w;
  }
  unlockAll(t, chans);
  heap.free(vals);
  // 4. woken: clean up, then run the chosen case
  const cleanup = (fired: number): void => {
    for (const c of chans) lock(heap.i32, (c >> 2) + CH.LOCK);
    for (let j = 0; j < waiters.length; j++) {
      const w = waiters[j]!;
      if ((heap.i32[(w >> 2) + W.FLAGS]! & WFlag.INQ) !== 0) {
        const cs = cases[order[j]!]!;
        unlink(heap.i32, handleOf(cs.ch!), cs.dir === 'send' ? CH.SQ_HEAD : CH.RQ_HEAD, w);
      }
    }
    unlockAll(t, chans);
    for (let j = 0; j < waiters.length; j++) {
      const w = waiters[j]!;
      if (cases[order[j]!]!.dir === 'send' && order[j] !== fired) drop(heap, w + W.VALUE * 4);
      heap.free(w);
    }
    heap.free(sw); // settle() leaves the select's own waiter to us (thread.ts)
  };
  if (ext) {
    const run = new ExternalRun(t, cases, sw, options.default !== undefined);
    return p.then(
      ([k, v]) => {
        run.settle(k); // before cleanup frees the select's waiter: no claim after this
        cleanup(k);
        if (k === DEFAULT_CASE) return options.default!() as Awaited<R>;
        const cs = cases[k]!;
        if (cs instanceof ExtCase) return run.outcome(k).then(([x, ok]) => cs.fn(x, ok) as Awaited<R>);
        return cs.fn(v === CLOSED ? undefined : v, v !== CLOSED) as Awaited<R>;
      },
      (e: unknown) => {
        run.settle(-2);
        cleanup(-1);
        throw e;
      },
    );
  }
  return p.then(
    ([k, v]) => {
      cleanup(k);
      const cs = cases[k]!;
      return cs.fn(v === CLOSED ? undefined : v, v !== CLOSED) as Awaited<R>;
    },
    (e: unknown) => {
      cleanup(-1);
      throw e;
    },
  );
}

function unlockAll(t: Thread, chans: readonly number[]): void {
  for (let k = chans.length - 1; k >= 0; k--) unlock(t.heap.i32, (chans[k]! >> 2) + CH.LOCK);
}

/** Free the encoded values of send cases other than `sent`, and the value block. */
function dropUnsent(t: Thread, cases: readonly SelectCase<unknown>[], live: readonly number[], vals: number, sent: number): void {
  for (const k of live) if (cases[k]!.dir === 'send' && k !== sent) drop(t.heap, vals + k * SLOT_BYTES);
  t.heap.free(vals);
}
