// Channels, select and timers: gort-specific semantics (values cross threads by copy, the
// main thread can block, Node's timer limits, deadlock detection). Go's own channel tests
// are ported under golang/.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile, spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  run,
  go,
  spawn,
  chan,
  select,
  recv,
  send,
  after,
  sleep,
  timer,
  tick,
  WaitGroup,
  ClosedChannelError,
  type Chan,
} from 'gort';

const child = fileURLToPath(new URL('./golang/chan-child.mjs', import.meta.url));

/** Run a chan-child.mjs mode in a fresh process: its exit status and its JSON line. */
function runChild(mode: string, timeout = 10_000): { status: number | null; error: Error | undefined; out: Record<string, unknown> | null; stderr: string } {
  const r = spawnSync(process.execPath, [child, mode], { timeout, encoding: 'utf8' });
  let out: Record<string, unknown> | null = null;
  try {
    out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
  } catch {
    out = null;
  }
  return { status: r.status, error: r.error, out, stderr: r.stderr };
}

/**
 * runChild without blocking this process's event loop (the child talks to a server here).
 * Rejects if the child does not finish within `timeout` ms.
 */
function runChildAsync(mode: string, args: string[] = [], timeout = 10_000): Promise<{ out: Record<string, unknown> | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [child, mode, ...args], { timeout, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null && err.killed) return reject(new Error(`child ${mode} timed out: ${stderr}`));
      let out: Record<string, unknown> | null = null;
      try {
        out = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
      } catch {
        out = null;
      }
      resolve({ out, stderr });
    });
  });
}

/** Settles with 'timeout' after ms unless p settles first (a Node timer: no runtime needed). */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  return Promise.race([p, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms))]);
}

/** p's state right now, after letting pending callbacks run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('making channels', () => {
  it('a bad capacity is a RangeError; len and cap', async () => {
    await run(async () => {
      for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 40]) expect(() => chan(bad)).toThrow(RangeError);
      expect(() => chan(-1)).toThrow(/size out of range/);
      const c = chan<number>(3);
      expect([c.len, c.cap]).toEqual([0, 3]);
      await c.send(1);
      expect([c.len, c.cap]).toEqual([1, 3]);
      expect([chan().len, chan().cap]).toEqual([0, 0]);
    });
  });
});

describe('values', () => {
  it('a value that cannot be cloned throws a TypeError and nothing is enqueued', async () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    await run(
      async () => {
        // buffered: len unchanged, the buffer still holds exactly what was sent before
        const b = chan<unknown>(4);
        await b.send('first');
        // a function is a value, but not one that captures a variable, nor a native one
        expect(() => b.send(() => b)).toThrow(TypeError);
        expect(() => b.send(new Point(1, 2))).toThrow(/class Point/);
        expect(() => b.send({ nested: [Symbol('s')] })).toThrow(TypeError);
        expect(() => b.trySend(Math.max)).toThrow(TypeError);
        expect(() => select([send(b, () => b, () => 'sent')], { default: () => 'default' })).toThrow(TypeError);
        expect(b.len).toBe(1);
        expect(await b.recv()).toBe('first');
        expect(await select([recv(b, () => 'value')], { default: () => 'empty' })).toBe('empty');

        // unbuffered with a goroutine receiver parked: it stays blocked, then gets the good value
        const u = chan<unknown>();
        const r = spawn(async (u: Chan<unknown>) => u.recvOk(), u);
        await sleep(20);
        expect(() => u.send(() => u)).toThrow(TypeError);
        expect(() => u.send(new Point(3, 4))).toThrow(TypeError);
        await sleep(20);
        expect(await settled(r)).toBe(false);
        await u.send({ x: 3, y: 4 });
        expect(await r).toEqual([{ x: 3, y: 4 }, true]);
      },
      { procs: 2 },
    );
  });

  it('a 1 MB string and a 1 MB Uint8Array cross threads intact, buffered and unbuffered', async () => {
    const r = await run(
      async () => {
        const big = 'é'.repeat(1 << 20);
        const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 255);
        let sum = 0;
        for (const b of bytes) sum = (sum * 33 + b) >>> 0;
        const out: unknown[] = [];
        for (const cap of [0, 1]) {
          const c = chan<string | Uint8Array>(cap);
          const back = chan<string | number>(cap);
          const echo = spawn(
            async (c: Chan<string | Uint8Array>, back: Chan<string | number>) => {
              await back.send((await c.recv()) as string); // the string goes back as it came
              const u = (await c.recv()) as Uint8Array;
              let h = 0;
              for (const b of u) h = (h * 33 + b) >>> 0;
              await back.send(u.length === 1 << 20 ? h : -1);
            },
            c,
            back,
          );
          const never = echo.then(() => new Promise<never>(() => {})); // a throw in echo fails fast
          await c.send(big);
          const s = await Promise.race([back.recv(), never]);
          await c.send(bytes);
          const h = await Promise.race([back.recv(), never]);
          await echo;
          out.push(s === big, h === sum);
        }
        return out;
      },
      { procs: 2 },
    );
    expect(r).toEqual([true, true, true, true]);
  });

  // Regression (fixed in 3cf98ce): a typed array was decoded as a view into the shared heap
  // block it travelled in, and that block was freed by the receive, so the next value of the
  // same size overwrote what the first receiver held, and the view could not be sent on (a
  // view of a SharedArrayBuffer).
  it('a received Uint8Array is the receiver\'s own copy: a later value does not overwrite it', async () => {
    const r = await run(async () => {
      const c = chan<Uint8Array>(1);
      await c.send(new Uint8Array(64).fill(7));
      const u = (await c.recv())!;
      await c.send(new Uint8Array(64).fill(9));
      const v = (await c.recv())!;
      return { u0: u[0], v0: v[0], shared: u.buffer instanceof SharedArrayBuffer };
    });
    expect(r).toEqual({ u0: 7, v0: 9, shared: false });
  });

  it('a received Uint8Array can be sent on to another goroutine', async () => {
    const r = await run(
      async () => {
        const c = chan<Uint8Array>();
        const d = chan<Uint8Array>();
        const relay = spawn(
          async (c: Chan<Uint8Array>, d: Chan<Uint8Array>) => {
            try {
              await d.send((await c.recv())!);
              return 'relayed';
            } catch (e) {
              return String(e);
            }
          },
          c,
          d,
        );
        await c.send(new Uint8Array([1, 2, 3]));
        const relayed = await Promise.race([d.recv(), relay]);
        return { relayed: relayed instanceof Uint8Array ? Array.from(relayed) : relayed, status: await relay };
      },
      { procs: 2 },
    );
    expect(r).toEqual({ relayed: [1, 2, 3], status: 'relayed' });
  });

  it('numbers keep their exact value through arguments, channels and results (int32 edges, -0, doubles)', async () => {
    const values = [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, -(2 ** 31) - 1, 2 ** 53, 1.5, -1e-300, NaN, Infinity, -Infinity];
    const r = await run(
      async () => {
        const c = chan<number>(values.length);
        for (const v of values) await c.send(v);
        const got = await spawn(
          async (c: Chan<number>, n: number) => {
            const out: number[] = [];
            for (let k = 0; k < n; k++) out.push((await c.recv())!);
            return out;
          },
          c,
          values.length,
        );
        const echoed = await Promise.all(values.map((v) => spawn((x: number) => x, v)));
        return { got, echoed };
      },
      { procs: 2 },
    );
    for (const out of [r.got, r.echoed]) {
      expect(out).toHaveLength(values.length);
      out.forEach((v, k) => expect(Object.is(v, values[k]), `value ${k}: ${String(values[k])} came back as ${String(v)}`).toBe(true));
    }
  });

  it('for await over a channel: break leaves the rest in the channel, a later loop drains it to close', async () => {
    const r = await run(
      async () => {
        const c = chan<number>(10);
        for (let i = 0; i < 6; i++) await c.send(i);
        c.close();
        const first: number[] = [];
        for await (const v of c) {
          first.push(v);
          if (v === 2) break;
        }
        const rest = await spawn(async (c: Chan<number>) => {
          const out: number[] = [];
          for await (const v of c) out.push(v);
          return out;
        }, c);
        const it = c[Symbol.asyncIterator]();
        return { first, rest, after: await it.next(), len: c.len };
      },
      { procs: 2 },
    );
    expect(r.first).toEqual([0, 1, 2]);
    expect(r.rest).toEqual([3, 4, 5]);
    expect(r.after).toEqual({ value: undefined, done: true });
    expect(r.len).toBe(0);
  });

  it('channels of channels and channels carrying WaitGroups work across threads', async () => {
    const r = await run(
      async () => {
        // a request channel carrying reply channels (Go's "channels of channels")
        const requests = chan<{ n: number; reply: Chan<number> }>();
        const server = spawn(async (requests: Chan<{ n: number; reply: Chan<number> }>) => {
          let served = 0;
          for await (const req of requests) {
            await req.reply.send(req.n * req.n);
            served++;
          }
          return served;
        }, requests);
        const clients = await Promise.all(
          [1, 2, 3, 4, 5].map((n) =>
            spawn(
              async (requests: Chan<{ n: number; reply: Chan<number> }>, n: number) => {
                const reply = chan<number>();
                await requests.send({ n, reply });
                return reply.recv();
              },
              requests,
              n,
            ),
          ),
        );
        requests.close();
        // a channel of channels of channels
        const ccc = chan<Chan<Chan<string>>>(1);
        const inner = chan<string>(1);
        const mid = chan<Chan<string>>(1);
        await mid.send(inner);
        await ccc.send(mid);
        const deep = await spawn(async (ccc: Chan<Chan<Chan<string>>>) => {
          const m = (await ccc.recv())!;
          const i = (await m.recv())!;
          await i.send('deep');
          return i.cap;
        }, ccc);
        // WaitGroups sent over a channel: goroutines on other threads call done on them
        const wgs = chan<WaitGroup>();
        const wg = new WaitGroup();
        wg.add(3);
        for (let k = 0; k < 3; k++) {
          go(async (wgs: Chan<WaitGroup>) => {
            (await wgs.recv())!.done();
          }, wgs);
        }
        for (let k = 0; k < 3; k++) await wgs.send(wg);
        await wg.wait();
        return { clients, served: await server, deep, innerValue: await inner.recv() };
      },
      { procs: 2 },
    );
    expect(r.clients).toEqual([1, 4, 9, 16, 25]);
    expect(r.served).toBe(5);
    expect(r.deep).toBe(1);
    expect(r.innerValue).toBe('deep');
  });
});

describe('blocking and order', () => {
  it('an unbuffered send resolves only after a receiver took the value', async () => {
    const r = await run(
      async () => {
        const c = chan<number>();
        const sent = c.send(1);
        await sleep(30);
        const before = await settled(sent);
        const got = await spawn(async (c: Chan<number>) => c.recv(), c);
        await sent;
        // a goroutine's send also waits for main's receive
        const d = chan<string>();
        const done = chan<string>(1);
        go(
          async (d: Chan<string>, done: Chan<string>) => {
            await d.send('x');
            await done.send('send returned');
          },
          d,
          done,
        );
        await sleep(30);
        const early = await select([recv(done, (v) => v)], { default: () => 'still blocked' });
        const x = await d.recv();
        return { before, got, early, x, late: await done.recv() };
      },
      { procs: 2 },
    );
    expect(r.before).toBe(false);
    expect(r.got).toBe(1);
    expect(r.early).toBe('still blocked');
    expect(r.x).toBe('x');
    expect(r.late).toBe('send returned');
  });

  it('waiting senders and waiting receivers are served first in, first out', async () => {
    const r = await run(
      async () => {
        const n = 20;
        // senders parked in order on an unbuffered channel, drained by a goroutine
        const c = chan<number>();
        const sends = Array.from({ length: n }, (_, i) => c.send(i));
        const got = await spawn(async (c: Chan<number>, n: number) => {
          const xs: number[] = [];
          for (let i = 0; i < n; i++) xs.push((await c.recv())!);
          return xs;
        }, c, n);
        await Promise.all(sends);
        // a full buffer plus parked senders: buffer first, then senders in order
        const b = chan<number>(5);
        const bsends = Array.from({ length: n }, (_, i) => b.send(i));
        const bgot = await spawn(async (c: Chan<number>, n: number) => {
          const xs: number[] = [];
          for (let i = 0; i < n; i++) xs.push((await c.recv())!);
          return xs;
        }, b, n);
        await Promise.all(bsends);
        // receivers parked in order, fed by a goroutine
        const d = chan<number>();
        const recvs = Array.from({ length: n }, () => d.recv());
        go(async (d: Chan<number>, n: number) => {
          for (let i = 0; i < n; i++) await d.send(i);
        }, d, n);
        return { got, bgot, rgot: await Promise.all(recvs) };
      },
      { procs: 2 },
    );
    const seq = Array.from({ length: 20 }, (_, i) => i);
    expect(r.got).toEqual(seq);
    expect(r.bgot).toEqual(seq);
    expect(r.rgot).toEqual(seq);
  });
});

describe('close', () => {
  it('wakes every parked receiver with [undefined, false] and rejects every parked sender', async () => {
    const r = await run(
      async () => {
        const c = chan<number>();
        const receivers = Array.from({ length: 6 }, () => spawn(async (c: Chan<number>) => c.recvOk(), c));
        const mainRecv = c.recvOk();
        const mainRecvAsIter = (async () => {
          const xs: number[] = [];
          for await (const v of c) xs.push(v);
          return xs;
        })();
        const sel = spawn(async (c: Chan<number>) => select([recv(c, (v, ok) => ['select', v, ok])]), c);
        await sleep(50);
        c.close();
        const d = chan<number>();
        const senders = Array.from({ length: 4 }, (_, i) =>
          spawn(
            async (d: Chan<number>, i: number) => {
              try {
                await d.send(i);
                return 'sent';
              } catch (e) {
                return e instanceof ClosedChannelError ? `${e.name}: ${e.message}` : `other: ${String(e)}`;
              }
            },
            d,
            i,
          ),
        );
        const mainSend = d.send(99).then(
          () => 'sent',
          (e: unknown) => (e instanceof ClosedChannelError ? `${e.name}: ${e.message}` : `other: ${String(e)}`),
        );
        const selSend = spawn(async (d: Chan<number>) => {
          try {
            return await select([send(d, 5, () => 'sent')]);
          } catch (e) {
            return e instanceof ClosedChannelError ? `select ${e.message}` : `other: ${String(e)}`;
          }
        }, d);
        await sleep(50);
        d.close();
        return {
          receivers: await Promise.all(receivers),
          mainRecv: await mainRecv,
          iter: await mainRecvAsIter,
          sel: await sel,
          senders: await Promise.all(senders),
          mainSend: await mainSend,
          selSend: await selSend,
        };
      },
      { procs: 2 },
    );
    expect(r.receivers).toEqual(Array(6).fill([undefined, false]));
    expect(r.mainRecv).toEqual([undefined, false]);
    expect(r.iter).toEqual([]);
    expect(r.sel).toEqual(['select', undefined, false]);
    expect(r.senders).toEqual(Array(4).fill('ClosedChannelError: send on closed channel'));
    expect(r.mainSend).toBe('ClosedChannelError: send on closed channel');
    expect(r.selSend).toBe('select send on closed channel');
  });

  it('a buffered channel drains after close; close of a closed channel and send on it throw', async () => {
    await run(async () => {
      const c = chan<number>(3);
      await c.send(1);
      await c.send(2);
      c.close();
      expect(await c.recvOk()).toEqual([1, true]);
      expect(await c.recv()).toBe(2);
      expect(await c.recvOk()).toEqual([undefined, false]);
      expect(() => c.close()).toThrow(ClosedChannelError);
      expect(() => c.close()).toThrow('close of closed channel');
      await expect(Promise.resolve().then(() => c.send(3))).rejects.toThrow(ClosedChannelError);
      await expect(Promise.resolve().then(() => c.send(3))).rejects.toThrow('send on closed channel');
      expect(() => c.trySend(3)).toThrow(ClosedChannelError);
      await expect(Promise.resolve().then(() => select([send(c, 3, () => 0)], { default: () => 1 }))).rejects.toThrow(ClosedChannelError);
    });
  });
});

describe('select', () => {
  it('select([]) with default returns the default; only null channels with default too', async () => {
    await run(async () => {
      expect(await select([], { default: () => 'default' })).toBe('default');
      expect(await select([recv(null, () => 'r'), send(null, 1, () => 's')], { default: () => 'default' })).toBe('default');
    });
  });

  it('select with only null channels (or none) and no default blocks', async () => {
    const r = await run(
      async () => {
        const a = await within(select([recv(null, () => 'r'), send(null, 1, () => 's')]), 200);
        const b = await within(select([]), 200);
        const c = await within(spawn(async () => select([recv(null, () => 'r')])), 200);
        return [a, b, c];
      },
      { procs: 2 },
    );
    expect(r).toEqual(['timeout', 'timeout', 'timeout']);
  });

  it('a select with a ready case and a null case takes the ready one; the value is passed with ok', async () => {
    const r = await run(async () => {
      const c = chan<string>(1);
      await c.send('v');
      return select([recv(null, () => 'null'), recv(c, (v, ok) => `${v} ${ok}`)]);
    });
    expect(r).toBe('v true');
  });
});

describe('timers', () => {
  it('after, timer.stop, timer.reset, tick + stop, sleep', async () => {
    const r = await run(
      async () => {
        const out: Record<string, unknown> = {};
        out.after = await select([recv(after(10), (v) => typeof v), recv(after(5000), () => 'late')]);
        const t = timer(50);
        out.stop = t.stop();
        out.stopAgain = t.stop();
        out.stopped = await select([recv(t.c, () => 'fired'), recv(after(150), () => 'not fired')]);
        out.resetWasPending = t.reset(10);
        out.afterReset = await select([recv(t.c, (v) => typeof v), recv(after(5000), () => 'late')]);
        const t2 = timer(1000);
        out.reset2WasPending = t2.reset(10);
        out.afterReset2 = await select([recv(t2.c, () => 'fired'), recv(after(5000), () => 'late')]);
        // Go 1.23: a timer that fired but whose value nobody received counts as undelivered.
        // stop() and reset() take the value back and return true; no stale value follows.
        const t3 = timer(5);
        await sleep(30);
        out.firedUnreceivedStop = t3.stop();
        out.afterFiredStop = await select([recv(t3.c, () => 'stale')], { default: () => 'none' });
        const t4 = timer(5);
        await sleep(30);
        out.firedUnreceivedReset = t4.reset(200);
        out.afterFiredReset = await select([recv(t4.c, () => 'stale')], { default: () => 'none' });
        out.t4Later = await select([recv(t4.c, () => 'fired'), recv(after(5000), () => 'late')]);
        out.t4StopAfterReceive = t4.stop();
        const tk = tick(5);
        const ticks: number[] = [];
        for (let i = 0; i < 3; i++) ticks.push((await tk.c.recv())!);
        await sleep(20); // a tick waits in the channel, unreceived
        tk.stop(); // Go 1.23: takes it back; nothing from before stop() is received after it
        out.tickAfterStop = await select([recv(tk.c, () => 'stale tick')], { default: () => 'none' });
        await sleep(50);
        out.afterTickStop = await select([recv(tk.c, () => 'tick')], { default: () => 'none' });
        out.ticksIncrease = ticks[0]! <= ticks[1]! && ticks[1]! <= ticks[2]!;
        // sleep in goroutines: each resumes, and never before its duration has passed
        out.slept = await Promise.all(
          [1, 30, 60].map((ms) =>
            spawn(async (ms: number) => {
              const t0 = performance.now();
              await sleep(ms);
              return performance.now() - t0 >= ms - 1; // Node may fire up to 1 ms early
            }, ms),
          ),
        );
        return out;
      },
      { procs: 2 },
    );
    expect(r).toEqual({
      after: 'number',
      stop: true,
      stopAgain: false,
      stopped: 'not fired',
      resetWasPending: false,
      afterReset: 'number',
      reset2WasPending: true,
      afterReset2: 'fired',
      firedUnreceivedStop: true,
      afterFiredStop: 'none',
      firedUnreceivedReset: true,
      afterFiredReset: 'none',
      t4Later: 'fired',
      t4StopAfterReceive: false,
      tickAfterStop: 'none',
      afterTickStop: 'none',
      ticksIncrease: true,
      slept: [true, true, true],
    });
  });

  it("Go 1.23: a timer's or ticker's channel reads len 0 and cap 0, here and on an M, fired or not", async () => {
    const r = await run(
      async () => {
        const t = timer(5);
        const tk = tick(5);
        const plain = chan<number>(1);
        await plain.send(1);
        const before = [t.c.len, t.c.cap, tk.c.len, tk.c.cap];
        await sleep(30); // both fired; their values wait unreceived
        const fired = [t.c.len, t.c.cap, tk.c.len, tk.c.cap];
        // The channel handed to a goroutine on an M reads the same there.
        const onM = await spawn((a: Chan<number>, b: Chan<number>) => [a.len, a.cap, b.len, b.cap], t.c, tk.c);
        const got = await select([recv(t.c, () => 'value')], { default: () => 'none' });
        tk.stop();
        return { before, fired, onM, got, plain: [plain.len, plain.cap] };
      },
      { procs: 2 },
    );
    expect(r).toEqual({ before: [0, 0, 0, 0], fired: [0, 0, 0, 0], onM: [0, 0, 0, 0], got: 'value', plain: [1, 1] });
  });

  it('a duration of 2**31 + 5 ms does not fire within 100 ms (Node would fire it after 1 ms)', async () => {
    const r = await run(
      async () => {
        const t = timer(2 ** 31 + 5);
        const a = await select([recv(t.c, () => 'fired'), recv(after(100), () => 'waiting')]);
        const stopped = t.stop();
        const s = await within(sleep(2 ** 31 + 5), 100);
        const g = await within(spawn(async () => select([recv(after(2 ** 31 + 5), () => 'fired')])), 100);
        return { a, stopped, s, g };
      },
      { procs: 2 },
    );
    expect(r).toEqual({ a: 'waiting', stopped: true, s: 'timeout', g: 'timeout' });
  });

  it('a stopped timer does not keep the process alive', () => {
    const r = runChild('stopped-timer');
    expect(r.error).toBeUndefined(); // no ETIMEDOUT: it exited within 10 s
    expect(r.status).toBe(0);
    expect(r.out).toEqual({ ok: true, result: { stopped: true } });
  });
});

describe('liveness', () => {
  // Two goroutines exchanging values through a channel on one M resume each other in
  // microtasks; a third goroutine on that M sleeps, then closes the channel. Go's timers fire
  // whatever the other goroutines do (preemption), so the close must come.
  // procs 1 puts all three on one M; with procs 2, buffered channels showed the same.
  // Regression (fixed in 7daad6e): the microtask chain never let the M's event loop turn, so
  // the sleeper's timer (and wake-ups from other threads on its READY list) never ran.
  for (const [procs, cap] of [
    [1, 0],
    [1, 16],
    [2, 16],
  ] as const) {
    it(`a sleeping goroutine wakes while others on its M exchange values (procs ${procs}, chan(${cap}))`, async () => {
      const r = await run(
        async () => {
          const c = chan<number>(cap);
          const n = spawn(async (c: Chan<number>) => {
            go(async (c: Chan<number>) => {
              try {
                for (let i = 0; ; i++) await c.send(i);
              } catch {
                // closed: done
              }
            }, c);
            go(async (c: Chan<number>) => {
              await sleep(10);
              c.close();
            }, c);
            let n = 0;
            for await (const _ of c) n++;
            return n;
          }, c);
          return within(n, 3000);
        },
        { procs },
      );
      expect(r).not.toBe('timeout');
      expect(typeof r).toBe('number');
    });
  }
});

describe('thread-blocking operations', () => {
  it('sendSync and recvSync between a goroutine and the main thread', async () => {
    const r = await run(
      async () => {
        const c = chan<number>();
        const ready = chan<string>();
        // goroutine sends async, main receives blocking its thread
        go(
          async (c: Chan<number>, ready: Chan<string>) => {
            await ready.send('ready');
            await c.send(1);
          },
          c,
          ready,
        );
        await ready.recv();
        const a = c.recvSync();
        // main sends blocking, a goroutine receives
        const got = spawn(
          async (c: Chan<number>, ready: Chan<string>) => {
            await ready.send('ready');
            return c.recv();
          },
          c,
          ready,
        );
        await ready.recv();
        c.sendSync(2);
        const b = await got;
        // a goroutine blocks its M in sendSync / recvOkSync, main uses the async forms
        const s = spawn((c: Chan<number>) => {
          c.sendSync(3);
          return c.recvOkSync();
        }, c);
        const x = await c.recv();
        await c.send(4);
        const y = await s;
        // closed: recvOkSync reports it, sendSync throws
        c.close();
        const z = c.recvOkSync();
        let e: unknown = null;
        try {
          c.sendSync(5);
        } catch (err) {
          e = err;
        }
        return { a, b, x, y, z, e: e instanceof ClosedChannelError ? e.message : String(e) };
      },
      { procs: 2 },
    );
    expect(r).toEqual({ a: 1, b: 2, x: 3, y: [4, true], z: [undefined, false], e: 'send on closed channel' });
  });

  // Regression (fixed in 3cf98ce): go() from main queues the new goroutine in a batch flushed
  // by a microtask; a thread-blocking recvSync/sendSync right after it never let that
  // microtask run, so the goroutine never started and main blocked forever.
  it('go() then recvSync() at once on the main thread: the goroutine runs', () => {
    const r = runChild('go-recvsync', 5_000);
    expect(r.error).toBeUndefined(); // ETIMEDOUT here means main blocked forever
    expect(r.out).toEqual({ ok: true, result: 42 });
  });

  it('go() then sendSync() at once on the main thread: the goroutine runs', () => {
    const r = runChild('go-sendsync', 5_000);
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual({ ok: true, result: 7 });
  });
});

describe('deadlock detection', () => {
  // In a child process: the deadlock check holds off while the main thread has Node
  // resources of its own, and vitest's timers are such resources.
  it('every goroutine and main blocked on channels: run() rejects with DeadlockError naming the wait reasons', () => {
    const r = runChild('deadlock');
    expect(r.error).toBeUndefined();
    expect(r.out).not.toBeNull();
    const out = r.out!;
    expect(out['ok']).toBe(false);
    expect(out['name']).toBe('DeadlockError');
    const msg = String(out['message']);
    expect(msg.startsWith('all goroutines are asleep - deadlock!')).toBe(true);
    const dump = String(out['dump']);
    expect(dump).toMatch(/goroutine \d+ \[chan receive[,\]].*receiver/);
    expect(dump).toMatch(/goroutine \d+ \[select[,\]].*selector/);
    expect(dump).toMatch(/goroutine \d+ \[chan send[,\]].*sender/);
    expect(msg).toContain(dump);
  });

  it('a sleeping program is not reported as deadlocked', () => {
    const r = runChild('sleeping');
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual({ ok: true, result: ['late', 'timer fired'] });
  });

  // Regression: the check looked at main's event loop only, and killed these programs at
  // ~0.3 s although a timer, a request or a callback on an M was about to send.
  it('a timer left by a goroutine that ended, which then sends: not a deadlock', () => {
    const r = runChild('timer-sends');
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual({ ok: true, result: 1 });
  });

  it('a callback registered before its goroutine parks, which then sends: not a deadlock', () => {
    const r = runChild('callback-before-park');
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual({ ok: true, result: 21 });
  });

  describe('with a local HTTP server that answers after 800 ms', () => {
    let server: Server;
    let url = '';
    beforeAll(async () => {
      server = createServer((_req, res) => {
        setTimeout(() => res.end('body'), 800);
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    });

    it('a fire-and-forget fetch in a goroutine whose callback sends: not a deadlock', async () => {
      const r = await runChildAsync('fetch-sends', [url]);
      expect(r.out).toEqual({ ok: true, result: 'body' });
    });

    it('a goroutine parked in Promise.race with a fetch: not a deadlock', async () => {
      const r = await runChildAsync('race-fetch', [url]);
      expect(r.out).toEqual({ ok: true, result: 'body' });
    });
  });

  it('a deadlock that follows an M\'s timer is still reported once the timer has fired', () => {
    const r = runChild('deadlock-after-timer');
    expect(r.error).toBeUndefined(); // ETIMEDOUT: the M never looked at its event loop again
    expect(r.out).toMatchObject({ ok: false, name: 'DeadlockError' });
  });

  it('an unrelated unref\'d timer on an M does not hide a deadlock', () => {
    const r = runChild('deadlock-unref-timer');
    expect(r.error).toBeUndefined();
    expect(r.out).toMatchObject({ ok: false, name: 'DeadlockError' });
    expect(String(r.out!['dump'])).toMatch(/goroutine \d+ \[chan receive[,\]].*receiver/);
  });
});
