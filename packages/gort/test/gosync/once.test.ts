// Port of go/src/sync/once_test.go
//
// Go's `one` counter becomes an AtomicInt32 shared by handle; once.do(fn) runs fn on the
// calling goroutine's thread, so fn is written inside the goroutine and uses only the
// goroutine's parameters. Go's panic in f becomes a throw (a rejected do()).
//
// Not ported: BenchmarkOnce.
import { describe, it, expect } from 'vitest';
import { run, go, spawn, chan, sleep, fromModule, Once, AtomicInt32, type Chan } from 'gort';
import { scaled, HELPERS, type Helpers } from './util.js';

describe('go/src/sync/once_test.go', () => {
  it('TestOnce: 10 goroutines, fn runs once and every caller sees its effect', async () => {
    const r = await run(
      async () => {
        const o = new AtomicInt32();
        const once = new Once();
        const c = chan<number>();
        const N = 10;
        for (let i = 0; i < N; i++) {
          go(
            async (once: Once, o: AtomicInt32, c: Chan<number>) => {
              await once.do(() => {
                o.add(1);
              });
              await c.send(o.load()); // Go: t.Errorf("once failed inside run") unless 1
            },
            once,
            o,
            c,
          );
        }
        const inside: number[] = [];
        for (let i = 0; i < N; i++) inside.push((await c.recv())!);
        return { inside, outside: o.load(), done: once.done };
      },
      { procs: 2 },
    );
    expect(r.inside).toEqual(Array(10).fill(1));
    expect(r.outside).toBe(1);
    expect(r.done).toBe(true);
  });

  it('concurrent do on every thread: a slow async fn runs once, and every caller returns after it finished', async () => {
    const rounds = scaled(20);
    const r = await run(
      async () => {
        const results: { runs: number; early: number; callers: number; threads: number }[] = [];
        for (let round = 0; round < rounds; round++) {
          const once = new Once();
          const runs = new AtomicInt32();
          const finished = new AtomicInt32();
          const go1 = (once: Once, runs: AtomicInt32, finished: AtomicInt32) =>
            spawn(
              async (once: Once, runs: AtomicInt32, finished: AtomicInt32, helpers: string) => {
                const end = performance.now() + 1;
                while (performance.now() < end); // spread over the Ms
                await once.do(async () => {
                  runs.add(1);
                  await sleep(5); // park inside fn: the others must wait, not run it
                  finished.store(1);
                });
                return [finished.load(), await fromModule<Helpers>(helpers).where()];
              },
              once,
              runs,
              finished,
              HELPERS,
            );
          const callers = Array.from({ length: 16 }, () => go1(once, runs, finished));
          // the main goroutine takes part as well
          await once.do(() => {
            runs.add(1);
            finished.store(1);
          });
          const mainSaw = finished.load();
          const got = await Promise.all(callers);
          results.push({
            runs: runs.load(),
            early: got.filter(([f]) => f !== 1).length + (mainSaw !== 1 ? 1 : 0),
            callers: got.length + 1,
            threads: new Set(got.map(([, t]) => t)).size,
          });
        }
        return results;
      },
      { procs: 2 },
    );
    for (const x of r) {
      expect(x.runs).toBe(1);
      expect(x.early).toBe(0);
      expect(x.callers).toBe(17);
    }
    // the callers really ran on more than one M in some round
    expect(Math.max(...r.map((x) => x.threads))).toBeGreaterThan(1);
  });

  it('TestOncePanic: a throwing fn still counts as done; later calls do not run their fn', async () => {
    await run(
      async () => {
        const once = new Once();
        await expect(
          once.do(() => {
            throw new Error('failed');
          }),
        ).rejects.toThrow('failed');
        expect(once.done).toBe(true);
        let called = false;
        await once.do(() => {}); // must not throw
        await once.do(() => {
          called = true; // Go: t.Fatalf("Once called twice")
        });
        expect(called).toBe(false);
        // an async fn that rejects counts too
        const once2 = new Once();
        await expect(
          once2.do(async () => {
            await sleep(1);
            throw new RangeError('async failure');
          }),
        ).rejects.toThrow(RangeError);
        await once2.do(() => {
          called = true;
        });
        expect(called).toBe(false);
      },
      { procs: 2 },
    );
  });

  it('TestOncePanic across threads: fn throws in a goroutine, no other goroutine runs fn, none of them throws', async () => {
    const r = await run(
      async () => {
        const once = new Once();
        const runs = new AtomicInt32();
        const first = await spawn(
          async (once: Once, runs: AtomicInt32) => {
            try {
              await once.do(async () => {
                runs.add(1);
                await sleep(2);
                throw new Error('failed');
              });
              return 'returned';
            } catch (e) {
              return (e as Error).message;
            }
          },
          once,
          runs,
        );
        const others = await Promise.all(
          Array.from({ length: 8 }, () =>
            spawn(
              async (once: Once, runs: AtomicInt32) => {
                await once.do(() => {
                  runs.add(1);
                });
                return once.done;
              },
              once,
              runs,
            ),
          ),
        );
        return { first, others, runs: runs.load() };
      },
      { procs: 2 },
    );
    expect(r.first).toBe('failed');
    expect(r.others).toEqual(Array(8).fill(true));
    expect(r.runs).toBe(1);
  });

  it('callers that wait while a throwing fn runs return normally after it', async () => {
    const r = await run(
      async () => {
        const once = new Once();
        const runs = new AtomicInt32();
        const thrower = spawn(
          async (once: Once, runs: AtomicInt32) => {
            await once.do(async () => {
              runs.add(1);
              await sleep(20);
              throw new Error('failed');
            });
          },
          once,
          runs,
        ).then(
          () => 'returned',
          (e: unknown) => (e as Error).message,
        );
        while (runs.load() === 0) await sleep(1); // fn is running now
        const waiters = Array.from({ length: 8 }, () =>
          spawn(
            async (once: Once, runs: AtomicInt32) => {
              await once.do(() => {
                runs.add(1);
              });
              return once.done;
            },
            once,
            runs,
          ),
        );
        return { thrower: await thrower, waiters: await Promise.all(waiters), runs: runs.load() };
      },
      { procs: 2 },
    );
    expect(r.thrower).toBe('failed');
    expect(r.waiters).toEqual(Array(8).fill(true));
    expect(r.runs).toBe(1);
  });
});
