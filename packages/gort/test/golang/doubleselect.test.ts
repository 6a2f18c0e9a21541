// Port of go/test/chan/doubleselect.go
//
// Test the situation in which two cases of a select can both end up running
// (http://codereview.appspot.com/180068). The sender sends a counter to one of four
// unbuffered channels per select; four muxes forward onto one channel; the receiver checks
// that no value arrives twice (and here also that every value arrives once).
// 100,000 iterations as in Go (GORT_DOUBLESELECT_N overrides it).
import { describe, it, expect } from 'vitest';
import { run, go, chan, select, send, type Chan } from 'gort';

const iterations = Number(process.env['GORT_DOUBLESELECT_N'] ?? 100000);

// sender sends a counter to one of four different channels. If two cases both end up
// running in the same iteration, the same value will be sent to two different channels.
async function sender(n: number, c1: Chan<number>, c2: Chan<number>, c3: Chan<number>, c4: Chan<number>): Promise<void> {
  try {
    for (let i = 0; i < n; i++) {
      await select([send(c1, i, () => {}), send(c2, i, () => {}), send(c3, i, () => {}), send(c4, i, () => {})]);
    }
  } finally {
    c4.close();
    c3.close();
    c2.close();
    c1.close();
  }
}

// mux receives the values from sender and forwards them onto another channel.
async function mux(out: Chan<number>, inp: Chan<number>, done: Chan<boolean>): Promise<void> {
  for await (const v of inp) await out.send(v);
  await done.send(true);
}

// recver gets a stream of values from the four muxes and checks for duplicates.
async function recver(inp: Chan<number>): Promise<{ dups: number[]; seen: number }> {
  const seen = new Set<number>();
  const dups: number[] = [];
  for await (const v of inp) {
    if (seen.has(v)) dups.push(v);
    seen.add(v);
  }
  return { dups, seen: seen.size };
}

describe('go/test/chan/doubleselect.go', () => {
  it(`${iterations} four-way send selects: no value is delivered twice`, async () => {
    const r = await run(
      async () => {
        const c1 = chan<number>();
        const c2 = chan<number>();
        const c3 = chan<number>();
        const c4 = chan<number>();
        const done = chan<boolean>();
        const cmux = chan<number>();
        go(sender, iterations, c1, c2, c3, c4);
        go(mux, cmux, c1, done);
        go(mux, cmux, c2, done);
        go(mux, cmux, c3, done);
        go(mux, cmux, c4, done);
        go(
          async (done: Chan<boolean>, cmux: Chan<number>) => {
            await done.recv();
            await done.recv();
            await done.recv();
            await done.recv();
            cmux.close();
          },
          done,
          cmux,
        );
        // We keep the recver because it might catch more bugs in the future.
        return recver(cmux);
      },
      { procs: 2 },
    );
    expect(r.dups).toEqual([]);
    expect(r.seen).toBe(iterations);
  });
});
