// Port of go/test/chan/nonblock.go
//
// Test channel operations that test for blocking (select with default), with several
// types of operands: int32 → number, int64 → bigint, bool, string. For buffer sizes 0 and
// 1, a non-blocking send (receive) must eventually succeed once a goroutine receives
// (sends), and never before. A wrong value in a goroutine is a panic, which rejects run().
import { describe, it, expect } from 'vitest';
import { run, go, chan, select, recv, send, tick, gosched, type Chan, type Ticker } from 'gort';

const maxTries = 10000; // Go: up to 100 ms per test with a 10 µs ticker; here up to ~20 s with 1 ms ticks.

function unreachable(what: string): never {
  throw new Error(what);
}

describe('go/test/chan/nonblock.go', () => {
  it('non-blocking sends and receives of int32, int64, bool and string, buffer 0 and 1', async () => {
    const log = await run(
      async () => {
        const ticker: Ticker = tick(1); // Go: time.Tick(10 µs); Node timers have 1 ms resolution
        async function sleep(): Promise<void> {
          await ticker.c.recv();
          await ticker.c.recv();
          await gosched();
          await gosched();
          await gosched();
        }
        const log: string[] = [];

        // One block of the Go program: start `peer`, then retry `attempt` (a non-blocking
        // select) until it succeeds; `peer` reports on sync.
        async function nbSend<T>(c: Chan<T>, v: T, what: string): Promise<void> {
          for (let t = 0; ; t++) {
            const ok = await select([send(c, v, () => true)], { default: () => false });
            if (ok) break;
            if (t > maxTries) unreachable(what);
            await sleep();
          }
          log.push(what);
        }
        async function nbRecv<T>(c: Chan<T>, what: string): Promise<T> {
          for (let t = 0; ; t++) {
            const r = await select([recv(c, (v: T | undefined) => ({ v }))], { default: () => null });
            if (r !== null) {
              log.push(what);
              return r.v as T;
            }
            if (t > maxTries) unreachable(what);
            await sleep();
          }
        }

        const sync = chan<boolean>();
        for (let buffer = 0; buffer < 2; buffer++) {
          const c32 = chan<number>(buffer);
          const c64 = chan<bigint>(buffer);
          const cb = chan<boolean>(buffer);
          const cs = chan<string>(buffer);

          await select([recv(c32, () => unreachable('blocked i32sender'))], { default: () => {} });
          await select([recv(c64, () => unreachable('blocked i64sender'))], { default: () => {} });
          await select([recv(cb, () => unreachable('blocked bsender'))], { default: () => {} });
          await select([recv(cs, () => unreachable('blocked ssender'))], { default: () => {} });

          go(
            async function i32receiver(c: Chan<number>, strobe: Chan<boolean>) {
              if ((await c.recv()) !== 123) throw new Error('i32 value');
              await strobe.send(true);
            },
            c32,
            sync,
          );
          await nbSend(c32, 123, `i32receiver buffer=${buffer}`);
          await sync.recv();

          go(
            async function i32sender(c: Chan<number>, strobe: Chan<boolean>) {
              await c.send(234);
              await strobe.send(true);
            },
            c32,
            sync,
          );
          if (buffer > 0) await sync.recv();
          const i32 = await nbRecv(c32, `i32sender buffer=${buffer}`);
          if (i32 !== 234) unreachable('i32sender value');
          if (buffer === 0) await sync.recv();

          go(
            async function i64receiver(c: Chan<bigint>, strobe: Chan<boolean>) {
              if ((await c.recv()) !== 123456n) throw new Error('i64 value');
              await strobe.send(true);
            },
            c64,
            sync,
          );
          await nbSend(c64, 123456n, `i64receiver buffer=${buffer}`);
          await sync.recv();

          go(
            async function i64sender(c: Chan<bigint>, strobe: Chan<boolean>) {
              await c.send(234567n);
              await strobe.send(true);
            },
            c64,
            sync,
          );
          if (buffer > 0) await sync.recv();
          const i64 = await nbRecv(c64, `i64sender buffer=${buffer}`);
          if (i64 !== 234567n) unreachable('i64sender value');
          if (buffer === 0) await sync.recv();

          go(
            async function breceiver(c: Chan<boolean>, strobe: Chan<boolean>) {
              if (!(await c.recv())) throw new Error('b value');
              await strobe.send(true);
            },
            cb,
            sync,
          );
          await nbSend(cb, true, `breceiver buffer=${buffer}`);
          await sync.recv();

          go(
            async function bsender(c: Chan<boolean>, strobe: Chan<boolean>) {
              await c.send(true);
              await strobe.send(true);
            },
            cb,
            sync,
          );
          if (buffer > 0) await sync.recv();
          const b = await nbRecv(cb, `bsender buffer=${buffer}`);
          if (b !== true) unreachable('bsender value');
          if (buffer === 0) await sync.recv();

          go(
            async function sreceiver(c: Chan<string>, strobe: Chan<boolean>) {
              if ((await c.recv()) !== 'hello') throw new Error('s value');
              await strobe.send(true);
            },
            cs,
            sync,
          );
          await nbSend(cs, 'hello', `sreceiver buffer=${buffer}`);
          await sync.recv();

          go(
            async function ssender(c: Chan<string>, strobe: Chan<boolean>) {
              await c.send('hello again');
              await strobe.send(true);
            },
            cs,
            sync,
          );
          if (buffer > 0) await sync.recv();
          const s = await nbRecv(cs, `ssender buffer=${buffer}`);
          if (s !== 'hello again') unreachable('ssender value');
          if (buffer === 0) await sync.recv();
        }
        ticker.stop();
        return log;
      },
      { procs: 2 },
    );
    const expected: string[] = [];
    for (const buffer of [0, 1]) {
      for (const who of ['i32', 'i64', 'b', 's']) expected.push(`${who}receiver buffer=${buffer}`, `${who}sender buffer=${buffer}`);
    }
    expect(log).toEqual(expected);
  });
});
