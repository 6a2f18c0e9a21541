/**
 * A channel every process of a cluster can use, kept by NATS JetStream.
 *
 * Channel `name` is the stream `GORT_CHAN_<name>` on the subject `gort.chan.<name>`, with
 * WorkQueue retention (a value is removed when acknowledged), `max_msgs` = cap (1 for
 * cap 0) and `discard: new`, so the server refuses a publish beyond the capacity ("maximum
 * messages exceeded", API error 10077) instead of dropping an old value. Every process
 * receives through one durable pull consumer, `gort`, with explicit acks and
 * `max_ack_pending: 1`: the server hands out the next value only after the previous one was
 * acknowledged or given back (`nak`: it is handed out again first), which keeps FIFO order
 * across receivers.
 *
 * - send: encode (a TypeError at the call for what cannot cross, values.ts), then publish
 *   with a `msgID` (the server drops a retried copy inside its duplicate window). Refused as
 *   full: wait for a receiver's `took` notice (or 200 ms) and publish again, the same msgID:
 *   back-pressure, never a drop. Refused as sealed (10109): ClosedChannelError. cap 0 is a
 *   rendezvous: the send completes when a receiver took its value (a `took` notice naming a
 *   sequence at or past it, or the server no longer holding it).
 * - recv: take the value the outstanding pull brings, decode it, acknowledge it with `ackAck`
 *   (the server confirms the ack, so the value is gone for everyone), announce `took <seq>`
 *   on `gort.chanctl.<name>`, and return it. A receiver that dies between the pull and the
 *   ack never acknowledged: the server delivers the value again after `ackWait`. An ack the
 *   server did not confirm: the value is not returned (it comes back if the ack was lost).
 *   A value this process cannot decode (bytes another program published on the subject, a
 *   module function with a URL it cannot take) is terminated (`term`: never handed out
 *   again) and the recv rejects with a DecodeError; the next recv takes the next value.
 * - close: seal the stream (later publishes are refused, acks still remove) and announce
 *   `closed`. A receiver that finds the stream sealed and empty returns `[undefined, false]`.
 * - select: a RemoteChan is a case of gort's select() (gort's external-case protocol,
 *   `[selectable]`). A receive case waits for a value like recv, then claims the select: won,
 *   it acknowledges; lost, it gives the value back (`nak`) at once, and the value is at the
 *   head again. A send case waits for room (cap 0: an empty channel and a receiver's pull
 *   waiting, which receivers announce with `want`), then claims, and publishes only if it
 *   won. With a default, a receive case looks once (stream info, then a pull that does not
 *   wait for new values) and a send case checks for room once. docs/cluster.md, "select".
 *
 * Invariants: at most one pull is outstanding per RemoteChan object, and at most one
 * receive (recv or a select case: they take turns) listens for it; a value the pull brings
 * when nobody listens (its select lost meanwhile) is given back at once, never kept. A
 * value is returned by recv only after the server confirmed its ack. A select's send case
 * publishes only after its claim succeeded.
 *
 * Main thread of a process (any thread with its own NATS connection would do).
 *
 * Size: ~600 lines, whole on purpose. recv, the select cases (selectRecv, selectSend, look)
 * and close share one object's pull, its listener and the receives' turn: the invariants
 * above hold across all of them, and a module per side would pass that private state back
 * and forth. The helpers that stand alone (RawHeld, giveBack, openChan) are small.
 */
import { ClosedChannelError, selectable, type ExternalCase, type ExternalCaseOp, type CaseSignal, type Selectable } from 'gort';
import { createInbox, nanos, nuid, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  AckPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type Consumer,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { decode, encode } from './values.js';

/** Options of `net.chan()`. */
export interface ChanOptions {
  /** Capacity: most values held (0: a send completes when a receiver took the value). Default 0. */
  cap?: number;
  /** Where JetStream keeps the values: `'file'` (survives a server restart; default) or `'memory'`. */
  storage?: 'file' | 'memory';
  /**
   * How long a taken value may stay unacknowledged before the server hands it out again, in
   * ms. Default 30,000. The first process to open the channel sets it; later opens keep it.
   */
  ackWait?: number;
}

const NAME = /^[A-Za-z0-9_-]{1,128}$/;
/** Waiting for a notice that may never come (its sender died): look again after this long. */
const POLL_MS = 200;
/** A pull's lifetime at the server (the client's minimum is 1 s). */
const PULL_MS = 5_000;
/**
 * How long a select's look with a default waits for a value that is out with another receiver
 * (the server answers such a pull only when it expires; a value given back meanwhile is taken).
 */
const LOOK_MS = 10;

const code = (e: unknown): number | undefined => (e instanceof JetStreamApiError ? e.code : undefined);

/** A value this process took out of the stream: it stays out until acknowledged, given back (nak) or terminated. */
interface Held {
  readonly data: Uint8Array;
  /** Its stream sequence. */
  readonly seq: number;
  ackAck(): Promise<boolean>;
  nak(): void;
  term(): void;
}

/** A value taken by a pull the client library did not make (select's look, `no_wait`): acks by hand. */
class RawHeld implements Held {
  private answered = false;
  constructor(
    private readonly nc: NatsConnection,
    private readonly msg: Msg,
  ) {}
  get data(): Uint8Array {
    return this.msg.data;
  }
  get seq(): number {
    // $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.… (or, since 2.10, with a domain and an account hash first)
    const t = this.msg.reply!.split('.');
    return Number(t[t.length === 9 ? 5 : 7]);
  }
  async ackAck(): Promise<boolean> {
    if (this.answered) return false;
    this.answered = true;
    try {
      await this.nc.request(this.msg.reply!, '+ACK', { timeout: 5_000 });
      return true;
    } catch {
      return false;
    }
  }
  nak(): void {
    this.say('-NAK');
  }
  term(): void {
    this.say('+TERM');
  }
  private say(what: string): void {
    if (this.answered) return;
    this.answered = true;
    this.msg.respond(what);
  }
}

/**
 * Give a held value back (nak): the server hands it out again before any newer one. On a
 * connection that closed meanwhile the nak cannot go; the server then hands the value out
 * again after ackWait.
 */
function giveBack(r: Held): void {
  try {
    r.nak();
  } catch {
    // the connection is closed
  }
}

/** A receive's wait ended: the channel is closed and drained. */
const CLOSED = Symbol('closed');
/** A receive's wait ended: its select was decided by another case. */
const ABORTED = Symbol('aborted');
/** What the outstanding pull brought: a value, nothing (it expired), or the error it failed with. */
type Pulled = Held | null | Error;

export async function openChan<T>(nc: NatsConnection, name: string, opts: ChanOptions): Promise<RemoteChan<T>> {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(`gort: a cluster channel's name must be 1 to 128 letters, digits, '-' or '_', got ${JSON.stringify(name)}`);
  }
  const cap = opts.cap ?? 0;
  if (!Number.isInteger(cap) || cap < 0 || cap > 2 ** 31 - 1) throw new RangeError(`gort: a channel's cap must be an integer from 0 to 2^31-1, got ${String(cap)}`);
  const ackWait = opts.ackWait ?? 30_000;
  if (!Number.isInteger(ackWait) || ackWait < 1) throw new RangeError(`gort: ackWait must be a positive integer of ms, got ${String(ackWait)}`);
  const jsm = await jetstreamManager(nc);
  const stream = `GORT_CHAN_${name}`;
  const cfg: Partial<StreamConfig> & { name: string } = {
    name: stream,
    subjects: [`gort.chan.${name}`],
    description: `gort channel cap=${cap}`,
    retention: RetentionPolicy.Workqueue,
    max_msgs: Math.max(cap, 1),
    discard: DiscardPolicy.New,
    storage: opts.storage === 'memory' ? StorageType.Memory : StorageType.File,
  };
  let sealed: boolean;
  try {
    sealed = (await jsm.streams.add(cfg)).config.sealed === true;
  } catch (e) {
    if (code(e) !== 10058) throw e;
    // The channel exists with another configuration: a sealed one, or one of another capacity.
    const have = (await jsm.streams.info(stream)).config;
    if (have.description !== cfg.description) {
      throw new Error(`gort: channel '${name}' exists as ${have.description ?? 'a stream gort did not make'}, not with cap=${cap}`);
    }
    sealed = have.sealed === true;
  }
  // The first process to open the channel makes its consumer; later ones use it as it is. (The
  // server takes an add of an existing durable as an update: another process' ackWait would
  // replace the first one's.)
  let made = true;
  try {
    await jsm.consumers.info(stream, 'gort');
  } catch (e) {
    if (code(e) !== 10014) throw e; // 10014: consumer not found
    made = false;
  }
  if (!made) {
    try {
      await jsm.consumers.add(stream, { durable_name: 'gort', ack_policy: AckPolicy.Explicit, max_ack_pending: 1, ack_wait: nanos(ackWait) });
    } catch (e) {
      // Another process made it meanwhile, or the stream is sealed: use it as it is.
      if (code(e) === undefined) throw e;
    }
  }
  const js = jetstream(nc);
  const consumer = await js.consumers.get(stream, 'gort');
  return new RemoteChan<T>(nc, js, jsm, consumer, name, cap, sealed);
}

/**
 * A channel of the cluster (`net.chan()`'s result). Values follow gort's rules for crossing
 * machines. It is also a case of gort's `select()`: `recv(ch, fn)` and `send(ch, v, fn)` take it
 * beside local channels and timers (docs/cluster.md, "select across machines").
 */
export class RemoteChan<T> implements AsyncIterable<T>, Selectable<T> {
  /** The channel's name in the cluster. */
  readonly name: string;
  /** Its capacity. */
  readonly cap: number;
  private readonly stream: string;
  private readonly subject: string;
  private readonly ctl: string;
  private readonly sub: Subscription;
  /** Woken by a `took` notice (senders). */
  private tookWaiters: Array<(seq: number) => void> = [];
  /** Woken by a `closed` notice (receivers). */
  private readonly closedWaiters = new Set<() => void>();
  /** Woken by a `took` or `want` notice (select's send cases). */
  private readonly roomWaiters = new Set<() => void>();
  private sealed: boolean;
  /** A pull is outstanding at the server (see the header's invariant). */
  private pullOut = false;
  /** The receive that takes what the outstanding pull brings, or null: a value then goes back. */
  private listener: ((r: Pulled) => void) | null = null;
  private turn: Promise<unknown> = Promise.resolve();
  /** Receives queued or running on this object (recv and select cases). */
  private receiving = 0;

  /** @internal Use `net.chan()`. */
  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly consumer: Consumer,
    name: string,
    cap: number,
    sealed: boolean,
  ) {
    this.name = name;
    this.cap = cap;
    this.sealed = sealed;
    this.stream = `GORT_CHAN_${name}`;
    this.subject = `gort.chan.${name}`;
    this.ctl = `gort.chanctl.${name}`;
    this.sub = nc.subscribe(this.ctl, {
      callback: (err, msg) => {
        if (err !== null) return;
        const s = msg.string();
        if (s === 'closed') {
          this.sealed = true;
          for (const w of [...this.closedWaiters]) w();
        } else if (s.startsWith('took ')) {
          const ws = this.tookWaiters;
          this.tookWaiters = [];
          for (const w of ws) w(Number(s.slice(5)));
          for (const w of [...this.roomWaiters]) w();
        } else if (s === 'want') {
          for (const w of [...this.roomWaiters]) w();
        }
      },
    });
  }

  /** A `took` notice's sequence, or 0 after POLL_MS without one. */
  private took(): Promise<number> {
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(0), POLL_MS);
      this.tookWaiters.push((seq) => {
        clearTimeout(t);
        resolve(seq);
      });
    });
  }

  /**
   * Send v: resolves once the channel holds it (cap > 0) or a receiver took it (cap 0);
   * waits while the channel is full. A value that cannot cross machines is a TypeError
   * thrown here; a closed channel rejects with ClosedChannelError.
   */
  send(v: T): Promise<void> {
    const data = encode(v, `the value sent on '${this.name}'`);
    return this.publish(data);
  }

  private async publish(data: Uint8Array): Promise<void> {
    const msgID = nuid.next();
    let seq: number;
    for (;;) {
      try {
        seq = (await this.js.publish(this.subject, data, { msgID })).seq;
        break;
      } catch (e) {
        const c = code(e);
        if (c === 10109) throw new ClosedChannelError(`gort: send on closed channel '${this.name}'`);
        if (c === 10077) {
          await this.took(); // full: wait for a receiver to take one
          continue;
        }
        if ((e as Error).name === 'TimeoutError') continue; // the same msgID: a copy that did arrive is dropped
        throw e;
      }
    }
    if (this.cap > 0) return;
    // Rendezvous: wait until a receiver took it.
    for (;;) {
      const s = await this.took();
      if (s >= seq) return;
      if (s === 0 && !(await this.holds(seq))) return;
    }
  }

  /** Whether the server still holds the value of sequence seq. */
  private async holds(seq: number): Promise<boolean> {
    try {
      await this.jsm.streams.getMessage(this.stream, { seq });
      return true;
    } catch (e) {
      if (code(e) === 10037) return false;
      throw e;
    }
  }

  /** Receive the next value; `undefined` once the channel is closed and drained. */
  async recv(): Promise<T | undefined> {
    return (await this.recvOk())[0];
  }

  /** Receive `[value, true]`, or `[undefined, false]` once the channel is closed and drained. */
  recvOk(): Promise<[T | undefined, boolean]> {
    return this.inTurn(() => this.take());
  }

  /** Run a receive after the ones queued before it on this object. */
  private inTurn<R>(f: () => Promise<R>): Promise<R> {
    this.receiving++;
    const r = this.turn.then(f).finally(() => this.receiving--);
    this.turn = r.catch(() => undefined);
    return r;
  }

  /** Make sure a pull is outstanding; it hands what it brings to the listener, or gives it back. */
  private pullNext(): void {
    if (this.pullOut) return;
    this.pullOut = true;
    this.consumer.next({ expires: PULL_MS }).then(
      (m) => this.pulled(m),
      (e: unknown) => this.pulled(e instanceof Error ? e : new Error(String(e))),
    );
    if (this.cap === 0) this.nc.publish(this.ctl, 'want'); // a select's send case waits for a receiver
  }

  private pulled(r: Pulled): void {
    this.pullOut = false;
    const l = this.listener;
    this.listener = null;
    if (l !== null) l(r);
    else if (r !== null && !(r instanceof Error)) giveBack(r); // its receive is gone (a select that lost): back to the head
  }

  /** Whether the channel is closed and nothing is left in it (taken but unacknowledged counts as left). */
  private async drained(): Promise<boolean> {
    const info = await this.jsm.streams.info(this.stream);
    this.sealed ||= info.config.sealed === true;
    return this.sealed && info.state.messages === 0;
  }

  /** What the outstanding pull brings, a `closed` notice (or, once sealed, POLL_MS), or the abort of `signal`. */
  private delivery(signal: CaseSignal | null): Promise<Pulled | 'closed' | typeof ABORTED> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = (x: Pulled | 'closed' | typeof ABORTED): void => {
        if (this.listener === onPull) this.listener = null;
        this.closedWaiters.delete(onClosed);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(x);
      };
      const onPull = (r: Pulled): void => finish(r);
      const onClosed = (): void => finish('closed');
      const onAbort = (): void => finish(ABORTED);
      this.listener = onPull;
      this.pullNext();
      if (this.sealed) timer = setTimeout(onClosed, POLL_MS);
      else this.closedWaiters.add(onClosed);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The next value, held for this process; CLOSED once the channel is closed and drained; ABORTED once `signal` aborts. */
  private async next(signal: CaseSignal | null): Promise<Held | typeof CLOSED | typeof ABORTED> {
    if (this.sealed && (await this.drained())) return CLOSED;
    for (;;) {
      if (signal?.aborted === true) return ABORTED;
      const r = await this.delivery(signal);
      if (r === ABORTED) return r;
      if (r === 'closed' || r === null) {
        if (await this.drained()) return CLOSED;
        continue; // values left, or the pull expired: wait on (the same pull, or a new one)
      }
      if (r instanceof Error) throw r;
      return r;
    }
  }

  /** Acknowledge a held value and announce it; false if the server did not confirm the ack. */
  private async ack(r: Held): Promise<boolean> {
    let acked = false;
    try {
      acked = await r.ackAck();
    } catch {
      acked = false;
    }
    if (acked) this.nc.publish(this.ctl, `took ${r.seq}`);
    return acked;
  }

  private async take(): Promise<[T | undefined, boolean]> {
    for (;;) {
      const r = await this.next(null);
      if (r === CLOSED || r === ABORTED) return [undefined, false];
      let v: T;
      try {
        v = decode(r.data, `a value received on '${this.name}'`) as T;
      } catch (e) {
        r.term(); // a value no receiver can decode would come back forever: drop it, say so here
        throw e;
      }
      if (await this.ack(r)) return [v, true];
      // not confirmed: if the ack was lost, the server hands the value out again
    }
  }

  /**
   * gort's select protocol ({@link Selectable}): what makes this channel a case of gort's
   * `select()` through `recv(ch, fn)` and `send(ch, v, fn)`. Called by them, not by programs.
   */
  [selectable](dir: 'recv' | 'send', value?: T): ExternalCase<T> {
    if (dir === 'send') {
      const data = encode(value, `the value of a select case sending on '${this.name}'`);
      return { start: (op) => this.selectSend(data, op) };
    }
    return { start: (op) => this.selectRecv(op) };
  }

  private selectRecv(op: ExternalCaseOp): Promise<readonly [T | undefined, boolean] | undefined> {
    // With a default: a receive of this object queued first would get any value first.
    if (op.poll && this.receiving > 0) return Promise.resolve(undefined);
    return this.inTurn(async () => {
      if (op.signal.aborted) return undefined;
      const r = op.poll ? await this.look() : await this.next(op.signal);
      if (r === ABORTED || r === null) return undefined;
      return this.offer(op, r);
    });
  }

  /**
   * A value in hand (or the end of the channel): claim the select for it. Lost: the value goes
   * back at once (nak: the head again). Won: acknowledge it; if the server does not confirm,
   * the case goes on as a plain receive (the select has chosen it).
   */
  private async offer(op: ExternalCaseOp, r: Held | typeof CLOSED): Promise<readonly [T | undefined, boolean] | undefined> {
    if (r === CLOSED) return op.claim() ? [undefined, false] : undefined;
    let v: T | undefined;
    let bad: { e: unknown } | null = null;
    try {
      v = decode(r.data, `a value received on '${this.name}'`) as T;
    } catch (e) {
      bad = { e };
    }
    if (!op.claim()) {
      giveBack(r);
      return undefined;
    }
    if (bad !== null) {
      r.term();
      throw bad.e;
    }
    if (await this.ack(r)) return [v, true];
    return this.take();
  }

  /**
   * A select with a default: is a value there now? One stream info; if it holds values, one
   * pull that does not wait for new ones (the server still waits up to LOOK_MS while a value
   * is out with another receiver, and a value our own outstanding pull brings meanwhile is
   * taken too). CLOSED when closed and drained; null when nothing can be taken now.
   */
  private async look(): Promise<Held | typeof CLOSED | null> {
    const info = await this.jsm.streams.info(this.stream);
    this.sealed ||= info.config.sealed === true;
    if (info.state.messages === 0) return this.sealed ? CLOSED : null;
    return new Promise((resolve) => {
      let mine: Held | null = null;
      const onPull = (r: Pulled): void => {
        if (r !== null && !(r instanceof Error)) mine = r;
      };
      if (this.pullOut) this.listener = onPull;
      const inbox = createInbox();
      let timer: ReturnType<typeof setTimeout> | undefined = undefined;
      const end = (h: Held | null): void => {
        clearTimeout(timer);
        sub.unsubscribe();
        if (this.listener === onPull) this.listener = null;
        if (mine !== null) {
          if (h !== null) giveBack(h);
          resolve(mine);
        } else resolve(h);
      };
      const sub = this.nc.subscribe(inbox, {
        max: 1,
        callback: (err, m) => end(err === null && (m.headers?.code ?? 0) === 0 && m.reply ? new RawHeld(this.nc, m) : null),
      });
      timer = setTimeout(() => end(null), LOOK_MS + 5_000); // the server never answered (the connection broke)
      this.nc.publish(`$JS.API.CONSUMER.MSG.NEXT.${this.stream}.gort`, JSON.stringify({ batch: 1, no_wait: true, expires: nanos(LOOK_MS) }), { reply: inbox });
    });
  }

  private async selectSend(data: Uint8Array, op: ExternalCaseOp): Promise<readonly [undefined, boolean] | undefined> {
    for (;;) {
      if (op.signal.aborted) return undefined;
      const room = await this.room();
      if (room !== 'full') {
        if (!op.claim()) return undefined;
        if (room === 'closed') throw new ClosedChannelError(`gort: send on closed channel '${this.name}'`);
        await this.publish(data); // chosen: as a plain send from here (it waits if another sender filled the room first)
        return [undefined, true];
      }
      if (op.poll) return undefined;
      await this.roomNotice(op.signal);
    }
  }

  /**
   * Whether a send could proceed now: room (cap 0: nothing held, and a pull of some receiver
   * waiting at the server, this object's own pull left by a lost select not counted), full, or
   * closed.
   */
  private async room(): Promise<'room' | 'full' | 'closed'> {
    const info = await this.jsm.streams.info(this.stream);
    if (info.config.sealed === true) return 'closed';
    if (this.cap > 0) return info.state.messages < this.cap ? 'room' : 'full';
    if (info.state.messages > 0) return 'full';
    const waiting = (await this.consumer.info()).num_waiting - (this.pullOut && this.listener === null ? 1 : 0);
    return waiting > 0 ? 'room' : 'full';
  }

  /** A `took` or `want` notice, POLL_MS, or the abort of signal. */
  private roomNotice(signal: CaseSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.roomWaiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, POLL_MS);
      this.roomWaiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Close the channel: later sends reject, receivers drain what was sent, then get ok = false. */
  async close(): Promise<void> {
    const info = await this.jsm.streams.info(this.stream);
    if (info.config.sealed) throw new ClosedChannelError(`gort: close of closed channel '${this.name}'`);
    // StreamUpdateConfig's type leaves `sealed` out, but the server takes it (sealing cannot be undone).
    await this.jsm.streams.update(this.stream, { ...info.config, sealed: true } as Partial<StreamConfig>);
    this.sealed = true;
    this.nc.publish(this.ctl, 'closed');
  }

  /** Remove the channel from the cluster (its stream and every value in it). */
  async destroy(): Promise<void> {
    this.detach();
    await this.jsm.streams.delete(this.stream);
  }

  /** Receive until the channel is closed and drained (Go's `for v := range ch`). */
  async *[Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    for (;;) {
      const [v, ok] = await this.recvOk();
      if (!ok) return undefined;
      yield v as T;
    }
  }

  /** @internal Stop listening for notices (the cluster is closing). */
  detach(): void {
    this.sub.unsubscribe();
  }
}
