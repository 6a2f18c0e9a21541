// Port of golang.org/x/sync semaphore/semaphore_test.go
//
// gort's Semaphore.acquire(n, ctx?) takes an optional context, as x/sync's Acquire(ctx, n)
// does: acquire(n, ctx) rejects with ctx.err() once ctx is done. Go's Release of more than
// held panics; in gort it throws SyncError and changes nothing. Go's `running` flag becomes
// an AtomicInt32. Hang guards (Go's test timeouts) are races against sleep() with generous
// bounds: they turn a hang into a failure message.
//
// Every Test function of the file is ported; HammerWeighted is TestWeighted's goroutine body.
import { describe, it, expect } from 'vitest';
import { run, go, spawn, chan, sleep, gosched, Semaphore, Group, AtomicInt32, SyncError, background, withCancel, withTimeout, Canceled, type Chan, type Context } from 'gort';
import { scaled } from './util.js';

describe('golang.org/x/sync semaphore/semaphore_test.go', () => {
  it('TestWeighted: goroutine i hammers acquire(i)/release(i) on a semaphore of size n; held weight never exceeds n', async () => {
    const n = 4; // Go: GOMAXPROCS goroutines
    const loops = scaled(300); // Go: 10000 / n
    const r = await run(
      async () => {
        const sem = new Semaphore(n);
        const held = new AtomicInt32();
        const maxHeld = new AtomicInt32();
        const all: Promise<void>[] = [];
        for (let i = 0; i < n; i++) {
          all.push(
            spawn(
              async (sem: Semaphore, w: number, loops: number, held: AtomicInt32, maxHeld: AtomicInt32, size: number) => {
                const end = performance.now() + 2;
                while (performance.now() < end);
                for (let k = 0; k < loops; k++) {
                  await sem.acquire(w);
                  const h = held.add(w);
                  for (let m = maxHeld.load(); h > m && !maxHeld.compareAndSwap(m, h); m = maxHeld.load());
                  if (h > size) throw new Error(`held ${h} > size ${size}`);
                  const r = Math.random();
                  if (r < 0.05) await sleep(0);
                  else if (r < 0.5) await gosched();
                  held.add(-w);
                  sem.release(w);
                }
              },
              sem,
              i,
              loops,
              held,
              maxHeld,
              n,
            ),
          );
        }
        await Promise.all(all);
        return { held: held.load(), max: maxHeld.load(), whole: sem.tryAcquire(n) };
      },
      { procs: 2 },
    );
    expect(r.held).toBe(0);
    expect(r.max).toBeLessThanOrEqual(4);
    expect(r.whole).toBe(true);
  });

  it('TestWeightedPanic: releasing an unacquired weight throws SyncError and changes nothing', async () => {
    await run(
      async () => {
        const w = new Semaphore(1);
        expect(() => w.release(1)).toThrow(SyncError);
        expect(() => w.release(1)).toThrow(/released more than held/);
        expect(w.tryAcquire(1)).toBe(true);
        expect(() => w.release(2)).toThrow(SyncError);
        w.release(1);
        expect(w.tryAcquire(1)).toBe(true);
        w.release(1);
        // the same from a goroutine on an M
        const inM = await spawn((w: Semaphore) => {
          try {
            w.release(1);
            return 'no error';
          } catch (e) {
            return (e as Error).name;
          }
        }, w);
        expect(inM).toBe('SyncError');
      },
      { procs: 2 },
    );
  });

  it('TestWeightedTryAcquire', async () => {
    await run(async () => {
      const sem = new Semaphore(2);
      const tries: boolean[] = [];
      await sem.acquire(1);
      tries.push(sem.tryAcquire(1));
      tries.push(sem.tryAcquire(1));
      sem.release(2);
      tries.push(sem.tryAcquire(1));
      await sem.acquire(1);
      tries.push(sem.tryAcquire(1));
      expect(tries).toEqual([true, false, true, false]);
    });
  });

  it('TestWeightedAcquire: acquire with a 10 ms timeout context succeeds when weight is free, else gives up', async () => {
    const r = await run(
      async () => {
        const ctx = background();
        const sem = new Semaphore(2);
        const tryAcquire = async (n: number): Promise<boolean | 'hung'> => {
          const [c, cancel] = withTimeout(ctx, 10);
          try {
            return await Promise.race([
              sem.acquire(n, c).then(
                () => true,
                () => false,
              ),
              sleep(2000).then(() => 'hung' as const), // hang guard (the context gives up at 10 ms)
            ]);
          } finally {
            cancel();
          }
        };
        const tries: (boolean | 'hung')[] = [];
        await sem.acquire(1, ctx);
        tries.push(await tryAcquire(1));
        tries.push(await tryAcquire(1));
        if (tries.includes('hung')) return tries; // an abandoned waiter would skew the rest
        sem.release(2);
        tries.push(await tryAcquire(1));
        await sem.acquire(1, ctx);
        tries.push(await tryAcquire(1));
        return tries;
      },
      { procs: 2 },
    );
    expect(r).toEqual([true, false, true, false]);
  });

  it('TestAllocCancelDoesntStarve: canceling a queued large acquire lets the small one behind it through', async () => {
    const r = await run(
      async () => {
        const sem = new Semaphore(10);
        // Block off a portion of the semaphore so that acquire(10) can eventually succeed.
        await sem.acquire(1);
        // In the background, acquire(10).
        const [ctx, cancel] = withCancel(background());
        const big = spawn(
          async (sem: Semaphore, ctx: Context) => {
            try {
              await sem.acquire(10, ctx);
              return 'acquired';
            } catch (e) {
              return (e as Error).message;
            }
          },
          sem,
          ctx,
        );
        // Wait until the acquire(10) call blocks.
        while (sem.tryAcquire(1)) {
          sem.release(1);
          await gosched();
        }
        // Now try to grab a read lock, and simultaneously unblock the acquire(10) call.
        // Both acquire calls should unblock and return, in either order. (Go cancels in a
        // goroutine; a CancelFunc cannot cross threads, so main queues acquire(1) behind the
        // large waiter first and then cancels it: the harder order.)
        const smallP = sem.acquire(1, background()).then(() => 'acquired');
        cancel();
        const small = await Promise.race([smallP, sleep(3000).then(() => 'hung')]);
        if (small !== 'acquired') return { small, bigGot: 'not waited for' };
        sem.release(1);
        const bigGot = await Promise.race([big, sleep(3000).then(() => 'hung')]);
        return { small, bigGot };
      },
      { procs: 2 },
    );
    expect(r.small, 'acquire(1) failed unexpectedly').toBe('acquired');
    expect(['acquired', 'context canceled']).toContain(r.bigGot);
  });

  it('a context canceled between acquire checking it and reading its signal still cancels the queued acquire', async () => {
    // The window a cancel from another thread can hit: acquire saw err() === null and
    // queued; by the time it reads ctx.signal the context is done, so the getter aborts at
    // once, before acquire listens for the event. A stand-in context makes that order certain.
    const r = await run(
      async () => {
        const sem = new Semaphore(1);
        await sem.acquire(1);
        const canceled = new Error('context canceled');
        const ac = new AbortController();
        let checks = 0;
        const ctx = {
          done: () => chan(),
          err: () => (checks++ === 0 ? null : canceled),
          get signal(): AbortSignal {
            ac.abort(canceled);
            return ac.signal;
          },
        };
        const got = await Promise.race([
          sem.acquire(1, ctx).then(
            () => 'acquired',
            (e: Error) => e.message,
          ),
          sleep(2000).then(() => 'hung'),
        ]);
        sem.release(1);
        return [got, sem.tryAcquire(1)];
      },
      { procs: 1 },
    );
    expect(r).toEqual(['context canceled', true]);
  });

  it('TestWeightedAcquireCanceled: a waiter whose context is canceled before tokens come back gives up, and the tokens stay', async () => {
    // https://go.dev/issue/63615
    const r = await run(
      async () => {
        const sem = new Semaphore(2);
        const [ctx, cancel] = withCancel(background());
        await sem.acquire(1, background());
        const ch = chan<void>();
        const canceled = chan<void>(1);
        go(
          async (sem: Semaphore, ch: Chan<void>, canceled: Chan<void>) => {
            // Synchronize with the acquire(2) below.
            while (sem.tryAcquire(1)) {
              sem.release(1);
              await gosched();
            }
            // Now cancel ctx (main does it: a CancelFunc cannot cross threads), and then
            // release the token.
            await canceled.send();
            await canceled.send();
            sem.release(1);
            ch.close();
          },
          sem,
          ch,
          canceled,
        );
        // hand-shake: the goroutine asks for the cancel, main cancels, the goroutine releases
        const waiter = sem.acquire(2, ctx).then(
          () => null,
          (e: unknown) => e,
        );
        await canceled.recv();
        cancel();
        await canceled.recv();
        // Since the context closing happens before enough tokens become available, this
        // acquire must fail.
        const err = await Promise.race([waiter, sleep(3000).then(() => 'hung')]);
        // There must always be two tokens in the semaphore after the other goroutine
        // releases the one we held at the start.
        await ch.recv();
        const two = sem.tryAcquire(2);
        // Additionally verify that we don't acquire with a done context even when we
        // wouldn't need to block to do so.
        if (two) sem.release(2);
        const err2 = await sem.acquire(1, ctx).then(
          () => null,
          (e: unknown) => e,
        );
        return { err, two, err2 };
      },
      { procs: 2 },
    );
    expect(r.err, 'acquire with canceled context returned wrong error').toBe(Canceled);
    expect(r.two, 'tryAcquire after canceled acquire failed').toBe(true);
    expect(r.err2).toBe(Canceled);
  });

  it('TestWeightedDoesntBlockIfTooBig: a pending acquire larger than the size does not block smaller ones', async () => {
    const n = 2;
    const r = await run(
      async () => {
        const sem = new Semaphore(n);
        go(async (sem: Semaphore, w: number) => void (await sem.acquire(w)), sem, n + 1);
        await sleep(10); // let it queue (in x/sync it never queues: it waits for its context)
        const g = new Group();
        for (let i = n * 3; i > 0; i--) {
          await g.go(
            async (sem: Semaphore) => {
              await sem.acquire(1);
              await sleep(1);
              sem.release(1);
            },
            sem,
          );
        }
        // hang guard: the six goroutines need a few ms
        return Promise.race([
          g.wait().then(
            () => 'ok',
            (e: unknown) => `failed: ${String(e)}`,
          ),
          sleep(3000).then(() => 'blocked'),
        ]);
      },
      { procs: 2 },
    );
    expect(r, `semaphore of size ${n}: acquire(1) blocked behind a pending acquire(${n + 1})`).toBe('ok');
  });

  it('TestLargeAcquireDoesntStarve: a large acquire at the head is served; small ones queue behind it', async () => {
    const r = await run(
      async () => {
        const n = 4;
        const sem = new Semaphore(n);
        const running = new AtomicInt32(1);
        const cycles = new AtomicInt32(); // small acquisitions completed
        const workers: Promise<void>[] = [];
        for (let i = n; i > 0; i--) {
          await sem.acquire(1);
          workers.push(
            spawn(
              async (sem: Semaphore, running: AtomicInt32, cycles: AtomicInt32) => {
                try {
                  while (running.load() === 1) {
                    await sleep(1);
                    sem.release(1);
                    await sem.acquire(1);
                    cycles.add(1);
                  }
                } finally {
                  sem.release(1);
                }
              },
              sem,
              running,
              cycles,
            ),
          );
        }
        await sleep(10); // the workers are cycling
        const before = cycles.load();
        const got = await Promise.race([sem.acquire(n).then(() => true), sleep(20_000).then(() => false)]);
        const during = cycles.load() - before;
        running.store(0);
        sem.release(n);
        await Promise.all(workers);
        return { got, during, whole: sem.tryAcquire(n) };
      },
      { procs: 2 },
    );
    expect(r.got, 'the large acquire starved').toBe(true);
    // each worker completes at most the acquire it had already queued before the large one
    expect(r.during).toBeLessThanOrEqual(4);
    expect(r.whole).toBe(true);
  });

  it('FIFO: while a large waiter is at the head, tryAcquire and smaller acquires wait behind it', async () => {
    const r = await run(
      async () => {
        const sem = new Semaphore(10);
        const log: string[] = [];
        await sem.acquire(1);
        const big = spawn(async (sem: Semaphore) => {
          await sem.acquire(10);
          return 'big';
        }, sem).then((x) => log.push(x));
        while (sem.tryAcquire(1)) {
          // Go's "wait until the Acquire(_, 10) call blocks"
          sem.release(1);
          await sleep(1);
        }
        const free9 = sem.tryAcquire(1); // 9 are free, but the big waiter is first
        const small = spawn(async (sem: Semaphore) => {
          await sem.acquire(1);
          return 'small';
        }, sem).then((x) => log.push(x));
        await sleep(20);
        const before = [...log];
        sem.release(1); // now the big one can have all 10
        await big;
        await sleep(10);
        const afterBig = [...log];
        sem.release(10);
        await small;
        sem.release(1);
        return { free9, before, afterBig, log, whole: sem.tryAcquire(10) };
      },
      { procs: 2 },
    );
    expect(r.free9).toBe(false);
    expect(r.before).toEqual([]);
    expect(r.afterBig).toEqual(['big']);
    expect(r.log).toEqual(['big', 'small']);
    expect(r.whole).toBe(true);
  });

  it('acquire/release from goroutines on every thread and an errgroup keep the count exact', async () => {
    const r = await run(
      async () => {
        const size = 3;
        const sem = new Semaphore(size);
        const held = new AtomicInt32();
        const bad = new AtomicInt32();
        const ops = new AtomicInt32();
        const g = new Group();
        for (let i = 0; i < 32; i++) {
          await g.go(
            async (sem: Semaphore, held: AtomicInt32, bad: AtomicInt32, ops: AtomicInt32, size: number) => {
              for (let k = 0; k < 50; k++) {
                const w = 1 + (k % size);
                if (k % 5 === 0 && sem.tryAcquire(w)) {
                  // got it without waiting
                } else await sem.acquire(w);
                if (held.add(w) > size) bad.add(1);
                if (k % 3 === 0) await gosched();
                held.add(-w);
                sem.release(w);
                ops.add(1);
              }
            },
            sem,
            held,
            bad,
            ops,
            size,
          );
        }
        await g.wait();
        return { bad: bad.load(), ops: ops.load(), held: held.load(), whole: sem.tryAcquire(size), more: sem.tryAcquire(1) };
      },
      { procs: 2 },
    );
    expect(r).toEqual({ bad: 0, ops: 32 * 50, held: 0, whole: true, more: false });
  });

  it('acquire(0) and tryAcquire(0) succeed at once; bad weights are RangeErrors', async () => {
    await run(async () => {
      const sem = new Semaphore(1);
      await sem.acquire(1);
      expect(sem.tryAcquire(0)).toBe(true);
      expect(() => sem.release(-1)).toThrow(RangeError);
      expect(() => sem.tryAcquire(1.5)).toThrow(RangeError);
      expect(() => new Semaphore(-1)).toThrow(RangeError);
      sem.release(1);
      await sem.acquire(0);
      expect(sem.tryAcquire(1)).toBe(true);
    });
  });
});
