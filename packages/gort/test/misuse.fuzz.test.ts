// The misuse fuzzer: property-based calls of the public API with wrong-typed arguments and
// objects of the wrong kind (a channel where a context belongs, a WaitGroup in a select case,
// {}, numbers, strings, NaN, huge numbers, functions, null/undefined, forged handles and refs)
// on a real runtime. Each call must either work or throw/reject a typed error (TypeError or
// RangeError with a `gort:`-style prefix, or a gort error class) within a second; afterwards
// the runtime must still work: a channel round trip and a spawn, no panic, and values
// buffered in channels that were passed where contexts belong come back intact.
//
// Calls are chosen so that a correct runtime never blocks in them (selects carry a default,
// channel operations are trySend/tryRecv, no wait/lock/acquire): a call still pending after
// a second is a failure. A call that spins synchronously (the old failure mode: a lock loop
// on a NaN handle) cannot be raced on its own thread, so a watchdog thread prints the call
// and the seed and kills the process after 5 s of no progress.
//
//   GORT_FUZZ_SEED=<n> npx vitest run packages/gort/test/misuse.fuzz   # replay a failure
//   GORT_FUZZ_RUNS=2000 npx vitest run packages/gort/test/misuse.fuzz  # explore longer
//
// fast-check prints the seed (and the shrunk counterexample) of a failing run.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import {
  start,
  spawn,
  go,
  chan,
  select,
  recv,
  send,
  timer,
  after,
  tick,
  exportRef,
  attach,
  Chan,
  WaitGroup,
  Mutex,
  RWMutex,
  Once,
  Cond,
  Semaphore,
  AtomicInt32,
  AtomicBigInt64,
  SyncError,
  ClosedChannelError,
  RuntimeStateError,
  background,
  withCancel,
  withCancelCause,
  withTimeout,
  withTimeoutCause,
  withDeadline,
  withDeadlineCause,
  withValue,
  withoutCancel,
  afterFunc,
  Context,
  Group,
  CanceledError,
  DeadlineExceededError,
  type Runtime,
} from 'gort';
import { withContext } from 'gort/errgroup';

const SEED = process.env['GORT_FUZZ_SEED'] !== undefined ? Number(process.env['GORT_FUZZ_SEED']) : (Date.now() ^ (Math.random() * 0x7fffffff)) | 0;
const RUNS = Number(process.env['GORT_FUZZ_RUNS'] ?? '400');
const CALL_MS = 1000;
const DEBUG = process.env['GORT_FUZZ_DEBUG'] === '1';

/** What a failed call may throw: the typed errors of the API. */
function typedError(e: unknown): string | null {
  if (e instanceof TypeError || e instanceof RangeError) {
    return /^(gort|sync|semaphore|makechan|context|errgroup):/.test(e.message) ? null : `untyped message: ${e.name}: ${e.message}`;
  }
  if (e instanceof SyncError || e instanceof ClosedChannelError || e instanceof RuntimeStateError) return null;
  if (e instanceof CanceledError || e instanceof DeadlineExceededError) return null; // a done context given to a call that takes one
  return `not a typed error: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`;
}

/** A watchdog on another thread: kills the process when a call spins synchronously. */
function watchdog(): { enter(what: string): void; leave(): void; stop(): Promise<number> } {
  const sab = new SharedArrayBuffer(8 + 4096);
  const ctl = new Int32Array(sab, 0, 2); // [calls entered, inside a call]
  const text = new Uint8Array(sab, 8);
  const w = new Worker(
    `const { workerData: { sab, seed } } = require('node:worker_threads');
     const ctl = new Int32Array(sab, 0, 2);
     let last = -1, since = Date.now();
     setInterval(() => {
       const n = Atomics.load(ctl, 0);
       if (n !== last || Atomics.load(ctl, 1) === 0) { last = n; since = Date.now(); return; }
       if (Date.now() - since < 5000) return;
       const bytes = new Uint8Array(sab, 8);
       const end = bytes.indexOf(0);
       const what = Buffer.from(bytes.slice(0, end < 0 ? bytes.length : end)).toString();
       require('node:fs').writeSync(2, '\\nmisuse fuzzer: a call spun for 5 s without returning: ' + what + '\\nreplay with GORT_FUZZ_SEED=' + seed + '\\n');
       process.kill(process.pid, 'SIGKILL');
     }, 250);`,
    { eval: true, workerData: { sab, seed: SEED } },
  );
  w.unref();
  return {
    enter(what: string) {
      const b = Buffer.from(what.slice(0, 4000));
      text.fill(0);
      text.set(b);
      Atomics.add(ctl, 0, 1);
      Atomics.store(ctl, 1, 1);
    },
    leave() {
      Atomics.store(ctl, 1, 0);
    },
    stop: () => w.terminate(),
  };
}

/** The objects and values the calls are made with. Built once the runtime runs. */
interface Pool {
  /** Channels never used as channels: only passed where something else belongs. Each holds SENTINELS. */
  sentinels: Chan<unknown>[];
  /** Everything an argument may be. */
  values: unknown[];
  /** Channels the calls may operate on. */
  chans: Chan<unknown>[];
  cancels: Array<() => void>;
  /** A closed channel: a receive from it never waits. */
  closed: Chan<unknown>;
}
const SENTINELS = [7, 'x', { deep: [1, 'two', null] }];

function label(v: unknown): string {
  try {
    if (typeof v === 'function') return `fn ${v.name || '(anon)'}`;
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'symbol') return String(v);
    if (typeof v === 'object' && v !== null) return `${Object.getPrototypeOf(v)?.constructor?.name ?? 'null-proto'}${Array.isArray(v) ? `(${v.length})` : ''}`;
    return typeof v === 'string' ? JSON.stringify(v) : String(v);
  } catch {
    return '?';
  }
}

function buildPool(rt: Runtime): Pool {
  const bg = background();
  const cancels: Array<() => void> = [];
  const [c1, k1] = withCancel(bg);
  const [c2, k2] = withTimeout(bg, 60_000);
  const [c3, k3] = withCancelCause(bg);
  cancels.push(k1, k2, k3);
  const [canceled, kc] = withCancel(bg);
  kc();
  const [grp, gctx] = withContext(bg);
  const sentinels = [chan<unknown>(3), chan<unknown>(5)]; // room for every SENTINEL, and for 2 more on the second
  const chans = [chan<unknown>(), chan<unknown>(2), after(60_000), timer(60_000).c, c1.done(), canceled.done()];
  const mu = new Mutex();
  const forgedChan = { [Symbol.for('gort.handle')]: () => [2, exportRef(c1).handle] };
  const forgedJunk = { [Symbol.for('gort.handle')]: () => 'junk' };
  const ref = exportRef(sentinels[0]!);
  const values: unknown[] = [
    // runtime objects, each kind
    ...sentinels,
    ...chans,
    bg,
    c1,
    c2,
    c3,
    canceled,
    withValue(c1, 'k', 'v'),
    gctx,
    grp,
    new WaitGroup(),
    mu,
    new RWMutex(),
    new Once(),
    new Cond(mu),
    new Semaphore(3),
    new AtomicInt32(5),
    new AtomicBigInt64(5n),
    // plain values of every type, and the classic slips
    undefined,
    null,
    true,
    0,
    -0,
    1,
    -1,
    3,
    100,
    1.5,
    NaN,
    Infinity,
    -Infinity,
    2 ** 31 - 1,
    2 ** 31,
    2 ** 32,
    -(2 ** 31),
    2 ** 53,
    Number.MAX_VALUE,
    '',
    '100',
    'k',
    5n,
    Symbol('s'),
    {},
    [],
    [1, 2],
    { default: 5 },
    { default: () => 'd' },
    { dir: 'recv', ch: chans[1], fn: () => 1 },
    new Date(NaN),
    new Date(Date.now() + 60_000),
    new WeakMap(),
    new WeakSet(),
    new WeakRef({}),
    Promise.resolve(1),
    new (class Point {
      x = 1;
    })(),
    new Error('an error'),
    new Uint8Array(4),
    forgedChan,
    forgedJunk,
    ref,
    { ...ref, handle: exportRef(c1).handle },
    { ...ref, kind: 99 },
    { ...ref, handle: 12345 },
    { gort: 'ref', sab: 1, kind: 2, handle: 8 },
    { gort: 'ref', sab: rt.heap.sab, kind: 10, handle: exportRef(c2).handle },
    // goroutine functions that work anywhere (no free variables, never throw)
    () => 1,
    async () => 'a',
    (a: unknown) => a,
    function named(a: unknown, b: unknown) {
      return [typeof a, typeof b];
    },
  ];
  const closed = chan<unknown>();
  closed.close();
  return { sentinels, values, chans, cancels, closed };
}

type Call = { name: string; run: (p: Pool) => unknown };

/** The calls: name(args) with args drawn from the pool by index. */
function callArb(pool: Pool): fc.Arbitrary<Step> {
  const n = pool.values.length;
  const valueArb = fc.oneof(
    { weight: 4, arbitrary: fc.nat({ max: n - 1 }).map((i) => pool.values[i]) },
    { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 8 }), fc.constant(undefined)) },
  );
  return fc.record({ op: fc.nat({ max: OPS.length - 1 }), args: fc.array(valueArb, { maxLength: 4 }) }).map((r) => new Step(r.op, r.args));
}

/** One call; printed by fast-check as the call it makes (its values may hold the 1 GiB heap buffer). */
class Step {
  constructor(
    readonly op: number,
    readonly args: unknown[],
  ) {}
  toString(): string {
    return `${OPS[this.op]![0]}(${this.args.map(label).join(', ')})`;
  }
  [fc.toStringMethod](): string {
    return this.toString();
  }
}

const NOT_SENTINEL = (p: Pool, v: unknown): unknown => (p.sentinels.includes(v as Chan<unknown>) ? null : v);
/** One of the pool's channels, chosen by an argument (any value). */
const pick = (p: Pool, x: unknown): Chan<unknown> => p.chans[typeof x === 'number' && Number.isFinite(x) ? Math.abs(x | 0) % p.chans.length : 0]!;
const a0 = (args: unknown[]): never => args[0] as never;
const a1 = (args: unknown[]): never => args[1] as never;
const a2 = (args: unknown[]): never => args[2] as never;

/** [name, run(pool, args)] — every public entry point that takes arguments. */
const OPS: Array<[string, (p: Pool, args: unknown[]) => unknown]> = [
  ['withCancel', (_, a) => withCancel(a0(a))],
  ['withCancelCause', (_, a) => withCancelCause(a0(a))],
  ['withTimeout', (_, a) => withTimeout(a0(a), a1(a))],
  ['withTimeoutCause', (_, a) => withTimeoutCause(a0(a), a1(a), a2(a))],
  ['withDeadline', (_, a) => withDeadline(a0(a), a1(a))],
  ['withDeadlineCause', (_, a) => withDeadlineCause(a0(a), a1(a), a2(a))],
  ['withValue', (_, a) => withValue(a0(a), a1(a), a2(a))],
  ['withoutCancel', (_, a) => withoutCancel(a0(a))],
  ['afterFunc', (_, a) => afterFunc(a0(a), a1(a), ...a.slice(2))],
  ['withContext', (_, a) => withContext(a0(a))],
  ['new Context', (_, a) => new (Context as unknown as new (h: unknown) => Context)(a0(a))],
  ['recv', (p, a) => recv(NOT_SENTINEL(p, a[0]) as never, a1(a))],
  ['send', (p, a) => send(NOT_SENTINEL(p, a[0]) as never, a[1], a2(a))],
  ['select recv', (p, a) => select([recv(NOT_SENTINEL(p, a[0]) as never, a1(a))], { default: () => 'default' })],
  ['select send', (p, a) => select([send(NOT_SENTINEL(p, a[0]) as never, a[1], a2(a))], { default: () => 'default' })],
  ['select cases', (p, a) => select(a.map((x) => NOT_SENTINEL(p, x)) as never, { default: () => 'default' })],
  // On a closed channel: with any options object (a default or not) it returns at once.
  ['select options', (p, a) => select([recv(p.closed)], a0(a))],
  ['select junk', (_, a) => select(a0(a), { default: () => 'd' })],
  ['chan', (_, a) => chan(a0(a))],
  ['new Chan(handle)', (_, a) => new (Chan as unknown as new (c: number, h: unknown) => Chan)(0, a0(a))],
  ['trySend', (p, a) => pick(p, a[1]).trySend(a[0])],
  ['tryRecv', (p, a) => pick(p, a[0]).tryRecv()],
  ['close', (p, a) => pick(p, a[0]).close()],
  ['timer', (_, a) => timer(a0(a)).stop()],
  ['after', (_, a) => after(a0(a))],
  ['tick', (_, a) => tick(a0(a)).stop()],
  ['timer reset', (_, a) => {
    const t = timer(60_000);
    try {
      return t.reset(a0(a));
    } finally {
      t.stop();
    }
  }],
  ['go', (_, a) => go(a0(a), ...a.slice(1))],
  ['spawn', (_, a) => spawn(a0(a), ...a.slice(1))],
  ['new WaitGroup(handle)', (_, a) => new (WaitGroup as unknown as new (h: unknown) => WaitGroup)(a0(a))],
  ['wg.add', (_, a) => {
    const wg = new WaitGroup();
    wg.add(a0(a));
    return wg.add(a1(a));
  }],
  ['wg.go', (_, a) => new WaitGroup().go(a0(a), ...a.slice(1))],
  ['new Mutex(handle)', (_, a) => new (Mutex as unknown as new (h: unknown) => Mutex)(a0(a))],
  ['mutex.tryLock', (_, a) => new (Mutex as unknown as new (h: unknown) => Mutex)(a0(a)).tryLock()],
  ['once.do', (_, a) => new Once().do(a0(a))],
  ['new Cond', (_, a) => new Cond(a0(a))],
  ['new Semaphore', (_, a) => new Semaphore(a0(a))],
  ['sem.tryAcquire', (_, a) => new Semaphore(3).tryAcquire(a0(a))],
  ['sem.release', (_, a) => new Semaphore(3).release(a0(a))],
  ['sem.acquire ctx', (_, a) => (a[1] === undefined ? null : new Semaphore(3).acquire(1, a1(a)))],
  ['AtomicInt32', (_, a) => {
    const x = new AtomicInt32(a0(a));
    x.add(a1(a));
    return x.compareAndSwap(a1(a), a2(a));
  }],
  ['AtomicBigInt64', (_, a) => {
    const x = new AtomicBigInt64(a0(a));
    x.store(a1(a));
    return x.add(a2(a));
  }],
  ['group.go', (_, a) => {
    const [g] = withContext(background());
    return g.go(a0(a), ...a.slice(1)).then(() => g.wait());
  }],
  ['group.setLimit', (_, a) => new Group().setLimit(a0(a))],
  ['exportRef', (_, a) => exportRef(a0(a))],
  ['attach', (_, a) => attach(a0(a))],
];

/**
 * The same on an M, inside one goroutine (channels made there are local to it: the other
 * code path). An inline goroutine sees only its parameters and gort's names, so its pool and
 * its calls are built in it; `steps` are [call, argument indices…] chosen by fast-check.
 * Returns the problems found (an empty list when every call behaved).
 */
async function fuzzOnM(steps: number[][], callMs: number): Promise<string[]> {
  const problems: string[] = [];
  const bg = background();
  const [ctx, cancel] = withCancel(bg);
  const sentinel = chan<unknown>(3);
  const SENT = [7, 'x', { deep: [1, null] }];
  for (const v of SENT) await sentinel.send(v);
  const local = chan<unknown>(2);
  const closed = chan<unknown>();
  closed.close();
  const mu = new Mutex();
  const pool: unknown[] = [
    sentinel, local, chan(), ctx, ctx.done(), after(60_000), bg, new WaitGroup(), mu, new Cond(mu), new Semaphore(2),
    new AtomicInt32(1), new Once(), undefined, null, 0, -1, 1.5, NaN, Infinity, 2 ** 31, 2 ** 32, '', '100', {}, [], 5n,
    () => 1, { default: 3 }, new WeakMap(), Promise.resolve(1),
  ];
  const notSentinel = (v: unknown): unknown => (v === sentinel ? null : v);
  const calls: Array<[string, (a: unknown[]) => unknown]> = [
    ['withCancel', (a) => withCancel(a[0] as never)],
    ['withTimeout', (a) => withTimeout(a[0] as never, a[1] as never)],
    ['withDeadline', (a) => withDeadline(a[0] as never, a[1] as never)],
    ['withValue', (a) => withValue(a[0] as never, a[1] as never, a[2])],
    ['afterFunc', (a) => afterFunc(a[0] as never, a[1] as never)],
    ['select recv', (a) => select([recv(notSentinel(a[0]) as never, a[1] as never)], { default: () => 'd' })],
    ['select send', (a) => select([send(notSentinel(a[0]) as never, a[1], a[2] as never)], { default: () => 'd' })],
    ['select options', (a) => select([recv(closed)], a[0] as never)],
    ['chan', (a) => chan(a[0] as never)],
    ['trySend', (a) => local.trySend(a[0])],
    ['tryRecv', () => local.tryRecv()],
    ['close', (a) => (notSentinel(a[0]) as { close?: () => void } | null)?.close?.()],
    ['wg.add', (a) => new WaitGroup().add(a[0] as never)],
    ['go', (a) => go(a[0] as never, a[1])],
    ['spawn', (a) => spawn(a[0] as never, a[1])],
    ['timer', (a) => timer(a[0] as never).stop()],
    ['new Semaphore', (a) => new Semaphore(a[0] as never)],
    ['AtomicInt32.add', (a) => new AtomicInt32(0).add(a[0] as never)],
  ];
  for (const [k, ...ix] of steps) {
    const [name, f] = calls[k! % calls.length]!;
    const args = ix.map((i) => pool[i! % pool.length]);
    const what = `${name}(${args.map((v) => (typeof v === 'object' && v !== null ? (v.constructor?.name ?? 'null-proto') : typeof v === 'bigint' ? 'bigint' : String(v))).join(', ')}) on an M`;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const r = await Promise.race([
        Promise.resolve(f(args)).then(() => 'ok'),
        new Promise((res) => {
          timer = setTimeout(() => res('timeout'), callMs);
        }),
      ]);
      if (r === 'timeout') problems.push(`${what} neither returned nor threw within ${callMs} ms`);
    } catch (e) {
      const typed =
        ((e instanceof TypeError || e instanceof RangeError) && /^(gort|sync|semaphore|makechan|context|errgroup):/.test(e.message)) ||
        e instanceof SyncError ||
        e instanceof ClosedChannelError ||
        e instanceof CanceledError;
      if (!typed) problems.push(`${what}: not a typed error: ${(e as Error)?.name}: ${(e as Error)?.message}`);
    } finally {
      clearTimeout(timer);
    }
  }
  cancel();
  const got: unknown[] = [];
  for (let k = 0; k <= SENT.length; k++) got.push(sentinel.tryRecv());
  if (JSON.stringify(got) !== JSON.stringify([...SENT.map((v) => [v, true]), null])) problems.push(`the sentinel channel now holds ${JSON.stringify(got)}`);
  return problems;
}

describe('misuse fuzzer', () => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await start({ procs: 2 });
  });
  afterAll(async () => {
    await rt.shutdown();
  });

  it(`each call works or throws a typed error within ${CALL_MS} ms, and the runtime stays usable (seed ${SEED})`, async () => {
    const pool = buildPool(rt);
    for (const c of pool.sentinels) for (const v of SENTINELS) await c.send(v);
    const dog = watchdog();
    let calls = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(callArb(pool), { minLength: 1, maxLength: 8 }), async (seq) => {
          for (const step of seq) {
            const f = OPS[step.op]![1];
            const args = step.args;
            const what = step.toString();
            calls++;
            if (DEBUG) process.stderr.write(`${calls} ${Math.round(performance.now())} ${what}\n`);
            dog.enter(what);
            let outcome: { ok: true } | { ok: false; error: unknown } | { timeout: true };
            let timer: ReturnType<typeof setTimeout> | undefined;
            try {
              const r = f(pool, args);
              outcome = await Promise.race([
                Promise.resolve(r).then(
                  () => ({ ok: true }) as const,
                  (error: unknown) => ({ ok: false, error }) as const,
                ),
                new Promise<{ timeout: true }>((res) => {
                  timer = setTimeout(() => res({ timeout: true }), CALL_MS);
                }),
              ]);
            } catch (error) {
              outcome = { ok: false, error };
            } finally {
              clearTimeout(timer);
              dog.leave();
            }
            if ('timeout' in outcome) throw new Error(`${what} neither returned nor threw within ${CALL_MS} ms`);
            if (!outcome.ok) {
              const why = typedError(outcome.error);
              if (why !== null) throw new Error(`${what}: ${why}`);
            }
            if (rt.error !== null) throw new Error(`${what} broke the runtime: ${rt.error.message}`);
          }
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: process.env['GORT_FUZZ_SHRINK'] !== '1' },
      );
    } finally {
      await dog.stop();
    }
    expect(calls).toBeGreaterThan(RUNS);

    // The runtime still works: a round trip, a spawn, the sentinels intact, no panic. Each
    // step is raced against a timer, so a lost value or wake-up fails instead of hanging.
    const within = <T>(p: Promise<T>, what: string): Promise<T> =>
      Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`after the fuzz run: ${what} did not complete within 5 s`)), 5000).unref())]);
    const c = chan<unknown>();
    const p = spawn(async (c: Chan<unknown>) => {
      const v = await c.recv();
      await c.send(['back', v]);
      return 'spawned';
    }, c);
    await within(c.send({ n: 1 }), 'a send to a new goroutine');
    expect(await within(c.recv(), 'a receive from it')).toEqual(['back', { n: 1 }]);
    expect(await within(p, 'a spawn')).toBe('spawned');
    for (const s of pool.sentinels) {
      const got: unknown[] = [];
      for (let k = 0; k <= SENTINELS.length; k++) got.push(s.tryRecv());
      expect(got).toEqual([...SENTINELS.map((v) => [v, true]), undefined]); // each value once, in order, nothing else
    }
    for (const k of pool.cancels) k();
    expect(rt.error).toBe(null);
  });

  it(`the same inside a goroutine on an M, on channels local to it (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }), async (steps) => {
        const problems = await Promise.race([
          spawn(fuzzOnM, steps, CALL_MS),
          new Promise<string[]>((res) => setTimeout(() => res(['the goroutine did not finish within 10 s']), 10_000).unref()),
        ]);
        expect(problems).toEqual([]);
        expect(rt.error).toBe(null);
      }),
      { seed: SEED, numRuns: Math.max(1, Math.round(RUNS / 8)), endOnFailure: process.env['GORT_FUZZ_SHRINK'] !== '1' },
    );
    const c = chan<number>();
    const p = spawn(async (c: Chan<number>) => c.send(1), c);
    expect(await c.recv()).toBe(1);
    await p;
  });
});
