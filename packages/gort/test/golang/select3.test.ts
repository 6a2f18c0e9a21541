// Port of go/test/chan/select3.go
//
// Test the semantics of the select statement for basic empty/non-empty cases.
// testBlock runs f in a goroutine and checks empirically (a 250 ms sleeper racing it) that f
// always/never blocks; testPanic runs f and checks that it always/never panics (here: throws
// a ClosedChannelError, synchronously or as a rejection).
//
// gort has no nil channel value for plain operations (null.send() is a JS TypeError), so Go's
// `nilch <- 7` and `<-nilch` are written as a select with the single null case, which is
// what they mean in Go.
import { describe, it, expect } from 'vitest';
import { run, go, spawn, chan, select, recv, send, sleep, ClosedChannelError, type Chan } from 'gort';

const always = 'function did not';
const never = 'function did';

type F = (closedch: Chan<number>) => unknown;

// Calls f and verifies that f always/never panics depending on signal.
async function testPanic(f: () => unknown): Promise<string> {
  try {
    await Promise.resolve().then(f);
    return never;
  } catch (e) {
    return e instanceof ClosedChannelError ? always : `threw ${String(e)}`;
  }
}

// Calls f (in a goroutine) and empirically verifies that f always/never blocks.
async function testBlock(f: F, closedch: Chan<number>): Promise<string> {
  const c = chan<string>();
  // go func() { f(); c <- never }()
  spawn(f, closedch).then(
    () => c.send(never),
    (e: unknown) => c.send(`f threw ${String(e)}`),
  );
  go(
    async (c: Chan<string>, always: string) => {
      await sleep(250); // Go: 0.1 s "seems plenty long"; 0.25 s here, the Ms share the cores with the test runner
      await c.send(always); // f blocked always
    },
    c,
    always,
  );
  return (await c.recv())!;
}

describe('go/test/chan/select3.go', () => {
  it('blocking and panicking behaviour of sends, receives and selects on nil, closed, full and empty channels', async () => {
    const results = await run(
      async () => {
        const nilch: Chan<number> | null = null;
        const closedch = chan<number>();
        closedch.close();
        const unreachable = (): never => {
          throw new Error("control flow shouldn't reach here");
        };
        const out: [string, string][] = [];
        const block = async (name: string, f: F): Promise<void> => {
          out.push([name, await testBlock(f, closedch)]);
        };
        const panics = async (name: string, f: () => unknown): Promise<void> => {
          out.push([name, await testPanic(f)]);
        };

        // sending/receiving from a nil channel blocks
        await block('nil send', async () => {
          await select([send(null, 7, () => {})]);
        });
        await block('nil recv', async () => {
          await select([recv(null, () => {})]);
        });

        // sending/receiving from a nil channel inside a select is never selected
        await panics('nil send with default', () => select([send(nilch, 7, unreachable)], { default: () => {} }));
        await panics('nil recv with default', () => select([recv(nilch, unreachable)], { default: () => {} }));

        // sending to an async channel with free buffer space never blocks
        await block('send with free buffer', async () => {
          const ch = chan<number>(1);
          await ch.send(7);
        });

        // receiving from a closed channel never blocks
        await block('recv from closed', async (closedch: Chan<number>) => {
          for (let i = 0; i < 10; i++) {
            if ((await closedch.recv()) !== undefined) throw new Error('expected zero value when reading from closed channel');
            const [x, ok] = await closedch.recvOk();
            if (x !== undefined || ok) throw new Error(`expected undefined, false from closed channel, got ${String(x)}, ${ok}`);
          }
        });

        // sending to a closed channel panics.
        await panics('send to closed', () => closedch.send(7));

        // receiving from a non-ready channel always blocks
        await block('recv from empty', async () => {
          const ch = chan<number>();
          await ch.recv();
        });

        // empty selects always block
        await block('empty select', async () => {
          await select([]);
        });

        // selects with only nil channels always block
        await block('select nil recv', async () => {
          await select([recv(null, () => { throw new Error("control flow shouldn't reach here"); })]);
        });
        await block('select nil send', async () => {
          await select([send(null, 7, () => { throw new Error("control flow shouldn't reach here"); })]);
        });
        await block('select nil recv and send', async () => {
          await select([
            recv(null, () => { throw new Error("control flow shouldn't reach here"); }),
            send(null, 7, () => { throw new Error("control flow shouldn't reach here"); }),
          ]);
        });

        // selects with non-ready non-nil channels always block
        await block('select on empty', async () => {
          const ch = chan<number>();
          await select([recv(ch, () => { throw new Error("control flow shouldn't reach here"); })]);
        });

        // selects with default cases don't block
        await block('select default', async () => {
          await select([], { default: () => {} });
        });
        await block('select nil recv default', async () => {
          await select([recv(null, () => { throw new Error("control flow shouldn't reach here"); })], { default: () => {} });
        });
        await block('select nil send default', async () => {
          await select([send(null, 7, () => { throw new Error("control flow shouldn't reach here"); })], { default: () => {} });
        });

        // selects with ready channels don't block
        await block('select send ready', async () => {
          const ch = chan<number>(1);
          await select([send(ch, 7, () => {})], { default: () => { throw new Error("control flow shouldn't reach here"); } });
        });
        await block('select recv ready', async () => {
          const ch = chan<number>(1);
          await ch.send(7);
          await select([recv(ch, () => {})], { default: () => { throw new Error("control flow shouldn't reach here"); } });
        });

        // selects with closed channels behave like ordinary operations
        await block('select recv closed', async (closedch: Chan<number>) => {
          await select([recv(closedch, () => {})]);
        });
        await block('select recv closed x', async (closedch: Chan<number>) => {
          const x = await select([recv(closedch, (x) => x)]);
          if (x !== undefined) throw new Error(`x = ${String(x)}`);
        });
        await block('select recv closed x, ok', async (closedch: Chan<number>) => {
          const [x, ok] = await select([recv(closedch, (x, ok) => [x, ok] as const)]);
          if (x !== undefined || ok) throw new Error(`x, ok = ${String(x)}, ${ok}`);
        });
        await panics('select send closed', () => select([send(closedch, 7, () => {})]));

        // select should not get confused if it sees itself
        await block('select sees itself', async () => {
          const c = chan<number>();
          await select([send(c, 1, () => {}), recv(c, () => {})]);
        });
        return out;
      },
      { procs: 2 },
    );
    expect(results).toEqual([
      ['nil send', always],
      ['nil recv', always],
      ['nil send with default', never],
      ['nil recv with default', never],
      ['send with free buffer', never],
      ['recv from closed', never],
      ['send to closed', always],
      ['recv from empty', always],
      ['empty select', always],
      ['select nil recv', always],
      ['select nil send', always],
      ['select nil recv and send', always],
      ['select on empty', always],
      ['select default', never],
      ['select nil recv default', never],
      ['select nil send default', never],
      ['select send ready', never],
      ['select recv ready', never],
      ['select recv closed', never],
      ['select recv closed x', never],
      ['select recv closed x, ok', never],
      ['select send closed', always],
      ['select sees itself', always],
    ]);
  });
});
