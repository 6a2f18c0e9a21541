// Port of go/src/context/context_test.go (the XTest* functions) and go/src/context/x_test.go
// (which only runs them).
//
// Go's t.Errorf on the test goroutine becomes expect() on the main goroutine; goroutines
// report back through spawn() results. "Would block" checks are selects with a default.
// Go's "case <-time.After(d): t.Fatalf(...)" hang guards are kept as selects on after(),
// with generous bounds: they turn a hang into a failure message, they do not time anything.
// A CancelFunc is a closure and cannot be passed to a goroutine, so a goroutine that must
// cancel a context creates it itself (withCancel on its own thread, on a parent it was given).
// Go's white-box len(pc.children) checks become childCount() (util.ts), which walks the
// parent's child list in the shared heap (exportRef gives the buffer and the handle).
//
// Not ported (no counterpart in gort):
// - otherContext / myCtx / myDoneCtx wrappers (TestWithCancel's `o`, the otherContext cases of
//   TestDeadline/TestTimeout/TestValues, TestCustomContextGoroutines): gort contexts are heap
//   records, there is no user-defined Context type.
// - String() output checks, TestAllocs (Go allocation counts),
//   TestDeadlineExceededSupportsTimeout (Go's Timeout() interface), the AfterFunc tests that
//   need a user-defined Context.
// TestCause and TestWithoutCancel are ported for the cases gort's types allow: Cause(ctx) is
// ctx.cause(), and a cause is any cloneable value, read back as a clone (errors compare by
// message).
import { describe, it, expect } from 'vitest';
import {
  run,
  spawn,
  chan,
  select,
  recv,
  after,
  sleep,
  fromModule,
  AtomicInt32,
  background,
  todo,
  withCancel,
  withCancelCause,
  withTimeout,
  withTimeoutCause,
  withDeadline,
  withDeadlineCause,
  withValue,
  withoutCancel,
  afterFunc,
  Canceled,
  DeadlineExceeded,
  CanceledError,
  DeadlineExceededError,
  type Context,
  type CancelFunc,
  type Chan,
} from 'gort';
import { stats } from 'gort/debug';
import { childCount, heapHighWater, scaled, warmUp, HELPERS, type Helpers } from './util.js';

/** Whether <-c.Done() would proceed now. */
const isDone = (c: Context): Promise<boolean> => select([recv(c.done(), () => true)], { default: () => false });

/** Go's testDeadline: c must time out within failAfter ms (a hang guard) with DeadlineExceeded. */
async function testDeadline(c: Context, name: string, failAfter: number): Promise<void> {
  const ok = await select([recv(c.done(), () => true), recv(after(failAfter), () => false)]);
  expect(ok, `${name}: context should have timed out`).toBe(true);
  expect(c.err(), `${name}: c.err()`).toBe(DeadlineExceeded);
}

/** A small seeded PRNG (mulberry32), so that a failing layer structure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('go/src/context/context_test.go', () => {
  it('XTestBackground, XTestTODO: never done, no error, no deadline, no values', async () => {
    await run(async () => {
      for (const c of [background(), todo()]) {
        expect(await isDone(c)).toBe(false);
        expect(c.err()).toBe(null);
        expect(c.deadline()).toEqual([undefined, false]);
        expect(c.value('k')).toBe(undefined);
        expect(c.signal.aborted).toBe(false);
      }
    });
  });

  it('XTestWithCancel: cancel closes done and sets Canceled on the context and its child, on every thread', async () => {
    const r = await run(
      async () => {
        const [c1, cancel] = withCancel(background());
        const [c2] = withCancel(c1);
        const contexts = [c1, c2];
        for (const [i, c] of contexts.entries()) {
          expect(c.done(), `c[${i}].done()`).toBeTruthy();
          expect(c.err(), `c[${i}].err()`).toBe(null);
          expect(await isDone(c), `<-c[${i}].Done() should block`).toBe(false);
        }
        // goroutines on the Ms wait on both contexts
        const waiters = Array.from({ length: 8 }, () =>
          spawn(
            async (c1: Context, c2: Context) => {
              await c2.done().recv();
              await c1.done().recv();
              return [c1.err() === Canceled, c2.err() === Canceled, c2.err() instanceof CanceledError];
            },
            c1,
            c2,
          ),
        );
        await sleep(5);
        cancel();
        for (const [i, c] of contexts.entries()) {
          expect(await isDone(c), `<-c[${i}].Done() blocked, but shouldn't have`).toBe(true);
          expect(c.err(), `c[${i}].err()`).toBe(Canceled);
        }
        cancel(); // a second cancel is a no-op
        expect(c1.err()).toBe(Canceled);
        return Promise.all(waiters);
      },
      { procs: 2 },
    );
    expect(r).toEqual(Array(8).fill([true, true, true]));
  });

  it('XTestParentFinishesChild: parent cancel finishes cancel, value and timer children; the child list empties', async () => {
    await run(async () => {
      // Context tree:
      // parent -> cancelChild
      // parent -> valueChild -> timerChild
      const [parent, cancel] = withCancel(background());
      const [cancelChild, stop1] = withCancel(parent);
      const valueChild = withValue(parent, 'key', 'value');
      const [timerChild, stop2] = withTimeout(valueChild, 10000 * 3600 * 1000);
      const any = await select(
        [
          recv(parent.done(), () => '<-parent.Done()'),
          recv(cancelChild.done(), () => '<-cancelChild.Done()'),
          recv(timerChild.done(), () => '<-timerChild.Done()'),
          recv(valueChild.done(), () => '<-valueChild.Done()'),
        ],
        { default: () => '' },
      );
      expect(any, 'should block').toBe('');
      // The parent's children should contain the two cancelable children.
      expect(childCount(parent), 'bad linkage: pc.children').toBe(2);
      cancel();
      expect(childCount(parent), "pc.cancel didn't clear pc.children").toBe(0);
      // parent and children should all be finished.
      for (const [ctx, name] of [
        [parent, 'parent'],
        [cancelChild, 'cancelChild'],
        [valueChild, 'valueChild'],
        [timerChild, 'timerChild'],
      ] as const) {
        expect(await isDone(ctx), `<-${name}.Done() blocked, but shouldn't have`).toBe(true);
        expect(ctx.err(), `${name}.err()`).toBe(Canceled);
      }
      // WithValue should return a canceled context on a canceled parent.
      const precanceledChild = withValue(parent, 'key', 'value');
      expect(await isDone(precanceledChild), "<-precanceledChild.Done() blocked, but shouldn't have").toBe(true);
      expect(precanceledChild.err()).toBe(Canceled);
      stop1();
      stop2();
    });
  });

  it('XTestChildFinishesFirst: a child canceled first removes itself; the parent stays live', async () => {
    await run(async () => {
      const [cancelable, stop] = withCancel(background());
      for (const parent of [background(), cancelable]) {
        const [child, cancel] = withCancel(parent);
        expect(await isDone(parent)).toBe(false);
        expect(await isDone(child)).toBe(false);
        const pcok = parent === cancelable; // false for background(): it has no child list
        if (pcok) expect(childCount(parent), 'bad linkage: pc.children').toBe(1);
        cancel();
        if (pcok) expect(childCount(parent), "child's cancel didn't remove self from pc.children").toBe(0);
        // child should be finished.
        expect(await isDone(child), "<-child.Done() blocked, but shouldn't have").toBe(true);
        expect(child.err()).toBe(Canceled);
        // parent should not be finished.
        expect(await isDone(parent), '<-parent.Done() should block').toBe(false);
        expect(parent.err()).toBe(null);
      }
      stop();
    });
  });

  it('XTestDeadline: WithDeadline times out with DeadlineExceeded (future, inherited, past, now)', async () => {
    await run(async () => {
      let [c] = withDeadline(background(), Date.now() + 50);
      await testDeadline(c, 'WithDeadline', 10_000);
      // a child with a later deadline inherits the parent's (Go: 4 s child, fails after 2 s)
      [c] = withDeadline(background(), Date.now() + 50);
      const [d] = withDeadline(c, Date.now() + 60_000);
      expect(d.deadline()).toEqual(c.deadline());
      await testDeadline(d, 'WithDeadline+WithDeadline', 20_000);
      [c] = withDeadline(background(), Date.now() - 1);
      expect(c.err(), 'WithDeadline+inthepast: done at once').toBe(DeadlineExceeded);
      await testDeadline(c, 'WithDeadline+inthepast', 10_000);
      [c] = withDeadline(background(), Date.now());
      await testDeadline(c, 'WithDeadline+now', 10_000);
      [c] = withDeadline(background(), new Date(Date.now() + 20));
      await testDeadline(c, 'WithDeadline(Date)', 10_000);
    });
  });

  it('XTestTimeout: WithTimeout times out with DeadlineExceeded, also through a parent', async () => {
    await run(async () => {
      let [c] = withTimeout(background(), 50);
      await testDeadline(c, 'WithTimeout', 10_000);
      [c] = withTimeout(background(), 50);
      const [d] = withTimeout(c, 60_000);
      await testDeadline(d, 'WithTimeout+WithTimeout', 20_000);
      expect(d.err()).toBeInstanceOf(DeadlineExceededError);
    });
  });

  it('XTestCanceledTimeout: canceling a timeout context before its deadline gives Canceled', async () => {
    await run(async () => {
      const [c0] = withTimeout(background(), 1000);
      const [c, cancel] = withTimeout(c0, 2000);
      cancel();
      expect(await isDone(c), "<-c.Done() blocked, but shouldn't have").toBe(true);
      expect(c.err()).toBe(Canceled);
      expect(c0.err()).toBe(null);
      // and the deadline does not fire later over it
      await testDeadline(c0, 'parent', 10_000);
      expect(c.err()).toBe(Canceled);
    });
  });

  it('XTestValues: lookups through chains, shadowing, and the same lookups on another thread', async () => {
    // Go's k1 = key1(1), k2 = key2(1) (same int, other type), k3 = key2(3). gort keys are
    // strings, numbers and booleans compared with ===: 1 and '1' are different keys.
    const k1 = 1;
    const k2 = '1';
    const k3 = '3';
    const r = await run(
      async () => {
        const look = (c: Context) => [k1, k2, k3].map((k) => c.value(k));
        const c0 = background();
        const c1 = withValue(background(), k1, 'c1k1');
        const c2 = withValue(c1, k2, 'c2k2');
        const c3 = withValue(c2, k3, 'c3k3');
        const c4 = withValue(c3, k1, null);
        // a cancelable context in the middle of the chain does not hide the values above it
        const [c5] = withCancel(c4);
        const c6 = withValue(c5, true, { nested: [1, 2] });
        const here = [c0, c1, c2, c3, c4, c5].map(look);
        const there = await spawn(
          (cs: Context[], keys: (string | number)[]) => cs.map((c) => keys.map((k) => c.value(k))),
          [c0, c1, c2, c3, c4, c5],
          [k1, k2, k3],
        );
        // a chain extended on a worker thread and read back on main
        const extended = await spawn((c: Context, k2: string) => withValue(withValue(c, 'w', 'from M'), k2, 'shadowed on M'), c6, k2);
        return { here, there, c6: c6.value(true), ext: look(extended), w: extended.value('w'), deep: extended.value(true) };
      },
      { procs: 2 },
    );
    const want = [
      [undefined, undefined, undefined],
      ['c1k1', undefined, undefined],
      ['c1k1', 'c2k2', undefined],
      ['c1k1', 'c2k2', 'c3k3'],
      [null, 'c2k2', 'c3k3'],
      [null, 'c2k2', 'c3k3'],
    ];
    expect(r.here).toEqual(want);
    expect(r.there).toEqual(want);
    expect(r.c6).toEqual({ nested: [1, 2] });
    expect(r.ext).toEqual([null, 'shadowed on M', 'c3k3']);
    expect(r.w).toBe('from M');
    expect(r.deep).toEqual({ nested: [1, 2] });
  });

  it('XTestSimultaneousCancels: a tree canceled from every thread at once; every done closes', async () => {
    const r = await run(
      async () => {
        const [root, cancelRoot] = withCancel(background());
        const start = chan<void>();
        const built = chan<void>(4);
        // 4 goroutines each build a 25-context subtree under root (4 children per node) and
        // keep its cancel functions; then all of them and main cancel at once.
        const parts = Array.from({ length: 4 }, (_, part) =>
          spawn(
            async (root: Context, start: Chan<void>, built: Chan<void>, seed: number) => {
              const end = performance.now() + 2;
              while (performance.now() < end);
              const m: [Context, CancelFunc][] = [];
              const q: Context[] = [root];
              while (q.length !== 0 && m.length < 25) {
                const parent = q.shift()!;
                for (let i = 0; i < 4; i++) {
                  const [ctx, cancel] = withCancel(parent);
                  m.push([ctx, cancel]);
                  q.push(ctx);
                }
              }
              await built.send();
              await start.recv();
              // Start all the cancels in a random order.
              let s = seed;
              const rnd = (n: number) => ((s = (s * 1103515245 + 12345) & 0x7fffffff), s % n);
              const order = m.map((_, i) => i);
              for (let i = order.length - 1; i > 0; i--) {
                const j = rnd(i + 1);
                [order[i], order[j]] = [order[j]!, order[i]!];
              }
              for (const i of order) m[i]![1]();
              // Wait on all the contexts in a random order.
              let hung = 0;
              for (const i of order) {
                const ok = await select([recv(m[i]![0].done(), () => true), recv(after(10_000), () => false)]);
                if (!ok) hung++;
              }
              return { n: m.length, hung, canceled: m.filter(([c]) => c.err() === Canceled).length };
            },
            root,
            start,
            built,
            part + 1,
          ),
        );
        for (let i = 0; i < 4; i++) await built.recv();
        expect(childCount(root)).toBe(16);
        start.close();
        cancelRoot();
        const got = await Promise.all(parts);
        return { got, rootErr: root.err(), left: childCount(root) };
      },
      { procs: 2 },
    );
    for (const g of r.got) expect(g).toEqual({ n: 28, hung: 0, canceled: 28 });
    expect(r.rootErr).toBe(Canceled);
    expect(r.left).toBe(0);
  });

  it('XTestInterlockedCancels: a child canceled on an M while the parent is canceled on main', async () => {
    const iters = scaled(50);
    const r = await run(
      async () => {
        let hung = 0;
        for (let i = 0; i < iters; i++) {
          const [parent, cancelParent] = withCancel(background());
          const ch = chan<Context>(1);
          const p = spawn(
            async (parent: Context, ch: Chan<Context>) => {
              const [child, cancelChild] = withCancel(parent);
              await ch.send(child);
              parent.done();
              cancelChild();
            },
            parent,
            ch,
          );
          const child = (await ch.recv())!;
          cancelParent();
          const ok = await select([recv(child.done(), () => true), recv(after(10_000), () => false)]);
          if (!ok) hung++;
          await p;
          if (childCount(parent) !== 0) hung++;
        }
        return hung;
      },
      { procs: 2 },
    );
    expect(r, 'timed out waiting for child.Done()').toBe(0);
  });

  for (const testTimeout of [false, true]) {
    it(`XTestLayers${testTimeout ? 'Timeout' : 'Cancel'}: random layers of value, cancel and timeout contexts`, async () => {
      const seed = Date.now() >>> 0;
      const rand = prng(seed);
      const timeout = 200;
      const minLayers = 30;
      const errors = await run(
        async () => {
          const errs: string[] = [];
          const errorf = (s: string) => errs.push(`seed=${seed}: ${s}`);
          const vals: number[] = [];
          const cancels: CancelFunc[] = [];
          let numTimers = 0;
          let ctx = background();
          for (let i = 0; i < minLayers || numTimers === 0 || cancels.length === 0 || vals.length === 0; i++) {
            switch (Math.floor(rand() * 3)) {
              case 0:
                ctx = withValue(ctx, 1000 + i, { key: 1000 + i });
                vals.push(1000 + i);
                break;
              case 1: {
                const [c, cancel] = withCancel(ctx);
                ctx = c;
                cancels.push(cancel);
                break;
              }
              default: {
                const [c, cancel] = withTimeout(ctx, timeout);
                ctx = c;
                cancels.push(cancel);
                numTimers++;
              }
            }
          }
          const checkValues = async (when: string) => {
            for (const key of vals) {
              const v = ctx.value(key) as { key: number } | undefined;
              if (v?.key !== key) errorf(`${when}: ctx.value(${key}) = ${JSON.stringify(v)}`);
            }
            const there = await spawn((c: Context, keys: number[]) => keys.map((k) => (c.value(k) as { key: number } | undefined)?.key), ctx, vals);
            if (JSON.stringify(there) !== JSON.stringify(vals)) errorf(`${when}: on an M: ${JSON.stringify(there)}`);
          };
          if (await isDone(ctx)) errorf('ctx should not be canceled yet');
          await checkValues('before cancel');
          if (testTimeout) {
            const ok = await select([recv(ctx.done(), () => true), recv(after(timeout + 10_000), () => false)]);
            if (!ok) errorf('ctx should have timed out');
            if (ctx.err() !== DeadlineExceeded) errorf(`ctx.err() = ${ctx.err()}`);
            await checkValues('after timeout');
          } else {
            const cancel = cancels[Math.floor(rand() * cancels.length)]!;
            cancel();
            if (!(await isDone(ctx))) errorf('ctx should be canceled');
            if (ctx.err() !== Canceled) errorf(`ctx.err() = ${ctx.err()}`);
            await checkValues('after cancel');
          }
          return errs;
        },
        { procs: 2 },
      );
      expect(errors).toEqual([]);
    });
  }

  it('XTestCancelRemoves: canceling a WithCancel or WithTimeout child removes it from the parent', async () => {
    await run(async () => {
      let [ctx] = withCancel(background());
      expect(childCount(ctx), 'after creation').toBe(0);
      let [, cancel] = withCancel(ctx);
      expect(childCount(ctx), 'with WithCancel child').toBe(1);
      cancel();
      expect(childCount(ctx), 'after canceling WithCancel child').toBe(0);

      [ctx] = withCancel(background());
      expect(childCount(ctx), 'after creation').toBe(0);
      [, cancel] = withTimeout(ctx, 60 * 60 * 1000);
      expect(childCount(ctx), 'with WithTimeout child').toBe(1);
      cancel();
      expect(childCount(ctx), 'after canceling WithTimeout child').toBe(0);

      // a timeout child that fires removes itself too
      [ctx] = withCancel(background());
      const [t] = withTimeout(ctx, 5);
      expect(childCount(ctx)).toBe(1);
      await t.done().recv();
      expect(t.err()).toBe(DeadlineExceeded);
      expect(childCount(ctx), 'after the WithTimeout child fired').toBe(0);
      // children removed in any order keep the list consistent
      const kids = Array.from({ length: 10 }, () => withCancel(ctx));
      for (const i of [3, 0, 9, 5, 1]) kids[i]![1]();
      expect(childCount(ctx)).toBe(5);
      for (const [, c] of kids) c();
      expect(childCount(ctx)).toBe(0);
    });
  });

  it('100,000 withCancel + cancel do not grow the parent (child list stays empty; heap cost per context bounded)', async () => {
    // Checked directly: the parent's child list (childCount, read from the heap) is empty
    // after the loop. Heap: gort reclaims context records only at shutdown
    // (docs/architecture.md, "Memory"), so the heap high-water mark (util.heapHighWater,
    // the heap's BUMP word; gort/debug's stats() has no heap figures) grows with every
    // context made; the bound below is a generous per-context budget (about 170 bytes are
    // used today), which catches anything that would grow with the parent's child count.
    const N = 100_000;
    const r = await run(
      async () => {
        const [parent, cancelParent] = withCancel(background());
        const [keep] = withCancel(parent);
        const h0 = heapHighWater(parent);
        for (let i = 0; i < N; i++) {
          const [, cancel] = withCancel(parent);
          cancel();
        }
        const grown = heapHighWater(parent) - h0;
        const children = childCount(parent);
        cancelParent();
        return { grown, children, keepErr: keep.err(), parentErr: parent.err() };
      },
      { procs: 2 },
    );
    expect(r.children).toBe(1); // only `keep`
    expect(r.keepErr).toBe(Canceled);
    expect(r.parentErr).toBe(Canceled);
    expect(r.grown / N, `heap bytes per withCancel+cancel (grew ${r.grown} bytes)`).toBeLessThan(512);
  });

  it('XTestWithCancelCanceledParent: a child of a canceled parent is canceled at once, on any thread', async () => {
    const r = await run(
      async () => {
        const [parent, pcancel] = withCancel(background());
        pcancel();
        const [c] = withCancel(parent);
        const ok = await select([recv(c.done(), () => true), recv(after(5000), () => false)]);
        const fromM = await spawn((p: Context) => {
          const [c1] = withCancel(p);
          const [c2] = withTimeout(p, 60_000);
          const c3 = withValue(p, 'k', 1);
          return [c1.err() === Canceled, c2.err() === Canceled, c3.err() === Canceled];
        }, parent);
        return { ok, err: c.err(), fromM, left: childCount(parent) };
      },
      { procs: 2 },
    );
    expect(r.ok, 'timeout waiting for Done').toBe(true);
    expect(r.err).toBe(Canceled);
    expect(r.fromM).toEqual([true, true, true]);
    expect(r.left).toBe(0);
  });

  it('XTestWithValueChecksKey: a key that can never be looked up (null, undefined, an object) is rejected', async () => {
    // Go panics for a nil key and for a non-comparable key. gort keys are strings, numbers
    // and booleans compared with ===; anything else is misuse, which gort raises at the call
    // site as a TypeError (HACKING.md, "Two error paths").
    await run(async () => {
      const bad: unknown[] = [null, undefined, [1], { a: 1 }];
      for (const k of bad) {
        expect(() => withValue(background(), k as string, 'bar'), `withValue(bg, ${JSON.stringify(k)}, 'bar')`).toThrow(TypeError);
      }
    });
  });
});

describe('context across threads (gort)', () => {
  it('cancel propagates to children made on every thread (cancel, timeout and value children)', async () => {
    const r = await run(
      async () => {
        await warmUp(); // see util.ts
        const [root, cancel] = withCancel(background());
        const made = chan<void>(32);
        // The first thread to make a child notes its id in `first`; a child made on another
        // thread sets `both`. Until then each goroutine holds its M after making its child, so
        // that the rest must run on the other M even on a loaded machine (bounded: 10 s).
        const first = new AtomicInt32();
        const both = new AtomicInt32();
        const waiters = Array.from({ length: 32 }, (_, i) =>
          spawn(
            async (root: Context, made: Chan<void>, kind: number, helpers: string, first: AtomicInt32, both: AtomicInt32) => {
              const end = performance.now() + 1;
              while (performance.now() < end);
              let c: Context;
              if (kind === 0) [c] = withCancel(root);
              else if (kind === 1) [c] = withTimeout(root, 3_600_000);
              else if (kind === 2) [c] = withCancel(withValue(root, 'k', kind));
              else [c] = withDeadline(withCancel(root)[0], Date.now() + 3_600_000);
              const me = (await fromModule<Helpers>(helpers).where()) + 1;
              if (!first.compareAndSwap(0, me) && first.load() !== me) both.store(1);
              const hold = performance.now() + 10_000;
              while (both.load() === 0 && performance.now() < hold);
              await made.send();
              await c.done().recv();
              return { ok: c.err() === Canceled, aborted: c.signal.aborted, thread: await fromModule<Helpers>(helpers).where() };
            },
            root,
            made,
            i % 4,
            HELPERS,
            first,
            both,
          ),
        );
        for (let i = 0; i < 32; i++) await made.recv();
        const before = childCount(root);
        cancel();
        const got = await Promise.all(waiters);
        return { got, before, after: childCount(root) };
      },
      { procs: 2 },
    );
    expect(r.before).toBe(32);
    expect(r.after).toBe(0);
    for (const g of r.got) expect([g.ok, g.aborted]).toEqual([true, true]);
    expect(new Set(r.got.map((g) => g.thread)).size, 'children were made on both Ms').toBe(2);
  });

  it('children made and canceled concurrently on both Ms and main leave exactly the live ones linked', async () => {
    const per = scaled(5000);
    const r = await run(
      async () => {
        const [parent, cancelParent] = withCancel(background());
        const work = (parent: Context, per: number) =>
          spawn(
            async (parent: Context, per: number) => {
              const end = performance.now() + 2;
              while (performance.now() < end);
              const kept: Context[] = [];
              for (let i = 0; i < per; i++) {
                const [c, cancel] = i % 3 === 0 ? withTimeout(parent, 3_600_000) : withCancel(parent);
                if (i % 10 === 0) kept.push(c);
                else cancel();
                if (i % 256 === 0) await sleep(0);
              }
              return kept;
            },
            parent,
            per,
          );
        const ps = [work(parent, per), work(parent, per), work(parent, per), work(parent, per)];
        const keptMain: Context[] = [];
        for (let i = 0; i < per; i++) {
          const [c, cancel] = withCancel(parent);
          if (i % 10 === 0) keptMain.push(c);
          else cancel();
          if (i % 256 === 0) await sleep(0);
        }
        const kept = (await Promise.all(ps)).flat().concat(keptMain);
        const linked = childCount(parent);
        const liveBefore = kept.filter((c) => c.err() === null).length;
        cancelParent();
        const canceledAfter = kept.filter((c) => c.err() === Canceled).length;
        return { linked, kept: kept.length, liveBefore, canceledAfter, left: childCount(parent) };
      },
      { procs: 2 },
    );
    expect(r.kept).toBe(5 * Math.ceil(per / 10));
    expect(r.liveBefore).toBe(r.kept);
    expect(r.linked).toBe(r.kept);
    expect(r.canceledAfter).toBe(r.kept);
    expect(r.left).toBe(0);
  });

  it('done() is made on first use: contexts nobody asks make no channel; done() racing cancel on another M closes once', async () => {
    const N = 500;
    const r = await run(
      async () => {
        const chans = (): number => stats().memory.objects['Chan']?.count ?? 0;
        const before = chans();
        for (let i = 0; i < 1000; i++) {
          const [, cancel] = withCancel(background());
          cancel();
        }
        const made = chans() - before;
        const ctxs: Context[] = [];
        const cancels: CancelFunc[] = [];
        for (let i = 0; i < N; i++) {
          const [ctx, cancel] = withCancel(background());
          ctxs.push(ctx);
          cancels.push(cancel);
        }
        // An M asks done() of each while main cancels them: before it asks, as it asks, after.
        const c = chan<Context>(N);
        const closed = spawn(async (c: Chan<Context>, n: number) => {
          let k = 0;
          for (let i = 0; i < n; i++) {
            const ctx = (await c.recv())!;
            const [, ok] = await ctx.done().recvOk();
            if (!ok && ctx.err() !== null) k++;
          }
          return k;
        }, c, N);
        for (let i = 0; i < N; i++) {
          await c.send(ctxs[i]!);
          if (i % 2 === 0) cancels[i]!();
        }
        for (const cancel of cancels) cancel();
        const [, ok] = await ctxs[1]!.done().recvOk(); // asked on main after the cancel: closed
        return { made, closed: await closed, ok };
      },
      { procs: 2 },
    );
    expect(r.made).toBe(0);
    expect(r.closed).toBe(N);
    expect(r.ok).toBe(false);
  });

  it("parent cancel racing a sibling's own cancel still cancels every child", async () => {
    // Minimal reproduction. P has children (list order, newest first) C1, X, C2; C1 has many
    // children of its own, so canceling C1 takes a while. Main cancels P: it takes P's child
    // list and walks it, reading each child's NEXT link before canceling the child. While it
    // is inside cancel(C1), a goroutine on an M (spinning until it sees C1 canceled) cancels
    // X with X's own cancel function. That cancel detaches X from P's old list under P's lock
    // and zeroes X.NEXT; when main's walk reaches X it reads NEXT = 0 and stops, so C2 is
    // never canceled although its parent P is (C2.err() stays null, C2.done() never closes).
    const trials = 5;
    const r = await run(
      async () => {
        const out: { c2: string; x: string; c1: string }[] = [];
        for (let t = 0; t < trials; t++) {
          const [p, cancelP] = withCancel(background());
          const ready = new AtomicInt32();
          const fin = chan<void>(1);
          const res = spawn(
            async (p: Context, ready: AtomicInt32, fin: Chan<void>) => {
              const [c2] = withCancel(p);
              const [x, cancelX] = withCancel(p);
              const [c1] = withCancel(p);
              for (let i = 0; i < 20_000; i++) withCancel(c1); // make cancel(C1) slow
              ready.store(1);
              while (c1.err() === null); // main is inside cancel(C1) now
              cancelX();
              await fin.recv();
              const s = (c: Context) => String(c.err()?.message ?? null);
              return { c2: s(c2), x: s(x), c1: s(c1) };
            },
            p,
            ready,
            fin,
          );
          while (ready.load() === 0) await sleep(0);
          cancelP();
          await fin.send();
          out.push(await res);
        }
        return out;
      },
      { procs: 2 },
    );
    expect(r).toEqual(Array(trials).fill({ c2: 'context canceled', x: 'context canceled', c1: 'context canceled' }));
  });

  it('deadline() never later than the parent, on main and on an M; a child with an earlier deadline keeps its own', async () => {
    const r = await run(
      async () => {
        const now = Date.now();
        const [p] = withDeadline(background(), now + 100_000);
        const [later] = withDeadline(p, now + 500_000);
        const [earlier] = withDeadline(p, now + 50_000);
        const [cancelChild] = withCancel(p);
        const valueChild = withValue(p, 'k', 'v');
        const [timeoutChild] = withTimeout(valueChild, 3_600_000);
        const [grand] = withDeadline(earlier, now + 70_000);
        const onM = await spawn(
          (p: Context, now: number) => {
            const [a] = withDeadline(p, now + 900_000);
            const [b] = withTimeout(p, 1);
            const [c] = withCancel(withValue(p, 'x', 1));
            return [a.deadline(), b.deadline()[0]! <= p.deadline()[0]!, c.deadline()];
          },
          p,
          now,
        );
        return {
          p: p.deadline(),
          later: later.deadline(),
          earlier: earlier.deadline(),
          cancelChild: cancelChild.deadline(),
          valueChild: valueChild.deadline(),
          timeoutChild: timeoutChild.deadline(),
          grand: grand.deadline(),
          onM,
          now,
        };
      },
      { procs: 2 },
    );
    const pd = [r.now + 100_000, true];
    expect(r.p).toEqual(pd);
    expect(r.later).toEqual(pd);
    expect(r.earlier).toEqual([r.now + 50_000, true]);
    expect(r.cancelChild).toEqual(pd);
    expect(r.valueChild).toEqual(pd);
    expect(r.timeoutChild).toEqual(pd);
    expect(r.grand).toEqual([r.now + 50_000, true]);
    expect(r.onM).toEqual([pd, true, pd]);
  });

  it('a timeout context made on an M fires there and is seen done on main; its parent is not affected', async () => {
    const r = await run(
      async () => {
        const [p, cancel] = withCancel(background());
        const c = await spawn((p: Context) => withTimeout(p, 30)[0], p);
        const ok = await select([recv(c.done(), () => true), recv(after(10_000), () => false)]);
        // done is closed before the timer's cancel detaches c from p (as in Go): wait for it
        for (let i = 0; i < 5000 && childCount(p) !== 0; i++) await sleep(1);
        const res = { ok, err: c.err(), parentErr: p.err(), left: childCount(p) };
        cancel();
        return res;
      },
      { procs: 2 },
    );
    expect(r).toEqual({ ok: true, err: DeadlineExceeded, parentErr: null, left: 0 });
  });

  it('ctx.signal aborts with err(): cancel and deadline, on main and in goroutines; an already-done context is aborted at once', async () => {
    const r = await run(
      async () => {
        const [c, cancel] = withCancel(background());
        const [d] = withTimeout(background(), 30);
        const sig = c.signal;
        const fromMain = new Promise<unknown>((res) => sig.addEventListener('abort', () => res(sig.reason)));
        const inG = (ctx: Context) =>
          spawn(
            (ctx: Context) =>
              new Promise<[boolean, boolean, string]>((res) => {
                const s = ctx.signal;
                const before = s.aborted;
                s.addEventListener('abort', () => res([before, s.reason === ctx.err(), (s.reason as Error).message]));
              }),
            ctx,
          );
        const gc = inG(c);
        const gd = inG(d);
        await sleep(5);
        expect(sig.aborted).toBe(false);
        cancel();
        const reason = await fromMain;
        const dMain = await new Promise<unknown>((res) => {
          if (d.signal.aborted) res(d.signal.reason);
          else d.signal.addEventListener('abort', () => res(d.signal.reason));
        });
        // already done: aborted as soon as it is read, on main and on an M
        const late = c.signal.aborted;
        const lateM = await spawn((ctx: Context) => [ctx.signal.aborted, ctx.signal.reason === Canceled], c);
        return { reason, dMain, gc: await gc, gd: await gd, late, lateM };
      },
      { procs: 2 },
    );
    expect(r.reason).toBe(Canceled);
    expect(r.dMain).toBe(DeadlineExceeded);
    expect(r.gc).toEqual([false, true, 'context canceled']);
    expect(r.gd).toEqual([false, true, 'context deadline exceeded']);
    expect(r.late).toBe(true);
    expect(r.lateM).toEqual([true, true]);
  });

  it('TestCause: the cause given to cancel, a deadline or an ancestor; err() when none; on any thread', async () => {
    const r = await run(
      async () => {
        const bg = background();
        const msg = (v: unknown): unknown => (v instanceof Error ? v.message : v);
        const out: Record<string, unknown> = {};
        out.background = bg.cause();
        // withCancelCause: no cause → Canceled; a cause → that cause; a second cancel changes nothing.
        const [a, cancelA] = withCancelCause(bg);
        out.active = a.cause();
        cancelA();
        out.noCause = [a.cause() === Canceled, a.err() === Canceled];
        const [b, cancelB] = withCancelCause(bg);
        cancelB(new Error('finished'));
        cancelB(new Error('again'));
        out.withCause = [a.err() === Canceled, msg(b.cause())];
        // Children, made before and after the parent's cancel, report the parent's cause.
        const [p, cancelP] = withCancelCause(bg);
        const [before] = withCancel(p);
        const valued = withValue(before, 'k', 1);
        cancelP(new Error('parent'));
        const [afterC] = withCancel(p);
        out.children = [msg(before.cause()), msg(valued.cause()), msg(afterC.cause())];
        // A child canceled first keeps its own cause.
        const [q, cancelQ] = withCancelCause(bg);
        const [qc, cancelQc] = withCancelCause(q);
        cancelQc(new Error('child first'));
        cancelQ(new Error('parent later'));
        out.childFirst = [msg(qc.cause()), msg(q.cause())];
        // Deadlines: the given cause when the deadline passes, Canceled when cancel() wins.
        const [d, cancelD] = withTimeoutCause(bg, 5, { code: 42 });
        await d.done().recv();
        const [e, cancelE] = withDeadlineCause(bg, Date.now() + 60_000, 'late');
        cancelE();
        cancelD();
        out.deadline = [d.err() === DeadlineExceeded, d.cause(), e.cause() === Canceled];
        const [f] = withTimeout(bg, 5);
        await f.done().recv();
        out.plainDeadline = f.cause() === DeadlineExceeded;
        // Read on an M: a clone of the cause.
        out.onM = await spawn(async (c: typeof b) => [c.err()?.message, (c.cause() as Error).message], b);
        // A cause that cannot be cloned is a TypeError at the call, and cancels nothing.
        const [g, cancelG] = withCancelCause(bg);
        const bad: string[] = [];
        try {
          cancelG(Math.max); // a native function cannot be sent
        } catch (x) {
          bad.push((x as Error).name);
        }
        try {
          withTimeoutCause(bg, 5, Symbol('no'));
        } catch (x) {
          bad.push((x as Error).name);
        }
        out.bad = [bad, g.err()];
        return out;
      },
      { procs: 2 },
    );
    expect(r).toEqual({
      background: null,
      active: null,
      noCause: [true, true],
      withCause: [true, 'finished'],
      children: ['parent', 'parent', 'parent'],
      childFirst: ['child first', 'parent later'],
      deadline: [true, { code: 42 }, true],
      plainDeadline: true,
      onM: ['context canceled', 'finished'],
      bad: [['TypeError', 'TypeError'], null],
    });
  });

  it("TestWithoutCancel: the parent's values, never canceled, no deadline, on any thread", async () => {
    const r = await run(
      async () => {
        const [p, cancel] = withTimeout(withValue(background(), 'key', 'value'), 60_000);
        const c = withoutCancel(p);
        cancel();
        const [child, cancelChild] = withCancel(c);
        const here = [p.err() === Canceled, c.err(), c.value('key'), c.deadline()[1], c.cause(), child.err()];
        const done = await select([recv(c.done(), () => 'done')], { default: () => 'not done' });
        const onM = await spawn(async (c: typeof p) => [c.err(), c.value('key')], c);
        cancelChild();
        return { here, done, onM, child: child.err() === Canceled };
      },
      { procs: 2 },
    );
    expect(r).toEqual({ here: [true, null, 'value', false, null, null], done: 'not done', onM: [null, 'value'], child: true });
  });

  it('TestAfterFunc: runs once the context is done (at once if it is), never after stop(); stop() says which', async () => {
    const r = await run(
      async () => {
        const out: Record<string, unknown> = {};
        const ch = chan<string>(16);
        const got = () => select([recv(ch, (v) => v), recv(after(5000), () => 'timeout')]);
        const none = () => select([recv(ch, (v) => v)], { default: () => 'nothing' });
        // TestAfterFuncCalledAfterCancel
        const [a, cancelA] = withCancel(background());
        const stopA = afterFunc(a, async (ch: Chan<string>, s: string) => void (await ch.send(s)), ch, 'a');
        out.beforeCancel = await none();
        cancelA();
        out.afterCancel = await got();
        out.stopAfterRun = stopA();
        // TestAfterFuncNotCalledAfterStop
        const [b, cancelB] = withCancel(background());
        const stopB = afterFunc(b, async (ch: Chan<string>) => void (await ch.send('b')), ch);
        out.stopB = [stopB(), stopB()];
        cancelB();
        await sleep(20);
        out.afterStop = await none();
        // TestAfterFuncCalledImmediately
        const [c, cancelC] = withCancel(background());
        cancelC();
        afterFunc(c, async (ch: Chan<string>) => void (await ch.send('c')), ch);
        out.immediately = await got();
        // A deadline on an M starts it there; a child's cancel by its parent reaches it too.
        out.onM = await spawn(async (ch: Chan<string>) => {
          const [d, cancel] = withTimeout(background(), 5);
          afterFunc(d, async (ch: Chan<string>) => void (await ch.send('deadline')), ch);
          const v = await select([recv(ch, (v) => v), recv(after(5000), () => 'timeout')]);
          cancel();
          return v;
        }, ch);
        const [p, cancelP] = withCancel(background());
        const [k] = withCancel(withValue(p, 'k', 1));
        afterFunc(k, async (ch: Chan<string>) => void (await ch.send('via parent')), ch);
        cancelP();
        out.viaParent = await got();
        // Bad calls throw at the call.
        const bad: string[] = [];
        const outer = 1;
        try {
          afterFunc(c, () => outer);
        } catch (e) {
          bad.push((e as Error).name);
        }
        try {
          afterFunc(c, (f: unknown) => f, (() => outer) as unknown); // a function that captures cannot be sent
        } catch (e) {
          bad.push((e as Error).name);
        }
        out.bad = bad;
        return out;
      },
      { procs: 2 },
    );
    expect(r).toEqual({
      beforeCancel: 'nothing',
      afterCancel: 'a',
      stopAfterRun: false,
      stopB: [true, false],
      afterStop: 'nothing',
      immediately: 'c',
      onM: 'deadline',
      viaParent: 'via parent',
      bad: ['FreeVariableError', 'TypeError'],
    });
  });

  it('afterFunc racing stop() against a cancel on another thread: each runs once or is stopped, never both', async () => {
    const n = 400;
    const r = await run(
      async () => {
        let ran = 0;
        let stopped = 0;
        const counted = new AtomicInt32();
        for (let round = 0; round < 4; round++) {
          // The context's deadline timer lives on an M, which cancels it while main is still
          // registering and stopping afterFuncs on it.
          const ctx = await spawn(async () => withTimeout(background(), 2)[0]);
          const stops: Array<() => boolean> = [];
          for (let i = 0; i < n; i++) {
            stops.push(afterFunc(ctx, (c: AtomicInt32) => void c.add(1), counted));
            if (i % 3 === 0 && stops[i - 1] !== undefined && stops[i - 1]!()) stopped++;
          }
          await ctx.done().recv();
          for (let i = 0; i < n; i++) if (i % 3 !== 1 && stops[i]!()) stopped++; // too late: false
          ran = 0;
        }
        for (let k = 0; k < 400 && counted.load() + stopped < 4 * n; k++) await sleep(5);
        await sleep(20); // a goroutine started by mistake after a successful stop would show here
        ran = counted.load();
        return { ran, stopped };
      },
      { procs: 2 },
    );
    expect(r.ran + r.stopped).toBe(4 * 400);
  });
});
