// Port of go/src/sync/mutex_test.go
//
// Go's t.Fatal on the test goroutine becomes expect() on the main goroutine; goroutines
// report back through channels or spawn(). Runs use procs 2: goroutines are spread over two
// Ms (each one starts with a few ms of busy work so that the idle M steals some) and the
// main thread takes part too.
//
// Not ported:
// - TestSemaphore / HammerSemaphore: Runtime_Semacquire is internal to Go (gort's internal
//   semaphore is exercised through Mutex, RWMutex and Cond).
// - TestMutexMisuse runs each misuse in a child process because Go's "unlock of unlocked
//   mutex" is a fatal error; in gort it is a SyncError thrown at the call site, so the misuse
//   table is checked in-process (RWMutex entries included, as in Go's table).
// - The benchmarks.
import { describe, it, expect } from 'vitest';
import { run, go, spawn, chan, sleep, Mutex, RWMutex, AtomicInt32, SyncError, type Chan } from 'gort';
import { scaled } from './util.js';

describe('go/src/sync/mutex_test.go', () => {
  it('TestMutex: 10 goroutines x 1000 Lock/Unlock, and the lock still works after', async () => {
    const loops = scaled(1000);
    const r = await run(
      async () => {
        const m = new Mutex();
        const c = chan<boolean>();
        const inside = new AtomicInt32(); // goroutines inside the critical section now
        const maxInside = new AtomicInt32();
        for (let i = 0; i < 10; i++) {
          go(
            async (m: Mutex, loops: number, cdone: Chan<boolean>, inside: AtomicInt32, maxInside: AtomicInt32) => {
              const end = performance.now() + 3;
              while (performance.now() < end); // keep this M busy so that the other one steals
              for (let i = 0; i < loops; i++) {
                await m.lock();
                const n = inside.add(1);
                if (n > maxInside.load()) maxInside.store(n);
                if (i % 16 === 0) await sleep(0); // sometimes hold the lock across a park
                inside.sub(1);
                m.unlock();
              }
              await cdone.send(true);
            },
            m,
            loops,
            c,
            inside,
            maxInside,
          );
        }
        for (let i = 0; i < 10; i++) await c.recv();
        return { maxInside: maxInside.load(), free: m.tryLock() };
      },
      { procs: 2 },
    );
    expect(r.maxInside).toBe(1);
    expect(r.free).toBe(true);
  });

  describe('TestMutexMisuse: each misuse throws SyncError naming the unlocked lock', () => {
    const misuseTests: [string, () => void | Promise<void>][] = [
      ['Mutex.Unlock', () => new Mutex().unlock()],
      [
        'Mutex.Unlock2',
        async () => {
          const mu = new Mutex();
          await mu.lock();
          mu.unlock();
          mu.unlock();
        },
      ],
      ['RWMutex.Unlock', () => new RWMutex().unlock()],
      [
        'RWMutex.Unlock2',
        async () => {
          const mu = new RWMutex();
          await mu.rlock();
          mu.unlock();
        },
      ],
      [
        'RWMutex.Unlock3',
        async () => {
          const mu = new RWMutex();
          await mu.lock();
          mu.unlock();
          mu.unlock();
        },
      ],
      ['RWMutex.RUnlock', () => new RWMutex().runlock()],
      [
        'RWMutex.RUnlock2',
        async () => {
          const mu = new RWMutex();
          await mu.lock();
          mu.runlock();
        },
      ],
      [
        'RWMutex.RUnlock3',
        async () => {
          const mu = new RWMutex();
          await mu.rlock();
          mu.runlock();
          mu.runlock();
        },
      ],
    ];
    for (const [name, f] of misuseTests) {
      it(name, async () => {
        await run(async () => {
          const err = await (async () => f())().then(
            () => null,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(SyncError);
          expect((err as Error).message).toMatch(/unlocked/);
        });
      });
    }
  });

  it('misuse leaves the lock usable: a failed unlock changes nothing', async () => {
    await run(
      async () => {
        const mu = new Mutex();
        expect(() => mu.unlock()).toThrow(SyncError);
        expect(mu.tryLock()).toBe(true);
        expect(mu.tryLock()).toBe(false);
        mu.unlock();
        // a goroutine on an M sees the same state
        const r = await spawn(async (mu: Mutex) => {
          const a = mu.tryLock();
          let e = '';
          mu.unlock();
          try {
            mu.unlock();
          } catch (x) {
            e = (x as Error).name;
          }
          return [a, e];
        }, mu);
        expect(r).toEqual([true, 'SyncError']);
        const rw = new RWMutex();
        expect(() => rw.runlock()).toThrow(SyncError);
        expect(() => rw.unlock()).toThrow(SyncError);
        expect(rw.tryLock()).toBe(true);
        expect(rw.tryRLock()).toBe(false);
        rw.unlock();
        expect(rw.tryRLock()).toBe(true);
        expect(rw.tryLock()).toBe(false);
        rw.runlock();
      },
      { procs: 2 },
    );
  });

  it('tryLock, lock and lockSync exclude each other; unlock by another goroutine than the locker is allowed', async () => {
    await run(
      async () => {
        const mu = new Mutex();
        await mu.lock();
        expect(mu.tryLock()).toBe(false);
        expect(await spawn((mu: Mutex) => mu.tryLock(), mu)).toBe(false);
        // a goroutine blocked in lock() gets the lock once main unlocks it
        const got = spawn(async (mu: Mutex) => {
          await mu.lock();
          return 'locked';
        }, mu);
        await sleep(10);
        mu.unlock();
        expect(await got).toBe('locked');
        // ...and it still holds it: main unlocks it for that goroutine (Go allows this)
        expect(mu.tryLock()).toBe(false);
        mu.unlock();
        mu.lockSync();
        expect(mu.tryLock()).toBe(false);
        mu.unlock();
        expect(mu.tryLock()).toBe(true);
        mu.unlock();
      },
      { procs: 2 },
    );
  });

  // TestMutexFairness: one goroutine holds the lock in bursts (Go: Lock; Sleep(100µs);
  // Unlock; in a loop), another needs it 10 times. Without starvation mode the looping
  // goroutine re-takes the lock before the woken waiter runs, every time. The assertion is
  // on counts: how many bursts the hog completed while the other goroutine waited for one
  // lock(). Starvation mode (a waiter that waited over 1 ms gets the lock handed over) bounds
  // this to a few bursts; the hog stops by itself after HOG_CAP bursts, so a starving waiter
  // shows up as a count near HOG_CAP instead of a hang.
  const HOG_CAP = 1500;
  const MAX_BURSTS_PER_WAIT = 100;

  it('TestMutexFairness: a goroutine re-locking in a loop (parking while it holds) cannot starve another', async () => {
    const r = await run(
      async () => {
        const mu = new Mutex();
        const bursts = new AtomicInt32();
        const stop = new AtomicInt32();
        const hog = spawn(
          async (mu: Mutex, bursts: AtomicInt32, stop: AtomicInt32, cap: number) => {
            while (stop.load() === 0 && bursts.load() < cap) {
              await mu.lock();
              await sleep(0.1);
              mu.unlock();
              bursts.add(1);
            }
          },
          mu,
          bursts,
          stop,
          HOG_CAP,
        );
        const waiter = (mu: Mutex, bursts: AtomicInt32) =>
          spawn(
            async (mu: Mutex, bursts: AtomicInt32) => {
              const end = performance.now() + 3;
              while (performance.now() < end);
              const waits: number[] = [];
              for (let i = 0; i < 10; i++) {
                await sleep(0.1);
                const before = bursts.load();
                await mu.lock();
                waits.push(bursts.load() - before);
                mu.unlock();
              }
              return waits;
            },
            mu,
            bursts,
          );
        const inGoroutine = await waiter(mu, bursts);
        // the same from the main goroutine (certainly another thread than the hog's M)
        const onMain: number[] = [];
        for (let i = 0; i < 10; i++) {
          await sleep(0.1);
          const before = bursts.load();
          await mu.lock();
          onMain.push(bursts.load() - before);
          mu.unlock();
        }
        stop.store(1);
        await hog;
        return { inGoroutine, onMain, total: bursts.load() };
      },
      { procs: 2 },
    );
    expect(r.inGoroutine.length).toBe(10);
    expect(r.onMain.length).toBe(10);
    expect(Math.max(...r.inGoroutine), `bursts per wait ${r.inGoroutine}`).toBeLessThanOrEqual(MAX_BURSTS_PER_WAIT);
    expect(Math.max(...r.onMain), `bursts per wait ${r.onMain}`).toBeLessThanOrEqual(MAX_BURSTS_PER_WAIT);
    expect(r.total).toBeLessThan(HOG_CAP);
  });

  it('TestMutexFairness, busy bursts: a hog holding the lock synchronously on an M cannot starve the main goroutine', async () => {
    // The hog never parks while it holds the lock: it spins ~50 µs, unlocks and re-locks at
    // once. Starvation mode starts after 1 ms of waiting, about 20 bursts; the bound allows
    // 100x that. Cap: the hog stops after 40,000 bursts.
    const cap = 40_000;
    const r = await run(
      async () => {
        const mu = new Mutex();
        const bursts = new AtomicInt32();
        const stop = new AtomicInt32();
        const started = chan<void>(1);
        const hog = spawn(
          async (mu: Mutex, bursts: AtomicInt32, stop: AtomicInt32, cap: number, started: Chan<void>) => {
            await started.send();
            while (stop.load() === 0 && bursts.load() < cap) {
              await mu.lock();
              const end = performance.now() + 0.05;
              while (performance.now() < end);
              mu.unlock();
              bursts.add(1);
            }
          },
          mu,
          bursts,
          stop,
          cap,
          started,
        );
        await started.recv();
        const waits: number[] = [];
        for (let i = 0; i < 10; i++) {
          await sleep(0.1);
          const before = bursts.load();
          await mu.lock();
          waits.push(bursts.load() - before);
          mu.unlock();
        }
        stop.store(1);
        await hog;
        return { waits, total: bursts.load() };
      },
      { procs: 2 },
    );
    expect(r.waits.length).toBe(10);
    expect(Math.max(...r.waits), `bursts per wait ${r.waits}`).toBeLessThanOrEqual(2000);
    expect(r.total).toBeLessThan(cap);
  });
});
