// Port of go/test/chan/goroutines.go
//
// Make a lot of goroutines, threaded together; tear them down cleanly. Each f passes one
// value from its right channel to its left one; main starts the value at the right end and
// receives it at the left end, after it went through every goroutine.
import { describe, it, expect } from 'vitest';
import { run, go, chan, sleep, numGoroutine, type Chan } from 'gort';

const n = Number(process.env['GORT_GOROUTINES_N'] ?? 10000);

describe('go/test/chan/goroutines.go', () => {
  it(`${n} goroutines in a chain pass one value along, then all of them exit`, async () => {
    const r = await run(
      async () => {
        const leftmost = chan<number>();
        let right = leftmost;
        let left = leftmost;
        for (let i = 0; i < n; i++) {
          right = chan<number>();
          go(
            async function f(left: Chan<number>, right: Chan<number>) {
              await left.send((await right.recv())!);
            },
            left,
            right,
          );
          left = right;
        }
        const parked = numGoroutine();
        go(async (c: Chan<number>) => { await c.send(1); }, right);
        const v = await leftmost.recv();
        // torn down cleanly: every f returns after its send (bounded wait, not a timing check)
        let live = numGoroutine();
        for (let k = 0; k < 2000 && live > 1; k++) {
          await sleep(5);
          live = numGoroutine();
        }
        return { v, parked, live };
      },
      { procs: 2 },
    );
    expect(r.v).toBe(1);
    expect(r.parked).toBe(n + 1);
    expect(r.live).toBe(1);
  });
});
