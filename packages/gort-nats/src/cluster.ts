/**
 * A cluster: processes (standing for machines) connected to one NATS system. Each runs its
 * own gort runtime; `net.spawn()` runs a module function on another process and
 * `net.chan()` (chan.ts) is a channel every process can use.
 *
 * Spawn: at-least-once execution, exactly-once delivery. The caller publishes the call to
 * JetStream (`gort.call.<module hash>`, stream `GORT_CALLS`, calls.ts), where it waits until
 * a process serving the module pulls it, runs it and acknowledges it (serve.ts); a process
 * that dies first leaves the call to another, which runs it again. The call carries the
 * export name (header `gort-fn`), the caller's reply subject `<inbox>.<n>` (header
 * `gort-reply`), a message id `<caller id>.<n>` (the stream drops a copy the client sends
 * again), and the encoded arguments (values.ts; a Context argument as a marker,
 * remotectx.ts). The result comes back on the reply subject over core NATS. The caller has
 * one subscription, `<inbox>.>`; a result settles pending call n (one that cannot be decoded,
 * or is not a result, with a DecodeError), and any later result of call n (a run again of a
 * call whose first run finished but was not acknowledged) is dropped: the first result
 * counts. On the same subscription the caller answers serving processes' questions about
 * its contexts (`<inbox>.c.<id>`).
 *
 * No serving process: JetStream would keep the call until one comes, so before publishing,
 * the caller asks the probe subject `gort.spawn.<hash>` (answered by a serving process,
 * else 503 "no responders" from the NATS server at once: NoServerError). A positive answer
 * is kept for PROBE_MS, and forgotten when a serving process of the module announces that it
 * stopped (`gort.left.<hash>`). A call published all the same (the last process died, with
 * no announcement, less than PROBE_MS before, or stopped within a round trip of the probe),
 * or whose process died while no other serves the module: the watch (look) finds it within
 * a few PROBE_MS, as a serving process says `gort-status: running` to the caller of each call
 * it runs every ackWait/3 and when it begins to stop, and rejects it with NoServerError.
 *
 * Invariants: a pending call settles exactly once (its first result, a NoServerError or a
 * failed publication, or the connection's end, which rejects every pending call); its
 * contexts are watched from its publication until it settles.
 *
 * Main thread (the thread that runs gort's `start()`/`run()`).
 */
import { fromModule, gomaxprocs, type Context } from 'gort';
import { connect as natsConnect, createInbox, Empty, headers, nuid, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { decode, encode, moduleRef } from './values.js';
import { DecodeError, NoServerError, RemoteError } from './errors.js';
import { RemoteChan, openChan, type ChanOptions } from './chan.js';
import { CALLS_STREAM, callSubject, describe, leftSubject, moduleHash, ORIGIN, probeSubject, type Reply } from './calls.js';
import { ModuleServer, type ServeOptions, type Service } from './serve.js';
import { ContextsOut } from './remotectx.js';

export type { ServeOptions, Service };

/** How long a probe's "a process serves this module" is believed. */
const PROBE_MS = 1_000;

/** Options of `connect()`. */
export interface ConnectOptions {
  /** NATS server URL(s), e.g. `'nats://127.0.0.1:4222'`. */
  servers: string | string[];
  /** The connection's name, shown by the NATS server's monitoring. Default `gort <host>:<pid>`. */
  name?: string;
}

/** A module URL as gort's fromModule() names it (a path made a file: URL, a .ts sibling found, …). */
function moduleHref(url: string | URL): string {
  const probe = (fromModule(url) as Record<string, unknown>)['default'];
  return moduleRef(probe)!.url;
}

/** Connect to a NATS system as one process of a cluster. */
export async function connect(opts: ConnectOptions): Promise<Cluster> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`gort: connect() needs options ({ servers }), got ${describe(opts)}`);
  const { servers } = opts;
  if (typeof servers !== 'string' && !(Array.isArray(servers) && servers.every((s) => typeof s === 'string'))) {
    throw new TypeError(`gort: connect()'s servers must be a URL string or an array of them, got ${describe(servers)}`);
  }
  const nc = await natsConnect({ servers, name: opts.name ?? `gort ${ORIGIN}`, maxReconnectAttempts: 10 });
  return new Cluster(nc);
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  what: string;
  ctxs: [string, Context][];
  /** The module's hash. */
  hash: string;
  /** The call's sequence number in the calls stream, once published (0: not yet). */
  seq: number;
  /** When a serving process last said it runs the call (performance.now(); 0: never). */
  heardAt: number;
  /** How often that process says so, in ms. */
  every: number;
}

/** One process' membership in a cluster: `connect()`'s result. */
export class Cluster {
  /** The NATS connection (for what gort-nats does not wrap). */
  readonly nc: NatsConnection;
  private readonly inbox: string;
  /** This Cluster's part of its calls' message ids. */
  private readonly id = nuid.next();
  private readonly js: JetStreamClient;
  private jsm: Promise<JetStreamManager> | null = null;
  private readonly ctxs: ContextsOut;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  /** Module hash → when a probe found a serving process, and that probe. */
  private readonly probes = new Map<string, { at: number; answer: Promise<void> }>();
  private readonly services = new Set<ModuleServer>();
  private readonly chans = new Set<RemoteChan<unknown>>();
  private closing: Promise<void> | null = null;
  /** The watch over pending calls (look), while there are any. */
  private watch: ReturnType<typeof setInterval> | null = null;
  private looking = false;

  /** @internal Use `connect()`. */
  constructor(nc: NatsConnection) {
    this.nc = nc;
    this.inbox = createInbox();
    this.js = jetstream(nc);
    this.ctxs = new ContextsOut(nc, `${this.inbox}.c`);
    nc.subscribe(`${this.inbox}.>`, { callback: (err, msg) => this.onInbox(err, msg) });
    const left = leftSubject('');
    nc.subscribe(`${left}>`, {
      callback: (err, msg) => {
        if (err === null) this.probes.delete(msg.subject.slice(left.length));
      },
    });
    void nc.closed().then((e) => this.rejectAll(e instanceof Error ? e : new Error('gort: the cluster connection closed')));
  }

  /**
   * Run `fn(...args)` on one of the processes that serve fn's module, as a goroutine on that
   * process' runtime; resolves with its result or rejects with a RemoteError. `fn` must be a
   * module function (`fromModule(url).name`). Arguments follow gort's value rules; what
   * cannot cross machines (a runtime object, a shared buffer, an inline function) is a
   * TypeError thrown here, except a Context as an argument itself: the remote goroutine gets
   * a Context canceled when this one is (remotectx.ts). No process serving the module:
   * rejects at once with NoServerError. A serving process that dies during the call: the
   * call runs again on another, and this promise still settles once.
   */
  spawn<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>> {
    const ref = moduleRef(fn);
    if (ref === undefined) {
      throw new TypeError(`gort: net.spawn() needs a module function (fromModule(url).name), got ${describe(fn)}`);
    }
    if (this.closing !== null) throw new Error('gort: net.spawn() after net.close()');
    const { wire, pending: ctxs } = this.ctxs.mark(args);
    const data = encode(wire, `net.spawn(${ref.name}) args`);
    const n = this.next++;
    const hash = moduleHash(ref.url);
    const what = `${ref.name} of ${ref.url}`;
    return new Promise<Awaited<R>>((resolve, reject) => {
      const p: Pending = { resolve: resolve as (v: unknown) => void, reject, what, ctxs, hash, seq: 0, heardAt: 0, every: 0 };
      this.pending.set(n, p);
      this.ctxs.watch(ctxs);
      this.send(p, ref.name, n, data).catch((e: Error) => this.settle(n)?.reject(e));
      this.watch ??= setInterval(() => void this.look(), PROBE_MS);
      this.watch.unref();
    });
  }

  private async send(p: Pending, name: string, n: number, data: Uint8Array): Promise<void> {
    await this.probe(p.hash, p.what);
    const h = headers();
    h.set('gort-fn', name);
    h.set('gort-reply', `${this.inbox}.${n}`);
    p.seq = (await this.js.publish(callSubject(p.hash), data, { headers: h, msgID: `${this.id}.${n}` })).seq;
  }

  /**
   * The watch, every PROBE_MS while calls are pending: a published call that no serving
   * process has said it runs (it says so every ackWait/3, and when it begins to stop), or
   * whose process has not said so for two of its intervals (it died), while no process
   * serves its module any more (a fresh probe: no responders), would wait in the stream for
   * a serving process that may never come. It rejects with
   * NoServerError instead, and its call is deleted from the stream (so that a process that
   * serves the module later does not run a call whose caller was told it failed).
   */
  private async look(): Promise<void> {
    if (this.pending.size === 0) {
      if (this.watch !== null) clearInterval(this.watch);
      this.watch = null;
      return;
    }
    if (this.looking || this.nc.isClosed()) return;
    this.looking = true;
    try {
      const now = performance.now();
      const stale = (p: Pending): boolean => p.seq !== 0 && (p.heardAt === 0 || now - p.heardAt > 2 * p.every + PROBE_MS);
      const hashes = new Set<string>();
      for (const p of this.pending.values()) if (stale(p)) hashes.add(p.hash);
      for (const hash of hashes) {
        const served = await this.nc.request(probeSubject(hash), Empty, { timeout: 10_000 }).then(
          () => true,
          (e: Error & { isNoResponders?: () => boolean }) => e.isNoResponders?.() !== true,
        );
        if (served) continue;
        this.probes.delete(hash);
        for (const [n, p] of [...this.pending]) {
          if (p.hash !== hash || !stale(p)) continue;
          this.settle(n);
          p.reject(
            new NoServerError(
              `gort: no process serves the module of ${p.what} any more, and none is running the call ` +
                `(call net.serve(url) on some process of the cluster; NATS: no responders)`,
            ),
          );
          this.jsm ??= jetstreamManager(this.nc);
          void this.jsm.then((jsm) => jsm.streams.deleteMessage(CALLS_STREAM, p.seq, false)).catch(() => {}); // taken meanwhile: its result is dropped
        }
      }
    } finally {
      this.looking = false;
    }
  }

  /** Resolves if some process serves module `hash` (or did less than PROBE_MS ago); else NoServerError. */
  private probe(hash: string, what: string): Promise<void> {
    const known = this.probes.get(hash);
    if (known !== undefined && performance.now() - known.at < PROBE_MS) return known.answer;
    const answer = this.nc.request(probeSubject(hash), Empty, { timeout: 10_000 }).then(
      () => {},
      (e: Error & { isNoResponders?: () => boolean }) => {
        if (this.probes.get(hash)?.answer === answer) this.probes.delete(hash);
        if (e.isNoResponders?.() === true) {
          throw new NoServerError(`gort: no process serves the module of ${what} (call net.serve(url) on some process of the cluster; NATS: no responders)`);
        }
        throw new Error(`gort: asking whether a process serves the module of ${what} failed: ${e.message}`, { cause: e });
      },
    );
    this.probes.set(hash, { at: performance.now(), answer });
    return answer;
  }

  /** Take pending call n out (undefined if it settled already) and stop watching its contexts. */
  private settle(n: number): Pending | undefined {
    const p = this.pending.get(n);
    if (p === undefined) return undefined;
    this.pending.delete(n);
    this.ctxs.unwatch(p.ctxs);
    return p;
  }

  private onInbox(err: Error | null, msg: Msg): void {
    if (err !== null) return this.rejectAll(err);
    const rest = msg.subject.slice(this.inbox.length + 1);
    if (rest.startsWith('c.')) return this.ctxs.answer(rest.slice(2), msg);
    if (msg.headers?.get('gort-status') === 'running') {
      // A serving process runs call n (serve.ts): the watch leaves it alone while it hears so.
      const p = this.pending.get(Number(rest));
      if (p !== undefined) {
        p.heardAt = performance.now();
        p.every = Number(msg.headers.get('gort-every')) || 0;
      }
      return;
    }
    // A later result of a call that ran again (its first run finished, but was not
    // acknowledged before its process died or stalled): the first result counts.
    const p = this.settle(Number(rest));
    if (p === undefined) return;
    let r: Reply;
    try {
      r = decode(msg.data, `the result of ${p.what}`) as Reply;
    } catch (e) {
      p.reject(e as Error);
      return;
    }
    if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean') {
      p.reject(new DecodeError(`gort: the result of ${p.what} is not a result of a gort-nats serving process: ${describe(r)}`));
      return;
    }
    if (r.ok) p.resolve(r.value);
    else p.reject(new RemoteError(r.name, r.message, r.stack, msg.headers?.get('gort-origin') || 'a serving process'));
  }

  private rejectAll(e: Error): void {
    for (const n of [...this.pending.keys()]) this.settle(n)?.reject(e);
  }

  /**
   * Serve a module: this process runs its exported functions for `net.spawn()` calls from
   * any process of the cluster, each as a goroutine on this process' gort runtime (so call
   * it inside `run(main)` or after `start()`), at most `concurrency` at a time (serve.ts).
   */
  serve(moduleUrl: string | URL, opts: ServeOptions = {}): Service {
    try {
      gomaxprocs();
    } catch {
      throw new Error('gort: net.serve() runs the module\'s functions as goroutines here: call it inside run(main), or after start()');
    }
    if (this.closing !== null) throw new Error('gort: net.serve() after net.close()');
    const concurrency = opts.concurrency ?? 64;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`gort: net.serve()'s concurrency must be a positive integer, got ${describe(concurrency)}`);
    }
    const ackWait = opts.ackWait ?? 30_000;
    if (!Number.isInteger(ackWait) || ackWait < 100) {
      throw new RangeError(`gort: net.serve()'s ackWait must be an integer of ms, at least 100, got ${describe(ackWait)}`);
    }
    this.jsm ??= jetstreamManager(this.nc);
    const service = new ModuleServer(this.nc, this.jsm, moduleHref(moduleUrl), concurrency, ackWait);
    this.services.add(service);
    return service;
  }

  /** A channel every process of the cluster can use, kept by JetStream (chan.ts). */
  async chan<T>(name: string, opts: ChanOptions = {}): Promise<RemoteChan<T>> {
    if (this.closing !== null) throw new Error('gort: net.chan() after net.close()');
    const ch = await openChan<T>(this.nc, name, opts);
    this.chans.add(ch as RemoteChan<unknown>);
    return ch;
  }

  /** Stop serving (finishing the calls taken), end the channels' waits, and close the connection. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.watch !== null) clearInterval(this.watch);
      this.watch = null;
      await Promise.all([...this.services].map((s) => s.stop()));
      for (const ch of this.chans) ch.detach();
      if (!this.nc.isClosed()) await this.nc.drain();
      this.rejectAll(new Error('gort: net.close() was called while this call waited'));
    })();
    return this.closing;
  }
}
