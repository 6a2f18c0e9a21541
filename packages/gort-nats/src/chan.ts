/**
 * A channel every process of a cluster can use, kept by NATS JetStream.
 *
 * Channel `name` is the stream `GORT_CHAN_<name>` on the subject `gort.chan.<name>`, with
 * WorkQueue retention (a value is removed when acknowledged), `max_msgs` = cap (1 for
 * cap 0) and `discard: new`, so the server refuses a publish beyond the capacity ("maximum
 * messages exceeded", API error 10077) instead of dropping an old value. Every process
 * receives through one durable pull consumer, `gort`, with explicit acks and
 * `max_ack_pending: 1`: the server hands out the next value only after the previous one was
 * acknowledged, which keeps FIFO order across receivers.
 *
 * - send: encode (a TypeError at the call for what cannot cross, values.ts), then publish
 *   with a `msgID` (the server drops a retried copy inside its duplicate window). Refused as
 *   full: wait for a receiver's `took` notice (or 200 ms) and publish again, the same msgID:
 *   back-pressure, never a drop. Refused as sealed (10109): ClosedChannelError. cap 0 is a
 *   rendezvous: the send completes when a receiver took its value (a `took` notice naming a
 *   sequence at or past it, or the server no longer holding it).
 * - recv: pull the next value, decode it, acknowledge it with `ackAck` (the server confirms
 *   the ack, so the value is gone for everyone), announce `took <seq>` on
 *   `gort.chanctl.<name>`, and return it. A receiver that dies between the pull and the ack
 *   never acknowledged: the server delivers the value again after `ackWait`. An ack the
 *   server did not confirm: the value is not returned (it comes back if the ack was lost).
 *   A value this process cannot decode (a module function whose module it cannot load) is
 *   terminated (`term`: never handed out again) and the recv rejects with the error.
 * - close: seal the stream (later publishes are refused, acks still remove) and announce
 *   `closed`. A receiver that finds the stream sealed and empty returns `[undefined, false]`.
 *
 * Invariants: at most one pull is outstanding per RemoteChan object (recvs on one object
 * take turns), so a pull abandoned by a recv that saw the close is never doubled; a value is
 * returned by recv only after the server confirmed its ack.
 *
 * Main thread of a process (any thread with its own NATS connection would do).
 */
import { ClosedChannelError } from 'gort';
import { nanos, nuid, type NatsConnection, type Subscription } from '@nats-io/transport-node';
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
  type JsMsg,
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

const code = (e: unknown): number | undefined => (e instanceof JetStreamApiError ? e.code : undefined);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

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

/** A channel of the cluster (`net.chan()`'s result). Values follow gort's rules for crossing machines. */
export class RemoteChan<T> implements AsyncIterable<T> {
  /** The channel's name in the cluster. */
  readonly name: string;
  /** Its capacity. */
  readonly cap: number;
  private readonly stream: string;
  private readonly subject: string;
  private readonly ctl: string;
  private readonly sub: Subscription;
  /** Woken by a `took` notice (senders) and a `closed` notice (receivers). */
  private tookWaiters: Array<(seq: number) => void> = [];
  private closedWaiters: Array<() => void> = [];
  private sealed: boolean;
  /** The outstanding pull, kept across recvs (see the header's invariant). */
  private pull: Promise<JsMsg | null> | null = null;
  private turn: Promise<unknown> = Promise.resolve();

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
          const ws = this.closedWaiters;
          this.closedWaiters = [];
          for (const w of ws) w();
        } else if (s.startsWith('took ')) {
          const ws = this.tookWaiters;
          this.tookWaiters = [];
          for (const w of ws) w(Number(s.slice(5)));
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
    const r = this.turn.then(() => this.take());
    this.turn = r.catch(() => undefined);
    return r;
  }

  private closedNotice(): Promise<'closed'> {
    if (this.sealed) return sleep(POLL_MS).then(() => 'closed');
    return new Promise((r) => this.closedWaiters.push(() => r('closed')));
  }

  /** Whether the channel is closed and nothing is left in it (taken but unacknowledged counts as left). */
  private async drained(): Promise<boolean> {
    const info = await this.jsm.streams.info(this.stream);
    this.sealed ||= info.config.sealed === true;
    return this.sealed && info.state.messages === 0;
  }

  private async take(): Promise<[T | undefined, boolean]> {
    for (;;) {
      if (this.sealed && this.pull === null && (await this.drained())) return [undefined, false];
      this.pull ??= this.consumer.next({ expires: PULL_MS });
      const r = await Promise.race([this.pull, this.closedNotice()]);
      if (r === 'closed') {
        if (await this.drained()) return [undefined, false];
        continue; // values left: keep waiting on the same pull
      }
      this.pull = null;
      if (r === null) {
        if (await this.drained()) return [undefined, false];
        continue;
      }
      let v: T;
      try {
        v = decode(r.data) as T;
      } catch (e) {
        r.term(); // a value no receiver can decode would come back forever: drop it, say so here
        throw e;
      }
      let acked = false;
      try {
        acked = await r.ackAck();
      } catch {
        acked = false;
      }
      if (!acked) continue; // not confirmed: if the ack was lost, the server hands the value out again
      this.nc.publish(this.ctl, `took ${r.seq}`);
      return [v, true];
    }
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
