// Port of go/src/sync/waitgroup_test.go
//
// Go's t.Fatal on the test goroutine becomes expect() on the main goroutine; goroutines
// report back through channels or spawn(). Every run uses procs 2, so goroutines are spread
// over two Ms and the main thread.
//
// Not ported:
// - TestWaitGroupMisuse2/3: they look for Go's opportunistic "Add called concurrently with
//   Wait" / "reused before previous Wait has returned" detection; gort does not detect these
//   (its waiters are released under a lock, so reuse after Wait is well defined). The
//   deterministic misuse, a negative counter, is TestWaitGroupMisuse.
// - The benchmarks.
import { describe, it, expect } from 'vitest';
import { run, go, spawn, chan, select, recv, sleep, WaitGroup, AtomicInt32, SyncError, GoroutinePanic, FreeVariableError, type Chan } from 'gort';
import { scaled } from './util.js';

describe('go/src/sync/waitgroup_test.go', () => {
  it('TestWaitGroup: a barrier released only by the last Done, reusable 8 times', async () => {
    await run(
      async () => {
        const wg1 = new WaitGroup();
        const wg2 = new WaitGroup();
        // Run the same test a few times to ensure barrier is in a proper state.
        for (let round = 0; round !== 8; round++) {
          const n = 16;
          wg1.add(n);
          wg2.add(n);
          const exited = chan<boolean>(n);
          for (let i = 0; i !== n; i++) {
            go(
              async (wg1: WaitGroup, wg2: WaitGroup, exited: Chan<boolean>) => {
                wg1.done();
                await wg2.wait();
                await exited.send(true);
              },
              wg1,
              wg2,
              exited,
            );
          }
          await wg1.wait();
          for (let i = 0; i !== n; i++) {
            const early = await select([recv(exited, () => true)], { default: () => false });
            expect(early, 'WaitGroup released group too soon').toBe(false);
            wg2.done();
          }
          for (let i = 0; i !== n; i++) await exited.recv(); // Will block if barrier fails to unlock someone.
        }
      },
      { procs: 2 },
    );
  });

  it('TestWaitGroupMisuse: a negative counter is a SyncError, on main and in a goroutine', async () => {
    await run(
      async () => {
        const wg = new WaitGroup();
        wg.add(1);
        wg.done();
        expect(() => wg.done()).toThrow(SyncError);
        expect(() => wg.done()).toThrow('sync: negative WaitGroup counter');
        // the failed add changed nothing: the counter is still 0, so wait returns at once
        await wg.wait();
        wg.add(1);
        const inside = await spawn((w: WaitGroup) => {
          w.done();
          try {
            w.done();
            return 'no error';
          } catch (e) {
            return `${(e as Error).name}: ${(e as Error).message}`;
          }
        }, wg);
        expect(inside).toBe('SyncError: sync: negative WaitGroup counter');
        expect(() => wg.add(-1)).toThrow(SyncError);
        await wg.wait();
      },
      { procs: 2 },
    );
  });

  it('TestWaitGroupRace: Wait returns only after both Dones (no spurious wakeup)', async () => {
    const iters = scaled(1000);
    const bad = await run(
      async () => {
        let spurious = 0;
        for (let i = 0; i < iters; i++) {
          const wg = new WaitGroup();
          const n = new AtomicInt32();
          // spawn goroutine 1
          wg.add(1);
          go(
            (n: AtomicInt32, wg: WaitGroup) => {
              n.add(1);
              wg.done();
            },
            n,
            wg,
          );
          // spawn goroutine 2
          wg.add(1);
          go(
            (n: AtomicInt32, wg: WaitGroup) => {
              n.add(1);
              wg.done();
            },
            n,
            wg,
          );
          // Wait for goroutine 1 and 2
          await wg.wait();
          if (n.load() !== 2) spurious++;
        }
        return spurious;
      },
      { procs: 2 },
    );
    expect(bad).toBe(0);
  });

  it('TestWaitGroupRace, waiting inside goroutines on both Ms', async () => {
    const iters = scaled(250);
    const r = await run(
      async () => {
        const one = (iters: number) =>
          spawn(async (iters: number) => {
            let spurious = 0;
            for (let i = 0; i < iters; i++) {
              const wg = new WaitGroup();
              const n = new AtomicInt32();
              wg.add(2);
              for (let k = 0; k < 2; k++) {
                go(
                  (n: AtomicInt32, wg: WaitGroup) => {
                    n.add(1);
                    wg.done();
                  },
                  n,
                  wg,
                );
              }
              await wg.wait();
              if (n.load() !== 2) spurious++;
            }
            return spurious;
          }, iters);
        return Promise.all([one(iters), one(iters), one(iters), one(iters)]);
      },
      { procs: 2 },
    );
    expect(r).toEqual([0, 0, 0, 0]);
  });

  it('TestWaitGroupAlign: Done from a goroutine releases the waiter', async () => {
    await run(
      async () => {
        const x = { pad: 1, wg: new WaitGroup() };
        x.wg.add(1);
        go((wg: WaitGroup) => wg.done(), x.wg);
        await x.wg.wait();
        expect(x.pad).toBe(1);
      },
      { procs: 2 },
    );
  });

  it('many waiters on every thread are all released by one Done; a zero counter does not block', async () => {
    const n = 200;
    const r = await run(
      async () => {
        const wg = new WaitGroup();
        await wg.wait(); // zero: returns at once
        wg.add(1);
        const released = new AtomicInt32();
        const waiters: Promise<number>[] = [];
        for (let i = 0; i < n; i++) {
          waiters.push(
            spawn(
              async (wg: WaitGroup, released: AtomicInt32) => {
                await wg.wait();
                return released.add(1);
              },
              wg,
              released,
            ),
          );
        }
        await sleep(20); // let them park (nothing below depends on it)
        const before = released.load();
        wg.done();
        await Promise.all(waiters);
        return { before, after: released.load() };
      },
      { procs: 2 },
    );
    expect(r.before).toBe(0);
    expect(r.after).toBe(200);
  });

  it('waitSync blocks the main thread until goroutines on the Ms are done', async () => {
    const r = await run(
      async () => {
        const wg = new WaitGroup();
        const n = new AtomicInt32();
        wg.add(8);
        for (let i = 0; i < 8; i++) {
          go(
            async (wg: WaitGroup, n: AtomicInt32) => {
              await sleep(5);
              n.add(1);
              wg.done();
            },
            wg,
            n,
          );
        }
        // let the goroutines start (go() from main is flushed on a microtask)
        await sleep(1);
        wg.waitSync();
        return n.load();
      },
      { procs: 2 },
    );
    expect(r).toBe(8);
  });

  it('wg.go (Go 1.25): counts every goroutine, from main and from goroutines on both Ms; a bad call adds nothing', async () => {
    const r = await run(
      async () => {
        const wg = new WaitGroup();
        const sum = new AtomicInt32();
        for (let i = 1; i <= 100; i++) {
          wg.go(
            async (sum: AtomicInt32, i: number) => {
              await sleep(i % 3); // some finish late: wait() must see every one
              sum.add(i);
            },
            sum,
            i,
          );
        }
        // Nested: a goroutine on an M starts more into the same WaitGroup before it returns.
        wg.go(
          (wg: WaitGroup, sum: AtomicInt32) => {
            for (let i = 0; i < 50; i++) wg.go((sum: AtomicInt32) => void sum.add(1000), sum);
          },
          wg,
          sum,
        );
        await wg.wait();
        const total = sum.load();
        // A value that cannot be cloned, or a captured variable, throws at the call and
        // leaves the counter as it was: wait() returns at once.
        const outer = 1;
        const errors: string[] = [];
        try {
          wg.go((f: unknown) => f, Math.max as unknown); // a native function has no source to send
        } catch (e) {
          errors.push((e as Error).name);
        }
        try {
          wg.go(() => outer);
        } catch (e) {
          errors.push(e instanceof FreeVariableError ? 'FreeVariableError' : String(e));
        }
        await wg.wait();
        return { total, errors };
      },
      { procs: 2 },
    );
    expect(r.total).toBe(5050 + 50 * 1000);
    expect(r.errors).toEqual(['TypeError', 'FreeVariableError']);
  });

  it('wg.go: a goroutine that throws is a panic, and run() rejects before wait() could return', async () => {
    for (let k = 0; k < 5; k++) {
      const p = run(
        async () => {
          const wg = new WaitGroup();
          wg.go(() => {
            throw new Error('boom');
          });
          await wg.wait();
          return 'wait returned';
        },
        { procs: 2 },
      );
      await expect(p).rejects.toBeInstanceOf(GoroutinePanic);
    }
  });
});
