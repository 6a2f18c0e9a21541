/**
 * Reclamation of runtime objects (value/refs.ts, runtime/anchors.ts), on real workers.
 *
 * Per kind: a record is freed once the last holder goes, whether its objects were made on
 * main or on an M; and it is not freed while a buffered value, an argument block, a parked
 * goroutine, a child context or a done channel still names it — each such case runs with
 * checkfree on (freed blocks poisoned), then uses the object after its last JS object on the
 * creating thread was collected. A context canceled or a channel drained releases at once,
 * without waiting for a collection. And the invariants broken on purpose: one release too
 * many makes the next decode a RuntimeFatalError naming the stale handle; a write into a
 * freed block is caught by checkfree when the block is reused.
 *
 * Counts come from stats().memory (a heap census), after collect() (every thread runs a full
 * GC); settle() polls until the expected count is reached, and fails with the last census
 * after a bound (a leak shows as a count that never comes down).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  run,
  chan,
  go,
  spawn,
  sleep,
  numGoroutine,
  select,
  recv,
  after,
  Mutex,
  RWMutex,
  WaitGroup,
  Once,
  Cond,
  Semaphore,
  AtomicInt32,
  AtomicBigInt64,
  Group,
  type Chan,
} from 'gort';
import { background, withCancel, withValue, withTimeout, afterFunc, type Context } from 'gort/context';
import { stats, collect } from 'gort/debug';

type Counts = Record<string, number>;

function counts(): Counts {
  const out: Counts = {};
  for (const [k, v] of Object.entries(stats().memory.objects)) out[k] = v.count;
  return out;
}

/** Collect until every kind in `want` is at most its count (or exactly, with `exact`); the last census if never. */
async function settle(want: Counts, exact = false): Promise<Counts> {
  let c: Counts = {};
  for (let i = 0; i < 60; i++) {
    await collect();
    c = counts();
    const ok = Object.entries(want).every(([k, n]) => (exact ? (c[k] ?? 0) === n : (c[k] ?? 0) <= n));
    if (ok) return c;
    await sleep(20);
  }
  throw new Error(`objects never settled to ${JSON.stringify(want)}: last census ${JSON.stringify(c)}`);
}

let saved: string | undefined;
beforeAll(() => {
  saved = process.env['GORT_DEBUG'];
  process.env['GORT_DEBUG'] = 'checkfree=1';
});
afterAll(() => {
  if (saved === undefined) delete process.env['GORT_DEBUG'];
  else process.env['GORT_DEBUG'] = saved;
});

const opts = { procs: 2 };

describe('freed when the last holder goes', () => {
  const kinds: [string, () => unknown][] = [
    ['Chan', () => chan(4)],
    ['Mutex', () => new Mutex()],
    ['RWMutex', () => new RWMutex()],
    ['WaitGroup', () => new WaitGroup()],
    ['Once', () => new Once()],
    ['Semaphore', () => new Semaphore(3)],
    ['AtomicInt32', () => new AtomicInt32()],
    ['AtomicBigInt64', () => new AtomicBigInt64()],
    ['Group', () => new Group()],
  ];
  it.each(kinds)('%s: 2,000 made on main and 2,000 on an M, dropped, are freed', async (name, make) => {
    await run(async () => {
      const base = (counts()[name] ?? 0);
      for (let i = 0; i < 2000; i++) make();
      expect(counts()[name]).toBeGreaterThanOrEqual(base + 2000);
      await settle({ [name]: base });
      const kind = name;
      const made = await spawn(async (kind: string) => {
        const ctors: Record<string, () => unknown> = {
          Chan: () => chan(4),
          Mutex: () => new Mutex(),
          RWMutex: () => new RWMutex(),
          WaitGroup: () => new WaitGroup(),
          Once: () => new Once(),
          Semaphore: () => new Semaphore(3),
          AtomicInt32: () => new AtomicInt32(),
          AtomicBigInt64: () => new AtomicBigInt64(),
          Group: () => new Group(),
        };
        for (let i = 0; i < 2000; i++) ctors[kind]!();
        return 2000;
      }, kind);
      expect(made).toBe(2000);
      await settle({ [name]: base });
    }, opts);
  });

  it('Cond keeps its Mutex; both go with the Cond', async () => {
    await run(async () => {
      const base = counts();
      let c: Cond | null = new Cond(new Mutex());
      await settle({ Mutex: (base['Mutex'] ?? 0) + 1 }, true); // the Mutex object is garbage; the Cond holds it
      await c.L.lock();
      c.L.unlock();
      c = null;
      await settle({ Mutex: base['Mutex'] ?? 0, Cond: base['Cond'] ?? 0 });
    }, opts);
  });

  it('contexts: withCancel, withTimeout and withValue chains, canceled or not, are freed', async () => {
    await run(async () => {
      background();
      const base = counts()['Context'] ?? 0;
      // In a function of its own: a suspended async function keeps its dead registers (the
      // last values of a loop) alive, which would hold the chain's tail.
      const work = (): unknown => {
        let ctx: Context = background();
        for (let i = 0; i < 500; i++) {
          ctx = withValue(ctx, 'k', i);
          const [c2] = withCancel(ctx);
          ctx = c2;
        }
        for (let i = 0; i < 2000; i++) {
          const [c, cancel] = withTimeout(background(), 60_000);
          void c.done();
          cancel();
        }
        return ctx.value('k');
      };
      expect(work()).toBe(499);
      await settle({ Context: base, Chan: 0 });
    }, opts);
  });
});

describe('not freed while something else names it (checkfree)', () => {
  it('a channel buffered inside another channel outlives its objects', async () => {
    await run(async () => {
      const outer = chan<Chan<number>>(1);
      await spawn(async (outer: Chan<Chan<number>>) => {
        const inner = chan<number>(1);
        await inner.send(42);
        await outer.send(inner);
      }, outer);
      await settle({ Chan: 2 }, true); // the M's object for inner is garbage; outer's slot holds it
      const inner = await outer.recv();
      expect(await inner!.recv()).toBe(42);
    }, opts);
  });

  it('an argument block (a pending afterFunc) holds a channel and a context', async () => {
    await run(async () => {
      const out = chan<number>(1);
      const [ctx, cancel] = withCancel(background());
      (() => {
        const c = chan<number>(1);
        const [inner] = withCancel(withValue(background(), 'x', 5));
        afterFunc(ctx, async (c: Chan<number>, inner: Context, out: Chan<number>) => {
          await c.send(inner.value('x') as number);
          await out.send((await c.recv())!);
        }, c, inner, out);
      })();
      await settle({ Chan: 2 }, true); // out, and c held by the args
      cancel();
      expect(await out.recv()).toBe(5);
      void ctx;
    }, opts);
  });

  it('a goroutine parked on a channel keeps it after every other holder is gone', async () => {
    await run(async () => {
      const out = chan<number>();
      (() => {
        const c = chan<number>();
        go(async (c: Chan<number>, out: Chan<number>) => {
          await out.send((await c.recv())!);
        }, c, out);
        go(async (c: Chan<number>) => {
          await sleep(300);
          await c.send(7);
        }, c);
      })();
      for (let i = 0; i < 5; i++) await collect();
      expect(await out.recv()).toBe(7);
    }, opts);
  });

  it('a child context keeps its parent; a done() waiter sees the parent cancel after the child was dropped', async () => {
    await run(async () => {
      const bg = background();
      const base = counts()['Context'] ?? 0;
      const [p, cancelP] = withCancel(withValue(bg, 'user', 'ada'));
      const out = chan<string>();
      await collect(); // ends this thread's epoch: the child below is not kept by p's (runtime/anchors.ts)
      (() => {
        const [child] = withCancel(p);
        go(async (done: Chan<void>, child: Context, out: Chan<string>) => {
          const user = child.value('user') as string;
          await done.recv();
          await out.send(`${user}: ${String(child.err()?.message)}`);
        }, child.done(), child, out);
      })();
      await sleep(50);
      for (let i = 0; i < 5; i++) await collect();
      cancelP();
      expect(await out.recv()).toBe('ada: context canceled');
      await settle({ Context: base + 2 }); // p and its value parent, still held here
      void p;
    }, opts);
  });

  it('a goroutine waiting on done() of a context nobody else holds is woken by the parent', async () => {
    await run(async () => {
      const [p, cancelP] = withCancel(background());
      const woke = chan<boolean>();
      go(async (done: Chan<void>, woke: Chan<boolean>) => {
        await done.recv();
        await woke.send(true);
      }, withCancel(p)[0].done(), woke);
      await sleep(50);
      for (let i = 0; i < 5; i++) await collect();
      cancelP();
      expect(await woke.recv()).toBe(true);
      void p;
    }, opts);
  });
});

describe('a parked goroutine keeps what it waits on, even where V8 drops the local', () => {
  // An optimized async function does not keep a local it no longer uses across an await:
  // `await c.done().recv()` as the last use of the channel leaves it collectable while the
  // goroutine waits. The waiter itself pins it (LocalPromises.keep, LocalWaiter.keep). Warmed
  // up first, so that the goroutine's code is optimized when it parks for real.
  // `wait`: a sleep first, past the M's epoch (25 ms) in the real run, so that the objects
  // the goroutine makes do not share an epoch with its parameters, which V8 does keep.
  const shapes: [string, (p: Context, woke: Chan<number>, n: number, wait: number) => Promise<void>][] = [
    ['withCancel', async (p, woke, n, wait) => {
      await sleep(wait);
      const [c] = withCancel(p);
      await c.done().recv();
      await woke.send(n);
    }],
    ['withValue', async (p, woke, n, wait) => {
      await sleep(wait);
      const ctx = withValue(p, 'k', n);
      await ctx.done().recv();
      await woke.send(n);
    }],
    ['a channel of its own, on its M', async (p, woke, n, wait) => {
      await sleep(wait);
      const c = chan<number>();
      go(async (p: Context, c: Chan<number>) => {
        await p.done().recv();
        c.close();
      }, p, c);
      await c.recv();
      await woke.send(n);
    }],
  ];
  it.each(shapes)('%s: 20 goroutines parked after a warm-up of 20,000 all wake on cancel', async (_, f) => {
    await run(async () => {
      const [p0, c0] = withCancel(background());
      c0();
      const sink = chan<number>(1000);
      // The warm-up takes the same path as the real run (a branch never taken would send the
      // optimized code back to the interpreter, which keeps every local): 1,000 at a time.
      for (let i = 0; i < 20_000; i += 1000) {
        for (let k = 0; k < 1000; k++) go(f, p0, sink, i + k, 0);
        for (let k = 0; k < 1000; k++) await sink.recv();
      }
      const [p, cancelP] = withCancel(background());
      const woke = chan<number>(20);
      for (let i = 0; i < 20; i++) go(f, p, woke, i, 60);
      await sleep(200);
      for (let i = 0; i < 5; i++) await collect();
      cancelP();
      const got = new Set<number>();
      for (let i = 0; i < 20; i++) {
        const r = await select([recv(woke), recv(after(5000), () => -1)]);
        if (r === -1) break;
        got.add(r as number);
      }
      expect(got.size).toBe(20);
    }, opts);
  });

  it('a shared channel that only a parked goroutine names is kept, not freed under it', async () => {
    // Made on main (so shared), received into a local that V8 drops once the goroutine's
    // code is optimized: only the waiter keeps it (LocalPromises.keep). Freed under the
    // waiter, the collection would stop the runtime with a RuntimeFatalError.
    const r = await run(async () => {
      const box = chan<Chan<number>>(1000);
      const done = chan<number>(1000);
      const f = async (box: Chan<Chan<number>>, done: Chan<number>, wait: number): Promise<void> => {
        await sleep(wait);
        const c = (await box.recv())!;
        const v = await c.recv();
        await done.send(v!);
      };
      for (let i = 0; i < 20_000; i += 1000) {
        for (let k = 0; k < 1000; k++) {
          const c = chan<number>(1);
          await c.send(i + k);
          await box.send(c);
          go(f, box, done, 0);
        }
        for (let k = 0; k < 1000; k++) await done.recv();
      }
      for (let i = 0; i < 20; i++) {
        await box.send(chan<number>()); // nobody will ever send on these
        go(f, box, done, 60);
      }
      await sleep(200);
      for (let i = 0; i < 5; i++) await collect();
      await sleep(100);
      return numGoroutine();
    }, opts);
    expect(r).toBe(21); // main and the 20, still parked, as in Go
  });
});

describe('holders that hand over', () => {
  it('20,000 children of one parent, canceled or left, are freed while the parent lives; the parent still cancels', async () => {
    await run(async () => {
      const [p, cancelP] = withCancel(background());
      const kept = withCancel(p)[0];
      await collect(); // ends this thread's epoch, which p and kept keep alive
      // In a function of its own: a suspended async function keeps its dead registers (the
      // loop's last objects), and they would keep their epoch.
      const children = (): void => {
        for (let i = 0; i < 20_000; i++) {
          const [c, cancel] = withCancel(p);
          if (i % 2 === 0) cancel();
          else void c;
        }
      };
      children();
      await settle({ Context: 3 }); // background, p, kept
      cancelP();
      expect(kept.err()?.message).toBe('context canceled');
    }, opts);
  });

  it("a channel's buffer holds the channels it carries; receiving them hands them over", async () => {
    await run(async () => {
      const box = chan<Chan<number>>(100);
      await collect(); // ends this thread's epoch, which box keeps alive
      for (let i = 0; i < 100; i++) await box.send(chan<number>());
      await settle({ Chan: 101 }, true); // the 100 held by box's buffer only
      box.close();
      const drain = async (): Promise<number> => {
        let n = 0;
        for await (const c of box) if (c.cap === 0) n++;
        return n;
      };
      expect(await drain()).toBe(100);
      await settle({ Chan: 1 });
    }, opts);
  });
});

describe('[Symbol.dispose]', () => {
  it('releases at once (no collection) when it is the only object for the record on its thread, then refuses use', async () => {
    await run(async () => {
      const base = counts();
      const c = chan<number>(1);
      const [ctx] = withCancel(background());
      const mu = new Mutex();
      c[Symbol.dispose]();
      ctx[Symbol.dispose]();
      mu[Symbol.dispose]();
      c[Symbol.dispose](); // idempotent
      const now = counts();
      expect(now['Chan'] ?? 0).toBe(base['Chan'] ?? 0);
      expect(now['Mutex'] ?? 0).toBe(base['Mutex'] ?? 0);
      expect(now['Context'] ?? 0).toBe((base['Context'] ?? 0) + 1); // background() stays, the child went
      expect(() => c.send(1)).toThrow(/Chan was disposed/);
      expect(() => c.len).toThrow(/Chan was disposed/);
      expect(() => ctx.err()).toThrow(/Context was disposed/);
      expect(() => withCancel(ctx)).toThrow(/withCancel\(\) was given a Context that was disposed/);
      expect(() => mu.unlock()).toThrow(/Mutex was disposed/);
      expect(() => go((c: Chan<number>) => c.close(), c)).toThrow(/Chan was disposed/);
    }, opts);
  });

  it('keeps the record while another object on the thread or a slot still names it', async () => {
    await run(async () => {
      const box = chan<Chan<number>>(1);
      const c = chan<number>(1);
      await c.send(9);
      await box.send(c);
      c[Symbol.dispose]();
      const again = await box.recv();
      expect(await again!.recv()).toBe(9);
    }, opts);
  });
});

describe('invariants broken on purpose', () => {
  it('one release too many: the next decode of that handle is a RuntimeFatalError naming it, not another object', async () => {
    const msg = await run(async () => {
      const box = chan<Chan<number>>(1);
      type Inside = { h: number; t: { heap: { release(h: number): boolean; freeCounted(h: number): void; refsOf(h: number): number } }; anchor: { hold: { dead: boolean } } };
      const c = chan<number>(1) as unknown as Inside;
      await box.send(c as unknown as Chan<number>);
      const heap = c.t.heap;
      c.anchor.hold.dead = true; // its finalizer must not release them again
      // Every reference, the slot's among them, dropped behind the holders' backs: freed while the slot still names it.
      for (let n = heap.refsOf(c.h); n > 0; n--) if (heap.release(c.h)) heap.freeCounted(c.h);
      chan<number>(1); // may reuse the block, with another generation
      try {
        await box.recv();
        return 'decoded';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    }, { procs: 1 });
    expect(msg).toMatch(/^RuntimeFatalError: runtime: stale handle: a Chan handle \d+ of generation \d+ was decoded/);
  });

  it('checkfree: a write into a freed block is fatal when the block is reused', async () => {
    const { Heap } = await import('../dist/heap/heap.js');
    const heap = Heap.create(1, { maxBytes: 1 << 20, checkFree: true });
    const h = heap.alloc(40);
    heap.free(h);
    heap.i32[(h >> 2) + 3] = 1234; // use after free
    expect(() => {
      for (let i = 0; i < 200; i++) heap.alloc(40);
    }).toThrow(/written after it was freed/);
  });
});
