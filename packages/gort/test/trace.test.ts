// The execution trace (src/debug/trace.ts, src/runtime/tracebuf.ts) and the gort-trace
// command (src/bin/gort-trace.ts). A known program (fixtures/trace-program.mjs: ping and pong
// on the two Ms over unbuffered channels, then a fan-out that the idle M steals from) is
// traced in a child process, with stopTrace({ path }) and with GORT_TRACE; the JSON is
// checked as Perfetto and chrome://tracing read it, and the HTML page the command makes is
// opened in headless Chromium (Debian's `chromium`; CHROMIUM names another binary), whose
// DOM after the page's script ran says what it drew.
import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { run, go, spawn, chan, fromModule, RuntimeStateError } from 'gort';
import { startTrace, stopTrace, type TraceEvent, type TraceFile } from 'gort/debug';

const program = fileURLToPath(new URL('./fixtures/trace-program.mjs', import.meta.url));
const bin = fileURLToPath(new URL('../bin/gort-trace.js', import.meta.url)); // the installed command
const fx = fromModule<typeof import('./fixtures/trace-program.mjs')>(new URL('./fixtures/trace-program.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gort-trace-'));
const REASONS = new Set(['chan receive', 'chan send', 'select', 'sleep', 'sync.WaitGroup.Wait', 'sync.Mutex.Lock']);

function record(env: Record<string, string>, args: string[]): { threads: { pingT: number; pongT: number; fanoutThreads: number } } {
  const r = spawnSync(process.execPath, [program, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  expect(r.status, r.stderr).toBe(0);
  return { threads: JSON.parse(r.stdout.trim().split('\n').pop()!) };
}

const load = (f: string): TraceFile => JSON.parse(readFileSync(f, 'utf8')) as TraceFile;
const of = (tr: TraceFile, ph: string): TraceEvent[] => tr.traceEvents.filter((e) => e.ph === ph);

/** Every check a trace of any program must pass. */
function checkWellFormed(tr: TraceFile): void {
  expect(tr.displayTimeUnit).toBe('ms');
  expect(tr.otherData.producer).toBe('gort');
  const pid = tr.traceEvents[0]!.pid; // one process
  for (const e of of(tr, 'X')) {
    for (const k of ['ts', 'dur', 'pid', 'tid'] as const) expect(typeof e[k], `${k} of ${JSON.stringify(e)}`).toBe('number');
    expect(e.dur!).toBeGreaterThanOrEqual(0);
    expect(e.pid).toBe(pid);
  }
  // Flows pair up: one s and one f per id, both bound to the enclosing slice.
  const s = new Map(of(tr, 's').map((e) => [e.id, e]));
  const f = new Map(of(tr, 'f').map((e) => [e.id, e]));
  expect(s.size).toBe(of(tr, 's').length);
  expect(f.size).toBe(of(tr, 'f').length);
  expect([...s.keys()].sort()).toEqual([...f.keys()].sort());
  for (const e of [...s.values(), ...f.values()]) expect(e.bp).toBe('e');
  // Slices of one thread do not overlap (µs, rounded to ns).
  const byTid = new Map<number, TraceEvent[]>();
  for (const e of of(tr, 'X')) byTid.set(e.tid, [...(byTid.get(e.tid) ?? []), e]);
  for (const [tid, xs] of byTid) {
    xs.sort((a, b) => a.ts! - b.ts!);
    for (let i = 1; i < xs.length; i++) expect(xs[i]!.ts!, `thread ${tid}: ${JSON.stringify(xs[i - 1])} overlaps ${JSON.stringify(xs[i])}`).toBeGreaterThanOrEqual(xs[i - 1]!.ts! + xs[i - 1]!.dur! - 0.002);
  }
  // Each flow's start lies in a slice of its thread, its end at the start of one.
  for (const e of s.values()) expect(byTid.get(e.tid)!.some((x) => x.ts! - 0.002 <= e.ts! && e.ts! <= x.ts! + x.dur! + 0.002)).toBe(true);
  for (const e of f.values()) expect(byTid.get(e.tid)!.some((x) => Math.abs(x.ts! - e.ts!) < 0.002)).toBe(true);
  // A park carries its reason.
  for (const e of tr.traceEvents.filter((e) => e.name === 'park')) {
    expect(e.ph).toBe('i');
    expect(REASONS.has(String(e.args?.['reason'])), JSON.stringify(e)).toBe(true);
  }
}

describe('execution trace of a known program (procs 2)', () => {
  let tr: TraceFile;
  let placed: { pingT: number; pongT: number; fanoutThreads: number };
  const file = join(dir, 'known.json');
  beforeAll(() => {
    placed = record({}, [file]).threads;
    tr = load(file);
  }, 90_000);

  it('is well-formed Chrome trace JSON: X fields, flows paired, no overlap per thread, parks with reasons', () => {
    checkWellFormed(tr);
    expect(tr.otherData.missing).toEqual([]);
    expect(tr.otherData.threads.every((t) => t.dropped === 0)).toBe(true);
  });

  it('names the threads main, M1 (P0), M2 (P1), one tid each', () => {
    const names = Object.fromEntries(of(tr, 'M').filter((e) => e.name === 'thread_name').map((e) => [e.tid, e.args?.['name']]));
    expect(names).toEqual({ 0: 'main', 1: 'M1 (P0)', 2: 'M2 (P1)' });
  });

  it("has the program's goroutines by function, on the threads they ran on, with parks, wakes, spawns and steals", () => {
    const slices = of(tr, 'X').filter((e) => e.cat === 'goroutine');
    const tidsOf = (fn: string): Set<number> => new Set(slices.filter((e) => e.name === `${fn} (trace-program.mjs)`).map((e) => e.tid));
    expect(placed.pingT).not.toBe(placed.pongT);
    expect([...tidsOf('ping')]).toEqual([placed.pingT]);
    expect([...tidsOf('pong')]).toEqual([placed.pongT]);
    expect(tidsOf('crunch').size).toBe(placed.fanoutThreads);
    expect(tidsOf('fanout').size).toBe(1);
    // 300 round trips: ping and pong each park and are resumed about once per message.
    for (const fn of ['ping', 'pong']) expect(slices.filter((e) => e.name.startsWith(fn)).length).toBeGreaterThan(250);
    expect(tr.traceEvents.filter((e) => e.name === 'park' && ['chan send', 'chan receive'].includes(String(e.args?.['reason']))).length).toBeGreaterThan(500);
    expect(of(tr, 's').filter((e) => e.name === 'wake').length).toBeGreaterThan(250);
    // Spawns: 2 from main, 1 from main (fanout), 16 crunch from fanout; each a flow to its first slice.
    const gos = tr.traceEvents.filter((e) => e.name === 'go');
    expect(gos.filter((e) => e.tid === 0).length).toBe(3);
    expect(gos.filter((e) => String(e.args?.['fn']).startsWith('crunch')).length).toBe(16);
    expect(of(tr, 'f').filter((e) => e.name === 'spawn').length).toBe(19);
    expect(tr.traceEvents.filter((e) => e.name === 'steal').length).toBeGreaterThan(0);
    expect(of(tr, 'X').filter((e) => e.cat === 'idle').length).toBeGreaterThan(0);
    expect(new Set(of(tr, 'C').map((e) => e.name))).toEqual(new Set(['runq P0', 'runq P1', 'runq global']));
  });

  it('gort-trace draws it as one HTML page: a track per thread, slices, parks and steals (headless Chromium)', () => {
    const html = join(dir, 'known.html');
    const r = spawnSync(process.execPath, [bin, file, '-o', html], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).not.toMatch(/<(script|link|img)[^>]+(src|href)=/); // self-contained
    const chromium = process.env['CHROMIUM'] ?? 'chromium';
    const c = spawnSync(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--window-size=1400,400', '--dump-dom', pathToFileURL(html).href], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(c.error, `${chromium} must be installed (Debian: apt-get install chromium)`).toBeUndefined();
    expect(c.stdout).toContain('data-drawn="1"');
    const attrs = (tag: string): Record<string, string> => Object.fromEntries([...tag.matchAll(/data-(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    const summary = attrs(/<div id="summary"[^>]*>/.exec(c.stdout)![0]);
    expect(summary['tracks']).toBe('3');
    const tracks = [...c.stdout.matchAll(/<div class="track"[^>]*>/g)].map((m) => attrs(m[0]));
    expect(tracks.map((t) => t['name'])).toEqual(['main', 'M1 (P0)', 'M2 (P1)']);
    const xs = of(tr, 'X').filter((e) => e.cat === 'goroutine');
    for (const t of tracks) {
      expect(Number(t['slices'])).toBe(xs.filter((e) => e.tid === Number(t['tid'])).length);
      expect(Number(t['parks'])).toBe(tr.traceEvents.filter((e) => e.name === 'park' && e.tid === Number(t['tid'])).length);
      expect(Number(t['steals'])).toBe(tr.traceEvents.filter((e) => e.name === 'steal' && e.tid === Number(t['tid'])).length);
    }
    expect(Number(tracks[placed.pingT]!['slices'])).toBeGreaterThan(250);
    expect(Number(summary['steals'])).toBeGreaterThan(0);
    // The legend names every function.
    for (const fn of ['ping', 'pong', 'crunch', 'fanout']) expect(c.stdout).toContain(`data-fn="${fn} (trace-program.mjs)"`);
  }, 90_000);
});

describe('execution trace: GORT_TRACE and the API', () => {
  it('GORT_TRACE=file writes the trace when run() ends', () => {
    const file = join(dir, 'env.json');
    record({ GORT_TRACE: file }, []);
    expect(existsSync(file)).toBe(true);
    const tr = load(file);
    checkWellFormed(tr);
    const names = new Set(of(tr, 'X').map((e) => e.name));
    for (const fn of ['ping', 'pong', 'crunch', 'fanout']) expect(names.has(`${fn} (trace-program.mjs)`)).toBe(true);
  }, 60_000);

  it('misuse throws typed errors: stop without start, start twice, bad options', async () => {
    await run(
      async () => {
        await expect(stopTrace()).rejects.toThrow(RuntimeStateError);
        expect(() => startTrace({ maxEventsPerThread: 5 })).toThrow(RangeError);
        expect(() => startTrace(null as never)).toThrow(TypeError);
        startTrace();
        expect(() => startTrace()).toThrow(/gort: startTrace\(\) was called while a trace is being recorded/);
        // Another thread sees the same session.
        expect(await spawn(fx.startHere)).toMatch(/^RuntimeStateError: gort: startTrace\(\) was called while a trace is being recorded/);
        await expect(stopTrace({ timeoutMs: -1 })).rejects.toThrow(RangeError);
        const tr = await stopTrace({ timeoutMs: 20_000 }); // a loaded machine may keep a thread from answering for seconds
        expect(tr.otherData.threads.map((t) => t.tid)).toEqual([0, 1, 2]);
        await expect(stopTrace()).rejects.toThrow(/no trace being recorded/);
        // A goroutine can start and stop one too; main, waiting for it, joins when it is rung.
        const names = await spawn(fx.traceHere);
        expect(names).toContain('main');
      },
      { procs: 2 },
    );
  }, 30_000);

  it('a thread held by a goroutine past the timeout is reported missing, not waited for', async () => {
    await run(
      async () => {
        startTrace();
        go(() => {
          const end = performance.now() + 1500;
          while (performance.now() < end);
        });
        await new Promise((r) => setTimeout(r, 100));
        const tr = await stopTrace({ timeoutMs: 200 });
        expect(tr.otherData.missing.length).toBe(1);
        expect(tr.otherData.missing[0]!.name).toMatch(/^M\d \(P\d\)$/);
        expect(tr.otherData.threads.map((t) => t.tid)).not.toContain(tr.otherData.missing[0]!.tid);
      },
      { procs: 2 },
    );
  }, 30_000);

  it('at the cap a thread stops recording and says how many events it dropped', async () => {
    await run(
      async () => {
        startTrace({ maxEventsPerThread: 1024 });
        await spawn(async () => {
          const c = chan<number>();
          go(async (c: { send(v: number): Promise<void> }) => {
            for (let i = 0; i < 2000; i++) await c.send(i);
          }, c);
          for (let i = 0; i < 2000; i++) await c.recv();
        });
        const tr = await stopTrace({ timeoutMs: 20_000 });
        expect(tr.otherData.maxEventsPerThread).toBe(1024);
        expect(tr.otherData.overflow).toMatch(/^stop: /);
        const full = tr.otherData.threads.filter((t) => t.dropped > 0);
        expect(full.length).toBeGreaterThan(0);
        for (const t of tr.otherData.threads) expect(t.events).toBeLessThanOrEqual(1024);
        checkWellFormed(tr);
      },
      { procs: 2 },
    );
  }, 30_000);

  it('gort-trace refuses what is not a trace, with its usage', () => {
    const bad = spawnSync(process.execPath, [bin, program], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/is not JSON[\s\S]*usage: gort-trace/);
    const none = spawnSync(process.execPath, [bin], { encoding: 'utf8' });
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('no trace file given');
  });
});
