/**
 * Cluster channels as cases of gort's own select(), beside local channels and timers, on a
 * real nats-server, with other processes (fixtures/send.mjs, recv.mjs, select-loop.mjs) as
 * separate Node processes standing for machines.
 *
 * Both directions: a remote receive or send case wins against idle local cases, a ready local
 * case wins at the poll; a value another process sends while the select waits. A remote
 * receive case that lost while its pull was out: the value goes back and another process'
 * next receive gets it first (FIFO kept). A remote send case that lost publishes nothing
 * (cap 10 and cap 0). after() as a timeout. default: a remote receive takes a value that is
 * there and a remote send one that has room, else default runs. A closed channel: ok = false
 * for a receive case (also one waiting when another process closes), ClosedChannelError for a
 * send case. Many selects in a loop, in this process and in two others racing for one
 * channel, each against its own local channel fed by a goroutine: every value exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn as spawnProcess, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, chan, go, recv, select, send, start, ClosedChannelError, type Chan, type Runtime } from 'gort';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type Cluster } from '../dist/index.js';
// @ts-expect-error: a plain .mjs script without types
import { startNatsServer } from '../../../scripts/nats-server.mjs';

let srv: { url: string; stop(): Promise<void> };
let net: Cluster;
let rt: Runtime;
const procs: Proc[] = [];

/** A fixture running as a child process, its stdout kept as lines. */
class Proc {
  readonly proc: ChildProcess;
  readonly lines: string[] = [];
  private waiters: Array<() => void> = [];
  readonly exit: Promise<number | null>;

  constructor(script: string, args: string[]) {
    this.proc = spawnProcess(process.execPath, [new URL(`./fixtures/${script}`, import.meta.url).pathname, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(this);
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      this.lines.push(l);
      for (const w of this.waiters.splice(0)) w();
    });
    this.exit = new Promise((r) => this.proc.once('exit', (c) => r(c)));
  }

  /** Resolves once some line equals `line`; rejects if the process exits first. */
  async saw(line: string): Promise<void> {
    while (!this.lines.includes(line)) {
      const code = await Promise.race([new Promise<'line'>((r) => this.waiters.push(() => r('line'))), this.exit]);
      if (code !== 'line' && !this.lines.includes(line)) throw new Error(`exited (${String(code)}) before printing ${line}: ${this.lines.join(' | ')}`);
    }
  }
}

/** Another process sends `values` on channel `name` (and closes it if asked); resolves once it is done. */
async function sendFrom(name: string, cap: number, values: unknown[], close = false): Promise<void> {
  const p = new Proc('send.mjs', [srv.url, name, String(cap), JSON.stringify(values), ...(close ? ['close'] : [])]);
  await p.saw('sent');
  expect(await p.exit).toBe(0);
}

/** Whether p is still pending after ms. */
const pendingAfter = (p: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => false, () => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);

/** What the channel holds now, taken without waiting (select with a default). */
async function drainNow<T>(ch: Parameters<typeof recv<T>>[0]): Promise<T[]> {
  const got: T[] = [];
  for (;;) {
    const r = await select([recv(ch, (v, ok) => (ok ? { v } : null))], { default: () => null });
    if (r === null) return got;
    got.push(r.v as T);
  }
}

beforeAll(async () => {
  srv = await startNatsServer();
  net = await connect({ servers: srv.url });
  rt = await start({ procs: 2 });
});

afterAll(async () => {
  await net?.close();
  await rt?.shutdown();
  for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exit));
  await srv?.stop();
});

describe('a cluster channel in select', () => {
  it('beside local channels, both directions: a remote case wins against idle local ones, a ready local case wins at once', async () => {
    const remote = await net.chan<string>('both', { cap: 4 });
    const local = chan<string>(1);
    await remote.send('r1');
    expect(await select([recv(remote, (v, ok) => ['remote', v, ok]), recv(local, (v) => ['local', v])])).toEqual(['remote', 'r1', true]);
    await local.send('l1');
    await remote.send('r2');
    expect(await select([recv(remote, (v) => ['remote', v]), recv(local, (v) => ['local', v])])).toEqual(['local', 'l1']);
    expect(await select([send(remote, 'r3', () => 'sent remote'), recv(local, (v) => ['local', v])])).toBe('sent remote');
    const full = chan<string>(1);
    await full.send('x');
    expect(await select([send(full, 'y', () => 'sent local'), recv(remote, (v) => ['remote', v])])).toEqual(['remote', 'r2']);
    expect(await select([send(local, 'l2', () => 'sent local'), recv(remote, (v) => ['remote', v])])).toBe('sent local');
    expect(await remote.recv()).toBe('r3');
    expect(await local.recv()).toBe('l2');
    await remote.destroy();
  });

  it('takes a value another process sends while it waits, before a timer', async () => {
    const remote = await net.chan<{ n: number }>('later', { cap: 1 });
    const p = select([recv(remote, (v) => v), recv(after(60_000), () => 'timeout')]);
    expect(await pendingAfter(p, 300)).toBe(true);
    await sendFrom('later', 1, [{ n: 1 }]);
    expect(await p).toEqual({ n: 1 });
    await remote.destroy();
  });

  it('a remote receive case that lost while its pull was out gives the value back: the next receiver gets it first', async () => {
    // ackWait far beyond the test's timeout: a value not given back would not come back in time.
    const remote = await net.chan<string>('giveback', { cap: 4, ackWait: 600_000 });
    const local = chan<string>();
    const p = select([recv(remote, (v) => ['remote', v]), recv(local, (v) => ['local', v])]);
    expect(await pendingAfter(p, 300)).toBe(true); // parked, its remote case pulling
    go(async (local: Chan<string>) => {
      await local.send('from an M');
    }, local);
    expect(await p).toEqual(['local', 'from an M']);
    await sendFrom('giveback', 4, ['a', 'b']); // 'a' reaches the lost select's pull, which gives it back
    const r = new Proc('recv.mjs', [srv.url, 'giveback', '4']);
    await r.saw('ready');
    await r.saw('"b"');
    expect(r.lines.slice(1, 3)).toEqual(['"a"', '"b"']);
    // recv.mjs opened the channel with the default ackWait: the first opener's stays.
    const jsm = await jetstreamManager(net.nc);
    expect((await jsm.consumers.info('GORT_CHAN_giveback', 'gort')).config.ack_wait).toBe(600_000 * 1e6);
    await remote.close();
    await r.saw('done');
    await remote.destroy();
  });

  it('a remote send case that lost publishes nothing (cap 1 and cap 0)', async () => {
    const remote = await net.chan<string>('nosend', { cap: 1 });
    await remote.send('x'); // full
    const local = chan<string>();
    const p = select([send(remote, 'y', () => 'sent'), recv(local, (v) => v)]);
    expect(await pendingAfter(p, 300)).toBe(true);
    go(async (local: Chan<string>) => {
      await local.send('local won');
    }, local);
    expect(await p).toBe('local won');
    expect(await remote.recv()).toBe('x'); // room now: a send case still running would put 'y'
    await new Promise((r) => setTimeout(r, 600));
    expect(await drainNow(remote)).toEqual([]);
    await remote.destroy();

    const zero = await net.chan<string>('nosend0', { cap: 0 });
    expect(await select([send(zero, 'z', () => 'sent'), recv(after(300), () => 'timeout')])).toBe('timeout');
    const r = new Proc('recv.mjs', [srv.url, 'nosend0', '0']);
    await r.saw('ready');
    // With a receiver waiting, the send case can proceed, and completes when the receiver took it.
    expect(await select([send(zero, 'w', () => 'sent'), recv(after(60_000), () => 'timeout')])).toBe('sent');
    await zero.close();
    await r.saw('done');
    expect(r.lines.slice(1)).toEqual(['"w"', 'done']);
    await zero.destroy();
  });

  it('with a default: a remote receive takes a value that is there, a send one that has room; else default runs', async () => {
    const remote = await net.chan<number>('dflt', { cap: 1 });
    const local = chan<number>();
    const none = { default: () => 'none' };
    expect(await select([recv(remote, (v) => v), recv(local, (v) => v)], none)).toBe('none');
    expect(await select([send(remote, 1, () => 'sent')], none)).toBe('sent');
    expect(await select([send(remote, 2, () => 'sent')], none)).toBe('none');
    expect(await select([recv(remote, (v) => v), recv(local, (v) => v)], none)).toBe(1);
    expect(await select([recv(remote, (v) => v)], none)).toBe('none');
    await remote.destroy();
  });

  it('a closed channel: a receive case gets ok = false (also one waiting when another process closes), a send case throws ClosedChannelError', async () => {
    const remote = await net.chan<string>('closedsel', { cap: 2 });
    const waiting = select([recv(remote, (v, ok) => [v, ok]), recv(after(60_000), () => 'timeout')]);
    expect(await pendingAfter(waiting, 300)).toBe(true);
    await sendFrom('closedsel', 2, ['last'], true);
    expect(await waiting).toEqual(['last', true]);
    expect(await select([recv(remote, (v, ok) => [v, ok]), recv(after(60_000), () => 'timeout')])).toEqual([undefined, false]);
    expect(await select([recv(remote, (v, ok) => [v, ok])], { default: () => 'none' })).toEqual([undefined, false]);
    await expect(select([send(remote, 'no'), recv(after(60_000), () => 'timeout')])).rejects.toThrow(ClosedChannelError);
    await expect(select([send(remote, 'no')], { default: () => 'none' })).rejects.toThrow(/send on closed channel 'closedsel'/);

    const other = await net.chan<string>('closedlater', { cap: 2 });
    const w = select([recv(other, (v, ok) => [v, ok])]);
    expect(await pendingAfter(w, 300)).toBe(true);
    await sendFrom('closedlater', 2, [], true);
    expect(await w).toEqual([undefined, false]);
    await remote.destroy();
    await other.destroy();
  });

  it('a value that cannot cross machines is a TypeError when the send case is made', async () => {
    const remote = await net.chan<unknown>('typedsel', { cap: 1 });
    expect(() => send(remote, chan(1))).toThrow(/the value of a select case sending on 'typedsel' is a runtime object/);
    await remote.destroy();
  });

  it('many selects in a loop, here and in two other processes racing for one channel: every value exactly once', async () => {
    const N = 150;
    const remote = await net.chan<number>('loop', { cap: 8, ackWait: 600_000 }); // a value not given back would not come back in time
    const local = chan<number>();
    go(
      async (local: Chan<number>, n: number) => {
        for (let i = 0; i < n; i++) await local.send(-1 - i);
      },
      local,
      N,
    );
    const sending = (async () => {
      for (let i = 0; i < N; i++) await remote.send(i);
    })();
    const here: number[] = [];
    for (let k = 0; k < 2 * N; k++) here.push(await select([recv(remote, (v) => v!), recv(local, (v) => v!)]));
    await sending;
    expect([...here].sort((a, b) => a - b)).toEqual([...Array.from({ length: N }, (_, i) => -N + i), ...Array.from({ length: N }, (_, i) => i)]);
    expect(here.filter((v) => v >= 0)).toEqual(Array.from({ length: N }, (_, i) => i)); // one receiver: in order

    const M = 400;
    const loops = [new Proc('select-loop.mjs', [srv.url, 'loop', '8', '200']), new Proc('select-loop.mjs', [srv.url, 'loop', '8', '200'])];
    await Promise.all(loops.map((p) => p.saw('ready')));
    for (let i = 0; i < M; i++) await remote.send(i);
    await remote.close();
    await Promise.all(loops.map((p) => p.saw('done')));
    const got = loops.map((p) => p.lines.filter((l) => l.startsWith('r ')).map((l) => Number(l.slice(2))));
    for (const g of got) expect(g).toEqual([...g].sort((a, b) => a - b)); // each receiver in FIFO order
    const all = [...got[0]!, ...got[1]!];
    expect(all.length).toBe(M);
    expect(new Set(all).size).toBe(M);
    expect(all.reduce((s, v) => s + v, 0)).toBe((M * (M - 1)) / 2);
    for (const p of loops) expect(p.lines.filter((l) => l.startsWith('l ')).length).toBe(200);
    await remote.destroy();
  });
});
