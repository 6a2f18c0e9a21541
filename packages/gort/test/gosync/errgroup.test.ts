// Port of golang.org/x/sync errgroup/errgroup_test.go
//
// Go's `g.Go(func() error { return err })` becomes `g.go((e) => { if (e) throw e; }, err)`:
// a goroutine reports an error by throwing. Errors cross threads by structured clone, so
// the first error is compared by message, not identity. Go's blocking g.Go with a limit is
// `await g.go(...)`.
//
// Not ported: the examples (ExampleGroup_justErrors fetches URLs; ExampleGroup_parallel is
// covered by TestWithContext), TestCancelCause (gort has no context.Cause; the part that
// applies, ctx.err() === Canceled after wait(), is checked in TestWithContext) and
// BenchmarkGo.
import { describe, it, expect } from 'vitest';
import {
  run,
  go,
  spawn,
  chan,
  select,
  recv,
  after,
  sleep,
  Group,
  background,
  AtomicInt32,
  Canceled,
  type Chan,
  type Context,
  SyncError,
} from 'gort';
import { withContext } from 'gort/errgroup';

const isDone = (c: Context): Promise<boolean> => select([recv(c.done(), () => true)], { default: () => false });

/** The message of what g.wait() rejected with, or null if it resolved. */
const waitErr = (g: Group): Promise<string | null> =>
  g.wait().then(
    () => null,
    (e: unknown) => (e as Error).message,
  );

describe('golang.org/x/sync errgroup/errgroup_test.go', () => {
  it('TestZeroGroup: wait returns the first error, also after later goroutines succeed', async () => {
    const err1 = new Error('errgroup_test: 1');
    const err2 = new Error('errgroup_test: 2');
    const cases: (Error | null)[][] = [[], [null], [err1], [err1, null], [err1, null, err2]];
    await run(
      async () => {
        for (const errs of cases) {
          const g = new Group();
          let firstErr: Error | null = null;
          for (const [i, err] of errs.entries()) {
            await g.go((e: Error | null) => {
              if (e) throw e;
            }, err);
            if (firstErr === null && err !== null) firstErr = err;
            expect(await waitErr(g), `after g.go for err in ${JSON.stringify(errs.slice(0, i + 1).map((e) => e?.message ?? null))}`).toBe(
              firstErr?.message ?? null,
            );
          }
          if (errs.length === 0) expect(await waitErr(g)).toBe(null);
        }
      },
      { procs: 2 },
    );
  });

  it('TestWithContext: wait returns the first error and the context is canceled after wait', async () => {
    const errDoom = new Error('group_test: doomed');
    const cases: { errs: (Error | null)[]; want: string | null }[] = [
      { errs: [], want: null },
      { errs: [null], want: null },
      { errs: [errDoom], want: errDoom.message },
      { errs: [errDoom, null], want: errDoom.message },
    ];
    await run(
      async () => {
        for (const tc of cases) {
          const [g, ctx] = withContext(background());
          for (const err of tc.errs) {
            await g.go((e: Error | null) => {
              if (e) throw e;
            }, err);
          }
          expect(await waitErr(g), `errs ${JSON.stringify(tc.errs.map((e) => e?.message ?? null))}`).toBe(tc.want);
          expect(await isDone(ctx), 'ctx.done() was not closed').toBe(true);
          expect(ctx.err()).toBe(Canceled); // TestCancelCause: err is Canceled, the cause aside
        }
      },
      { procs: 2 },
    );
  });

  it('withContext: the first error cancels the context before wait(), for goroutines on every thread', async () => {
    const r = await run(
      async () => {
        const [g, ctx] = withContext(background());
        const sawCancel = new AtomicInt32();
        for (let i = 0; i < 8; i++) {
          await g.go(
            async (ctx: Context, saw: AtomicInt32) => {
              await ctx.done().recv();
              if (ctx.err() === Canceled) saw.add(1);
            },
            ctx,
            sawCancel,
          );
        }
        await sleep(5);
        const before = await isDone(ctx);
        await g.go(async () => {
          await sleep(1);
          throw new TypeError('first');
        });
        const ok = await select([recv(ctx.done(), () => true), recv(after(10_000), () => false)]);
        // later errors do not replace the first
        await g.go(() => {
          throw new Error('second');
        });
        const err = await g.wait().then(
          () => null,
          (e: unknown) => e as Error,
        );
        return { before, ok, name: err?.name, message: err?.message, saw: sawCancel.load() };
      },
      { procs: 2 },
    );
    expect(r).toEqual({ before: false, ok: true, name: 'TypeError', message: 'first', saw: 8 });
  });

  it('TestTryGo: tryGo respects the limit, then succeeds again once goroutines finish; limit 0 blocks all', async () => {
    await run(
      async () => {
        const g = new Group();
        const n = 42;
        g.setLimit(42);
        const ch = chan<boolean>();
        const fn = (ch: Chan<boolean>) => ch.send(true);
        for (let i = 0; i < n; i++) {
          expect(g.tryGo(fn, ch), `TryGo should succeed but got fail at ${i}-th call.`).toBe(true);
        }
        expect(g.tryGo(fn, ch), 'TryGo is expected to fail but succeeded.').toBe(false);
        go(
          async (ch: Chan<boolean>, n: number) => {
            for (let i = 0; i < n; i++) await ch.recv();
          },
          ch,
          n,
        );
        await g.wait();

        expect(g.tryGo(fn, ch), 'TryGo should success but got fail after all goroutines.').toBe(true);
        go(async (ch: Chan<boolean>) => void (await ch.recv()), ch);
        await g.wait();

        // Switch limit.
        g.setLimit(1);
        expect(g.tryGo(fn, ch), 'TryGo should success but got failed.').toBe(true);
        expect(g.tryGo(fn, ch), 'TryGo should fail but succeeded.').toBe(false);
        go(async (ch: Chan<boolean>) => void (await ch.recv()), ch);
        await g.wait();

        // Block all calls.
        g.setLimit(0);
        for (let i = 0; i < 1 << 10; i++) {
          expect(g.tryGo(fn, ch), 'TryGo should fail but got succeeded.').toBe(false);
        }
        await g.wait();
      },
      { procs: 2 },
    );
  });

  it('TestGoLimit: setLimit(10) bounds the goroutines active at once (max tracked with an AtomicInt32)', async () => {
    const limit = 10;
    const r = await run(
      async () => {
        const g = new Group();
        g.setLimit(limit);
        const active = new AtomicInt32();
        const maxActive = new AtomicInt32();
        for (let i = 0; i <= 1 << 10; i++) {
          await g.go(
            async (active: AtomicInt32, maxActive: AtomicInt32, limit: number) => {
              const n = active.add(1);
              for (let m = maxActive.load(); n > m && !maxActive.compareAndSwap(m, n); m = maxActive.load());
              if (n > limit) throw new Error(`saw ${n} active goroutines; want ≤ ${limit}`);
              await sleep(0); // Give other goroutines a chance to increment active.
              active.add(-1);
            },
            active,
            maxActive,
            limit,
          );
        }
        const err = await waitErr(g);
        return { err, max: maxActive.load(), active: active.load() };
      },
      { procs: 2 },
    );
    expect(r.err).toBe(null);
    expect(r.max).toBeLessThanOrEqual(limit);
    expect(r.max).toBeGreaterThan(1); // they did run concurrently
    expect(r.active).toBe(0);
  });

  it('setLimit while goroutines are active throws; a negative limit removes it', async () => {
    await run(
      async () => {
        const g = new Group();
        const ch = chan<void>();
        await g.go((ch: Chan<void>) => ch.recv(), ch);
        expect(() => g.setLimit(3)).toThrow(SyncError);
        expect(() => g.setLimit(3)).toThrow(/modify limit/);
        await ch.send();
        await g.wait();
        g.setLimit(1);
        expect(g.tryGo(() => sleep(5))).toBe(true);
        expect(g.tryGo(() => 1)).toBe(false);
        await g.wait();
        g.setLimit(-1);
        for (let i = 0; i < 50; i++) expect(g.tryGo(() => sleep(1))).toBe(true);
        await g.wait();
      },
      { procs: 2 },
    );
  });

  it('wait() rejects only after every goroutine has finished, not at the first error', async () => {
    const r = await run(
      async () => {
        const [g] = withContext(background());
        const finished = new AtomicInt32();
        await g.go(() => {
          throw new Error('fast failure');
        });
        for (let i = 0; i < 6; i++) {
          await g.go(
            async (finished: AtomicInt32) => {
              await sleep(30);
              finished.add(1);
            },
            finished,
          );
        }
        const err = await waitErr(g);
        return { err, finished: finished.load() };
      },
      { procs: 2 },
    );
    expect(r).toEqual({ err: 'fast failure', finished: 6 });
  });

  it('a Group passed to goroutines: go() from goroutines on the Ms, wait() on main and on an M', async () => {
    const r = await run(
      async () => {
        const [g, ctx] = withContext(background());
        const count = new AtomicInt32();
        // 4 goroutines each add 25 more goroutines to the group from their own thread
        for (let i = 0; i < 4; i++) {
          await g.go(
            async (g: Group, count: AtomicInt32) => {
              for (let k = 0; k < 25; k++) {
                await g.go(
                  async (count: AtomicInt32) => {
                    await sleep(1);
                    count.add(1);
                  },
                  count,
                );
              }
              count.add(1);
            },
            g,
            count,
          );
        }
        const onM = spawn(async (g: Group, count: AtomicInt32) => {
          await g.wait();
          return count.load();
        }, g, count);
        await g.wait();
        const mainCount = count.load();
        return { mainCount, onM: await onM, ctxErr: ctx.err() };
      },
      { procs: 2 },
    );
    expect(r).toEqual({ mainCount: 104, onM: 104, ctxErr: Canceled });
  });

  it('an error thrown in a goroutine added from an M cancels the context seen on main', async () => {
    const r = await run(
      async () => {
        const [g, ctx] = withContext(background());
        await g.go(async (g: Group) => {
          await g.go(() => {
            throw new RangeError('from a nested goroutine');
          });
        }, g);
        const ok = await select([recv(ctx.done(), () => true), recv(after(10_000), () => false)]);
        const err = await g.wait().then(
          () => null,
          (e: unknown) => e as Error,
        );
        return { ok, err: [err?.name, err?.message] };
      },
      { procs: 2 },
    );
    expect(r).toEqual({ ok: true, err: ['RangeError', 'from a nested goroutine'] });
  });
});

describe('errgroup: the first error stops CPU-bound siblings', () => {
  // Go's errgroup cancels the context on the failing goroutine's own thread. Here that must
  // be the failing goroutine's M too: its siblings poll ctx.err() between slices of
  // synchronous work and never give their M back, so neither main (which called go()) nor
  // that M's next turn may be needed for the cancel to reach them. Main proves it by not
  // taking part: it blocks its thread until every sibling has stopped. Siblings and main give
  // up after GIVE_UP_MS so that a regression fails instead of hanging; no timing is asserted.
  const GIVE_UP_MS = 20_000;

  for (const [name, task0] of [
    [
      'throws at once',
      () => {
        const t = performance.now();
        while (performance.now() - t < 20);
        throw new Error('task 0 failed');
      },
    ],
    [
      'throws after a settled await',
      async () => {
        const t = performance.now();
        while (performance.now() - t < 20);
        await null;
        throw new Error('task 0 failed');
      },
    ],
  ] as const) {
    it(`task 0 ${name}: every sibling looping on !ctx.err() stops while main blocks, wait() rejects with it (procs 2)`, async () => {
      const r = await run(
        async () => {
          const [g, ctx] = withContext(background());
          const stopped = new AtomicInt32();
          void g.go(task0);
          for (let k = 0; k < 5; k++) {
            void g.go(
              (ctx: Context, stopped: AtomicInt32, giveUp: number) => {
                const t0 = performance.now();
                while (!ctx.err()) {
                  if (performance.now() - t0 > giveUp) return;
                  const t = performance.now();
                  while (performance.now() - t < 1);
                }
                stopped.add(1);
              },
              ctx,
              stopped,
              GIVE_UP_MS,
            );
          }
          await new Promise((resolve) => setImmediate(resolve)); // main's batch of new Gs goes out
          const t0 = performance.now();
          while (stopped.load() < 5 && performance.now() - t0 < GIVE_UP_MS); // main settles nothing meanwhile
          const seen = stopped.load();
          const err = await waitErr(g);
          return { err, stopped: seen };
        },
        { procs: 2 },
      );
      expect(r).toEqual({ err: 'task 0 failed', stopped: 5 });
    });
  }
});
