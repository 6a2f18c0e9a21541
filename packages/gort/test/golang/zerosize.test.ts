// Port of go/test/chan/zerosize.go
//
// Test making channels of a zero-sized type. Go makes chan [0]byte and chan struct{}, buffered
// and not; the JS counterparts carry empty values ([], {}, undefined, null), which must
// still be counted, queued and told apart from a close ([undefined, true] vs [undefined, false]).
import { describe, it, expect } from 'vitest';
import { run, spawn, chan, type Chan } from 'gort';

describe('go/test/chan/zerosize.go', () => {
  it('make(chan [0]byte), make(chan struct{}), buffered and unbuffered, and they carry their values', async () => {
    const r = await run(
      async () => {
        const a = chan<[]>();
        const b = chan<[]>(1);
        const c = chan<Record<string, never>>();
        const d = chan<Record<string, never>>(1);
        const e = chan<undefined>(2);
        const caps = [a.cap, b.cap, c.cap, d.cap, e.cap];
        // an unbuffered rendezvous of empty values with a goroutine, both ways
        const p = spawn(
          async (a: Chan<[]>, c: Chan<Record<string, never>>) => {
            const x = await a.recv();
            await c.send({});
            return x;
          },
          a,
          c,
        );
        await a.send([]);
        const fromC = await c.recv();
        const fromA = await p;
        await b.send([]);
        await d.send({});
        await e.send(undefined);
        const lens = [b.len, d.len, e.len];
        e.close();
        return { caps, fromA, fromC, b: await b.recv(), d: await d.recv(), lens, e1: await e.recvOk(), e2: await e.recvOk() };
      },
      { procs: 2 },
    );
    expect(r.caps).toEqual([0, 1, 0, 1, 2]);
    expect(r.fromA).toEqual([]);
    expect(r.fromC).toEqual({});
    expect(r.b).toEqual([]);
    expect(r.d).toEqual({});
    expect(r.lens).toEqual([1, 1, 1]);
    expect(r.e1).toEqual([undefined, true]); // a sent undefined
    expect(r.e2).toEqual([undefined, false]); // closed and drained
  });
});
