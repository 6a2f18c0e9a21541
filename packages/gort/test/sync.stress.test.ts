/**
 * Stress test of gort's sync objects on real threads (procs 2: two Ms, plus the main thread,
 * plus plain worker_threads that attach()). Every test ends with exact totals, and every
 * access checks its invariant; there are no timing assertions.
 *
 * (a) Mutex guarding a plain (non-atomic) counter: an AtomicInt32 updated with
 *     store(load() + 1), which loses updates if two holders ever overlap. 1,000,000
 *     increments in total from goroutines on both Ms and the main goroutine; then runs that
 *     mix lock() and lockSync().
 * (b) RWMutex hammer: Go's `activity` word (readers + 10000 * writers) checked on every
 *     acquisition, a two-word value written by writers and checked by readers, exact counts.
 * (c) WaitGroup (nested add/done from both Ms, many waiters, reuse) and Semaphore (weighted
 *     acquire/release, held weight never above the size) with exact counts.
 * (d) The same objects used by plain worker_threads Workers that attach() them (exportRef in
 *     workerData; gosync/stress-worker.mjs) while goroutines use them too.
 *
 * lockSync/rlockSync block their thread. They are used on the main thread, on attached
 * workers, and by goroutines only when every goroutine on the Ms uses the blocking form: a
 * goroutine blocked in lockSync freezes its M, and an async lock() waiter parked on that M
 * could then be handed the lock it can never run to take.
 *
 * Each run first warms up until goroutines have run on both Ms (util.ts warmUp), and the
 * goroutines start with a few ms of busy work so that the idle M steals some of them; the
 * tests check that goroutines ran on both Ms.
 *
 *   GORT_STRESS_SCALE=5 npx vitest run packages/gort/test/sync.stress   # 5x the operations
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  run,
  go,
  spawn,
  sleep,
  gosched,
  fromModule,
  exportRef,
  Mutex,
  RWMutex,
  WaitGroup,
  Semaphore,
  AtomicInt32,
} from 'gort';
import { HELPERS, warmUp, type Helpers } from './gosync/util.js';

const SCALE = Number(process.env['GORT_STRESS_SCALE'] ?? '1');
const sized = (n: number, min = 100): number => Math.max(min, Math.round(n * SCALE));
/** setImmediate as a promise: lets the main thread's event loop turn (its waiters settle there). */
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('sync stress on real threads', () => {
  it('(a) Mutex: 1,000,000 plain increments under lock() from goroutines on both Ms and main are exact', async () => {
    const TOTAL = sized(1_000_000, 1000);
    const G = 8;
    const per = Math.floor(TOTAL / (G + 1));
    const mainShare = TOTAL - G * per;
    const r = await run(
      async () => {
        await warmUp(); // see util.ts
        const mu = new Mutex();
        const counter = new AtomicInt32(); // used as a plain variable: load, then store
        const ps: Promise<number>[] = [];
        for (let i = 0; i < G; i++) {
          ps.push(
            spawn(
              async (mu: Mutex, counter: AtomicInt32, n: number, helpers: string) => {
                const end = performance.now() + 5;
                while (performance.now() < end);
                for (let k = 0; k < n; k++) {
                  await mu.lock();
                  counter.store(counter.load() + 1);
                  mu.unlock();
                }
                return fromModule<Helpers>(helpers).where();
              },
              mu,
              counter,
              per,
              HELPERS,
            ),
          );
        }
        for (let k = 0; k < mainShare; k++) {
          await mu.lock();
          counter.store(counter.load() + 1);
          mu.unlock();
          if (k % 1024 === 0) await turn();
        }
        const threads = await Promise.all(ps);
        return { count: counter.load(), threads: new Set(threads).size, free: mu.tryLock() };
      },
      { procs: 2 },
    );
    expect(r.count).toBe(TOTAL);
    expect(r.threads, 'goroutines ran on both Ms').toBe(2);
    expect(r.free).toBe(true);
  });

  it('(a) Mutex, mixed: lockSync() goroutines with lock() on main, then lock() goroutines with lockSync() on main, exact', async () => {
    const TOTAL = sized(500_000, 1000); // per run
    const G = 8;
    const per = Math.floor(TOTAL / (G + 1));
    const mainShare = TOTAL - G * per;
    const r = await run(
      async () => {
        await warmUp(); // see util.ts
        const out: { count: number; threads: number }[] = [];
        for (const goroutinesSync of [true, false]) {
          const mu = new Mutex();
          const counter = new AtomicInt32();
          const ps: Promise<number>[] = [];
          for (let i = 0; i < G; i++) {
            ps.push(
              spawn(
                async (mu: Mutex, counter: AtomicInt32, n: number, sync: boolean, helpers: string) => {
                  const end = performance.now() + 5;
                  while (performance.now() < end);
                  for (let k = 0; k < n; k++) {
                    if (sync) mu.lockSync();
                    else await mu.lock();
                    counter.store(counter.load() + 1);
                    mu.unlock();
                  }
                  return fromModule<Helpers>(helpers).where();
                },
                mu,
                counter,
                per,
                goroutinesSync,
                HELPERS,
              ),
            );
          }
          for (let k = 0; k < mainShare; k++) {
            if (goroutinesSync) await mu.lock();
            else mu.lockSync();
            counter.store(counter.load() + 1);
            mu.unlock();
            if (k % 1024 === 0) await turn();
          }
          const threads = await Promise.all(ps);
          out.push({ count: counter.load(), threads: new Set(threads).size });
        }
        return out;
      },
      { procs: 2 },
    );
    expect(r).toEqual([
      { count: TOTAL, threads: 2 },
      { count: TOTAL, threads: 2 },
    ]);
  });

  it('(b) RWMutex hammer: writers exclusive, no reader during a writer, on every access; exact totals', async () => {
    const R = 6;
    const W = 2;
    const ITER = sized(15_000);
    const MAIN_ITER = sized(5_000);
    const r = await run(
      async () => {
        await warmUp(); // see util.ts
        const rw = new RWMutex();
        const activity = new AtomicInt32(); // readers + 10000 * writers inside
        const a = new AtomicInt32(); // a == b whenever no writer is inside
        const b = new AtomicInt32();
        const writes = new AtomicInt32(); // plain counter, written under the write lock
        const reads = new AtomicInt32();
        const bad = new AtomicInt32();
        const reader = (rw: RWMutex, activity: AtomicInt32, a: AtomicInt32, b: AtomicInt32, reads: AtomicInt32, bad: AtomicInt32, n: number) =>
          spawn(
            async (rw: RWMutex, activity: AtomicInt32, a: AtomicInt32, b: AtomicInt32, reads: AtomicInt32, bad: AtomicInt32, n: number, helpers: string) => {
              const end = performance.now() + 5;
              while (performance.now() < end);
              for (let i = 0; i < n; i++) {
                if (i % 7 === 0 && rw.tryRLock()) {
                  // got it without waiting
                } else await rw.rlock();
                const x = activity.add(1);
                if (x < 1 || x >= 10000) bad.add(1);
                const va = a.load();
                if (i % 5 === 0) await gosched(); // hold it across a yield
                if (b.load() !== va || a.load() !== va) bad.add(1);
                reads.add(1);
                activity.add(-1);
                rw.runlock();
              }
              return fromModule<Helpers>(helpers).where();
            },
            rw,
            activity,
            a,
            b,
            reads,
            bad,
            n,
            HELPERS,
          );
        const writer = (rw: RWMutex, activity: AtomicInt32, a: AtomicInt32, b: AtomicInt32, writes: AtomicInt32, bad: AtomicInt32, n: number) =>
          spawn(
            async (rw: RWMutex, activity: AtomicInt32, a: AtomicInt32, b: AtomicInt32, writes: AtomicInt32, bad: AtomicInt32, n: number, helpers: string) => {
              const end = performance.now() + 5;
              while (performance.now() < end);
              for (let i = 0; i < n; i++) {
                if (i % 11 === 0 && rw.tryLock()) {
                  // got it without waiting
                } else await rw.lock();
                const x = activity.add(10000);
                if (x !== 10000) bad.add(1);
                const v = writes.load() + 1;
                a.store(v);
                if (i % 5 === 0) await gosched(); // readers must not see a != b
                b.store(v);
                writes.store(v);
                activity.add(-10000);
                rw.unlock();
              }
              return fromModule<Helpers>(helpers).where();
            },
            rw,
            activity,
            a,
            b,
            writes,
            bad,
            n,
            HELPERS,
          );
        const ps: Promise<number>[] = [];
        for (let i = 0; i < W; i++) ps.push(writer(rw, activity, a, b, writes, bad, ITER));
        for (let i = 0; i < R; i++) ps.push(reader(rw, activity, a, b, reads, bad, ITER));
        // the main thread takes part with the blocking forms
        let mainReads = 0;
        let mainWrites = 0;
        for (let i = 0; i < MAIN_ITER; i++) {
          if (i % 4 === 0) {
            rw.lockSync();
            if (activity.add(10000) !== 10000) bad.add(1);
            const v = writes.load() + 1;
            a.store(v);
            b.store(v);
            writes.store(v);
            activity.add(-10000);
            rw.unlock();
            mainWrites++;
          } else {
            rw.rlockSync();
            const x = activity.add(1);
            if (x < 1 || x >= 10000) bad.add(1);
            if (a.load() !== b.load()) bad.add(1);
            reads.add(1);
            activity.add(-1);
            rw.runlock();
            mainReads++;
          }
          if (i % 256 === 0) await turn();
        }
        const threads = await Promise.all(ps);
        return {
          bad: bad.load(),
          activity: activity.load(),
          writes: writes.load(),
          reads: reads.load(),
          ab: [a.load(), b.load()],
          mainReads,
          mainWrites,
          threads: new Set(threads).size,
          free: rw.tryLock(),
        };
      },
      { procs: 2 },
    );
    expect(r.bad).toBe(0);
    expect(r.activity).toBe(0);
    expect(r.writes).toBe(W * ITER + r.mainWrites);
    expect(r.ab).toEqual([r.writes, r.writes]);
    expect(r.reads).toBe(R * ITER + r.mainReads);
    expect(r.threads, 'goroutines ran on both Ms').toBe(2);
    expect(r.free).toBe(true);
  });

  it('(c) WaitGroup: nested add/done from both Ms, many waiters, 20 reuses; counts exact at every release', async () => {
    const ROUNDS = sized(20, 2);
    const P = 8;
    const K = 200;
    const r = await run(
      async () => {
        await warmUp(); // see util.ts
        const wg = new WaitGroup();
        const children = new AtomicInt32();
        const early: number[] = [];
        const waiterViews: number[] = [];
        const threads = new Set<number>();
        for (let round = 0; round < ROUNDS; round++) {
          const want = (round + 1) * P * K;
          wg.add(P);
          // waiters on the Ms, started while the counter is non-zero
          const waiters = Array.from({ length: 4 }, () =>
            spawn(
              async (wg: WaitGroup, children: AtomicInt32) => {
                await wg.wait();
                return children.load();
              },
              wg,
              children,
            ),
          );
          const parents = Array.from({ length: P }, () =>
            spawn(
              async (wg: WaitGroup, children: AtomicInt32, k: number, helpers: string) => {
                const end = performance.now() + 1;
                while (performance.now() < end);
                for (let i = 0; i < k; i++) {
                  wg.add(1);
                  go(
                    async (wg: WaitGroup, children: AtomicInt32, slow: boolean) => {
                      if (slow) await sleep(0);
                      children.add(1);
                      wg.done();
                    },
                    wg,
                    children,
                    i % 50 === 0,
                  );
                }
                const where = await fromModule<Helpers>(helpers).where();
                wg.done();
                return where;
              },
              wg,
              children,
              K,
              HELPERS,
            ),
          );
          if (round % 2 === 0) await wg.wait();
          else {
            await sleep(1);
            wg.waitSync(); // the blocking form on main
          }
          const seen = children.load();
          if (seen !== want) early.push(round);
          for (const v of await Promise.all(waiters)) waiterViews.push(v - want);
          for (const t of await Promise.all(parents)) threads.add(t);
        }
        return { children: children.load(), early, waiterViews, threads: threads.size };
      },
      { procs: 2 },
    );
    expect(r.children).toBe(ROUNDS * P * K);
    expect(r.early, 'rounds where wait() returned before every done()').toEqual([]);
    expect(r.waiterViews.every((d) => d === 0), 'a waiter on an M returned before every done()').toBe(true);
    expect(r.threads).toBe(2);
  });

  it('(c) Semaphore: weighted acquire/release from goroutines on both Ms and main; held never above size; counts exact', async () => {
    const SIZE = 5;
    const G = 8;
    const K = sized(4_000);
    const MAIN_K = sized(2_000);
    const r = await run(
      async () => {
        await warmUp(); // see util.ts
        const sem = new Semaphore(SIZE);
        const held = new AtomicInt32();
        const maxHeld = new AtomicInt32();
        const bad = new AtomicInt32();
        const ops = new AtomicInt32();
        const ps = Array.from({ length: G }, (_, g) =>
          spawn(
            async (sem: Semaphore, held: AtomicInt32, maxHeld: AtomicInt32, bad: AtomicInt32, ops: AtomicInt32, k: number, size: number, g: number, helpers: string) => {
              const end = performance.now() + 5;
              while (performance.now() < end);
              for (let i = 0; i < k; i++) {
                const w = 1 + ((i + g) % 3);
                if (i % 4 === 0 && sem.tryAcquire(w)) {
                  // got it without waiting
                } else await sem.acquire(w);
                const h = held.add(w);
                for (let m = maxHeld.load(); h > m && !maxHeld.compareAndSwap(m, h); m = maxHeld.load());
                if (h > size) bad.add(1);
                if (i % 3 === 0) await gosched();
                held.add(-w);
                sem.release(w);
                ops.add(1);
              }
              return fromModule<Helpers>(helpers).where();
            },
            sem,
            held,
            maxHeld,
            bad,
            ops,
            K,
            SIZE,
            g,
            HELPERS,
          ),
        );
        for (let i = 0; i < MAIN_K; i++) {
          const w = 1 + (i % SIZE);
          await sem.acquire(w);
          if (held.add(w) > SIZE) bad.add(1);
          held.add(-w);
          sem.release(w);
          ops.add(1);
          if (i % 256 === 0) await turn();
        }
        const threads = await Promise.all(ps);
        const whole = sem.tryAcquire(SIZE);
        const more = sem.tryAcquire(1);
        if (whole) sem.release(SIZE);
        return { bad: bad.load(), ops: ops.load(), held: held.load(), maxHeld: maxHeld.load(), whole, more, threads: new Set(threads).size };
      },
      { procs: 2 },
    );
    expect(r.bad).toBe(0);
    expect(r.ops).toBe(G * K + MAIN_K);
    expect(r.held).toBe(0);
    expect(r.maxHeld).toBeLessThanOrEqual(SIZE);
    expect(r.whole).toBe(true);
    expect(r.more).toBe(false);
    expect(r.threads).toBe(2);
  });

  it('(d) plain worker_threads that attach() Mutex, RWMutex, Semaphore and WaitGroup alongside goroutines: counts exact', async () => {
    const WORKERS = 2;
    const W_ITER = sized(20_000);
    const G = 4;
    const G_ITER = sized(20_000);
    type Report = { id: number; bad: string[]; mine: { mutex: number; reads: number; writes: number; sem: number } };
    const r = await run(
      async () => {
        await warmUp(); // see util.ts
        const mu = new Mutex();
        const counter = new AtomicInt32();
        const rw = new RWMutex();
        const activity = new AtomicInt32();
        const rwWrites = new AtomicInt32();
        const rwReads = new AtomicInt32();
        const sem = new Semaphore(3);
        const semHeld = new AtomicInt32();
        const semOps = new AtomicInt32();
        const wg = new WaitGroup();
        const bad = new AtomicInt32();
        wg.add(WORKERS + G);
        const refs = {
          mu: exportRef(mu),
          counter: exportRef(counter),
          rw: exportRef(rw),
          activity: exportRef(activity),
          rwWrites: exportRef(rwWrites),
          rwReads: exportRef(rwReads),
          sem: exportRef(sem),
          semHeld: exportRef(semHeld),
          semOps: exportRef(semOps),
          wg: exportRef(wg),
        };
        const reports: Promise<Report>[] = [];
        const exits: Promise<number>[] = [];
        for (let id = 0; id < WORKERS; id++) {
          const w = new Worker(new URL('./gosync/stress-worker.mjs', import.meta.url), { workerData: { refs, iters: W_ITER, id } });
          reports.push(
            new Promise<Report>((res, rej) => {
              w.once('message', res);
              w.once('error', rej);
            }),
          );
          exits.push(new Promise<number>((res) => w.once('exit', res)));
        }
        const gs = Array.from({ length: G }, (_, id) =>
          spawn(
            async (
              mu: Mutex,
              counter: AtomicInt32,
              rw: RWMutex,
              activity: AtomicInt32,
              rwWrites: AtomicInt32,
              rwReads: AtomicInt32,
              sem: Semaphore,
              semHeld: AtomicInt32,
              semOps: AtomicInt32,
              wg: WaitGroup,
              bad: AtomicInt32,
              iters: number,
              id: number,
            ) => {
              const end = performance.now() + 5;
              while (performance.now() < end);
              const mine = { mutex: 0, reads: 0, writes: 0, sem: 0 };
              const size = sem.size;
              for (let i = 0; i < iters; i++) {
                await mu.lock();
                counter.store(counter.load() + 1);
                mu.unlock();
                mine.mutex++;
                if ((i + id) % 8 === 0) {
                  await rw.lock();
                  if (activity.add(10000) !== 10000) bad.add(1);
                  rwWrites.store(rwWrites.load() + 1);
                  if (i % 5 === 0) await gosched();
                  activity.add(-10000);
                  rw.unlock();
                  mine.writes++;
                } else {
                  await rw.rlock();
                  const n = activity.add(1);
                  if (n < 1 || n >= 10000) bad.add(1);
                  rwReads.add(1);
                  if (i % 5 === 0) await gosched();
                  activity.add(-1);
                  rw.runlock();
                  mine.reads++;
                }
                const w = 1 + ((i + id) % size);
                await sem.acquire(w);
                if (semHeld.add(w) > size) bad.add(1);
                semHeld.add(-w);
                sem.release(w);
                semOps.add(1);
                mine.sem++;
              }
              wg.done();
              return mine;
            },
            mu,
            counter,
            rw,
            activity,
            rwWrites,
            rwReads,
            sem,
            semHeld,
            semOps,
            wg,
            bad,
            G_ITER,
            id,
          ),
        );
        await wg.wait(); // every worker and goroutine called done()
        const fromWorkers = await Promise.all(reports);
        const fromGoroutines = await Promise.all(gs);
        const exitCodes = await Promise.all(exits);
        const all = [...fromWorkers.map((x) => x.mine), ...fromGoroutines];
        const sum = (k: keyof Report['mine']) => all.reduce((s, m) => s + m[k], 0);
        return {
          workerBad: fromWorkers.flatMap((x) => x.bad),
          bad: bad.load(),
          counter: counter.load(),
          mutexOps: sum('mutex'),
          rwWrites: rwWrites.load(),
          writes: sum('writes'),
          rwReads: rwReads.load(),
          reads: sum('reads'),
          semOps: semOps.load(),
          sems: sum('sem'),
          activity: activity.load(),
          semHeld: semHeld.load(),
          exitCodes,
          free: [mu.tryLock(), rw.tryLock(), sem.tryAcquire(3)],
        };
      },
      { procs: 2 },
    );
    expect(r.workerBad).toEqual([]);
    expect(r.bad).toBe(0);
    expect(r.mutexOps).toBe(WORKERS * W_ITER + G * G_ITER);
    expect(r.counter).toBe(r.mutexOps);
    expect(r.rwWrites).toBe(r.writes);
    expect(r.rwReads).toBe(r.reads);
    expect(r.writes + r.reads).toBe(WORKERS * W_ITER + G * G_ITER);
    expect(r.semOps).toBe(r.sems);
    expect(r.sems).toBe(WORKERS * W_ITER + G * G_ITER);
    expect(r.activity).toBe(0);
    expect(r.semHeld).toBe(0);
    expect(r.exitCodes).toEqual([0, 0]);
    expect(r.free).toEqual([true, true, true]);
  });
});
