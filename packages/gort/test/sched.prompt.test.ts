// Prompt delivery while an M runs synchronous code: a result reaches a waiting main thread
// without waiting for the end of its M's batch, and checkpoint() gives the thread to timers
// on its M. No timing assertions: each case used to hang (its loops give up after GIVE_UP_MS,
// so a regression fails instead of hanging the run), and now completes.
import { describe, it, expect } from 'vitest';
import { run, go, spawn, sleep, checkpoint, AtomicInt32 } from 'gort';

const GIVE_UP_MS = 20_000;

describe('prompt results', () => {
  it('a spawn result reaches main while the next goroutine on its M loops until main answers (procs 1)', async () => {
    const r = await run(
      async () => {
        const giveUp = GIVE_UP_MS;
        const gate = new AtomicInt32();
        const started = new AtomicInt32();
        const answer = new AtomicInt32();
        // Hold the only M, so that a and b below are taken in one turn once it lets go.
        go(
          (gate: AtomicInt32, started: AtomicInt32, giveUp: number) => {
            started.store(1);
            const t = performance.now();
            while (gate.load() === 0 && performance.now() - t < giveUp);
          },
          gate,
          started,
          giveUp,
        );
        while (started.load() === 0) await sleep(1);
        const a = spawn(() => 42);
        const b = spawn(
          (answer: AtomicInt32, giveUp: number) => {
            const t = performance.now();
            while (answer.load() === 0) if (performance.now() - t > giveUp) return 'b gave up: main never saw a';
            return 'b saw the answer';
          },
          answer,
          giveUp,
        );
        await new Promise((resolve) => setImmediate(resolve)); // main's batch of new Gs goes out
        gate.store(1);
        const va = await a; // a ran, then b started looping on the same M in the same turn
        answer.store(1);
        return [va, await b];
      },
      { procs: 1 },
    );
    expect(r).toEqual([42, 'b saw the answer']);
  });

  it('checkpoint() yields to a timer on its M when no goroutine is queued there (procs 1)', async () => {
    const r = await run(
      () =>
        spawn(async (giveUp: number) => {
          const woke = new AtomicInt32();
          go(
            async (woke: AtomicInt32) => {
              await sleep(2);
              woke.store(1);
            },
            woke,
          );
          // Let the sleeper start and park on its timer; then loop until it woke.
          await sleep(1);
          const t = performance.now();
          let x = 0;
          while (woke.load() === 0) {
            for (let i = 0; i < 10_000; i++) x += i & 1;
            await checkpoint();
            if (performance.now() - t > giveUp) return 'gave up: the timer never fired';
          }
          return x > 0 ? 'the timer fired' : '';
        }, GIVE_UP_MS),
      { procs: 1 },
    );
    expect(r).toBe('the timer fired');
  });
});
