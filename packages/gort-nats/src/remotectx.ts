/**
 * A gort `Context` as an argument of `net.spawn`: its cancellation reaches the remote
 * goroutine.
 *
 * Caller side (ContextsOut): each Context that is an argument of the call itself (not one
 * inside another argument: values.ts refuses that as a runtime object) travels as a marker
 * `{ id, q, deadline, done? }`: a fresh id, the subject `q` (`<caller inbox>.c.<id>`) on
 * which the caller answers what became of the context, the context's deadline (ms since the
 * epoch, 0 for none) and, if it is done already, why. From the call's publication until its
 * result arrives, the caller watches the context (one `abort` listener on its `signal` per
 * Context, however many calls it is passed to); when it is canceled or its deadline
 * passes, it publishes the reason `{ deadline, cause? }` on `gort.cancel.<id>` (core NATS)
 * for each pending call.
 *
 * Serving side (contextsIn): each marker becomes an ordinary gort Context made on this
 * process, `withDeadline(withCancelCause(background()), deadline)` (the deadline holds by
 * this machine's clock even if every message is lost). While the call runs, the process is
 * subscribed to `gort.cancel.<id>`; once the server has that subscription, it asks `q` what
 * became of the context, which closes the race with a cancel published before it
 * subscribed. A reason cancels the local context: canceled → `cancel(cause)` (err()
 * Canceled, cause() the caller's cause when it gave one); deadline → nothing if the local
 * deadline is less than SKEW_MS away (its timer ends the context: err() DeadlineExceeded),
 * else (this clock is behind the caller's) `cancel(cause)`, so err() is Canceled and cause()
 * the DeadlineExceeded error. The serving
 * process asks again every ackWait/3 while the call runs (serve.ts), which also catches a
 * cancel message lost to a reconnection. A caller that no longer waits (it has the result of
 * an earlier run of the call, or no process answers q: it is gone, as gRPC cancels a call
 * whose client went away) cancels the context too, with a cause that says so. When the call
 * ends, the subscription is dropped and the contexts are canceled (Go's `defer cancel()`).
 *
 * Invariants: a serving-side context is canceled at most by the first reason that reaches
 * it; a caller answers q for as long as it waits for the call's result, and answers "no
 * longer waits" after. Main thread (the one with the NATS connection and a gort runtime).
 */
import { Empty, nuid, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { background, withCancelCause, withDeadline, Context, DeadlineExceeded, DeadlineExceededError } from 'gort';
import { decode, encode } from './values.js';

/** Key of the marker a Context argument travels as. */
const CTX_MARK = '\u0000gort-nats.ctx';

interface Marker {
  id: string;
  q: string;
  deadline: number;
  done?: Reason;
}
/** Why a context ended: its deadline passed (else it was canceled), and the cause if one was given. */
interface Reason {
  deadline: boolean;
  cause?: unknown;
}

const cancelSubject = (id: string): string => `gort.cancel.${id}`;
/** A caller's "deadline passed" that comes sooner than this before the deadline by this clock: the clocks differ. */
const SKEW_MS = 50;

/** A reason (or null) off the wire; bytes that are not one count as none. */
function decodeReason(bytes: Uint8Array): Reason | null {
  try {
    const r = decode(bytes, "a context's end") as Reason | null;
    return typeof r === 'object' ? r : null;
  } catch {
    return null;
  }
}

function reasonOf(ctx: Context): Reason {
  const err = ctx.err();
  const cause = ctx.cause();
  const r: Reason = { deadline: err instanceof DeadlineExceededError };
  if (cause !== err && cause !== null && cause !== undefined) r.cause = cause;
  return r;
}

/** A reason on the wire; a cause that cannot cross machines is left out. */
function encodeReason(r: Reason | null): Uint8Array {
  try {
    return encode(r, 'the cause');
  } catch {
    return encode({ deadline: r!.deadline }, 'a reason');
  }
}

/** A Context watched for calls still pending: their marker ids, and its one abort listener. */
interface Watch {
  ids: Set<string>;
  signal: AbortSignal;
  onAbort: () => void;
}

/** The caller's side: markers for Context arguments, cancels published, questions answered. */
export class ContextsOut {
  private readonly byCtx = new Map<Context, Watch>();
  private readonly byId = new Map<string, Context>();

  /** @param queries the caller's subject prefix for questions (its inbox subscription hands them to answer()) */
  constructor(
    private readonly nc: NatsConnection,
    private readonly queries: string,
  ) {}

  /** args with each Context argument replaced by its marker, and the ids of those to watch. */
  mark(args: readonly unknown[]): { wire: unknown[]; pending: [string, Context][] } {
    let wire: unknown[] | null = null;
    const pending: [string, Context][] = [];
    args.forEach((a, i) => {
      if (!(a instanceof Context)) return;
      const id = nuid.next();
      const m: Marker = { id, q: `${this.queries}.${id}`, deadline: a.deadline()[0] ?? 0 };
      if (a.err() !== null) m.done = reasonOf(a);
      else pending.push([id, a]);
      (wire ??= args.slice())[i] = { [CTX_MARK]: m };
    });
    return { wire: wire ?? (args as unknown[]), pending };
  }

  /** Watch the contexts of a call about to be sent: their cancellation is published until unwatch(). */
  watch(pending: readonly [string, Context][]): void {
    for (const [id, ctx] of pending) {
      this.byId.set(id, ctx);
      let w = this.byCtx.get(ctx);
      if (w === undefined) {
        const ids = new Set<string>();
        const onAbort = (): void => {
          if (this.nc.isClosed()) return;
          const data = encodeReason(reasonOf(ctx));
          for (const i of ids) this.nc.publish(cancelSubject(i), data);
        };
        w = { ids, signal: ctx.signal, onAbort };
        this.byCtx.set(ctx, w);
        w.signal.addEventListener('abort', onAbort, { once: true });
      }
      w.ids.add(id);
    }
  }

  /** The call's result arrived (or it failed): stop watching its contexts. */
  unwatch(pending: readonly [string, Context][]): void {
    for (const [id, ctx] of pending) {
      this.byId.delete(id);
      const w = this.byCtx.get(ctx);
      if (w === undefined || !w.ids.delete(id) || w.ids.size > 0) continue;
      this.byCtx.delete(ctx);
      w.signal.removeEventListener('abort', w.onAbort);
    }
  }

  /** A serving process asks what became of context `id`: null (active) or why it ended. */
  answer(id: string, msg: Msg): void {
    const ctx = this.byId.get(id);
    let r: Reason | null;
    if (ctx === undefined) r = { deadline: false, cause: new Error('gort: the caller of this net.spawn no longer waits for it (it has the result of an earlier run)') };
    else r = ctx.err() === null ? null : reasonOf(ctx);
    msg.respond(encodeReason(r));
  }
}

/** Whether v is a Context's marker (a plain object made by mark()). */
function markerOf(v: unknown): Marker | undefined {
  if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype || !(CTX_MARK in v)) return undefined;
  return (v as Record<string, Marker>)[CTX_MARK];
}

/**
 * The serving side: args with each marker replaced by a Context made here and kept in step
 * with the caller's; ask() again now and then while the call runs, end() when it ended.
 */
export function contextsIn(nc: NatsConnection, args: unknown[]): { args: unknown[]; ask(): void; end(): void } {
  const ends: (() => void)[] = [];
  const asks: (() => void)[] = [];
  let ended = false;
  const out = args.map((a) => {
    const m = markerOf(a);
    if (m === undefined) return a;
    const [base, cancelBase] = withCancelCause(background());
    let ctx = base;
    let stopDeadline = (): void => {};
    if (m.deadline > 0) [ctx, stopDeadline] = withDeadline(base, m.deadline);
    const apply = (r: Reason | null): void => {
      if (r === null || ended || ctx.err() !== null) return;
      // A deadline this clock has (nearly) reached: the local timer ends ctx with DeadlineExceeded.
      if (r.deadline && m.deadline > 0 && Date.now() >= m.deadline - SKEW_MS) return;
      cancelBase(r.cause ?? (r.deadline ? DeadlineExceeded : undefined));
    };
    ends.push(() => {
      stopDeadline();
      cancelBase();
    });
    if (m.done !== undefined) {
      apply(m.done);
      return ctx;
    }
    const sub: Subscription = nc.subscribe(cancelSubject(m.id), {
      callback: (err, msg) => {
        if (err === null) apply(decodeReason(msg.data));
      },
    });
    ends.unshift(() => sub.unsubscribe());
    const ask = (): void => {
      if (ended || ctx.err() !== null) return;
      nc.request(m.q, Empty, { timeout: 10_000 }).then(
        (msg) => apply(decodeReason(msg.data)),
        (e: unknown) => {
          const noOne = (e as { isNoResponders?: () => boolean }).isNoResponders?.() === true;
          if (noOne) apply({ deadline: false, cause: new Error('gort: the process that called net.spawn is gone') });
        },
      );
    };
    asks.push(ask);
    void nc.flush().then(ask, () => {});
    return ctx;
  });
  return {
    args: out,
    ask: () => {
      for (const f of asks) f();
    },
    end: () => {
      if (ended) return;
      ended = true;
      for (const f of ends) f();
    },
  };
}
