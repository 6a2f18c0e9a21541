/**
 * The serving side of `net.spawn`: a process that serves a module takes its calls from
 * JetStream and runs each as a goroutine on its gort runtime.
 *
 * Setup (`ready`): add the calls stream and the module's consumer (calls.ts), subscribe to
 * the probe subject `gort.spawn.<h>` in the queue group `gort` (answered at once, empty: "a
 * process serves this module"), and start pulling.
 *
 * Pulling: the process asks the consumer for calls only while it has a free slot under its
 * `concurrency`: `running + asked <= concurrency`, where `asked` counts the calls that open
 * pulls may still bring. When slots free up it opens a pull for all of them (at most
 * MAX_PULLS open at once; a pull lasts PULL_MS). So a busy process leaves the next call to an
 * idle one, and a call never waits in a process that cannot run it yet.
 *
 * A call: the export name is in the header `gort-fn`, the caller's reply subject in
 * `gort-reply`, the arguments are the encoded list (values.ts) with Context markers
 * (remotectx.ts). Every ackWait/3 while it runs (and when the process begins to stop), the
 * process tells the caller that it runs it (an empty message with `gort-status: running`: not
 * at the start, which would cost a message per call, most of which end sooner), tells the
 * server it is still working (`+WPI`), so a long call is not handed out again, and asks the
 * caller what became of the call's contexts (a caller that is gone cancels them). When it ends, the process
 * publishes the result to the reply subject (core NATS, header `gort-origin`) and only then
 * acknowledges the call. A process that dies before the ack: after `ackWait` the server
 * hands the call to another process, which runs it again (at-least-once execution); the
 * caller keeps the first result per call (cluster.ts). A call handed out more than
 * MAX_DELIVERIES times is not run again: its caller gets an error that says so, and the
 * call is terminated. A caller that died: the result goes nowhere, the call is still acked.
 *
 * Stop: stop pulling (a call that a pull brings after that is `nak`ed: handed out again at
 * once), drop the probe subscription, announce `gort.left.<h>` (callers forget the probe's
 * answer), finish the calls taken (each result published and acked), resolve.
 *
 * Invariants: every call taken is acked after its result was published, `nak`ed, or
 * terminated, unless the process dies; `running <= concurrency`.
 *
 * Main thread (the one with the NATS connection and a gort runtime).
 */
import { Empty, headers, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstream, type Consumer, type ConsumerMessages, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { fromModule, spawn as gortSpawn } from 'gort';
import { decode, encode } from './values.js';
import { contextsIn } from './remotectx.js';
import { addCallsConsumer, CALLS_STREAM, consumerName, failure, leftSubject, moduleHash, ORIGIN, probeSubject, callSubject, type Reply } from './calls.js';

/** Options of `net.serve()`. */
export interface ServeOptions {
  /** Most calls of the module's functions running at once on this process. Default 64. */
  concurrency?: number;
  /**
   * How long a call taken by a process may go without a sign of life (the process sends one
   * every ackWait/3 while the call runs) before it is handed to another process, in ms.
   * It is the module's, shared by every process serving it: the last to serve sets it, so
   * give every process the same. Default 30,000.
   */
  ackWait?: number;
}

/** A module this process serves (`net.serve()`'s result). */
export interface Service {
  /** The NATS subject the module's calls travel on (kept by the JetStream stream `GORT_CALLS`). */
  readonly subject: string;
  /** Resolves once this process takes calls (after it, spawns can reach it); rejects if it cannot. */
  readonly ready: Promise<void>;
  /** Take no more calls, finish the ones taken (replying to each), then resolve. */
  stop(): Promise<void>;
}

/** A pull's lifetime at the server. */
const PULL_MS = 5_000;
/** Most pulls a process keeps open for one module. */
const MAX_PULLS = 4;
/** A call handed out this many times is not run again. */
const MAX_DELIVERIES = 5;

export class ModuleServer implements Service {
  readonly subject: string;
  readonly ready: Promise<void>;
  private readonly hash: string;
  private readonly mod: Record<string, (...a: unknown[]) => unknown>;
  private consumer: Consumer | null = null;
  private probe: Subscription | null = null;
  private beat: ReturnType<typeof setInterval> | null = null;
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private running = 0;
  private asked = 0;
  private open = 0;
  private readonly pulls = new Set<ConsumerMessages>();
  /** The calls running: how to ask their callers about their contexts, and where their results go. */
  private readonly live = new Map<JsMsg, { ask: () => void; reply: string }>();
  private idle: (() => void) | null = null;

  constructor(
    private readonly nc: NatsConnection,
    jsm: Promise<JetStreamManager>,
    private readonly href: string,
    private readonly concurrency: number,
    private readonly ackWait: number,
  ) {
    this.hash = moduleHash(href);
    this.subject = callSubject(this.hash);
    this.mod = fromModule(href) as Record<string, (...a: unknown[]) => unknown>;
    this.ready = this.setup(jsm);
  }

  private async setup(jsm: Promise<JetStreamManager>): Promise<void> {
    await addCallsConsumer(await jsm, this.hash, this.ackWait);
    const consumer = await jetstream(this.nc).consumers.get(CALLS_STREAM, consumerName(this.hash));
    if (this.stopped) return;
    this.consumer = consumer;
    this.probe = this.nc.subscribe(probeSubject(this.hash), {
      queue: 'gort',
      callback: (err, msg) => {
        if (err === null) msg.respond();
      },
    });
    this.beat = setInterval(() => {
      for (const [m, call] of this.live) {
        m.working();
        call.ask();
        this.tellRunning(call.reply);
      }
    }, this.ackWait / 3);
    this.beat.unref();
    this.pump();
    await this.nc.flush();
  }

  /** Open pulls for the free slots. */
  private pump(): void {
    while (!this.stopped && this.consumer !== null && this.open < MAX_PULLS) {
      const free = this.concurrency - this.running - this.asked;
      if (free <= 0) return;
      this.asked += free;
      this.open++;
      void this.pull(this.consumer, free);
    }
  }

  private async pull(consumer: Consumer, n: number): Promise<void> {
    let got = 0;
    let it: ConsumerMessages | null = null;
    let failed = false;
    try {
      it = await consumer.fetch({ max_messages: n, expires: PULL_MS });
      this.pulls.add(it);
      if (this.stopped) it.stop();
      for await (const m of it) {
        got++;
        this.asked--;
        if (this.stopped) m.nak();
        else void this.run(m);
      }
    } catch {
      failed = true; // the consumer is gone, or the connection: try again later, if still serving
    } finally {
      if (it !== null) this.pulls.delete(it);
      this.asked -= n - got;
      this.open--;
    }
    if (failed) setTimeout(() => this.pump(), 1000).unref();
    else this.pump();
  }

  /**
   * Tell a caller that its call runs here (`gort-status: running`, and how often it will hear
   * so again): a caller that does not hear it while no process serves the module gives up
   * (cluster.ts, the watch).
   */
  private tellRunning(reply: string): void {
    if (reply === '' || this.nc.isClosed()) return;
    const h = headers();
    h.set('gort-status', 'running');
    h.set('gort-every', String(Math.ceil(this.ackWait / 3)));
    this.nc.publish(reply, Empty, { headers: h });
  }

  private async run(m: JsMsg): Promise<void> {
    this.running++;
    const name = m.headers?.get('gort-fn') ?? '';
    const reply = m.headers?.get('gort-reply') ?? '';
    const live = { ask: () => {}, reply };
    this.live.set(m, live);
    let r: Reply;
    if (m.info.deliveryCount > MAX_DELIVERIES) {
      r = failure(
        new Error(
          `gort: ${name} of ${this.href} was handed to a serving process ${MAX_DELIVERIES} times and none of them finished it ` +
            `(each died or stopped while it ran); it is not run again`,
        ),
      );
    } else {
      let end = (): void => {};
      try {
        const call = contextsIn(this.nc, decode(m.data, `the arguments of ${name}`) as unknown[]);
        end = call.end;
        live.ask = call.ask;
        r = { ok: true, value: await gortSpawn(this.mod[name]!, ...call.args) };
      } catch (e) {
        r = failure(e);
      } finally {
        end();
      }
    }
    let data: Uint8Array;
    try {
      data = encode(r, `the result of ${name}`);
    } catch (e) {
      data = encode(failure(e), 'an error');
    }
    const h = headers();
    h.set('gort-origin', ORIGIN);
    try {
      if (reply !== '') this.nc.publish(reply, data, { headers: h });
      if (m.info.deliveryCount > MAX_DELIVERIES) m.term();
      else m.ack();
    } catch {
      // the connection closed: the call is handed out again after ackWait
    }
    this.live.delete(m);
    this.running--;
    this.pump();
    if (this.running === 0) this.idle?.();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      for (const it of this.pulls) it.stop();
      await this.ready.catch(() => {});
      // Before the probe goes quiet: the callers of the calls still running here must not
      // take the silence for "no process runs it" (cluster.ts, the watch).
      for (const call of this.live.values()) this.tellRunning(call.reply);
      this.probe?.unsubscribe();
      if (!this.nc.isClosed()) this.nc.publish(leftSubject(this.hash));
      if (this.running > 0) await new Promise<void>((r) => (this.idle = r));
      if (this.beat !== null) clearInterval(this.beat);
    })();
    return this.stopping;
  }
}
