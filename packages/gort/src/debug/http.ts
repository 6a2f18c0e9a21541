/**
 * The debug endpoint: Go's net/http/pprof habit for gort. debugHandler() answers the debug
 * routes for a `node:http` server the program already has; serveDebug() starts one of its own.
 *
 * | route | answer |
 * |---|---|
 * | `/debug/pprof/goroutine?debug=0\|1\|2` | goroutineProfile(): 0 (the default) the gzipped pprof protobuf (needs the optional `pprof-format` package: 500 without it), 1 and 2 Go's text forms |
 * | `/debug/gort/stats` | stats() as JSON |
 * | `/metrics` (metricsPath) | metricsText(): Prometheus text format 0.0.4 |
 *
 * Contract:
 * - The handler answers only its routes and any other path under `/debug/` (404, the message
 *   lists the routes): for everything else it returns false without touching the response,
 *   so the caller's own routes come next.
 * - GET and HEAD only (405 otherwise); a `debug=` that is not 0, 1 or 2 is a 400 saying which
 *   values there are; a request while no runtime runs on this thread is a 503 with the
 *   RuntimeStateError's message; any other failure a 500 with its message. Error bodies are
 *   text/plain and start with `gort:`.
 * - Answers are computed on the thread that serves the request, from the shared heap (any
 *   thread of the runtime sees the same figures). On the main thread, where servers usually
 *   run, the main goroutine is running while it answers. On an M (a server started inside a
 *   goroutine), requests are served when the M's event loop gets a turn: between goroutines'
 *   synchronous stretches, and while it idles, at once if something else is pending there, else
 *   within SYNC_PARK_MS (250 ms: an unref'd server does not stop an idle M from blocking,
 *   runtime/m.ts loopIdle); a ref'd one (keepAlive) keeps the M's loop awake and counts as
 *   activity, so no deadlock is reported while it listens. It ends with the worker when the
 *   runtime shuts down.
 * - node:http is loaded only by serveDebug(), so importing gort/debug costs nothing more.
 *
 * @module gort/debug
 */
import type { AddressInfo } from 'node:net';
import { RuntimeStateError } from '../errors.js';
import { need } from '../runtime/thread.js';
import { stats } from './stats.js';
import { metricsText } from './metrics.js';
import { goroutineProfile } from './profile.js';

/**
 * A request handler for `node:http` (and frameworks that pass its request and response, such
 * as Express or Connect middleware): true when it answered the request (or is answering it:
 * the goroutine profile completes later), false when the path is not one of its routes, so
 * that the caller's own routes come next:
 *
 * ```ts
 * const debug = debugHandler();
 * createServer((req, res) => {
 *   if (debug(req, res)) return;
 *   // … the program's own routes
 * });
 * ```
 */
export type DebugHandler = (req: DebugRequest, res: DebugResponse) => boolean;

/**
 * What the handler reads of a request: a `node:http` `IncomingMessage` is one. (Declared here
 * so that gort's types need no `@types/node`.)
 */
export interface DebugRequest {
  /** The HTTP method (`GET`, `HEAD`, …). */
  readonly method?: string | undefined;
  /** The path and query. */
  readonly url?: string | undefined;
}

/** What the handler uses of a response: a `node:http` `ServerResponse` is one. */
export interface DebugResponse {
  /** Whether the head was sent (then an error can only end the connection). */
  readonly headersSent: boolean;
  /** Send the status line and headers. */
  writeHead(status: number, headers: Record<string, string>): unknown;
  /** Send the body (none for HEAD) and finish. */
  end(body?: Uint8Array): unknown;
  /** End the connection. */
  destroy(): unknown;
}

/** Options of debugHandler(). */
export interface DebugHandlerOptions {
  /** Path of the Prometheus metrics (default `/metrics`); `false`: no metrics route. */
  metricsPath?: string | false;
}

const TEXT = 'text/plain; charset=utf-8';
/** The Prometheus text exposition format's content type. */
const PROMETHEUS = 'text/plain; version=0.0.4; charset=utf-8';

/** The routes, for the 404 message. */
function routes(metricsPath: string | false): string {
  const r = ['/debug/pprof/goroutine?debug=0|1|2', '/debug/gort/stats'];
  if (metricsPath !== false) r.push(metricsPath);
  return r.join(', ');
}

function send(req: DebugRequest, res: DebugResponse, status: number, type: string, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(bytes.byteLength), 'X-Content-Type-Options': 'nosniff', ...headers });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

/** An error answer, the message as body: `status`, else 503 for a RuntimeStateError (no runtime runs here) and 500 for anything else. */
function fail(req: DebugRequest, res: DebugResponse, e: unknown, status?: number): void {
  const msg = e instanceof Error ? e.message : String(e);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  send(req, res, status ?? (e instanceof RuntimeStateError ? 503 : 500), TEXT, `${msg.startsWith('gort:') ? msg : `gort: ${msg}`}\n`);
}


/**
 * A request handler that answers the debug routes (see {@link DebugHandler}):
 *
 * - `/debug/pprof/goroutine?debug=0|1|2`: the goroutine profile, as Go's
 *   `/debug/pprof/goroutine`: `debug=0` (the default) the gzipped pprof protobuf
 *   (`application/octet-stream`, for `go tool pprof`), 1 and 2 Go's text forms (`text/plain`);
 *   another value is a 400.
 * - `/debug/gort/stats`: {@link stats} as JSON (`application/json`).
 * - `/metrics` (or `metricsPath`): {@link metricsText}, the Prometheus text exposition format
 *   0.0.4 (`text/plain; version=0.0.4`).
 * - Any other path under `/debug/`: 404, and the message lists the routes.
 *
 * Serve it on a port only trusted clients reach (serveDebug() binds 127.0.0.1): a profile
 * names every goroutine's function.
 */
export function debugHandler(opts: DebugHandlerOptions = {}): DebugHandler {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`gort: debugHandler()'s options must be an object, got ${String(opts)}`);
  const metricsPath = opts.metricsPath ?? '/metrics';
  if (metricsPath !== false && (typeof metricsPath !== 'string' || !metricsPath.startsWith('/'))) {
    throw new TypeError(`gort: debugHandler()'s metricsPath must be a path starting with "/", or false, got ${String(metricsPath)}`);
  }
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const isMetrics = metricsPath !== false && path === metricsPath;
    if (!isMetrics && path !== '/debug' && !path.startsWith('/debug/')) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(req, res, 405, TEXT, `gort: ${path} answers GET and HEAD, not ${String(req.method)}\n`, { Allow: 'GET, HEAD' });
      return true;
    }
    try {
      if (isMetrics) {
        send(req, res, 200, PROMETHEUS, metricsText());
      } else if (path === '/debug/gort/stats') {
        send(req, res, 200, 'application/json; charset=utf-8', JSON.stringify(stats(), null, 2) + '\n');
      } else if (path === '/debug/pprof/goroutine') {
        const d = url.searchParams.get('debug') ?? '0';
        if (d !== '0' && d !== '1' && d !== '2') {
          send(req, res, 400, TEXT, `gort: debug=${d} is not a goroutine profile format: use debug=0 (gzipped pprof protobuf, the default), debug=1 (text, goroutines grouped by stack) or debug=2 (text, one entry per goroutine)\n`);
          return true;
        }
        const debug = Number(d) as 0 | 1 | 2;
        need('/debug/pprof/goroutine');
        goroutineProfile({ debug }).then(
          (p) => {
            if (typeof p === 'string') send(req, res, 200, TEXT, p);
            else send(req, res, 200, 'application/octet-stream', p, { 'Content-Disposition': 'attachment; filename="goroutine"' });
          },
          (e: unknown) => fail(req, res, e, 500), // also a missing pprof-format (debug=0): not the runtime's state
        );
      } else {
        send(req, res, 404, TEXT, `gort: no debug page at ${path}; the pages are ${routes(metricsPath)}\n`);
      }
    } catch (e) {
      fail(req, res, e);
    }
    return true;
  };
}

/** Options of serveDebug(). */
export interface ServeDebugOptions {
  /** Port to listen on (default 6060, Go's habit for net/http/pprof); 0: any free port (read it from the result). */
  port?: number;
  /** Address to bind (default `127.0.0.1`: this machine only). */
  host?: string;
  /**
   * Whether the server keeps the process alive (default false): as Go's debug server in a
   * goroutine, it serves while the program runs and does not hold it open once the program is
   * otherwise done. Pass true for a process that should stay up to be scraped.
   */
  keepAlive?: boolean;
  /** Handler options: the metrics path. */
  metricsPath?: string | false;
}

/** The server serveDebug() started. */
export interface DebugServer {
  /** The bound address (e.g. `127.0.0.1`). */
  host: string;
  /** The bound port: the one asked for, or the one picked for port 0. */
  port: number;
  /** `http://host:port`, the base of the routes. */
  url: string;
  /** The underlying `node:http` `Server` (typed `unknown` so that gort's types need no `@types/node`: cast it). */
  server: unknown;
  /** Stop listening and end open connections; resolves once the server is closed. Idempotent. */
  close(): Promise<void>;
}

/**
 * The one-line way: start an HTTP server that answers debugHandler()'s routes (and 404 for
 * anything else), on 127.0.0.1:6060 by default. Resolves once it listens; rejects if it
 * cannot (the port is taken: pass another, or 0 for any free one).
 *
 * ```ts
 * const srv = await serveDebug({ port: 0 });
 * console.log(`metrics at ${srv.url}/metrics`);
 * // …
 * await srv.close();
 * ```
 *
 * By default neither the server nor its connections keep the process alive (`keepAlive`). It
 * works on any thread with a running runtime; while none runs, its routes answer 503. Call it
 * on the main thread: on an M it serves only when that M's event loop gets a turn, up to 250
 * ms late while the M idles with nothing else pending.
 */
export async function serveDebug(opts: ServeDebugOptions = {}): Promise<DebugServer> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`gort: serveDebug()'s options must be an object, got ${String(opts)}`);
  const port = opts.port ?? 6060;
  const host = opts.host ?? '127.0.0.1';
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`gort: serveDebug()'s port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  if (typeof host !== 'string' || host === '') throw new TypeError(`gort: serveDebug()'s host must be a non-empty string, got ${String(host)}`);
  const handler = debugHandler({ metricsPath: opts.metricsPath ?? '/metrics' });
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => {
    if (!handler(req, res)) send(req, res, 404, TEXT, `gort: not found: ${req.url ?? '/'}; the pages are ${routes(opts.metricsPath ?? '/metrics')}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(new Error(`gort: serveDebug() cannot listen on ${host}:${port}: ${e.message}`, { cause: e }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  if (opts.keepAlive !== true) {
    server.unref();
    server.on('connection', (sock) => sock.unref()); // a scraper's kept-alive connection holds nothing open either
  }
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closed: Promise<void> | undefined;
  return {
    host: addr.address,
    port: addr.port,
    url: `http://${shown}:${addr.port}`,
    server,
    close(): Promise<void> {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}
