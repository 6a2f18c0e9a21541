/**
 * A cluster: processes (standing for machines) connected to one NATS system. Each runs its
 * own gort runtime; `net.spawn()` runs a module function on another process and
 * `net.chan()` (chan.ts) is a channel every process can use.
 *
 * Spawn is NATS request/reply. A process that calls `net.serve(url)` subscribes to the
 * module's subject, `gort.spawn.<hash of the module URL>`, in the queue group `gort`, so
 * that NATS hands each request to one of the serving processes (chosen at random per
 * request). The request carries the export name (header `gort-fn`) and the encoded argument
 * list (values.ts); the serving process runs the function as a goroutine on its runtime
 * (gort's `spawn`) with at most `concurrency` running at once (more wait in arrival order),
 * and replies with the encoded result or the error's name, message and stack.
 *
 * The caller has one subscription, `<inbox>.>`, and sends each request with its own reply
 * subject `<inbox>.<n>`; a reply settles pending request n once (a reply that cannot be
 * decoded, or is not a reply, with a DecodeError). A request nobody is subscribed to is
 * answered by the NATS server at once with status 503 (no responders), which becomes a
 * NoServerError.
 *
 * Invariants: a pending request settles exactly once (a reply, a 503, or the connection's
 * end, which rejects every pending request). A serving process replies to every request it
 * took unless it dies first; then the caller waits (at-least-once execution over JetStream
 * is not built yet: docs/cluster.md, "What is not built yet").
 *
 * Main thread (the thread that runs gort's `start()`/`run()`).
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { inspect } from 'node:util';
import { connect as natsConnect, createInbox, headers, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { fromModule, gomaxprocs, spawn as gortSpawn } from 'gort';
import { decode, encode, moduleRef } from './values.js';
import { DecodeError, NoServerError, RemoteError } from './errors.js';
import { RemoteChan, openChan, type ChanOptions } from './chan.js';

/** Options of `connect()`. */
export interface ConnectOptions {
  /** NATS server URL(s), e.g. `'nats://127.0.0.1:4222'`. */
  servers: string | string[];
  /** The connection's name, shown by the NATS server's monitoring. Default `gort <host>:<pid>`. */
  name?: string;
}

/** Options of `net.serve()`. */
export interface ServeOptions {
  /** Most calls of the module's functions running at once on this process. Default 64. */
  concurrency?: number;
}

/** A module this process serves (`net.serve()`'s result). */
export interface Service {
  /** The NATS subject the module's calls arrive on. */
  readonly subject: string;
  /** Resolves once the NATS server knows of this process' subscription (after it, spawns can reach it). */
  readonly ready: Promise<void>;
  /** Take no more calls, finish the ones taken (replying to each), then resolve. */
  stop(): Promise<void>;
}

type Reply = { ok: true; value: unknown } | { ok: false; name: string; message: string; stack: string };

const ORIGIN = `${hostname()}:${process.pid}`;

function describe(v: unknown): string {
  return inspect(v, { depth: 1, breakLength: Infinity });
}

/** A module URL as gort's fromModule() names it (a path made a file: URL, a .ts sibling found, …). */
function moduleHref(url: string | URL): string {
  const probe = (fromModule(url) as Record<string, unknown>)['default'];
  return moduleRef(probe)!.url;
}

/** The subject a module's calls travel on: NATS subjects cannot hold a URL's dots and slashes. */
export function spawnSubject(href: string): string {
  return `gort.spawn.${createHash('sha256').update(href).digest('base64url').slice(0, 22)}`;
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
}

/** One process' membership in a cluster: `connect()`'s result. */
export class Cluster {
  /** The NATS connection (for what gort-nats does not wrap). */
  readonly nc: NatsConnection;
  private readonly inbox: string;
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private readonly services = new Set<Service>();
  private readonly chans = new Set<RemoteChan<unknown>>();
  private closing: Promise<void> | null = null;

  /** @internal Use `connect()`. */
  constructor(nc: NatsConnection) {
    this.nc = nc;
    this.inbox = createInbox();
    nc.subscribe(`${this.inbox}.>`, { callback: (err, msg) => this.onReply(err, msg) });
    void nc.closed().then((e) => this.rejectAll(e instanceof Error ? e : new Error('gort: the cluster connection closed')));
  }

  /**
   * Run `fn(...args)` on one of the processes that serve fn's module, as a goroutine on that
   * process' runtime; resolves with its result or rejects with a RemoteError. `fn` must be a
   * module function (`fromModule(url).name`). Arguments follow gort's value rules; what
   * cannot cross machines (a runtime object, a shared buffer, an inline function) is a
   * TypeError thrown here. No process serving the module: rejects at once with NoServerError.
   */
  spawn<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>> {
    const ref = moduleRef(fn);
    if (ref === undefined) {
      throw new TypeError(`gort: net.spawn() needs a module function (fromModule(url).name), got ${describe(fn)}`);
    }
    if (this.closing !== null) throw new Error('gort: net.spawn() after net.close()');
    const data = encode(args, `net.spawn(${ref.name}) args`);
    const n = this.next++;
    const subject = spawnSubject(ref.url);
    const h = headers();
    h.set('gort-fn', ref.name);
    return new Promise<Awaited<R>>((resolve, reject) => {
      this.pending.set(n, { resolve: resolve as (v: unknown) => void, reject, what: `${ref.name} of ${ref.url}` });
      try {
        this.nc.publish(subject, data, { reply: `${this.inbox}.${n}`, headers: h });
      } catch (e) {
        this.pending.delete(n);
        reject(e as Error);
      }
    });
  }

  private onReply(err: Error | null, msg: Msg): void {
    if (err !== null) return this.rejectAll(err);
    const n = Number(msg.subject.slice(this.inbox.length + 1));
    const p = this.pending.get(n);
    if (p === undefined) return; // settled already
    this.pending.delete(n);
    if (msg.headers?.code === 503) {
      p.reject(new NoServerError(`gort: no process serves the module of ${p.what} (call net.serve(url) on some process of the cluster; NATS: no responders)`));
      return;
    }
    let r: Reply;
    try {
      r = decode(msg.data, `the reply to ${p.what}`) as Reply;
    } catch (e) {
      p.reject(e as Error);
      return;
    }
    if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean') {
      p.reject(new DecodeError(`gort: the reply to ${p.what} is not a reply of a gort-nats serving process: ${describe(r)}`));
      return;
    }
    if (r.ok) p.resolve(r.value);
    else p.reject(new RemoteError(r.name, r.message, r.stack, msg.headers?.get('gort-origin') || 'a serving process'));
  }

  private rejectAll(e: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(e);
  }

  /**
   * Serve a module: this process runs its exported functions for `net.spawn()` calls from
   * any process of the cluster, each as a goroutine on this process' gort runtime (so call
   * it inside `run(main)` or after `start()`), at most `concurrency` at a time.
   */
  serve(moduleUrl: string | URL, opts: ServeOptions = {}): Service {
    try {
      gomaxprocs();
    } catch {
      throw new Error('gort: net.serve() runs the module\'s functions as goroutines here: call it inside run(main), or after start()');
    }
    const concurrency = opts.concurrency ?? 64;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`gort: net.serve()'s concurrency must be a positive integer, got ${describe(concurrency)}`);
    }
    const href = moduleHref(moduleUrl);
    const mod = fromModule(href) as Record<string, (...a: unknown[]) => unknown>;
    const subject = spawnSubject(href);
    const waiting: Msg[] = [];
    let running = 0;
    let idle: (() => void) | null = null;
    const run = async (msg: Msg): Promise<void> => {
      let reply: Reply;
      const name = msg.headers?.get('gort-fn') ?? '';
      try {
        const args = decode(msg.data, `the arguments of ${name}`) as unknown[];
        reply = { ok: true, value: await gortSpawn(mod[name]!, ...args) };
      } catch (e) {
        reply = failure(e);
      }
      let data: Uint8Array;
      try {
        data = encode(reply, `the result of ${name}`);
      } catch (e) {
        data = encode(failure(e), 'an error');
      }
      const h = headers();
      h.set('gort-origin', ORIGIN);
      msg.respond(data, { headers: h });
    };
    const pump = (): void => {
      while (running < concurrency && waiting.length > 0) {
        const msg = waiting.shift()!;
        running++;
        void run(msg).finally(() => {
          running--;
          pump();
        });
      }
      if (running === 0 && waiting.length === 0) idle?.();
    };
    const sub: Subscription = this.nc.subscribe(subject, {
      queue: 'gort',
      callback: (err, msg) => {
        if (err !== null) return;
        waiting.push(msg);
        pump();
      },
    });
    const service: Service = {
      subject,
      ready: this.nc.flush(),
      stop: async () => {
        this.services.delete(service);
        await sub.drain();
        if (running > 0 || waiting.length > 0) await new Promise<void>((r) => (idle = r));
      },
    };
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
      await Promise.all([...this.services].map((s) => s.stop()));
      for (const ch of this.chans) ch.detach();
      if (!this.nc.isClosed()) await this.nc.drain();
      this.rejectAll(new Error('gort: net.close() was called while this call waited'));
    })();
    return this.closing;
  }
}

function failure(e: unknown): Reply {
  if (e instanceof Error) return { ok: false, name: e.name, message: e.message, stack: e.stack ?? '' };
  return { ok: false, name: typeof e, message: `${describe(e)} was thrown`, stack: '' };
}
