// Port of go/test/chan/fifo.go
//
// Test that unbuffered channels act as pure fifos: a buffered channel hands values back in
// the order they were sent, and a daisy chain of goroutines, each allowed to receive only
// after its predecessor, receives 0..N-1 from one unbuffered channel in order.
import { describe, it, expect } from 'vitest';
import { run, go, chan, type Chan } from 'gort';

const N = 10;

async function AsynchFifo(n: number): Promise<number[]> {
  const ch = chan<number>(n);
  for (let i = 0; i < n; i++) await ch.send(i);
  const got: number[] = [];
  for (let i = 0; i < n; i++) got.push((await ch.recv())!);
  return got;
}

// thread together a daisy chain to read the elements in sequence
async function SynchFifo(n: number): Promise<number> {
  const ch = chan<number>();
  let inp = chan<number>();
  const start = inp;
  for (let i = 0; i < n; i++) {
    const out = chan<number>();
    // Chain: a wrong value is a panic (an unjoined goroutine that throws), which rejects run().
    go(
      async function Chain(ch: Chan<number>, val: number, inp: Chan<number>, out: Chan<number>) {
        await inp.recv();
        const v = await ch.recv();
        if (v !== val) throw new Error(`Chain ${val}: received ${String(v)}`);
        await out.send(1);
      },
      ch,
      i,
      inp,
      out,
    );
    inp = out;
  }
  await start.send(0);
  for (let i = 0; i < n; i++) await ch.send(i);
  return (await inp.recv())!;
}

describe('go/test/chan/fifo.go', () => {
  it('AsynchFifo: a buffered channel is FIFO', async () => {
    const got = await run(() => AsynchFifo(N), { procs: 2 });
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it('SynchFifo: a daisy chain of goroutines receives 0..N-1 in order (N = 10 and 200)', async () => {
    const r = await run(async () => [await SynchFifo(N), await SynchFifo(200)], { procs: 2 });
    expect(r).toEqual([1, 1]);
  });
});
