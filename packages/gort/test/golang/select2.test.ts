// Port of go/test/chan/select2.go
//
// A loop of selects in which one case always loses: each time the select parks, it queues a
// case waiter on `dummy` too, and that waiter must be removed (and freed) when the other
// case fires. Go runs 100,000 selects to warm up, then 100,000 more and checks the heap did
// not grow by more than 100 kB.
//
// gort/debug's stats() does not expose the shared heap's use, so the heap is checked with a
// small `heapLimit`: a leaked case waiter (64 B) per parked select would exhaust it within
// ~50,000 selects and fail the run with HeapExhaustedError. RSS (which includes the worker
// threads' JS heaps) is compared with a generous bound only. After a warm-up round of
// 20,000 selects, the second round runs up to 1,000,000 selects in chunks of 20,000, or as
// many chunks as fit in ~4 s (GORT_SELECT2_N and GORT_SELECT2_MS override both).
import { describe, it, expect } from 'vitest';
import { run, go, spawn, chan, select, recv, type Chan } from 'gort';

const MAX = Number(process.env['GORT_SELECT2_N'] ?? 1_000_000);
const BUDGET_MS = Number(process.env['GORT_SELECT2_MS'] ?? 4000);
const CHUNK = 20000;
const WARM = 20000;

async function sender(c: Chan<number>, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await c.send(1);
}

async function receiver(c: Chan<number>, dummy: Chan<number>, n: number): Promise<number> {
  let got = 0;
  for (let i = 0; i < n; i++) {
    got += await select([
      recv(c, (v) => v!),
      recv(dummy, (): number => {
        throw new Error('dummy');
      }),
    ]);
  }
  return got;
}

describe('go/test/chan/select2.go', () => {
  it('many selects whose losing case waiter is removed each time: the heap and RSS do not grow', async () => {
    const r = await run(
      async () => {
        const c = chan<number>();
        const dummy = chan<number>();
        const round = async (n: number): Promise<{ got: number; ms: number }> => {
          const t0 = performance.now();
          go(sender, c, n);
          const got = await spawn(receiver, c, dummy, n);
          return { got, ms: performance.now() - t0 };
        };
        // warm up
        const warm = await round(WARM);
        const rss0 = process.memoryUsage().rss;
        // second time shouldn't increase footprint by much: rounds of CHUNK selects until
        // MAX selects or BUDGET_MS have passed
        let n = 0;
        let got = 0;
        let ms = 0;
        while (n < MAX && ms < BUDGET_MS) {
          const k = Math.min(CHUNK, MAX - n);
          const r = await round(k);
          n += k;
          got += r.got;
          ms += r.ms;
        }
        const rss1 = process.memoryUsage().rss;
        return { warm: warm.got, n, got, ms, grew: rss1 - rss0, dummyLen: dummy.len };
      },
      { procs: 2, heapLimit: 4 << 20 },
    );
    console.log(`select2: ${r.n} selects in ${Math.round(r.ms)} ms, RSS grew by ${(r.grew / 1e6).toFixed(1)} MB`);
    expect(r.warm).toBe(WARM);
    expect(r.got).toBe(r.n);
    expect(r.dummyLen).toBe(0);
    expect(r.grew).toBeLessThan(128 << 20);
  });
});
