/**
 * External select cases: a case of select() that gort does not run itself, so that an object
 * outside the runtime (a cluster channel of gort-nats, a queue of another system) can be a
 * case beside channels and timers. The thread that runs the select.
 *
 * The protocol. recv(x, fn) and send(x, v, fn) take, where a Chan goes, any object with a
 * method under the well-known symbol `selectable` (`Symbol.for('gort.selectable')`).
 * `x[selectable](dir, v)` is called once, when the case is made (it may throw its own typed
 * error there, e.g. for a value it cannot carry), and returns an ExternalCase. A select that
 * finds none of its local cases ready at once parks on them as usual, then calls each external
 * case's `start(op)`; from then on:
 * - The external side waits until its operation can proceed (a value in hand, room for one),
 *   then calls `op.claim()`. true: this case won the select, atomically against every other
 *   case (the same CAS, PENDING → CLAIMED on the select's waiter, that a channel's
 *   counterpart makes: hchan.ts dequeue); it completes the operation and resolves start()'s
 *   promise with `[value, ok]` (a send: `[undefined, true]`). false: another case won; it gives
 *   back what it took and settles as it likes.
 * - `op.signal` aborts once the select no longer needs the case: stop waiting, give back.
 * - `op.poll` is true when the select has a default: decide at once, and settle without a
 *   claim when the operation cannot proceed now.
 * - Settling without a claim takes the case out of this select (as a null channel's). Once
 *   every external case of a select with a default is out and no local case fired, the
 *   select claims itself for the default.
 * - A rejection fails the select with its error: after a claim (a send on a closed channel
 *   rejects with ClosedChannelError, as Go panics), or before one if the select is undecided.
 *
 * Invariants: the select waiter is claimed once (by a local counterpart, an external case or
 * the default); claim() touches the record only while the select is undecided on this
 * thread's side (`decided` is set before the select frees it) and this thread still runs the
 * runtime that made it. The select resolves as soon as a case won; it never waits for the
 * losers' give-back, which each external case finishes on its own.
 *
 * Cost to selects without external cases: none at run time in select's loops. recv() and
 * send() pick the case's class when the case is made, and select() learns of external cases
 * in the branch of its type check that used to throw (checkSelect).
 */
import { complete } from '../runtime/park.js';
import { current, type Thread } from '../runtime/thread.js';
import { W, WState } from '../sched/waiter.js';
import { Tag } from '../value/codec.js';

/**
 * The well-known symbol (`Symbol.for('gort.selectable')`) under which an object that is not a
 * gort channel offers itself as a case of `select()`: see {@link Selectable}.
 */
export const selectable: unique symbol = Symbol.for('gort.selectable') as never;

/**
 * The part of an `AbortSignal` an external case uses (a real `AbortSignal` at run time; gort's
 * own type, so that its types need no `@types/node`).
 */
export interface CaseSignal {
  /** True once the select no longer needs this case. */
  readonly aborted: boolean;
  /** Call `listener` once the select no longer needs this case. */
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  /** Remove a listener added with addEventListener. */
  removeEventListener(type: 'abort', listener: () => void): void;
}

/** What a select tells one of its external cases when it starts it (see {@link Selectable}). */
export interface ExternalCaseOp {
  /**
   * Make this case the select's winner, atomically against its other cases. True: complete
   * the operation, then resolve with its outcome. False: another case won; give back what was
   * taken. Call it at most once, on the thread that runs the select.
   */
  claim(): boolean;
  /** Aborts once the select no longer needs this case (another case won, or it failed). */
  readonly signal: CaseSignal;
  /** The select has a default: decide at once, and settle without a claim if the operation cannot proceed now. */
  readonly poll: boolean;
}

/** One case of `select()` that gort does not run itself: what `x[selectable](dir, value)` returns. */
export interface ExternalCase<T> {
  /**
   * Start the operation for one select. Resolve with `[value, ok]` after a successful claim
   * (a send: `[undefined, true]`); settle without a claim when the case did not proceed;
   * reject to fail the select.
   */
  start(op: ExternalCaseOp): Promise<readonly [T | undefined, boolean] | undefined>;
}

/**
 * An object that can be a case of `select()` though it is not a gort channel: `recv(x, fn)`
 * and `send(x, v, fn)` take it where a `Chan` goes. `x[selectable]('recv')` or
 * `x[selectable]('send', v)` is called when the case is made and returns the case's
 * {@link ExternalCase}. A select polls its channels first; if none can proceed, it starts its
 * external cases, and the first case to proceed (a channel's counterpart, or an external case
 * whose claim() succeeds) wins. The others are told to give back what they took; the select
 * does not wait for that. gort-nats' cluster channels are such objects.
 */
export interface Selectable<T> {
  /** Make the case: called once, by recv() (`value` undefined) or send(). */
  [selectable](dir: 'recv' | 'send', value?: T): ExternalCase<T>;
}

/** A case of select() made from a Selectable: the only external cases select() takes. */
export class ExtCase<R> {
  /** Never a Chan: select()'s loops over channels skip this case as they skip a null channel's. */
  readonly ch = null;
  readonly value = undefined;
  constructor(
    readonly dir: 'send' | 'recv',
    readonly ext: ExternalCase<unknown>,
    readonly fn: (value: unknown, ok: boolean) => R,
  ) {
    Object.freeze(this);
  }
}

/** x's external case for dir, or undefined when x is not Selectable. */
export function externalCase(x: unknown, dir: 'send' | 'recv', value: unknown): ExternalCase<unknown> | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const make = (x as { [selectable]?: unknown })[selectable];
  if (typeof make !== 'function') return undefined;
  const c = (make as (d: string, v: unknown) => unknown).call(x, dir, value) as ExternalCase<unknown> | null;
  if (typeof c !== 'object' || c === null || typeof c.start !== 'function') {
    throw new TypeError(`gort: ${dir}()'s [selectable]() must return an object with a start(op) method`);
  }
  return c;
}

/** The default's index in the select waiter's CASE word. */
export const DEFAULT_CASE = -1;

/** The external cases of one parked select: starts them, claims for them, tells the losers. */
export class ExternalRun {
  private decided = false;
  private winner = -2;
  private out = 0;
  private n = 0;
  private readonly ctl = new Map<number, AbortController>();
  private readonly done = new Map<number, Promise<readonly [unknown, boolean] | undefined>>();

  constructor(
    private readonly t: Thread,
    cases: readonly object[],
    private readonly sw: number,
    private readonly poll: boolean,
  ) {
    for (let k = 0; k < cases.length && this.winner === -2; k++) {
      const c = cases[k];
      if (!(c instanceof ExtCase)) continue;
      this.n++;
      const ctl = new AbortController();
      this.ctl.set(k, ctl);
      const op: ExternalCaseOp = { claim: () => this.claim(k), signal: ctl.signal, poll };
      let p: Promise<readonly [unknown, boolean] | undefined>;
      try {
        p = Promise.resolve(c.ext.start(op));
      } catch (e) {
        p = Promise.reject(e as Error);
      }
      this.done.set(k, p);
      p.then(
        () => {
          if (this.winner !== k) this.leave();
        },
        () => {
          if (this.winner !== k) this.claim(k); // the select fails with the error, if still undecided
        },
      );
    }
  }

  /** Case k won, if the select is still undecided: the CAS a channel's counterpart makes, then the wake. */
  private claim(k: number): boolean {
    if (this.decided || current !== this.t) return false;
    const a = this.t.heap.i32;
    const i = this.sw >> 2;
    // Pairs with the CAS of a counterpart dequeuing one of this select's case waiters (hchan.ts).
    if (Atomics.compareExchange(a, i + W.STATE, WState.PENDING, WState.CLAIMED) !== WState.PENDING) return false;
    this.winner = k;
    a[i + W.CASE] = k;
    a[i + W.VALUE] = Tag.UNDEF;
    complete(this.t, this.sw, WState.OK);
    return true;
  }

  /** An external case did not proceed: with a default, the last one out lets it run. */
  private leave(): void {
    if (++this.out === this.n && this.poll) this.claim(DEFAULT_CASE);
  }

  /**
   * The select woke with case k (or failed: k = -2): no claim from now on (the record is
   * about to be freed), and every other external case is told to give back.
   */
  settle(k: number): void {
    this.decided = true;
    for (const [j, c] of this.ctl) if (j !== k) c.abort();
  }

  /** External case k won: its outcome, once its operation completed. */
  outcome(k: number): Promise<readonly [unknown, boolean]> {
    return this.done.get(k)!.then((r) => r ?? [undefined, true]);
  }
}
