/**
 * gort-nats on a real nats-server (JetStream on, a free loopback port, its own store) with
 * serving processes that are separate Node processes standing for machines
 * (fixtures/serve.mjs, each a gort runtime of 1 P serving fixtures/tasks.mjs with
 * concurrency 2).
 *
 * spawn: work spread over all three processes, values both ways, a module function as a
 * value, RemoteError (also for a result that cannot cross), NoServerError at once for a
 * module nobody serves (also once its last serving process stopped), a TypeError at the call
 * for runtime objects, shared buffers, inline functions and what structured clone would
 * refuse or mangle, and the concurrency bound.
 *
 * spawn with a Context: the caller's cancel (and its cause) and deadline reach the remote
 * goroutine's context, and a cancel reaches every call the context was passed to (through
 * one listener on it); a context canceled before the call arrives canceled; the serving
 * side drops its subscription to the cancel subject when the call ends (the NATS server's
 * monitoring lists the subscriptions).
 *
 * spawn when processes fail (three more serving processes, concurrency 1 and ackWait 1.5 s,
 * serving fixtures/again.mjs, whose runs log their pid to a file): concurrent calls go to
 * idle processes; a process whose main thread stalls past ackWait has its call run again
 * elsewhere, and the caller keeps the first result and drops the stalled run's; a context
 * canceled while its call waited in the stream arrives canceled; a caller that dies during
 * its call has the call's context canceled and the call acknowledged; a process killed
 * during a call has it run again elsewhere, with one result.
 *
 * chan: FIFO, back-pressure (a send waits while full and completes when a receiver takes),
 * close and drain, a receiver waiting when the close comes, exactly-once over two receiving
 * processes, a receiver killed between take and ack, and cap 0 as a rendezvous.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { deserialize } from 'node:v8';
import { connect as natsConnect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { background, chan, fromModule, start, withCancel, withCancelCause, withTimeout, ClosedChannelError, type Context, type Runtime } from 'gort';
import { connect, NoServerError, RemoteError, type Cluster } from '../dist/index.js';
// @ts-expect-error: a plain .mjs script without types
import { startNatsServer } from '../../../scripts/nats-server.mjs';

/** fixtures/tasks.mjs, typed. */
interface Tasks {
  whoami<X>(x: X): { pid: number; x: X };
  add(a: number, b?: number): number;
  fail(message: string): never;
  unsendable(): unknown;
  gauge(ms: number): Promise<number>;
  callIt(f: (...a: never[]) => unknown, x: unknown): Promise<unknown>;
  untilDone(ctx: Context, started?: string): Promise<Seen>;
  ctxNow(ctx: Context): { err: string | null; deadline: number | null };
}
/** What a remote goroutine saw of its context once it was done (tasks.mjs untilDone). */
interface Seen {
  pid: number;
  err: string | null;
  cause: unknown;
  deadline: number | null;
}
/** A run of again.mjs's slowFirst or stallFirst: which process, which run of the call (1, 2, …), whose log. */
interface Run {
  pid: number;
  run: number;
  log: string;
}
/** fixtures/again.mjs, typed. */
interface Again {
  hold(ms: number): Promise<number>;
  slowFirst(log: string): Promise<Run>;
  stallFirst(log: string): Promise<Run>;
  untilDone(ctx: Context, started?: string): Promise<Seen>;
}
const tasksUrl = new URL('./fixtures/tasks.mjs', import.meta.url);
const tasks = fromModule<Tasks>(tasksUrl);
const again = fromModule<Again>(new URL('./fixtures/again.mjs', import.meta.url));

let srv: { url: string; monitor: string; stop(): Promise<void> };
let net: Cluster;
let rt: Runtime;
const children: ChildProcess[] = [];
const servers: number[] = [];

/** Start a fixture as a child process; resolves with it and its stdout lines once it printed a line matching `until`. */
function child(script: string, args: string[], until: RegExp): Promise<{ proc: ChildProcess; lines: string[]; line: string }> {
  const proc = spawnProcess(process.execPath, [new URL(`./fixtures/${script}`, import.meta.url).pathname, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(proc);
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    proc.once('exit', (code, signal) => {
      if (!lines.some((l) => until.test(l))) reject(new Error(`${script} exited (${code ?? signal}) before printing ${until}: ${lines.join(' | ')}`));
    });
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      lines.push(l);
      if (until.test(l)) resolve({ proc, lines, line: l });
    });
  });
}

function exited(proc: ChildProcess): Promise<void> {
  return proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((r) => proc.once('exit', () => r()));
}

let tmp: string;
/** A fresh path in this file's temporary folder. */
let files = 0;
const tmpFile = (): string => join(tmp, `f${files++}`);
/** The lines of a file (none if it does not exist yet). */
const linesOf = (f: string): string[] => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n') : []);

/** Resolves once pred() holds, looking every 20 ms (the test's timeout bounds the wait). */
async function until(pred: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await pred())) await new Promise((r) => setTimeout(r, 20));
}

/** The subjects of the subscriptions to contexts' cancel subjects, as the NATS server lists them. */
async function cancelSubs(): Promise<string[]> {
  const r = (await (await fetch(`${srv.monitor}/subsz?subs=1&limit=100000`)).json()) as { subscriptions_list?: { subject: string }[] };
  return (r.subscriptions_list ?? []).map((x) => x.subject).filter((x) => x.startsWith('gort.cancel.'));
}

/** Whether p is still pending after ms (a send that must wait). */
async function pendingAfter(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setTimeout(r, ms));
  return !done;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'gort-nats-test-'));
  srv = await startNatsServer();
  const started = await Promise.all([0, 1, 2].map(() => child('serve.mjs', [srv.url, '2'], /^ready \d+$/)));
  for (const s of started) servers.push(Number(s.line.split(' ')[1]));
  net = await connect({ servers: srv.url });
  rt = await start({ procs: 1 });
});

afterAll(async () => {
  await net?.close();
  await rt?.shutdown();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await Promise.all(children.map(exited));
  await srv?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('net.spawn', () => {
  it('spreads calls over every serving process and carries values both ways', async () => {
    const arg = { m: new Map([[1, new Date(0)]]), s: new Set(['a']), big: 2n ** 70n, u8: new Uint8Array([1, 2, 3]), nested: [{ x: null }] };
    const results = await Promise.all(Array.from({ length: 60 }, () => net.spawn(tasks.whoami, arg)));
    expect(new Set(results.map((r) => r.pid))).toEqual(new Set(servers));
    for (const r of results) expect(r.x).toEqual(arg);
    expect(await net.spawn(tasks.add, 2, 3)).toBe(5);
  });

  it('passes a module function as a value', async () => {
    expect(await net.spawn(tasks.callIt, tasks.add, 1)).toBeNaN(); // add(1, undefined) ran remotely
    const r = (await net.spawn(tasks.callIt, tasks.whoami, 'v')) as { pid: number; x: string };
    expect(servers).toContain(r.pid);
    expect(r.x).toBe('v');
  });

  it("rejects with a RemoteError carrying the remote error's name, message and stack", async () => {
    const e = await net.spawn(tasks.fail, 'boom').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(RemoteError);
    const r = e as RemoteError;
    expect(r.remoteName).toBe('TypeError');
    expect(r.message).toBe('boom');
    expect(r.remoteStack).toMatch(/tasks\.mjs/);
    expect(r.origin).toMatch(new RegExp(`:(${servers.join('|')})$`));
  });

  it('rejects with a RemoteError when the result cannot cross machines', async () => {
    const e = (await net.spawn(tasks.unsendable).catch((x: unknown) => x)) as RemoteError;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.remoteName).toBe('TypeError');
    expect(e.message).toMatch(/the result of unsendable.*is a function/);
  });

  it('rejects at once with NoServerError for a module no process serves', async () => {
    const other = fromModule<{ f(): void }>(new URL('./fixtures/recv.mjs', import.meta.url));
    await expect(net.spawn(other.f)).rejects.toThrow(NoServerError);
    await expect(net.spawn(other.f)).rejects.toThrow(/no process serves.*no responders/);
  });

  it('rejects with NoServerError once the last process serving a module stopped', async () => {
    const lonely = fromModule<{ hello(): string }>(new URL('./fixtures/lonely.mjs', import.meta.url));
    const one = await child('serve.mjs', [srv.url, '1', '30000', 'lonely.mjs'], /^ready \d+$/);
    expect(await net.spawn(lonely.hello)).toBe('hello');
    one.proc.kill('SIGTERM');
    await exited(one.proc);
    await net.nc.flush(); // the process' "stopped serving" notice has arrived
    await expect(net.spawn(lonely.hello)).rejects.toThrow(NoServerError);
  });

  it('rejects with NoServerError when the only process serving a module is killed during the call, and drops the call', async () => {
    const lonely = fromModule<{ linger(log: string): string }>(new URL('./fixtures/lonely.mjs', import.meta.url));
    const one = await child('serve.mjs', [srv.url, '1', '1500', 'lonely.mjs'], /^ready \d+$/);
    const log = tmpFile();
    const call = net.spawn(lonely.linger, log);
    await until(() => linesOf(log).length > 0);
    one.proc.kill('SIGKILL');
    await exited(one.proc);
    await expect(call).rejects.toThrow(NoServerError);
    await expect(call).rejects.toThrow(/no process serves the module .* any more, and none is running the call/);
    // The call is gone from the stream: a process serving the module later does not run it.
    const jsm = await jetstreamManager(net.nc);
    await until(async () => (await jsm.streams.info('GORT_CALLS')).state.messages === 0);
  });

  it('lets the only process serving a module finish a call while it stops: the caller gets the result, not NoServerError', async () => {
    const lonely = fromModule<{ briefly(log: string, ms: number): string }>(new URL('./fixtures/lonely.mjs', import.meta.url));
    const one = await child('serve.mjs', [srv.url, '1', '1500', 'lonely.mjs'], /^ready \d+$/);
    const log = tmpFile();
    const call = net.spawn(lonely.briefly, log, 3000);
    await until(() => linesOf(log).length > 0);
    one.proc.kill('SIGTERM'); // stops serving (no process answers the probe), finishes the call
    expect(await call).toBe('done');
    await exited(one.proc);
  });

  it('rejects with NoServerError a call made just after the last serving process was killed', async () => {
    const lonely = fromModule<{ hello(): string }>(new URL('./fixtures/lonely.mjs', import.meta.url));
    const one = await child('serve.mjs', [srv.url, '1', '1500', 'lonely.mjs'], /^ready \d+$/);
    expect(await net.spawn(lonely.hello)).toBe('hello'); // the probe's answer is kept for a second
    one.proc.kill('SIGKILL');
    await exited(one.proc);
    // Published (the kept answer) and then rejected by the watch, or rejected by a fresh
    // probe if a second passed: either way not left waiting for a process that never comes.
    await expect(net.spawn(lonely.hello)).rejects.toThrow(NoServerError);
  });

  it('throws a TypeError at the call for what cannot cross machines', () => {
    const ch = chan<number>(1);
    expect(() => net.spawn(tasks.whoami, ch)).toThrow(TypeError);
    expect(() => net.spawn(tasks.whoami, ch)).toThrow(/args\[0\] is a runtime object/);
    expect(() => net.spawn(tasks.whoami, { deep: [ch] })).toThrow(/args\[0\]\.deep\[0\] is a runtime object/);
    expect(() => net.spawn(tasks.whoami, new Int32Array(new SharedArrayBuffer(8)))).toThrow(/SharedArrayBuffer/);
    expect(() => net.spawn(tasks.whoami, () => 1)).toThrow(/only a module function/);
    expect(() => net.spawn((() => 1) as never)).toThrow(/needs a module function/);
    // gort's own rules between threads (gort/internal), said for another machine:
    class Point {
      x = 1;
    }
    expect(() => net.spawn(tasks.whoami, { at: new Map([['p', new Point()]]) })).toThrow(
      /^gort: net\.spawn\(whoami\) args\[0\]\.at\.get\(p\) is an instance of class Point; .* when sent to another machine/,
    );
    expect(() => net.spawn(tasks.whoami, [new WeakMap()])).toThrow(/args\[0\]\[0\] is a WeakMap, which cannot be sent to another machine at all/);
    expect(() => net.spawn(tasks.whoami, Promise.resolve(1))).toThrow(/is a Promise, .*; await it and send the result/);
    expect(() => net.spawn(tasks.whoami, new Set([Symbol('s')]))).toThrow(/args\[0\] item is a symbol, which cannot be sent to another machine/);
  });

  it('runs at most `concurrency` calls at once on a serving process', async () => {
    const most: number[] = await Promise.all(Array.from({ length: 24 }, () => net.spawn(tasks.gauge, 30)));
    expect(Math.max(...most)).toBeLessThanOrEqual(2);
  });
});

describe('net.spawn with a Context', () => {
  it("cancels the remote goroutine's context when the caller cancels, and drops the serving side's subscription after the call", async () => {
    const started = tmpFile();
    const [ctx, cancel] = withCancel(background());
    const call = net.spawn(tasks.untilDone, ctx, started);
    await until(() => linesOf(started).length > 0);
    await until(async () => (await cancelSubs()).length > 0);
    cancel();
    expect(await call).toEqual({ pid: Number(linesOf(started)[0]), err: 'context canceled', cause: 'context canceled', deadline: null });
    expect(await cancelSubs()).toEqual([]);
  });

  it('carries the cause given to the cancel', async () => {
    const started = tmpFile();
    const [ctx, cancel] = withCancelCause(background());
    const call = net.spawn(tasks.untilDone, ctx, started);
    await until(() => linesOf(started).length > 0);
    cancel(new Error('enough'));
    expect(await call).toMatchObject({ err: 'context canceled', cause: 'enough' });
  });

  it('hands over a context canceled before the call as canceled', async () => {
    const [ctx, cancel] = withCancel(background());
    cancel();
    expect(await net.spawn(tasks.ctxNow, ctx)).toEqual({ err: 'context canceled', deadline: null });
  });

  it("carries the deadline: the remote context has the caller's and ends with DeadlineExceeded", async () => {
    const [ctx, cancel] = withTimeout(background(), 300);
    const seen = await net.spawn(tasks.untilDone, ctx);
    cancel();
    expect(seen).toMatchObject({ err: 'context deadline exceeded', deadline: ctx.deadline()[0] });
  });

  it('cancels every pending call a context was passed to', async () => {
    const started = tmpFile();
    const [ctx, cancel] = withCancel(background());
    const calls = [0, 1, 2].map(() => net.spawn(tasks.untilDone, ctx, started));
    await until(() => linesOf(started).length === 3);
    cancel();
    for (const seen of await Promise.all(calls)) expect(seen.err).toBe('context canceled');
  });

  it('leaves an active context active, with one listener on it however many calls share it', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error): number => warnings.push(w);
    process.on('warning', onWarning);
    const [ctx, cancel] = withCancel(background());
    const seen = await Promise.all(Array.from({ length: 16 }, () => net.spawn(tasks.ctxNow, ctx)));
    cancel();
    await new Promise((r) => setTimeout(r, 10)); // a warning is emitted on a later tick
    process.off('warning', onWarning);
    for (const s of seen) expect(s).toEqual({ err: null, deadline: null });
    expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
    expect(await cancelSubs()).toEqual([]);
  });
});

describe('net.spawn when a serving process dies or stalls', () => {
  /** Three processes serving again.mjs, one call at a time each, ackWait 1.5 s. */
  const pool: { proc: ChildProcess; pid: number; lines: string[] }[] = [];
  let observer: NatsConnection;
  /** Every result that went over the wire to a caller, in arrival order. */
  const wire: { subject: string; value: unknown }[] = [];

  beforeAll(async () => {
    const started = await Promise.all([0, 1, 2].map(() => child('serve.mjs', [srv.url, '1', '1500', 'again.mjs'], /^ready \d+$/)));
    for (const s of started) pool.push({ proc: s.proc, pid: Number(s.line.split(' ')[1]), lines: s.lines });
    observer = await natsConnect({ servers: srv.url });
    // Results go to `<caller inbox>.<n>`; `<inbox>.c.<id>` (questions about contexts) must
    // stay unanswered when the caller is gone, so this does not listen there.
    observer.subscribe('_INBOX.*.*', {
      callback: (err, m) => {
        if (err !== null || !m.headers?.get('gort-origin')) return;
        const r = deserialize(m.data) as { ok: boolean; value: unknown };
        if (r.ok) wire.push({ subject: m.subject, value: r.value });
      },
    });
    await observer.flush();
  });
  afterAll(async () => {
    await observer?.close();
  });

  /** The results on the wire of the call whose runs logged to `log`. */
  const resultsOf = (log: string): unknown[] => {
    const mine = wire.find((w) => (w.value as Run | null)?.log === log);
    return mine === undefined ? [] : wire.filter((w) => w.subject === mine.subject).map((w) => w.value);
  };

  it('with concurrency 1 on each process, hands concurrent calls to idle processes', async () => {
    const pids = await Promise.all(Array.from({ length: 6 }, () => net.spawn(again.hold, 300)));
    expect(new Set(pids).size).toBeGreaterThan(1);
    for (const pid of pids) expect(pool.map((p) => p.pid)).toContain(pid);
  });

  it('keeps the first result when a stalled process finishes a call that ran again elsewhere', async () => {
    const log = tmpFile();
    const r = await net.spawn(again.stallFirst, log);
    const first = Number(linesOf(log)[0]);
    expect(r.pid).not.toBe(first);
    expect(r.run).toBeGreaterThanOrEqual(2);
    // The stalled process comes back, finishes its run and sends that result too: the caller drops it.
    await until(() => resultsOf(log).length >= 2);
    expect(resultsOf(log)[0]).toEqual(r);
    expect(resultsOf(log)).toContainEqual({ pid: first, run: 1, log });
    await net.nc.flush();
    expect(await net.spawn(tasks.add, 1, 2)).toBe(3);
  });

  it('hands a call whose context was canceled while it waited in the stream a canceled context', async () => {
    const busy = pool.map(() => net.spawn(again.hold, 1000));
    const [ctx, cancel] = withCancel(background());
    const call = net.spawn(again.untilDone, ctx);
    cancel(); // before the call is even published: the cancel message reaches no one
    expect(await call).toMatchObject({ err: 'context canceled' });
    await Promise.all(busy);
  });

  it('cancels the context of a call whose caller died, and acknowledges the call', async () => {
    const caller = spawnProcess(process.execPath, [new URL('./fixtures/call-and-die.mjs', import.meta.url).pathname, srv.url], { stdio: 'inherit' });
    children.push(caller);
    await exited(caller);
    expect(caller.signalCode).toBe('SIGKILL');
    const gone = 'gort: the process that called net.spawn is gone';
    await until(() => wire.some((w) => (w.value as Seen | null)?.cause === gone));
    expect(wire.find((w) => (w.value as Seen | null)?.cause === gone)!.value).toMatchObject({ err: 'context canceled', deadline: null });
    // Every call was acknowledged (the work queue removes a call when it is): also that one.
    const jsm = await jetstreamManager(observer);
    await until(async () => (await jsm.streams.info('GORT_CALLS')).state.messages === 0);
  });

  it('runs a call that kills every process running it 5 times, then rejects it with a RemoteError and runs it no more', async () => {
    const crash = fromModule<{ die(log: string): void }>(new URL('./fixtures/crash.mjs', import.meta.url));
    const six = await Promise.all(Array.from({ length: 6 }, () => child('serve.mjs', [srv.url, '1', '500', 'crash.mjs'], /^ready \d+$/)));
    const log = tmpFile();
    const err = await net.spawn(crash.die, log).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as Error).message).toMatch(/was handed to a serving process 5 times and none of them finished it/);
    expect(linesOf(log)).toHaveLength(5);
    expect(new Set(linesOf(log)).size).toBe(5);
    await until(() => six.filter((s) => s.proc.signalCode === 'SIGKILL').length === 5);
    // The call is gone: terminated, not left to come round again.
    const jsm = await jetstreamManager(observer);
    await until(async () => (await jsm.streams.info('GORT_CALLS')).state.messages === 0);
    expect(linesOf(log)).toHaveLength(5);
    const survivor = six.find((s) => s.proc.signalCode === null)!;
    survivor.proc.kill('SIGTERM');
    await exited(survivor.proc);
  });

  it('runs a call again on another process when its process is killed during it; the caller gets one result', async () => {
    const log = tmpFile();
    const call = net.spawn(again.slowFirst, log);
    await until(() => linesOf(log).length > 0);
    const first = Number(linesOf(log)[0]);
    const victim = pool.find((p) => p.pid === first)!;
    victim.proc.kill('SIGKILL');
    await exited(victim.proc);
    const r = await call;
    expect(r.pid).not.toBe(first);
    expect(pool.map((p) => p.pid)).toContain(r.pid);
    expect(r.run).toBeGreaterThanOrEqual(2);
    expect(linesOf(log).length).toBeGreaterThanOrEqual(2);
    await net.nc.flush();
    await observer.flush();
    expect(resultsOf(log)).toEqual([r]);
  });
});

describe('net.chan', () => {
  it('delivers in FIFO order', async () => {
    const ch = await net.chan<number>('fifo', { cap: 10 });
    const sent = (async () => {
      for (let i = 0; i < 30; i++) await ch.send(i);
    })();
    const got: number[] = [];
    for (let i = 0; i < 30; i++) got.push((await ch.recv())!);
    await sent;
    expect(got).toEqual(Array.from({ length: 30 }, (_, i) => i));
    await ch.destroy();
  });

  it('makes a send wait while the channel is full, and completes it when a receiver takes', async () => {
    const ch = await net.chan<string>('full', { cap: 2 });
    await ch.send('a');
    await ch.send('b');
    const third = ch.send('c');
    expect(await pendingAfter(third, 500)).toBe(true);
    expect(await ch.recv()).toBe('a');
    await third;
    expect(await ch.recv()).toBe('b');
    expect(await ch.recv()).toBe('c');
    await ch.destroy();
  });

  it('lets receivers drain a closed channel, then gives ok = false; sends and a second close throw', async () => {
    const ch = await net.chan<string>('closing', { cap: 5 });
    await ch.send('x');
    await ch.send('y');
    await ch.close();
    await expect(ch.send('z')).rejects.toThrow(ClosedChannelError);
    await expect(ch.close()).rejects.toThrow(ClosedChannelError);
    expect(await ch.recvOk()).toEqual(['x', true]);
    expect(await ch.recvOk()).toEqual(['y', true]);
    expect(await ch.recvOk()).toEqual([undefined, false]);
    const again = await net.chan<string>('closing', { cap: 5 });
    const rest: string[] = [];
    for await (const v of again) rest.push(v);
    expect(rest).toEqual([]);
    await ch.destroy();
  });

  it('wakes a waiting receiver when another process closes the channel', async () => {
    const ch = await net.chan<number>('wake', { cap: 1 });
    const waiting = ch.recvOk();
    const other = await connect({ servers: srv.url });
    await (await other.chan<number>('wake', { cap: 1 })).close();
    expect(await waiting).toEqual([undefined, false]);
    await other.close();
    await ch.destroy();
  });

  it('throws a TypeError at the send for a runtime object', async () => {
    const ch = await net.chan<unknown>('typed', { cap: 1 });
    expect(() => ch.send(chan(1))).toThrow(/the value sent on 'typed' is a runtime object/);
    await ch.destroy();
  });

  it('delivers every value exactly once over two receiving processes, each in order', async () => {
    const ch = await net.chan<number>('shared', { cap: 8 });
    const rs = await Promise.all([0, 1].map(() => child('recv.mjs', [srv.url, 'shared', '8'], /^ready$/)));
    for (let i = 0; i < 60; i++) await ch.send(i);
    await ch.close();
    await Promise.all(rs.map((r) => exited(r.proc)));
    const each = rs.map((r) => {
      expect(r.lines.at(-1)).toBe('done');
      return r.lines.slice(1, -1).map((l) => JSON.parse(l) as number);
    });
    for (const vs of each) expect(vs).toEqual([...vs].sort((a, b) => a - b));
    expect([...each[0]!, ...each[1]!].sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    await ch.destroy();
  });

  it('hands a value taken by a receiver that died before its ack to another receiver', async () => {
    const ch = await net.chan<string>('dies', { cap: 4, ackWait: 1000 });
    await ch.send('first');
    await ch.send('second');
    const dead = await child('take-and-die.mjs', [srv.url, 'dies'], /^took \d+$/);
    await exited(dead.proc);
    expect(dead.proc.signalCode).toBe('SIGKILL');
    expect(await ch.recv()).toBe('first');
    expect(await ch.recv()).toBe('second');
    await ch.close();
    expect(await ch.recvOk()).toEqual([undefined, false]);
    await ch.destroy();
  });

  it('with cap 0, completes a send only when a receiver took the value', async () => {
    const ch = await net.chan<number>('rendezvous', { cap: 0 });
    const sent = ch.send(7);
    expect(await pendingAfter(sent, 500)).toBe(true);
    expect(await ch.recv()).toBe(7);
    await sent;
    await ch.destroy();
  });
});
