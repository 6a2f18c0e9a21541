// The debug endpoint (gort/debug's debugHandler, serveDebug, metricsText) on a real runtime of
// 2 Ms, asked over loopback with real HTTP requests; /metrics read back by Prometheus's own
// parser and linter (`promtool check metrics`, Debian's `prometheus` package: the test fails,
// never skips, without it).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { start, go, spawn, chan, sleep, Mutex, numGoroutine, fromModule, type Chan, type Runtime } from 'gort';
import { debugHandler, serveDebug, stats, type DebugServer } from 'gort/debug';

const debugTasks = fromModule<typeof import('./fixtures/debug-tasks.mjs')>(new URL('./fixtures/debug-tasks.mjs', import.meta.url));

let rt: Runtime;
let srv: DebugServer;

beforeAll(async () => {
  rt = await start({ procs: 2 });
  srv = await serveDebug({ port: 0 });
});
afterAll(async () => {
  await srv?.close();
  await rt?.shutdown();
});

async function get(path: string, init?: RequestInit): Promise<{ status: number; type: string; body: string; bytes: Uint8Array; headers: Headers }> {
  const r = await fetch(srv.url + path, init);
  const bytes = new Uint8Array(await r.arrayBuffer());
  return { status: r.status, type: r.headers.get('content-type') ?? '', body: Buffer.from(bytes).toString('utf8'), bytes, headers: r.headers };
}

/** The samples of an exposition text: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** One sample's value (it must be there). */
function value(s: Map<string, number>, key: string): number {
  const v = s.get(key);
  if (v === undefined) throw new Error(`no sample ${key}`);
  return v;
}

const scrape = async (): Promise<Map<string, number>> => samples((await get('/metrics')).body);

/** Wait until cond holds, looking every 5 ms; fail after 10 s. */
async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let k = 0; k < 2000; k++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Wait until the runtime runs only main. */
const quiet = (): Promise<void> => until(() => numGoroutine() === 1, 'the goroutines to finish');

describe('/metrics', () => {
  it('is the Prometheus text format 0.0.4 that promtool checks without a complaint', async () => {
    const c = chan<number>();
    for (let i = 0; i < 10; i++) go(async (c: Chan<number>) => void (await c.recv()), c);
    await until(() => stats().goroutines === 11 && stats().idleProcs === 2, 'the receivers to park');
    const r = await get('/metrics');
    c.close();
    expect(r.status).toBe(200);
    expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: r.body, encoding: 'utf8' });
    expect(check.error, 'promtool must be installed (Debian package prometheus)').toBeUndefined();
    expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({ status: 0, out: '' });
    // Every family: HELP then TYPE, a gort_ name, and samples of that family only after them.
    const lines = r.body.trimEnd().split('\n');
    let family = '';
    const families: string[] = [];
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      const help = /^# HELP (\S+) \S/.exec(l);
      if (help !== null) {
        family = help[1]!;
        families.push(family);
        expect(lines[i + 1]).toMatch(new RegExp(`^# TYPE ${family} (gauge|counter)$`));
        i++;
        continue;
      }
      expect(l.startsWith(`${family}{`) || l.startsWith(`${family} `), `${l} belongs to ${family}`).toBe(true);
    }
    for (const f of families) expect(f).toMatch(/^gort_/);
    expect(families).toEqual(
      expect.arrayContaining([
        'gort_goroutines',
        'gort_run_queue_goroutines',
        'gort_global_run_queue_goroutines',
        'gort_steals_total',
        'gort_spins_total',
        'gort_parks_total',
        'gort_wakes_total',
        'gort_goroutines_created_total',
        'gort_goroutines_exited_total',
        'gort_heap_inuse_bytes',
        'gort_heap_free_bytes',
        'gort_heap_limit_bytes',
        'gort_live_objects',
        'gort_stuck_seconds',
        'gort_stuck_warnings_total',
        'gort_sysmon_retaken_goroutines_total',
      ]),
    );
    const s = samples(r.body);
    expect(value(s, 'gort_run_queue_goroutines{p="0"}')).toBeGreaterThanOrEqual(0);
    expect(value(s, 'gort_run_queue_goroutines{p="1"}')).toBeGreaterThanOrEqual(0);
    expect(s.has('gort_run_queue_goroutines{p="2"}')).toBe(false);
    expect(value(s, 'gort_steals_total{m="1"}')).toBeGreaterThanOrEqual(0);
    expect(value(s, 'gort_heap_limit_bytes')).toBe(stats().memory.heapLimit);
    expect(value(s, 'gort_live_objects{kind="Chan"}')).toBeGreaterThanOrEqual(1);
    await quiet();
  });

  it('counts 50 goroutines parked on a channel receive as waiting, and their parks and wakes by reason', async () => {
    await quiet();
    const s0 = await scrape();
    expect(value(s0, 'gort_goroutines{state="waiting"}')).toBe(0);
    expect(value(s0, 'gort_goroutines{state="running"}')).toBe(1); // main, answering the scrape
    const c = chan<number>();
    for (let i = 0; i < 50; i++) go(async (c: Chan<number>) => void (await c.recv()), c);
    const parked = (s: Map<string, number>): number => value(s, 'gort_parks_total{reason="chan receive"}') - value(s0, 'gort_parks_total{reason="chan receive"}');
    let s1 = s0;
    await until(async () => parked((s1 = await scrape())) >= 50, '50 parks');
    expect(parked(s1)).toBe(50);
    expect(value(s1, 'gort_goroutines{state="waiting"}')).toBe(50);
    expect(value(s1, 'gort_goroutines{state="runnable"}') + value(s1, 'gort_goroutines{state="syscall"}')).toBe(0);
    expect(value(s1, 'gort_goroutines_created_total') - value(s0, 'gort_goroutines_created_total')).toBe(50);
    expect(value(s1, 'gort_wakes_total{reason="chan receive"}')).toBe(value(s0, 'gort_wakes_total{reason="chan receive"}'));
    expect(value(s1, 'gort_live_objects{kind="waiter"}')).toBeGreaterThanOrEqual(50);
    c.close();
    await quiet();
    const s2 = await scrape();
    expect(value(s2, 'gort_goroutines{state="waiting"}')).toBe(0);
    expect(value(s2, 'gort_wakes_total{reason="chan receive"}') - value(s0, 'gort_wakes_total{reason="chan receive"}')).toBe(50);
    expect(value(s2, 'gort_goroutines_exited_total') - value(s0, 'gort_goroutines_exited_total')).toBe(50);
    // The same figures as stats(), the same moment (nothing runs now).
    const st = stats();
    expect(value(s2, 'gort_parks_total{reason="chan receive"}')).toBe(st.parks['chan receive']);
    expect(value(s2, 'gort_goroutines_created_total')).toBe(st.goroutinesCreated);
  });

  it('counts parks and wakes of thread-local channels, sleep and sync.Mutex.Lock under their reasons', async () => {
    await quiet();
    const s0 = stats();
    const d = (s: typeof s0, kind: 'parks' | 'wakes', r: string): number => s[kind][r]! - s0[kind][r]!;
    // A channel made on an M is local to it (chan/local.ts) until another thread touches it.
    await spawn(async () => {
      const c = chan<number>();
      const done = chan<number>();
      for (let i = 0; i < 20; i++) go(async (c: Chan<number>, done: Chan<number>) => void (await done.send((await c.recv()) ?? -1)), c, done);
      await sleep(50);
      for (let i = 0; i < 20; i++) await c.send(i);
      for (let i = 0; i < 20; i++) await done.recv();
    });
    const mu = new Mutex();
    await mu.lock();
    for (let i = 0; i < 5; i++) go(async (mu: Mutex) => (await mu.lock(), mu.unlock()), mu);
    for (let i = 0; i < 7; i++) go(async () => void (await sleep(30)));
    await until(() => d(stats(), 'parks', 'sync.Mutex.Lock') >= 5 && d(stats(), 'parks', 'sleep') >= 7, 'the lockers and sleepers to park');
    mu.unlock();
    await quiet();
    const s1 = stats();
    expect(d(s1, 'parks', 'chan receive')).toBeGreaterThanOrEqual(20);
    expect(d(s1, 'wakes', 'chan receive')).toBe(d(s1, 'parks', 'chan receive'));
    expect(d(s1, 'wakes', 'chan send')).toBe(d(s1, 'parks', 'chan send'));
    expect(d(s1, 'parks', 'sync.Mutex.Lock')).toBe(5);
    expect(d(s1, 'wakes', 'sync.Mutex.Lock')).toBe(5);
    expect(d(s1, 'parks', 'sleep')).toBe(8); // the 7 sleepers and the spawned goroutine above
    expect(d(s1, 'wakes', 'sleep')).toBe(8);
  });

  it('counts an M going spinning when work arrives for idle Ms', async () => {
    await quiet();
    await sleep(50); // both Ms park
    const spins = (): number => stats().spinsPerM.reduce((x, y) => x + y, 0);
    const before = spins();
    expect(stats().spinsPerM).toHaveLength(2);
    await Promise.all(Array.from({ length: 200 }, (_, i) => spawn((k: number) => k, i)));
    const s = await scrape();
    expect(spins()).toBeGreaterThan(before);
    expect(value(s, 'gort_spins_total{m="1"}') + value(s, 'gort_spins_total{m="2"}')).toBeGreaterThan(before);
  });

  it('from an M: the same families, and every goroutine counted in one state', async () => {
    await quiet();
    const { text, n } = await spawn(debugTasks.metricsOnM);
    const s = samples(text);
    const states = ['runnable', 'running', 'syscall', 'waiting'].map((st) => value(s, `gort_goroutines{state="${st}"}`));
    expect(n).toBe(2); // main and the goroutine asking
    expect(states.reduce((x, y) => x + y)).toBe(n);
    expect(value(s, 'gort_goroutines{state="running"}')).toBeGreaterThanOrEqual(1);
  });
});

describe('/debug routes', () => {
  it('shows an M held by one goroutine as stuck, from sysmon', async () => {
    const started = chan<number>(1);
    const hogDone = spawn(async function hog(started: Chan<number>) {
      await started.send(1);
      const end = Date.now() + 900;
      while (Date.now() < end); // holds its M: sysmon sees its loop stop turning
    }, started);
    await started.recv();
    await sleep(300);
    const s = samples((await get('/metrics')).body);
    expect(Math.max(value(s, 'gort_stuck_seconds{m="1"}'), value(s, 'gort_stuck_seconds{m="2"}'))).toBeGreaterThan(0);
    expect(s.has('gort_stuck_warnings_total')).toBe(true);
    expect(s.has('gort_sysmon_retaken_goroutines_total')).toBe(true);
    await hogDone;
  }, 30_000);

  it('/debug/gort/stats is stats() as JSON', async () => {
    const r = await get('/debug/gort/stats');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json; charset=utf-8');
    const j = JSON.parse(r.body) as ReturnType<typeof stats>;
    expect(Object.keys(j).sort()).toEqual(Object.keys(stats()).sort());
    expect(j.procs).toBe(2);
    expect(j.goroutines).toBe(1);
    expect(j.parks).toHaveProperty(['chan receive']);
    expect(j.wakes).toHaveProperty(['sync.Mutex.Lock']);
    expect(j.spinsPerM).toHaveLength(2);
    expect(j.memory.heapInUse + j.memory.heapFree).toBe(j.memory.heapUsed);
  });

  it('/debug/pprof/goroutine gives the profile in each format, and 400 for another debug=', async () => {
    const c = chan<number>();
    for (let i = 0; i < 3; i++) go(async function receiver(c: Chan<number>) { await c.recv(); }, c);
    await until(() => stats().goroutines === 4, 'the receivers');
    const p0 = await get('/debug/pprof/goroutine');
    expect(p0.status).toBe(200);
    expect(p0.type).toBe('application/octet-stream');
    expect([p0.bytes[0], p0.bytes[1]]).toEqual([0x1f, 0x8b]); // gzip
    expect((await get('/debug/pprof/goroutine?debug=0')).type).toBe('application/octet-stream');
    const p1 = await get('/debug/pprof/goroutine?debug=1');
    expect(p1.status).toBe(200);
    expect(p1.type).toBe('text/plain; charset=utf-8');
    expect(p1.body).toMatch(/^goroutine profile: total 4\n/);
    expect(p1.body).toContain('3 @ receiver [chan receive]');
    const p2 = await get('/debug/pprof/goroutine?debug=2');
    expect(p2.status).toBe(200);
    expect(p2.body).toMatch(/^goroutine 1 \[running\]:/m);
    expect(p2.body.match(/^goroutine \d+ \[chan receive, [^\]]*\]:\nreceiver\(/gm)).toHaveLength(3);
    c.close();
    for (const bad of ['3', 'x', '', '-1']) {
      const r = await get(`/debug/pprof/goroutine?debug=${bad}`);
      expect(r.status).toBe(400);
      expect(r.type).toBe('text/plain; charset=utf-8');
      expect(r.body).toBe(
        `gort: debug=${bad} is not a goroutine profile format: use debug=0 (gzipped pprof protobuf, the default), debug=1 (text, goroutines grouped by stack) or debug=2 (text, one entry per goroutine)\n`,
      );
    }
    await quiet();
  });

  it('404 for any other path under /debug and elsewhere; 405 for other methods; HEAD has no body', async () => {
    for (const p of ['/debug', '/debug/', '/debug/pprof/heap', '/debug/gort/nope']) {
      const r = await get(p);
      expect(r.status, p).toBe(404);
      expect(r.body).toMatch(/^gort: no debug page at \/debug\S*; the pages are \/debug\/pprof\/goroutine\?debug=0\|1\|2, \/debug\/gort\/stats, \/metrics\n$/);
    }
    const other = await get('/index.html');
    expect(other.status).toBe(404);
    expect(other.body).toMatch(/^gort: not found: \/index\.html;/);
    const post = await get('/metrics', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const head = await get('/debug/gort/stats', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(100);
    expect(head.bytes.length).toBe(0);
  });
});

describe('debugHandler in a server of the program', () => {
  async function listen(h: (req: Parameters<Parameters<typeof createServer>[1] & object>[0], res: Parameters<Parameters<typeof createServer>[1] & object>[1]) => void): Promise<{ server: Server; url: string }> {
    const server = createServer(h);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }

  it('answers its routes and returns false for the others, which the program answers', async () => {
    const debug = debugHandler({ metricsPath: '/custom/metrics' });
    const answered: boolean[] = [];
    const { server, url } = await listen((req, res) => {
      const mine = debug(req, res);
      answered.push(mine);
      if (!mine) res.end(`mine: ${req.url}`);
    });
    try {
      expect(await (await fetch(`${url}/hello`)).text()).toBe('mine: /hello');
      expect(await (await fetch(`${url}/metrics`)).text()).toBe('mine: /metrics');
      const m = await fetch(`${url}/custom/metrics`);
      expect(m.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      expect(await m.text()).toMatch(/^# HELP gort_goroutines /);
      expect((await fetch(`${url}/debug/gort/stats`)).status).toBe(200);
      expect(answered).toEqual([false, false, true, true]);
    } finally {
      server.close();
    }
    const none = debugHandler({ metricsPath: false });
    expect(() => debugHandler({ metricsPath: 'metrics' })).toThrow(TypeError);
    const { server: s2, url: u2 } = await listen((req, res) => void (none(req, res) || res.end('mine')));
    try {
      expect(await (await fetch(`${u2}/metrics`)).text()).toBe('mine');
    } finally {
      s2.close();
    }
  });
});

describe('serveDebug', () => {
  it('binds 127.0.0.1 on the port asked (0: any free one); a taken port or a bad one is refused; close() stops it', async () => {
    expect(srv.host).toBe('127.0.0.1');
    expect(srv.port).toBeGreaterThan(0);
    expect(srv.url).toBe(`http://127.0.0.1:${srv.port}`);
    await expect(serveDebug({ port: srv.port })).rejects.toThrow(/^gort: serveDebug\(\) cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    await expect(serveDebug({ port: 70000 })).rejects.toThrow(RangeError);
    await expect(serveDebug({ port: 1.5 })).rejects.toThrow(RangeError);
    const s = await serveDebug({ port: 0, keepAlive: true });
    expect((await fetch(`${s.url}/debug/gort/stats`)).status).toBe(200);
    await s.close();
    await s.close(); // idempotent
    await expect(fetch(`${s.url}/metrics`)).rejects.toThrow();
  });

  it('serves from an M too, while its goroutine waits', async () => {
    const c = chan<number>();
    const stop = chan<number>();
    const served = spawn(debugTasks.serveOnM, c, stop);
    const port = (await c.recv())!;
    try {
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`http://127.0.0.1:${port}/metrics`);
        expect(r.status).toBe(200);
        const s = samples(await r.text());
        expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
        const states = ['runnable', 'running', 'syscall', 'waiting'].map((st) => value(s, `gort_goroutines{state="${st}"}`));
        expect(states.reduce((x, y) => x + y)).toBe(2); // main, and the goroutine serving
      }
    } finally {
      await stop.send(0);
      await served;
    }
  });

  it('does not keep the process alive unless asked', () => {
    const script = `import { serveDebug } from 'gort/debug';
      import { get } from 'node:http';
      const s = await serveDebug({ port: 0 });
      get(s.url + '/debug/nope', { agent: false }, (r) => { r.resume(); console.log(r.statusCode, s.port > 0); });`;
    const cwd = fileURLToPath(new URL('.', import.meta.url));
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8', timeout: 20_000 });
    expect({ status: r.status, signal: r.signal, out: r.stdout.trim(), err: r.stderr }).toEqual({ status: 0, signal: null, out: '404 true', err: '' });
  });
});

describe('after the runtime', () => {
  it('the routes answer 503 with the reason once no runtime runs', async () => {
    await rt.shutdown();
    try {
      for (const p of ['/metrics', '/debug/gort/stats', '/debug/pprof/goroutine?debug=1']) {
        const r = await get(p);
        expect(r.status, p).toBe(503);
        expect(r.body).toMatch(/^gort: \S+ was called after the runtime ended: /);
      }
    } finally {
      rt = await start({ procs: 2 }); // the one afterAll shuts down
    }
  });
});
