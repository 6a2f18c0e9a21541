/**
 * The public types say what the code does (checked by `tsc` over this file in `pnpm typecheck`,
 * which `pnpm test` runs; the runtime assertions are a second check): select()'s result is the
 * union of its cases' and default's; recv() and send() take a Selectable with its value type;
 * a fromModule() function returns a Promise; constructors take no runtime handles; errgroup's
 * withContext is Group.withContext at the root, so the bare name is not mistaken for context's.
 */
import { describe, it, expect, expectTypeOf } from 'vitest';
import * as gort from 'gort';
import { run, chan, select, recv, send, fromModule, selectable, Chan, Group, WaitGroup, Mutex, background, type Selectable } from 'gort';
import * as errgroup from 'gort/errgroup';

const tasks = fromModule<typeof import('./fixtures/tasks.mjs')>(new URL('./fixtures/tasks.mjs', import.meta.url));

describe('public types', () => {
  it('select() resolves to the union of its cases and its default', async () => {
    const r = await run(async () => {
      const a = chan<number>(1);
      const b = chan<string>(1);
      await a.send(1);
      const p = select([recv(a, () => true), recv(b, (s) => s === 'x')], { default: () => 'none' });
      expectTypeOf(p).toEqualTypeOf<Promise<boolean | string>>();
      const q = select([recv(a), send(b, 'y', () => 7)]);
      expectTypeOf(q).toEqualTypeOf<Promise<number | undefined>>();
      // @ts-expect-error a number is not a case
      expect(() => select([recv(a), 5])).toThrow(TypeError);
      return [await p, await q];
    });
    expect(r).toEqual([true, 7]);
  });

  it('recv() and send() take a Selectable where a Chan goes, with its value type', async () => {
    const ext: Selectable<number> = {
      [selectable]: (dir) => ({ start: async (op) => (op.claim() ? (dir === 'recv' ? [41, true] : [undefined, true]) : undefined) }),
    };
    const r = await run(async () => {
      const p = select([recv(ext, (v, ok) => (ok ? v! + 1 : -1))]);
      expectTypeOf(p).toEqualTypeOf<Promise<number>>();
      const q = select([recv(ext)]);
      expectTypeOf(q).toEqualTypeOf<Promise<number | undefined>>();
      // @ts-expect-error a Selectable<number> carries numbers
      send(ext, 'text');
      return [await p, await q, await select([send(ext, 1, () => 'sent')])];
    });
    expect(r).toEqual([42, 41, 'sent']);
  });

  it('a fromModule() function returns a Promise of its result', async () => {
    expectTypeOf(tasks.fib).returns.toEqualTypeOf<Promise<number>>();
    expect(await run(async () => tasks.fib(10))).toBe(55);
  });

  it('constructors take no runtime handles; withContext is errgroup\'s, under Group', async () => {
    await run(async () => {
      // @ts-expect-error a handle is the runtime's business, not a constructor argument
      expect(() => new Chan(0, 12345)).toThrow(TypeError);
      // @ts-expect-error
      expect(() => new WaitGroup(12345)).toThrow(TypeError);
      // @ts-expect-error
      expect(() => new Mutex(12345)).toThrow(TypeError);
    });
    expectTypeOf(gort).not.toHaveProperty('withContext');
    expect('withContext' in gort).toBe(false);
    expectTypeOf(Group.withContext).toEqualTypeOf(errgroup.withContext);
    const canceled = await run(async () => {
      const [g, ctx] = Group.withContext(background());
      g.go(async () => {
        throw new Error('first');
      });
      await g.wait().catch(() => {});
      return ctx.err()?.message;
    });
    expect(canceled).toBe('context canceled');
  });
});
