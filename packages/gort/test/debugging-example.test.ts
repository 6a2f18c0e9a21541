/**
 * The leak exercise of the guide ("Debugging gort programs", examples/debugging/service.mjs),
 * held by the leak checker as the guide says: after lookups that time out, verifyNone() fails
 * on the leaky service, naming fetchRecord with the line where it is parked and the line that
 * made it, and passes on the fixed one. Real runtime, 2 Ms, stacks on.
 */
import { describe, it, expect } from 'vitest';
import { run } from 'gort';
import { verifyNone, GoroutineLeakError } from 'gort/leakcheck';
// @ts-expect-error the example is plain JavaScript without declarations
import { lookupLeaky, lookupFixed } from '../../../examples/debugging/service.mjs';

type Lookup = (id: number) => Promise<unknown>;

/** 60 lookups, 20 at a time (at 0-20 ms per fetch and a 10 ms timeout, about half time out); then the leak check. */
async function lookupsThenCheck(lookup: Lookup): Promise<{ timedOut: number; error: unknown }> {
  return run(
    async () => {
      let timedOut = 0;
      for (let i = 0; i < 60; i += 20) {
        const got = await Promise.all(Array.from({ length: 20 }, (_, k) => lookup(i + k)));
        timedOut += got.filter((r) => r === null).length;
      }
      const error = await verifyNone().then(
        () => null,
        (e: unknown) => e,
      );
      return { timedOut, error };
    },
    { procs: 2, stacks: true },
  );
}

describe('the leak exercise (examples/debugging)', () => {
  it('the leaky lookup leaves one goroutine per timed-out request, and the leak checker names it and its lines', async () => {
    const { timedOut, error } = await lookupsThenCheck(lookupLeaky as Lookup);
    expect(timedOut).toBeGreaterThan(0); // the random fetch times make about half time out
    expect(error).toBeInstanceOf(GoroutineLeakError);
    const leak = error as GoroutineLeakError;
    expect(leak.goroutines.length).toBe(timedOut);
    expect(leak.goroutines.every((g) => g.function === 'fetchRecord' && g.waitReason === 'chan send')).toBe(true);
    expect(leak.message).toMatch(/fetchRecord \(.*examples\/debugging\/service\.mjs:\d+:\d+\)/); // where it is parked
    expect(leak.message).toMatch(/created by goroutine \d+ on M[12]\n\tat (async )?lookupLeaky \(.*examples\/debugging\/service\.mjs:\d+:\d+\)/);
  }, 60_000);

  it('the fixed lookup leaves none', async () => {
    const { timedOut, error } = await lookupsThenCheck(lookupFixed as Lookup);
    expect(timedOut).toBeGreaterThan(0);
    expect(error).toBeNull();
  }, 60_000);
});
