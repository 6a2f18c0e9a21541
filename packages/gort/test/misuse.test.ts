// Misuse of the public API, one example per case: a wrong object where a runtime object
// belongs, bad arguments, calls after the runtime shut down. Each must be a typed error at
// the call site (TypeError/RangeError prefixed `gort:`/`sync:`/`semaphore:`, or a gort error
// class), nothing may hang or spin, nothing may be lost or corrupted, and a correct program
// around the mistake keeps working. misuse.fuzz.test.ts explores the same ground at random.
//
// Before these checks most of these calls spun forever inside a lock (a NaN handle), so a
// regression shows up as a test that never ends rather than a failed expect.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import {
  start,
  run,
  fromModule,
  spawn,
  chan,
  select,
  recv,
  send,
  timer,
  after,
  exportRef,
  attach,
  Chan,
  WaitGroup,
  Mutex,
  Once,
  Cond,
  Semaphore,
  AtomicInt32,
  AtomicBigInt64,
  SyncError,
  background,
  withCancel,
  withCancelCause,
  withTimeout,
  withTimeoutCause,
  withDeadline,
  withValue,
  withoutCancel,
  afterFunc,
  Context,
  Group,
  RecvOnlyChan,
  type Runtime,
} from 'gort';
import { withContext } from 'gort/errgroup';
import { Kind } from '../src/value/kinds.js';

const GORT_HANDLE = Symbol.for('gort.handle'); // value/codec.ts

/** A value that is not what the API wants, typed as whatever it wants. */
const bad = <T>(v: unknown): T => v as T;
/** Constructors as plain JS sees them: the handle arguments the types hide (revival) are still checked. */
const RawChan = Chan as unknown as new (capacity: number, handle?: unknown) => Chan;
const RawContext = Context as unknown as new (handle: unknown) => Context;

describe('a wrong object where a runtime object belongs (kind checks)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await start({ procs: 2 });
  });
  afterAll(async () => {
    await rt.shutdown();
  });

  it('withCancel(channel) is a TypeError, and values sent on that channel still come back intact', async () => {
    const c = chan<unknown>(4);
    expect(() => withCancel(bad<Context>(c))).toThrow(TypeError);
    expect(() => withCancel(bad<Context>(c))).toThrow(/^gort: withCancel\(\) needs a parent Context .*got a Chan/);
    for (const f of [withoutCancel, (p: Context) => withTimeout(p, 50), (p: Context) => withDeadline(p, Date.now() + 50), (p: Context) => withValue(p, 'k', 1)]) {
      expect(() => f(bad<Context>(c))).toThrow(TypeError);
    }
    expect(() => withContext(bad<Context>(c))).toThrow(/withContext\(\) needs a parent Context/);
    await c.send(7);
    await c.send('x');
    await c.send({ a: [1, 2] });
    expect([await c.recv(), await c.recv(), await c.recv()]).toEqual([7, 'x', { a: [1, 2] }]);
  });

  it('the same inside a goroutine, on a channel local to its M', async () => {
    const r = await spawn(async () => {
      const c = chan<number>(2);
      try {
        withCancel(c as never);
        return ['accepted'];
      } catch (e) {
        await c.send(5);
        return [(e as Error).name, await c.recv()];
      }
    });
    expect(r).toEqual(['TypeError', 5]);
  });

  it('select([recv(ctx, fn)]) and recv(waitGroup, fn) are TypeErrors (they read a bad slot tag, or fired at once)', async () => {
    const [ctx, cancel] = withCancel(background());
    expect(() => recv(bad<Chan>(ctx), () => 1)).toThrow(/^gort: recv\(\) needs a Chan .*got a Context \(for a Context, use ctx\.done\(\)\)/);
    const wg = new WaitGroup();
    wg.add(1);
    expect(() => recv(bad<Chan>(wg), () => 'fired')).toThrow(/^gort: recv\(\) needs a Chan .*got a WaitGroup$/);
    expect(() => send(bad<Chan>(wg), 1)).toThrow(TypeError);
    // The real thing still works.
    cancel();
    expect(await select([recv(ctx.done(), () => 'done')])).toBe('done');
    wg.done();
  });

  it('recv({}, fn), recv(undefined, fn) and a hand-made case object are TypeErrors (they spun)', async () => {
    expect(() => recv(bad<Chan>({}), () => 1)).toThrow(/got a plain object/);
    expect(() => recv(bad<Chan>(undefined), () => 1)).toThrow(TypeError);
    const c = chan<number>(1);
    await c.send(3);
    const handMade = bad<ReturnType<typeof recv<number, number>>>({ dir: 'recv', ch: c, value: undefined, fn: () => 1 });
    expect(() => select([handMade])).toThrow(/^gort: select\(\) case 0 is not a case made by recv\(\) or send\(\)/);
    expect(() => select([recv(c, (v) => v), handMade])).toThrow(/case 1/);
    expect(() => select(bad<[]>('cases'))).toThrow(TypeError);
    expect(await c.recv()).toBe(3); // the bad select took nothing
  });

  it("a context's done() and a timer's c are receive-only: closing done() no longer breaks cancel", async () => {
    const [parent, cancel] = withCancel(background());
    const [child] = withCancel(parent);
    const d = parent.done();
    expect(d).toBeInstanceOf(RecvOnlyChan);
    expect(() => d.close()).toThrow(/^gort: close on a receive-only channel/);
    expect(() => d.send(undefined)).toThrow(TypeError);
    expect(() => d.trySend(undefined)).toThrow(TypeError);
    expect(() => send(d, undefined)).toThrow(/^gort: send\(\) on a receive-only channel/);
    const t = timer(60_000);
    expect(() => t.c.trySend(1)).toThrow(TypeError);
    expect(() => after(60_000).close()).toThrow(TypeError);
    t.stop();
    // On another thread the revived channel is receive-only too.
    expect(await spawn(async (d: Chan<void>) => {
      try {
        d.close();
        return 'closed';
      } catch (e) {
        return (e as Error).name;
      }
    }, d)).toBe('TypeError');
    cancel(); // used to throw ClosedChannelError halfway once a program had closed done()
    expect(await select([recv(child.done(), () => 'child done')])).toBe('child done');
    expect(child.err()?.message).toBe('context canceled');
  });

  it('a Chan (or Context, WaitGroup…) made from a handle of another kind is a TypeError', async () => {
    const [ctx] = withCancel(background());
    const c = chan();
    const ctxH = exportRef(ctx).handle;
    const chanH = exportRef(c).handle;
    expect(() => new RawChan(0, ctxH)).toThrow(/^gort: chan\(\) was given handle \d+, which names a Context, not a Chan/);
    expect(() => new RawContext(chanH)).toThrow(/names a Chan, not a Context/);
    expect(() => new (WaitGroup as unknown as new (h: unknown) => WaitGroup)(chanH)).toThrow(TypeError);
    expect(() => new (Mutex as unknown as new (h: unknown) => Mutex)(12345)).toThrow(/no live runtime object/);
    expect(() => new RawChan(0, 7)).toThrow(TypeError);
    expect(() => new RawChan(0, chanH + 0.5)).toThrow(TypeError); // a handle is an integer
    expect(() => new RawChan(0, bad(String(chanH)))).toThrow(TypeError);
    // A ref made by hand whose handle names something else: refused before anything is revived.
    expect(() => attach({ gort: 'ref', sab: rt.heap.sab, kind: Kind.CHAN, handle: ctxH })).toThrow(/^gort: attach\(\) was given a ref whose handle \d+ names no live Chan/);
    expect(() => attach(bad({ gort: 'ref', sab: 1, kind: 2, handle: 8 }))).toThrow(TypeError);
  });

  it('the record of every runtime object carries its kind', () => {
    const [ctx] = withCancel(background());
    const [g] = withContext(background());
    const objs: Array<[object, number]> = [
      [chan(), Kind.CHAN],
      [chan(3), Kind.CHAN],
      [timer(1000).c, Kind.CHAN],
      [after(1000), Kind.CHAN],
      [ctx, Kind.CONTEXT],
      [ctx.done(), Kind.CHAN],
      [background(), Kind.CONTEXT],
      [withValue(ctx, 'k', 1), Kind.CONTEXT],
      [new WaitGroup(), Kind.WAITGROUP],
      [new Mutex(), Kind.MUTEX],
      [new Once(), Kind.ONCE],
      [new Cond(new Mutex()), Kind.COND],
      [new Semaphore(2), Kind.SEMAPHORE],
      [new AtomicInt32(), Kind.ATOMIC32],
      [new AtomicBigInt64(), Kind.ATOMIC64],
      [g, Kind.GROUP],
    ];
    for (const [o, k] of objs) {
      const ref = exportRef(o as Parameters<typeof exportRef>[0]);
      expect(ref.kind).toBe(k);
      expect(rt.heap.kindOf(ref.handle)).toBe(k);
    }
  });

  it('an object that forges a handle is refused where it is sent, alone or nested', async () => {
    const [ctx] = withCancel(background());
    const ctxH = exportRef(ctx).handle;
    const forged = { [GORT_HANDLE]: () => [Kind.CHAN, ctxH] };
    const c = chan<unknown>(2);
    expect(() => c.send(forged)).toThrow(/claims to be a runtime object/); // synchronously, at the call site
    expect(() => c.trySend({ inner: [forged] })).toThrow(/claims to be a runtime object/);
    expect(() => exportRef(bad(forged))).toThrow(/^gort: exportRef\(\) was given an object whose handle/);
    await c.send('still fine');
    expect(await c.recv()).toBe('still fine');
    expect(ctx.err()).toBe(null);
  });
});

describe('bad arguments (typed errors, no spin, nothing lost)', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await start({ procs: 2 });
  });
  afterAll(async () => {
    await rt.shutdown();
  });

  it('withTimeout(1000), withCancel({}), withTimeout({}, 100) are TypeErrors naming the call (they spun)', () => {
    expect(() => withTimeout(bad<Context>(1000), bad<number>(undefined))).toThrow(
      /^gort: withTimeout\(\) needs a parent Context \(e\.g\. background\(\)\), got number 1000 \(the parent context comes first/,
    );
    expect(() => withCancel(bad<Context>({}))).toThrow(/^gort: withCancel\(\) needs a parent Context .*got a plain object/);
    expect(() => withTimeout(bad<Context>({}), 100)).toThrow(TypeError);
    expect(() => withCancel(bad<Context>(undefined))).toThrow(/got undefined/);
    expect(() => withCancelCause(bad<Context>(null))).toThrow(/got null/);
    expect(() => withTimeoutCause(bad<Context>(5), 5, 'c')).toThrow(TypeError);
    expect(() => afterFunc(bad<Context>({}), () => {})).toThrow(/^gort: afterFunc\(\) needs a Context/);
    expect(() => afterFunc(background(), bad('f'))).toThrow(/^gort: afterFunc\(\) needs a goroutine function, got string "f"/);
  });

  it("withTimeout(bg, '100' | NaN | null | undefined) and bad deadlines are typed errors, not expired contexts", () => {
    const bg = background();
    expect(() => withTimeout(bg, bad<number>('100'))).toThrow(/^gort: withTimeout\(\) needs a timeout in ms \(a number\), got string "100"/);
    expect(() => withTimeout(bg, NaN)).toThrow(RangeError);
    expect(() => withTimeout(bg, Infinity)).toThrow(RangeError);
    expect(() => withTimeout(bg, bad<number>(null))).toThrow(TypeError);
    expect(() => withTimeout(bg, bad<number>(undefined))).toThrow(TypeError);
    expect(() => withTimeoutCause(bg, NaN, 'x')).toThrow(RangeError);
    expect(() => withDeadline(bg, new Date(NaN))).toThrow(/invalid Date/);
    expect(() => withDeadline(bg, bad<number>('soon'))).toThrow(TypeError);
    // What is allowed still works: a negative timeout is already expired, as in Go.
    const [ctx] = withTimeout(bg, -1);
    expect(ctx.err()?.message).toBe('context deadline exceeded');
    const [d] = withDeadline(bg, new Date(Date.now() + 60_000));
    expect(d.err()).toBe(null);
  });

  it('select options: a default that is not a function, or options that are not an object, are TypeErrors', async () => {
    const c = chan<number>(1);
    await c.send(1);
    expect(() => select([recv(c, (v) => v)], bad<never>({ default: 5 }))).toThrow(/^gort: select\(\)'s options\.default must be a function, got number 5/);
    expect(() => select([recv(c, (v) => v)], bad<never>(null))).toThrow(TypeError);
    expect(() => recv(c, bad('fn'))).toThrow(/callback must be a function/);
    expect(await c.recv()).toBe(1);
  });

  it('recv(c) and send(c, v) without a callback: select resolves to the value (it was taken, then lost)', async () => {
    const c = chan<number>(1);
    await c.send(42);
    expect(await select([recv(c)])).toBe(42);
    expect(await select([send(c, 43)])).toBe(undefined);
    expect(await c.recv()).toBe(43);
    c.close();
    expect(await select([recv(c)])).toBe(undefined);
    // Blocking path too: the value arrives after the select parked.
    const d = chan<string>();
    const p = select([recv(d)]);
    await d.send('late');
    expect(await p).toBe('late');
  });

  it('wg.add(2**31) and wg.add(2**32) are RangeErrors; a counter past int32 is refused with the add undone', async () => {
    const wg = new WaitGroup();
    expect(() => wg.add(2 ** 31)).toThrow(/^sync: WaitGroup\.add needs an integer from/);
    expect(() => wg.add(2 ** 32)).toThrow(RangeError);
    expect(() => wg.add(-(2 ** 32))).toThrow(RangeError);
    expect(() => wg.add(1.5)).toThrow(RangeError);
    expect(() => wg.add(NaN)).toThrow(RangeError);
    expect(() => wg.add(bad<number>('1'))).toThrow(TypeError);
    wg.add(2 ** 31 - 1);
    expect(() => wg.add(1)).toThrow(/^sync: WaitGroup counter overflow/);
    wg.add(-(2 ** 31 - 1));
    await wg.wait(); // the counter is 0: nothing was left behind
    expect(() => wg.done()).toThrow(SyncError);
  });

  it('WeakMap, WeakSet, WeakRef, FinalizationRegistry and Promise cannot be sent at all (not "lose their prototype")', async () => {
    const c = chan<unknown>(1);
    for (const v of [new WeakMap(), new WeakSet(), new WeakRef({}), new FinalizationRegistry(() => {}), Promise.resolve(1)]) {
      expect(() => c.send(v)).toThrow(/cannot be sent to another thread at all/);
      expect(() => c.send(v)).not.toThrow(/lose their prototype/);
      expect(() => c.send({ nested: [v] })).toThrow(/the value sent\.nested\[0\] is a/);
    }
    expect(() => c.send(Promise.resolve(1))).toThrow(/await it and send the result/);
    expect(() => c.send(new (class Point {})())).toThrow(/lose their prototype/);
    await c.send(1);
    expect(await c.recv()).toBe(1);
  });

  it('sync and semaphore arguments are checked: int32 ranges, types, functions', async () => {
    expect(() => new Semaphore(2 ** 40)).toThrow(RangeError);
    const s = new Semaphore(2);
    expect(() => s.acquire(1, bad({}))).toThrow(/^semaphore: acquire's second argument must be a Context/);
    expect(() => s.tryAcquire(bad('1'))).toThrow(TypeError);
    expect(() => new AtomicInt32(bad('x'))).toThrow(TypeError);
    const a = new AtomicInt32(5);
    expect(() => a.add(2 ** 40)).toThrow(RangeError);
    expect(() => a.store(1.5)).toThrow(RangeError);
    expect(a.add(1)).toBe(6);
    const b = new AtomicBigInt64(1n);
    expect(() => b.add(bad(5))).toThrow(/^sync: AtomicBigInt64\.add needs a bigint, got number 5/);
    expect(b.add(2n)).toBe(3n);
    const once = new Once();
    await expect(once.do(bad(5))).rejects.toThrow(TypeError);
    expect(once.done).toBe(false); // a bad call does not use the Once up
    expect(() => new Cond(bad({}))).toThrow(/^sync: new Cond\(\) needs a Mutex or an RWMutex, got a plain object/);
    expect(() => new AtomicInt32(bad(5n))).toThrow(/needs an int32 \(a number\), got bigint 5n/);
    const g = new Group();
    expect(() => g.setLimit(bad(Symbol('n')))).toThrow(/^errgroup: setLimit needs an integer, got a symbol/);
    expect(() => g.setLimit(2 ** 40)).toThrow(RangeError);
  });

  it('cond.wait() without holding its lock is a SyncError that leaves no waiter behind to eat a signal', async () => {
    const mu = new Mutex();
    const cond = new Cond(mu);
    await expect(cond.wait()).rejects.toThrow(/^sync: Cond\.wait without holding its lock/);
    await mu.lock();
    const w = cond.wait(); // unlocks mu once queued
    await mu.lock();
    cond.signal();
    mu.unlock();
    const r = await Promise.race([w.then(() => 'woken'), new Promise((res) => setTimeout(() => res('signal lost'), 3000))]);
    expect(r).toBe('woken');
    mu.unlock();
  });

  it('after all of the above the runtime still works', async () => {
    const c = chan<number>();
    const p = spawn(async (c: Chan<number>) => {
      await c.send(1);
      return 'spawned';
    }, c);
    expect(await c.recv()).toBe(1);
    expect(await p).toBe('spawned');
    expect(rt.error).toBe(null);
  });
});

describe('calls after the runtime shut down', () => {
  it('cancel functions are no-ops after run() returned (they threw RuntimeStateError)', async () => {
    const [cancels, stop, t] = await run(() => {
      const bg = background();
      const [, c1] = withCancel(bg);
      const [, c2] = withTimeout(bg, 60_000);
      const [, c3] = withCancelCause(bg);
      const [, c4] = withDeadline(bg, Date.now() + 60_000);
      const [ctx] = withCancel(bg);
      const stop = afterFunc(ctx, () => {});
      return [[c1, c2, c3, c4], stop, timer(60_000)] as const;
    }, { procs: 1 });
    for (const c of cancels) expect(() => c()).not.toThrow();
    expect(() => cancels[2]!(new Error('late cause'))).not.toThrow();
    expect(stop()).toBe(false);
    expect(t.stop()).toBe(false);
    expect(t.reset(10)).toBe(false);
  });

  it('an object of a runtime that has shut down cannot be sent in the next one (its handle would name another object)', async () => {
    let old: Chan<number> | undefined;
    let oldCtx: Context | undefined;
    await run(() => {
      old = chan<number>(1);
      [oldCtx] = withCancel(background());
    }, { procs: 1 });
    const r = await run(async () => {
      const fresh = chan<number>(1); // likely at the same offset as `old` in the new heap
      const out: string[] = [];
      for (const v of [old, oldCtx, { nested: old }]) {
        try {
          await spawn(async (c: unknown) => c, v);
          out.push('sent');
        } catch (e) {
          out.push((e as Error).name);
        }
      }
      expect(() => exportRef(old!)).toThrow(/^gort: this Chan belongs to a runtime that has shut down/);
      await fresh.send(1);
      out.push(String(await fresh.recv()));
      return out;
    }, { procs: 1 });
    expect(r).toEqual(['RuntimeStateError', 'RuntimeStateError', 'RuntimeStateError', '1']);
  });

  it('run() needs a function, start() an options object', async () => {
    await expect(run(bad(5))).rejects.toThrow(/^gort: run\(\) needs the main function, got number 5/);
    await expect(start(bad(null))).rejects.toThrow(/^gort: start\(\)'s options must be an object/);
    await expect(start({ execArgv: bad('--x') })).rejects.toThrow(/^gort: start\(\)'s execArgv must be an array of strings/);
    await expect(start({ sysmon: bad('no') })).rejects.toThrow(TypeError);
    await expect(start({ sysmon: bad(0) })).rejects.toThrow(/^gort: start\(\)'s sysmon must be a boolean, got number 0/);
    await expect(start({ stuckWarnMs: bad('1s') })).rejects.toThrow(/^gort: start\(\)'s stuckWarnMs must be a number of ms, got string/);
    for (const ms of [-1, NaN, Infinity]) await expect(start({ stuckWarnMs: ms })).rejects.toThrow(RangeError);
    expect(() => fromModule(bad(123))).toThrow(/^gort: fromModule\(\) needs a URL or an absolute path, got number 123/);
    expect(await run(() => 'still runs', { procs: 1 })).toBe('still runs');
  });
});
