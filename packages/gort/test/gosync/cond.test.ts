// Port of go/src/sync/cond_test.go
//
// Go's t.Fatal on the test goroutine becomes expect() on the main goroutine; goroutines
// report through channels. Go's plain variables guarded by c.L (x, exit, done) become
// AtomicInt32 cells used as plain variables (load/store only) under the lock, since they are
// shared across threads. runtime.Gosched() is gosched(). Go's "time.After(2 * time.Second)"
// hang guard becomes a select on after(); a wake that never comes fails with a message
// instead of hanging.
//
// Not ported:
// - TestCondCopy: Go detects a copied Cond value; a gort Cond is a handle, copying the
//   JS object copies the handle (the same Cond), so there is nothing to detect.
// - The benchmarks.
import { describe, it, expect } from 'vitest';
import { run, go, spawn, chan, select, recv, after, sleep, gosched, Cond, Mutex, RWMutex, AtomicInt32, type Chan } from 'gort';
import { scaled } from './util.js';

describe('go/src/sync/cond_test.go', () => {
  it('TestCondSignal: each Signal wakes exactly one waiter', async () => {
    await run(
      async () => {
        const m = new Mutex();
        const c = new Cond(m);
        let n = 2;
        const running = chan<boolean>(n);
        const awake = chan<boolean>(n);
        for (let i = 0; i < n; i++) {
          go(
            async (m: Mutex, c: Cond, running: Chan<boolean>, awake: Chan<boolean>) => {
              await m.lock();
              await running.send(true);
              await c.wait();
              await awake.send(true);
              m.unlock();
            },
            m,
            c,
            running,
            awake,
          );
        }
        for (let i = 0; i < n; i++) await running.recv(); // Wait for everyone to run.
        while (n > 0) {
          expect(await select([recv(awake, () => true)], { default: () => false }), 'goroutine not asleep').toBe(false);
          await m.lock();
          c.signal();
          m.unlock();
          await awake.recv(); // Will deadlock if no goroutine wakes up
          await sleep(2); // a second (wrong) wake would have time to show
          expect(await select([recv(awake, () => true)], { default: () => false }), 'too many goroutines awake').toBe(false);
          n--;
        }
        c.signal();
      },
      { procs: 2 },
    );
  });

  it('TestCondSignalGenerations: Signal wakes the waiter that has waited longest', async () => {
    const wrong = await run(
      async () => {
        const m = new Mutex();
        const c = new Cond(m);
        const n = 100;
        const running = chan<boolean>(n);
        const awake = chan<number>(n);
        const bad: string[] = [];
        for (let i = 0; i < n; i++) {
          go(
            async (m: Mutex, c: Cond, running: Chan<boolean>, awake: Chan<number>, i: number) => {
              await m.lock();
              await running.send(true);
              await c.wait();
              await awake.send(i);
              m.unlock();
            },
            m,
            c,
            running,
            awake,
            i,
          );
          if (i > 0) {
            const a = await awake.recv();
            if (a !== i - 1) bad.push(`wrong goroutine woke up: want ${i - 1}, got ${a}`);
          }
          await running.recv();
          await m.lock();
          c.signal();
          m.unlock();
        }
        return bad;
      },
      { procs: 2 },
    );
    expect(wrong).toEqual([]);
  });

  it('Signal order with many waiters queued: FIFO across threads', async () => {
    // Go's notifyList wakes in ticket order; gort's wait queue is FIFO. Queue n waiters one
    // at a time (each is known to be queued once main can take the lock after it), then
    // signal one at a time: they must wake in the order they waited.
    const order = await run(
      async () => {
        const m = new Mutex();
        const c = new Cond(m);
        const n = 40;
        const running = chan<boolean>(n);
        const awake = chan<number>(n);
        for (let i = 0; i < n; i++) {
          go(
            async (m: Mutex, c: Cond, running: Chan<boolean>, awake: Chan<number>, i: number) => {
              await m.lock();
              await running.send(true);
              await c.wait();
              await awake.send(i);
              m.unlock();
            },
            m,
            c,
            running,
            awake,
            i,
          );
          await running.recv();
          await m.lock(); // the goroutine is inside c.wait() now
          m.unlock();
        }
        const got: number[] = [];
        for (let i = 0; i < n; i++) {
          await m.lock();
          c.signal();
          m.unlock();
          got.push((await awake.recv())!);
        }
        return got;
      },
      { procs: 2 },
    );
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('TestCondBroadcast: Broadcast wakes every waiter exactly once, n rounds', async () => {
    const n = scaled(100); // Go: 200
    await run(
      async () => {
        const m = new Mutex();
        const c = new Cond(m);
        const running = chan<number>(n);
        const awake = chan<number>(n);
        const exit = new AtomicInt32(); // Go's `exit`, guarded by m
        for (let i = 0; i < n; i++) {
          go(
            async (m: Mutex, c: Cond, running: Chan<number>, awake: Chan<number>, exit: AtomicInt32, g: number) => {
              await m.lock();
              while (exit.load() === 0) {
                await running.send(g);
                await c.wait();
                await awake.send(g);
              }
              m.unlock();
            },
            m,
            c,
            running,
            awake,
            exit,
            i,
          );
        }
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < n; j++) await running.recv(); // Will deadlock unless n are running.
          if (i === n - 1) {
            await m.lock();
            exit.store(1);
            m.unlock();
          }
          expect(await select([recv(awake, () => true)], { default: () => false }), 'goroutine not asleep').toBe(false);
          await m.lock();
          c.broadcast();
          m.unlock();
          const seen = new Array<boolean>(n).fill(false);
          for (let j = 0; j < n; j++) {
            const g = (await awake.recv())!;
            expect(seen[g], 'goroutine woke up twice').toBe(false);
            seen[g] = true;
          }
        }
        await sleep(2);
        expect(await select([recv(running, () => true)], { default: () => false }), 'goroutine did not exit').toBe(false);
        c.broadcast();
      },
      { procs: 2 },
    );
  });

  it('TestRace: wait/signal hand-over between three goroutines', async () => {
    const iters = scaled(20);
    const r = await run(
      async () => {
        const errors: string[] = [];
        for (let it = 0; it < iters; it++) {
          const c = new Cond(new Mutex());
          const x = new AtomicInt32();
          const done = chan<string>(3);
          go(
            async (c: Cond, x: AtomicInt32, done: Chan<string>) => {
              await c.L.lock();
              x.store(1);
              await c.wait();
              const e = x.load() !== 2 ? 'want 2' : '';
              x.store(3);
              c.signal();
              c.L.unlock();
              await done.send(e);
            },
            c,
            x,
            done,
          );
          go(
            async (c: Cond, x: AtomicInt32, done: Chan<string>) => {
              await c.L.lock();
              for (;;) {
                if (x.load() === 1) {
                  x.store(2);
                  c.signal();
                  break;
                }
                c.L.unlock();
                await gosched();
                await c.L.lock();
              }
              c.L.unlock();
              await done.send('');
            },
            c,
            x,
            done,
          );
          go(
            async (c: Cond, x: AtomicInt32, done: Chan<string>) => {
              let e = '';
              await c.L.lock();
              for (;;) {
                if (x.load() === 2) {
                  await c.wait();
                  if (x.load() !== 3) e = 'want 3';
                  break;
                }
                if (x.load() === 3) break;
                c.L.unlock();
                await gosched();
                await c.L.lock();
              }
              c.L.unlock();
              await done.send(e);
            },
            c,
            x,
            done,
          );
          for (let k = 0; k < 3; k++) {
            const e = await select([recv(done, (v) => v!), recv(after(20_000), () => 'hung: a wait was never signalled')]);
            if (e !== '') errors.push(`iteration ${it}: ${e}`);
          }
        }
        return errors;
      },
      { procs: 2 },
    );
    expect(r).toEqual([]);
  });

  it('TestCondSignalStealing: a waiter queued before a Broadcast is always woken by it', async () => {
    const iters = scaled(200); // Go: 1000
    const failures = await run(
      async () => {
        let failed = 0;
        for (let iter = 0; iter < iters; iter++) {
          const m = new Mutex();
          const cond = new Cond(m);
          const done = new AtomicInt32(); // Go's `done`, guarded by m
          // Start a waiter.
          const ch = chan<void>();
          go(
            async (m: Mutex, cond: Cond, ch: Chan<void>) => {
              await m.lock();
              await ch.send();
              await cond.wait();
              m.unlock();
              await ch.send();
            },
            m,
            cond,
            ch,
          );
          await ch.recv();
          await m.lock();
          m.unlock();
          // We know that the waiter is in the cond.wait() call because we synchronized with
          // it, then acquired/released the mutex it was holding when we synchronized.
          //
          // Start two goroutines that will race: one will broadcast on the cond var, the
          // other will wait on it. The new waiter may or may not get notified, but the first
          // one has to be notified.
          go((cond: Cond) => cond.broadcast(), cond);
          go(
            async (m: Mutex, cond: Cond, done: AtomicInt32) => {
              await m.lock();
              while (done.load() === 0) await cond.wait();
              m.unlock();
            },
            m,
            cond,
            done,
          );
          // Check that the first waiter does get signaled.
          const ok = await select([recv(ch, () => true), recv(after(10_000), () => false)]);
          if (!ok) failed++;
          // Release the second waiter in case it didn't get the broadcast.
          await m.lock();
          done.store(1);
          m.unlock();
          cond.broadcast();
          if (!ok) break;
        }
        return failed;
      },
      { procs: 2 },
    );
    expect(failures, "First waiter didn't get broadcast.").toBe(0);
  });

  it('Cond over an RWMutex (write lock), shared with goroutines on the Ms', async () => {
    const r = await run(
      async () => {
        const rw = new RWMutex();
        const c = new Cond(rw);
        const ready = new AtomicInt32(); // guarded by rw
        const n = 10;
        const woke = Array.from({ length: n }, () =>
          spawn(
            async (rw: RWMutex, c: Cond, ready: AtomicInt32) => {
              await rw.lock();
              while (ready.load() === 0) await c.wait();
              const v = ready.load();
              rw.unlock();
              return v;
            },
            rw,
            c,
            ready,
          ),
        );
        await sleep(10);
        await rw.lock();
        ready.store(7);
        c.broadcast();
        rw.unlock();
        const got = await Promise.all(woke);
        // the lock is free again, for readers too
        const free = rw.tryRLock();
        if (free) rw.runlock();
        return { got, free };
      },
      { procs: 2 },
    );
    expect(r.got).toEqual(Array(10).fill(7));
    expect(r.free).toBe(true);
  });

  it('Signal and Broadcast with no waiters are no-ops; a later waiter is not woken by them', async () => {
    await run(
      async () => {
        const m = new Mutex();
        const c = new Cond(m);
        c.signal();
        c.broadcast();
        const woke = new AtomicInt32();
        const p = spawn(
          async (m: Mutex, c: Cond, woke: AtomicInt32) => {
            await m.lock();
            await c.wait();
            woke.store(1);
            m.unlock();
          },
          m,
          c,
          woke,
        );
        await sleep(20);
        expect(woke.load()).toBe(0);
        await m.lock();
        c.signal();
        m.unlock();
        await p;
        expect(woke.load()).toBe(1);
      },
      { procs: 2 },
    );
  });
});
