/**
 * What a program is told after its runtime ended (runtime/thread.ts need, errors.ts describe):
 * a call made after a panic stopped the runtime names the panic, not "call it inside
 * run(main)"; a call after a normal end says the runtime was shut down; a thrown value that
 * is not an Error is shown as inspect shows it, not as [object Object]; the next run() starts
 * clean. An inline goroutine's stack names the file and line it was written at, not gort's
 * `new Function`.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run, go, chan, sleep, GoroutinePanic, RuntimeStateError } from 'gort';

/**
 * Run main; resolve with what run() settled with and what `later` threw: a call that main's
 * body set up (a timer's callback, made inside run) and that runs once run() has settled.
 */
async function endThenCall(main: () => Promise<unknown>): Promise<{ settled: unknown; later: unknown }> {
  let later: Promise<unknown> = Promise.resolve(null);
  let ended!: () => void;
  const end = new Promise<void>((r) => (ended = r));
  const settled = await run(async () => {
    later = end.then(() => new Promise((r) => setTimeout(r, 0))).then(() => {
      try {
        chan();
        return 'no error';
      } catch (e) {
        return e;
      }
    });
    return main();
  }).then(
    (v) => v,
    (e: unknown) => e,
  );
  ended();
  return { settled, later: await later };
}

describe('after the runtime ended', () => {
  it('a call from main\'s body after a panic names the panic', async () => {
    const { settled, later } = await endThenCall(async () => {
      go(async function worker() {
        throw new Error('disk full');
      });
      await sleep(10_000);
    });
    expect(settled).toBeInstanceOf(GoroutinePanic);
    expect(later).toBeInstanceOf(RuntimeStateError);
    expect((later as Error).message).toMatch(/^gort: chan\(\) was called after the runtime ended: it stopped on GoroutinePanic: panic in goroutine \d+ \[worker\]: Error: disk full\./);
    expect((later as Error).message).not.toMatch(/call it inside run/);
  });

  it('a call after a normal end says the runtime was shut down', async () => {
    const { settled, later } = await endThenCall(async () => 7);
    expect(settled).toBe(7);
    expect((later as Error).message).toMatch(/after the runtime ended: it was shut down/);
  });

  it('a thrown value that is not an Error is shown, not [object Object]', async () => {
    const e = await run(async () => {
      go(async function thrower() {
        throw { code: 42, why: 'disk' };
      });
      await sleep(10_000);
    }).catch((e: unknown) => e);
    expect(e).toBeInstanceOf(GoroutinePanic);
    expect((e as Error).message).toBe(`panic in goroutine ${(e as GoroutinePanic).goid} [thrower]: { code: 42, why: 'disk' }`);
    expect((e as GoroutinePanic).error).toEqual({ code: 42, why: 'disk' });
  });

  it('the next run() starts clean', async () => {
    await run(async () => {
      go(async function boom() {
        throw new Error('x');
      });
      await sleep(10_000);
    }).catch(() => {});
    expect(() => chan()).toThrow(/after the runtime ended: it stopped on GoroutinePanic/);
    expect(await run(async () => chan(3).cap)).toBe(3);
    expect(() => chan()).toThrow(/it was shut down/);
  });

  it('an inline goroutine\'s stack names the file and line where it was written (plain Node)', () => {
    const out = execFileSync(process.execPath, [fileURLToPath(new URL('./fixtures/inline-stack.mjs', import.meta.url))], { encoding: 'utf8' });
    const { message, stack } = JSON.parse(out.trim().split('\n').pop()!) as { message: string; stack: string };
    expect(message).toMatch(/\[worker\]: Error: failed on 3$/);
    expect(stack).toMatch(/at worker \(file:\/\/\S*\/fixtures\/inline-stack\.mjs:7:\d+\)/);
    expect(stack).not.toMatch(/registry\.js/);
  });

  it('an inline goroutine\'s stack names this test file under vitest', async () => {
    const e = await run(async () => {
      go(async function failing() {
        throw new Error('here');
      });
      await sleep(10_000);
    }).catch((e: unknown) => e);
    expect((e as Error).stack).toMatch(/after-failure\.test\.ts:\d+:\d+/);
    expect((e as Error).stack).not.toMatch(/registry\.js/);
  });
});
