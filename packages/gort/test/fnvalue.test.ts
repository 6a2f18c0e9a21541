// Functions as values (src/shipping/fnvalue.ts): module functions, inline functions the
// function table takes, and fromModule() objects passed to goroutines, sent on channels and
// in select, nested in objects, Maps and Sets, and returned, on real worker threads (procs 2);
// on the receiving thread they are called, go()-ed and spawned, and sent on again under the
// same table id. Functions that cannot be registered (native, bound, class, capturing) are a
// TypeError at the sending call that says what to send instead.
import { describe, it, expect } from 'vitest';
import { run, start, go, spawn, goid, chan, select, send, numGoroutine, fromModule, WaitGroup, FreeVariableError, type Chan } from 'gort';
import { Group } from 'gort/errgroup';
import { H } from '../src/heap/layout.js';

type Fx = typeof import('./fixtures/fnvalue.mjs');
const url = new URL('./fixtures/fnvalue.mjs', import.meta.url).href;
const fx = fromModule<Fx>(url);

describe('module functions as values', () => {
  it('a module function passed to a goroutine on the other M is called there', async () => {
    const r = await run(() => spawn(fx.elsewhere, fx.double, 21), { procs: 2 });
    expect(r.ranOn, 'the goroutine ran on another M than the one that passed the function').not.toBe(r.from);
    expect(r.ranOn).toBeGreaterThan(0); // a worker, not main (threadId 0)
    expect(r.result).toEqual([42, r.ranOn]); // called, on the thread that received it
  });

  it('sent on a channel (capacity 0 and 10, and in a select send) and go()-ed by the receiver', async () => {
    const r = await run(
      async () => {
        const out: unknown[] = [];
        for (const cap of [0, 10]) {
          const c = chan<(o: Chan<[number, number]>, x: number) => unknown>(cap);
          const res = chan<[number, number]>(1);
          const receiver = spawn(fx.receiveAndGo, c, res, 9);
          await c.send(fx.sendSquare);
          out.push(await res.recv(), await receiver);
        }
        // a select send, and an M sending a module function to main, which go()es it
        const c = chan<(o: Chan<[number, number]>, x: number) => unknown>();
        const res = chan<[number, number]>(1);
        const receiver = spawn(fx.receiveAndGo, c, res, 7);
        await select([send(c, fx.sendSquare)]);
        out.push(await res.recv(), await receiver);
        go(async (c: Chan<unknown>, f: unknown) => c.send(f), c, fx.sendSquare);
        const f = (await c.recv())!;
        go(f, res, 6);
        out.push(await res.recv());
        return out;
      },
      { procs: 2 },
    );
    const [[sq0, t0], r0, [sq10, t10], r10, [sqSel], , [sqMain, tMain]] = r as [[number, number], number, [number, number], number, [number, number], number, [number, number]];
    expect([sq0, sq10, sqSel, sqMain]).toEqual([81, 81, 49, 36]);
    expect(t0).toBeGreaterThan(0);
    expect(t10).toBeGreaterThan(0);
    expect(tMain).toBeGreaterThan(0);
    expect(r0).toBeGreaterThan(0);
    expect(r10).toBeGreaterThan(0);
  });

  it('a fromModule() object is a value too, and a missing export rejects where it is called', async () => {
    const r = await run(
      () =>
        spawn(async (m: typeof fx, nope: () => Promise<unknown>) => {
          const [d] = await m.double(3);
          let err = '';
          try {
            await nope();
          } catch (e) {
            err = `${(e as Error).name}: ${(e as Error).message}`;
          }
          return [d, await spawn(m.where) > 0, err];
        }, fx, (fx as unknown as Record<string, () => Promise<unknown>>)['nope']!),
      { procs: 2 },
    );
    expect(r[0]).toBe(6);
    expect(r[1]).toBe(true);
    expect(r[2]).toMatch(/^TypeError: gort: module .*fnvalue\.mjs has no exported function 'nope'/);
  });
});

describe('inline functions as values', () => {
  it('an inline function already registered, passed and spawned, called, and run by Group.go and wg.go', async () => {
    const r = await run(
      async () => {
        const triple = (x: number): number => x * 3;
        await spawn(triple, 0); // registered by a go/spawn first
        const onM = await spawn(
          async (f: (x: number) => number, x: number) => {
            const g = new Group();
            const got: number[] = [];
            const c = chan<number>(2);
            g.go(async (f: (x: number) => number, c: Chan<number>) => c.send(f(1)), f, c);
            const wg = new WaitGroup();
            wg.go(async (f: (x: number) => number, c: Chan<number>) => c.send(f(2)), f, c);
            await g.wait();
            await wg.wait();
            got.push((await c.recv())!, (await c.recv())!);
            return [typeof f, f.name, f(x), await spawn(f, x + 1), got.sort((a, b) => a - b)];
          },
          triple,
          10,
        );
        // the same function on the other M, called there
        const apart = await spawn(fx.elsewhere, triple, 5);
        return { onM, apart };
      },
      { procs: 2 },
    );
    expect(r.onM).toEqual(['function', 'triple', 30, 33, [3, 6]]);
    expect(r.apart.ranOn).not.toBe(r.apart.from);
    expect(r.apart.result).toBe(15);
  });

  it('an inline function that uses goid(): called, it sees the caller; spawned, its own goroutine', async () => {
    const r = await run(
      () =>
        spawn(async (f: () => number) => {
          const me = goid();
          const called = f();
          const spawned = await spawn(f);
          return [me, called, spawned];
        }, () => goid()),
      { procs: 2 },
    );
    const [me, called, spawned] = r;
    expect(me).toBeGreaterThan(1);
    expect(called).toBe(me);
    expect(spawned).toBeGreaterThan(1);
    expect(spawned).not.toBe(me);
  });
});

describe('nested and returned', () => {
  for (const cap of [0, 10]) {
    it(`nested in an object in a Map (and a Set, an array) through a channel of capacity ${cap}`, async () => {
      const r = await run(
        async () => {
          type Box = Map<string, { mod: typeof fx.double; same: typeof fx.double; inline: (x: number) => number; holder: typeof fx; set: Set<unknown>; list: unknown[] }>;
          const c = chan<Box>(cap);
          const got = spawn(async (c: Chan<Box>) => {
            const o = (await c.recv())!.get('k')!;
            const [inSet] = [...o.set] as [() => Promise<number>];
            return [
              (await o.mod(4))[0],
              o.inline(4),
              await spawn(o.inline, 1),
              (await o.holder.double(5))[0],
              o.same === o.mod, // one id decodes to one function on a thread
              (await spawn(o.mod, 6))[0],
              typeof (await inSet()),
              o.list.length,
              typeof o.list[0],
            ];
          }, c);
          const inline = (x: number): number => x + 100;
          await c.send(new Map([['k', { mod: fx.double, same: fx.double, inline, holder: fx, set: new Set([fx.where]), list: [inline, 1] }]]));
          return got;
        },
        { procs: 2 },
      );
      expect(r).toEqual([8, 104, 101, 10, true, 12, 'number', 2, 'function']);
    });
  }

  it('beside a shared buffer in one value: the function arrives callable, the view shares memory', async () => {
    const r = await run(
      async () => {
        const view = new Int32Array(new SharedArrayBuffer(8));
        type Job = { fill: (a: Int32Array, v: number) => void; view: Int32Array };
        const job: Job = {
          fill: (a: Int32Array, v: number) => {
            a[1] = v;
          },
          view,
        };
        await spawn((j: Job) => j.fill(j.view, 7), job);
        return view[1];
      },
      { procs: 2 },
    );
    expect(r).toBe(7);
  });

  it('returned to main: called there, spawned, and sent back and forth without registering anything', async () => {
    const rt = await start({ procs: 2 });
    try {
      const f = await spawn((u: string) => fromModule<Fx>(u).double, url);
      const g = await spawn(() => (x: number) => x * 5);
      expect(typeof f).toBe('function');
      expect(await f(8)).toEqual([16, 0]); // a direct call runs on this thread (main: threadId 0)
      expect(g(3)).toBe(15);
      const echo = <T>(h: T): T => h;
      await spawn(echo, 0); // register echo before counting
      const count = (): number => rt.heap.i32[H.FN_COUNT]!;
      const before = count();
      expect(await spawn(g, 4)).toBe(20);
      const [d, where] = await spawn(f, 2);
      expect(d).toBe(4);
      expect(where).toBeGreaterThan(0);
      // through an M and back: the same function object on main, the same table entry
      expect(await spawn(echo, g)).toBe(g);
      expect(await spawn(echo, f)).toBe(f);
      expect(await spawn(echo, { nested: [g] })).toEqual({ nested: [g] });
      expect(count(), 'a received function reuses its table entry').toBe(before);
    } finally {
      await rt.shutdown();
    }
  });
});

describe('functions that cannot be sent', () => {
  it('native, bound, class and capturing functions are a TypeError at the sending call saying what to do instead', async () => {
    const outer = 5;
    await run(
      async () => {
        const before = numGoroutine();
        const echo = (x: unknown): unknown => x;
        const c = chan<unknown>(1);
        const cases: Array<[unknown, string]> = [
          [Math.max, 'a native or bound function \\(max\\), which has no source to send to another thread; send a JS function that calls it instead \\(.*\\), or move it into a module and pass fromModule\\(url\\)\\.max$'],
          [function named() {}.bind(null), 'a native or bound function \\(bound named\\), .*for a bound function: the function itself, with the bound values as arguments.*fromModule\\(url\\)\\.named$'],
          [class Foo {}, 'a class \\(Foo\\), which cannot be sent to another thread; send plain data, or export a function that uses the class from a module and pass fromModule\\(url\\)\\.thatFunction$'],
          [() => outer, "a function \\(anonymous\\) that uses 'outer' from an outer scope, which it would not have on another thread; make it a parameter and pass the value as arguments, or move it into a module and pass fromModule\\(url\\)\\.name$"],
        ];
        for (const [v, says] of cases) {
          expect(() => go(echo, v)).toThrow(new RegExp(`^gort: argument 0 of echo is ${says}`));
          expect(() => c.send(v)).toThrow(new RegExp(`^gort: the value sent is ${says}`));
          expect(() => c.send({ a: [v] })).toThrow(new RegExp(`^gort: the value sent\\.a\\[0\\] is ${says}`));
          expect(() => c.send(new Map([['k', v]]))).toThrow(TypeError);
        }
        expect(c.len).toBe(0);
        expect(numGoroutine()).toBe(before);
        // a goroutine returning one: its joiner gets the TypeError
        await expect(
          spawn(() => {
            const k = 1;
            return () => k;
          }),
        ).rejects.toThrow(/^gort: the goroutine result is a function \(anonymous\) that uses 'k' from an outer scope/);
      },
      { procs: 2 },
    );
  });

  it("the advice is not a circle: a captured module function or fromModule() object can be passed as the error says", async () => {
    const r = await run(
      async () => {
        const double = fx.double;
        const errs: unknown[] = [];
        for (const f of [() => double(1), () => fx.double(1)]) {
          try {
            go(f);
          } catch (e) {
            errs.push(e);
          }
        }
        const passed = await spawn(async (d: typeof double, m: typeof fx) => [(await d(4))[0], (await m.double(5))[0]], double, fx);
        return { errs, passed };
      },
      { procs: 2 },
    );
    expect(r.errs).toHaveLength(2);
    expect(r.errs[0]).toBeInstanceOf(FreeVariableError);
    expect((r.errs[0] as Error).message).toMatch(/uses 'double' from an outer scope.* Pass it as an argument/);
    expect((r.errs[1] as Error).message).toMatch(/uses 'fx' from an outer scope/);
    expect(r.passed).toEqual([8, 10]);
  });
});
