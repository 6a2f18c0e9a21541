/**
 * Park and wake at scale, on real workers: tens of thousands of goroutines spread over two
 * Ms park on one runtime object, and one call wakes them all (close, cancel, a select,
 * Cond.broadcast), or they queue on one Mutex and are handed it one by one. Each case checks
 * that every goroutine woke and finished, and that nothing was lost on the way.
 *
 * What it guards against: wake-ups lost or lists corrupted once the run has allocated far
 * beyond its first megabytes (the heap used to grow mid-run, and a thread whose views ended
 * before a record read `undefined` there and dropped its writes). Each case runs with the
 * default heap and with a heap limit tight enough that freed space must be reused.
 *
 * Sized for CI: 50,000 goroutines a case. GORT_SCALE=1 runs 1,000,000 (minutes, and ~3 GB).
 */
import { describe, it, expect } from 'vitest';
import { run, go, spawn, chan, select, recv, sleep, numGoroutine, Mutex, Cond, WaitGroup, AtomicInt32, type Chan } from 'gort';
import { background, withCancel, type Context } from 'gort/context';
import { goroutines } from 'gort/debug';

const N = process.env.GORT_SCALE === '1' ? 1_000_000 : 50_000;
const HEAPS: [string, number | undefined][] = [
  ['default heap', undefined],
  ['tight heap', N > 100_000 ? undefined : 96 << 20],
];

/** Resolve once `n` goroutines are parked with a wait reason matching `reason`. */
async function parked(n: number, reason: RegExp): Promise<void> {
  for (;;) {
    let k = 0;
    for (const g of goroutines()) if (g.state === 'waiting' && reason.test(g.waitReason)) k++;
    if (k >= n) return;
    await sleep(50);
  }
}

/** Resolve once only main is left; reject with a count after `ms` (a hang is the failure). */
async function drained(ms: number): Promise<void> {
  const t0 = Date.now();
  while (numGoroutine() > 1) {
    if (Date.now() - t0 > ms) throw new Error(`${numGoroutine() - 1} goroutines never woke`);
    await sleep(50);
  }
}

// Two spawners, one per M, each start half of the parkers: the parkers live on both Ms.
function spread<A extends unknown[]>(f: (n: number, ...a: A) => unknown, ...a: A): Promise<unknown[]> {
  return Promise.all([0, 1].map(() => spawn(f, N / 2, ...a)));
}

const WAKE_MS = 60_000 + N / 10;
const TIMEOUT = 120_000 + N / 5;

describe.each(HEAPS)(`park and wake ${N} goroutines on 2 Ms (%s)`, (_, heapLimit) => {
  const opts = { procs: 2, ...(heapLimit !== undefined ? { heapLimit } : {}) };

  it('close wakes every receiver, each with ok = false', async () => {
    const r = await run(async () => {
      const c = chan<number>();
      const woke = new AtomicInt32();
      await spread(
        (n: number, c: Chan<number>, woke: AtomicInt32) => {
          for (let i = 0; i < n; i++)
            go(async (c: Chan<number>, woke: AtomicInt32) => {
              const [, ok] = await c.recvOk();
              if (!ok) woke.add(1);
            }, c, woke);
        },
        c,
        woke,
      );
      await parked(N, /chan receive/);
      c.close();
      await drained(WAKE_MS);
      return woke.load();
    }, opts);
    expect(r).toBe(N);
  }, TIMEOUT);

  it('cancel wakes every goroutine in a select on ctx.done()', async () => {
    const r = await run(async () => {
      const [ctx, cancel] = withCancel(background());
      const woke = new AtomicInt32();
      const never = chan<number>();
      await spread(
        (n: number, ctx: Context, never: Chan<number>, woke: AtomicInt32) => {
          for (let i = 0; i < n; i++)
            go(async (ctx: Context, never: Chan<number>, woke: AtomicInt32) => {
              const which = await select([recv(ctx.done(), () => 'done'), recv(never, () => 'never')]);
              if (which === 'done' && ctx.err() !== null) woke.add(1);
            }, ctx, never, woke);
        },
        ctx,
        never,
        woke,
      );
      await parked(N, /select/);
      cancel();
      await drained(WAKE_MS);
      return woke.load();
    }, opts);
    expect(r).toBe(N);
  }, TIMEOUT);

  it('a select on two channels takes exactly one value each when both are fed', async () => {
    const r = await run(async () => {
      const a = chan<number>();
      const b = chan<number>();
      const sum = new AtomicInt32();
      await spread(
        (n: number, a: Chan<number>, b: Chan<number>, sum: AtomicInt32) => {
          for (let i = 0; i < n; i++)
            go(async (a: Chan<number>, b: Chan<number>, sum: AtomicInt32) => {
              const v = await select([recv(a, (v) => v!), recv(b, (v) => v!)]);
              sum.add(v);
            }, a, b, sum);
        },
        a,
        b,
        sum,
      );
      await parked(N, /select/);
      // Every value sent is received exactly once: half on a, half on b, values 1 and 2.
      await Promise.all([
        spawn(async (a: Chan<number>, n: number) => { for (let i = 0; i < n; i++) await a.send(1); }, a, N / 2),
        spawn(async (b: Chan<number>, n: number) => { for (let i = 0; i < n; i++) await b.send(2); }, b, N / 2),
      ]);
      await drained(WAKE_MS);
      return sum.load();
    }, opts);
    expect(r).toBe((N / 2) * 3);
  }, TIMEOUT);

  it('Cond.broadcast wakes every waiter, and each relocks the Mutex', async () => {
    const r = await run(async () => {
      const mu = new Mutex();
      const cond = new Cond(mu);
      const go_ = new AtomicInt32();
      const woke = new AtomicInt32();
      await spread(
        (n: number, mu: Mutex, cond: Cond, go_: AtomicInt32, woke: AtomicInt32) => {
          for (let i = 0; i < n; i++)
            go(async (mu: Mutex, cond: Cond, go_: AtomicInt32, woke: AtomicInt32) => {
              await mu.lock();
              while (go_.load() === 0) await cond.wait();
              woke.add(1);
              mu.unlock();
            }, mu, cond, go_, woke);
        },
        mu,
        cond,
        go_,
        woke,
      );
      await parked(N, /sync\.Cond\.Wait/);
      await mu.lock();
      go_.store(1);
      cond.broadcast();
      mu.unlock();
      await drained(WAKE_MS);
      return woke.load();
    }, opts);
    expect(r).toBe(N);
  }, TIMEOUT);

  it('a Mutex is handed to every one of its queued lockers, one at a time', async () => {
    const r = await run(async () => {
      const mu = new Mutex();
      const inside = new AtomicInt32();
      const count = new AtomicInt32();
      const overlap = new AtomicInt32();
      const wg = new WaitGroup();
      wg.add(N);
      await mu.lock();
      await spread(
        (n: number, mu: Mutex, inside: AtomicInt32, count: AtomicInt32, overlap: AtomicInt32, wg: WaitGroup) => {
          for (let i = 0; i < n; i++)
            go(async (mu: Mutex, inside: AtomicInt32, count: AtomicInt32, overlap: AtomicInt32, wg: WaitGroup) => {
              await mu.lock();
              if (inside.add(1) !== 1) overlap.add(1);
              count.add(1);
              inside.sub(1);
              mu.unlock();
              wg.done();
            }, mu, inside, count, overlap, wg);
        },
        mu,
        inside,
        count,
        overlap,
        wg,
      );
      await parked(N, /sync\.Mutex\.Lock/);
      mu.unlock();
      await wg.wait();
      await drained(WAKE_MS);
      return [count.load(), overlap.load()];
    }, opts);
    expect(r).toEqual([N, 0]);
  }, TIMEOUT);
});
