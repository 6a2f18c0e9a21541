/**
 * SharedArrayBuffers by reference (value/shared.ts), on real workers (procs 2).
 *
 * What a program sees: a goroutine on an M writes into a view and main reads it; views keep
 * type, offset and length, and length-tracking views over a growable buffer keep tracking; the
 * same buffer arriving twice on a thread is one object there (and main gets its own object
 * back); nested buffers travel inside objects, Maps and Sets, through channels of capacity 0
 * and 10; Atomics from 64 goroutines over both Ms reach the total; an outside thread that
 * attached after the buffer was posted still receives it; a non-shared ArrayBuffer is still
 * copied. Random nestings of views (fast-check) come back as views of the one buffer, with
 * the same contents seen from both sides. Reclamation: 100,000 short-lived buffers sent
 * through channels leave no records and no kept buffers behind.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { run, chan, go, spawn, select, send, recv, after, fromModule, WaitGroup, exportRef, type Chan } from 'gort';
import { stats, collect } from 'gort/debug';

const opts = { procs: 2 } as const;

/** Send one buffer 10,000 times to a goroutine that keeps what it got; the live record count meanwhile. In its own function, so that nothing of it stays in the caller's frame. */
async function sendMany(): Promise<number> {
  const b = new SharedArrayBuffer(64);
  const c = chan<unknown>(16);
  const kept = spawn(async (c: Chan<unknown>) => {
    let last: unknown;
    for (let i = 0; i < 10_000; i++) last = await c.recv();
    return (last as Int8Array).length;
  }, c);
  for (let i = 0; i < 10_000; i++) await c.send(i % 3 === 0 ? b : i % 3 === 1 ? new Int8Array(b, i % 64) : { v: new Int8Array(b) });
  await kept;
  return stats().memory.objects.SharedArrayBuffer?.count ?? 0;
}
const tasks = fromModule<typeof import('./fixtures/shared-tasks.mjs')>(new URL('./fixtures/shared-tasks.mjs', import.meta.url));

describe('shared buffers', () => {
  it('a goroutine on an M fills its part of a shared array; main sees every write', async () => {
    const r = await run(async () => {
      const a = new Float64Array(new SharedArrayBuffer(8 * 4096));
      const wg = new WaitGroup();
      const chunk = a.length / 8;
      const threads = new Int32Array(new SharedArrayBuffer(4 * 8));
      for (let p = 0; p < 8; p++) {
        wg.go(tasks.fill, a, p * chunk, (p + 1) * chunk, threads, p);
      }
      await wg.wait();
      let bad = 0;
      for (let i = 0; i < a.length; i++) if (a[i] !== Math.sqrt(i)) bad++;
      return { bad, onMain: [...threads].filter((t) => t === 0).length };
    }, opts);
    expect(r).toEqual({ bad: 0, onMain: 0 });
  });

  it('views keep their type, offset and length; two views of one buffer arrive over one buffer object', async () => {
    const r = await run(async () => {
      const b = new SharedArrayBuffer(64);
      const views = [new Int16Array(b, 6, 5), new DataView(b, 3, 7), new BigInt64Array(b, 8, 2), new Uint8ClampedArray(b), new Float32Array(b, 60)];
      const got = await spawn(
        async (b: SharedArrayBuffer, vs: ArrayBufferView[]) => ({
          sameBuffer: vs.every((v) => v.buffer === b),
          shape: vs.map((v) => [Object.getPrototypeOf(v).constructor.name, v.byteOffset, v.byteLength]),
          back: vs,
        }),
        b,
        views,
      );
      return {
        sameBuffer: got.sameBuffer,
        shape: got.shape,
        backIsMine: got.back.every((v) => v.buffer === b),
      };
    }, opts);
    expect(r).toEqual({
      sameBuffer: true,
      shape: [
        ['Int16Array', 6, 10],
        ['DataView', 3, 7],
        ['BigInt64Array', 8, 16],
        ['Uint8ClampedArray', 0, 64],
        ['Float32Array', 60, 4],
      ],
      backIsMine: true,
    });
  });

  it('a growable buffer grown on one thread is seen grown on another; a length-tracking view keeps tracking', async () => {
    const r = await run(async () => {
      const g = new SharedArrayBuffer(16, { maxByteLength: 256 });
      const tracking = new Uint8Array(g, 4);
      const fixed = new Uint8Array(g, 4, 12);
      const there = await spawn(
        async (t: Uint8Array, f: Uint8Array) => {
          (t.buffer as SharedArrayBuffer).grow(128);
          return { growable: (t.buffer as SharedArrayBuffer).growable, t: t.length, f: f.length, b: t.buffer.byteLength };
        },
        tracking,
        fixed,
      );
      return { there, here: { b: g.byteLength, t: tracking.length, f: fixed.length } };
    }, opts);
    expect(r).toEqual({ there: { growable: true, t: 124, f: 12, b: 128 }, here: { b: 128, t: 124, f: 12 } });
  });

  it('the same buffer received twice on a thread is one object there', async () => {
    const r = await run(async () => {
      const b = new SharedArrayBuffer(32);
      const c = chan<unknown>(10);
      const res = spawn(async (c: Chan<unknown>) => {
        const x = (await c.recv()) as SharedArrayBuffer;
        const y = (await c.recv()) as Int32Array;
        const z = (await c.recv()) as { deep: Set<SharedArrayBuffer> };
        return { xy: y.buffer === x, xz: [...z.deep][0] === x, x };
      }, c);
      await c.send(b);
      await c.send(new Int32Array(b));
      await c.send({ deep: new Set([b]) });
      const out = await res;
      return { xy: out.xy, xz: out.xz, mine: out.x === b };
    }, opts);
    expect(r).toEqual({ xy: true, xz: true, mine: true });
  });

  it('a select send carries a view; a goroutine returns one to main', async () => {
    const r = await run(async () => {
      const b = new SharedArrayBuffer(24);
      const c = chan<Float64Array>();
      const got = spawn(async (c: Chan<Float64Array>) => {
        const v = (await c.recv())!;
        v[2] = v[1]! * 2;
        return new Float64Array(v.buffer, 8, 2);
      }, c);
      const v = new Float64Array(b);
      v[1] = 21;
      await select([send(c, v, () => 'sent'), recv(after(60_000), () => 'late')]);
      const back = await got;
      return { seen: new Float64Array(b)[2], mine: back.buffer === b, at: [back.byteOffset, back.length] };
    }, opts);
    expect(r).toEqual({ seen: 42, mine: true, at: [8, 2] });
  });

  it('Atomics.add on a shared Int32Array from 64 goroutines over both Ms reaches the total', async () => {
    const r = await run(async () => {
      const n = new Int32Array(new SharedArrayBuffer(4));
      const wg = new WaitGroup();
      for (let k = 0; k < 64; k++) {
        wg.add(1);
        go(
          async (n: Int32Array, wg: WaitGroup) => {
            for (let i = 0; i < 1000; i++) Atomics.add(n, 0, 1);
            wg.done();
          },
          n,
          wg,
        );
      }
      await wg.wait();
      return n[0];
    }, opts);
    expect(r).toBe(64_000);
  });

  for (const cap of [0, 10]) {
    it(`a buffer inside an object inside a Map crosses a channel of capacity ${cap}, both ways`, async () => {
      const r = await run(async () => {
        const b = new SharedArrayBuffer(16);
        type M = Map<string, { view: Uint32Array; n: number }>;
        const c = chan<M>(cap);
        const d = chan<M>(cap);
        const back = spawn(async (c: Chan<M>, d: Chan<M>) => {
          const m = (await c.recv())!;
          const { view, n } = m.get('k')!;
          view[0] = n + 1;
          await d.send(new Map([['k', { view, n: view[0]! }]]));
          return view.buffer.byteLength;
        }, c, d);
        await c.send(new Map([['k', { view: new Uint32Array(b), n: 41 }]]));
        const m = (await d.recv())!;
        return { len: await back, seen: new Uint32Array(b)[0], mine: m.get('k')!.view.buffer === b, n: m.get('k')!.n };
      }, opts);
      expect(r).toEqual({ len: 16, seen: 42, mine: true, n: 42 });
    });
  }

  it('a non-shared ArrayBuffer is still copied', async () => {
    const r = await run(async () => {
      const a = new Uint8Array(8).fill(1);
      const got = await spawn(async (a: Uint8Array) => {
        a[0] = 9;
        return a;
      }, a);
      return { mine: a[0], theirs: got[0], shared: got.buffer instanceof SharedArrayBuffer };
    }, opts);
    expect(r).toEqual({ mine: 1, theirs: 9, shared: false });
  });

  it('an outside thread that attached after the buffer was sent still receives it', async () => {
    const r = await run(async () => {
      const v = new Int32Array(new SharedArrayBuffer(16));
      const c = chan<Int32Array>(1);
      const d = chan<Int32Array>();
      await c.send(v); // registered and posted before the worker listens
      const w = new Worker(new URL('./fixtures/shared-attach.mjs', import.meta.url), { workerData: { in: exportRef(c), out: exportRef(d) } });
      const back = (await d.recv())!;
      await w.terminate();
      return { same: back.buffer === v.buffer, data: [...v], back: [...back] };
    }, opts);
    expect(r).toEqual({ same: true, data: [1000, 1001, 1002, 1003], back: [1000, 1001, 1002, 1003] });
  });

  it('random nestings of views come back as views of the one buffer (property)', async () => {
    const types = ['Int8Array', 'Uint8Array', 'Int16Array', 'Uint16Array', 'Int32Array', 'Float32Array', 'Float64Array', 'BigUint64Array', 'DataView'] as const;
    const arbView = fc.record({ t: fc.constantFrom(...types), off: fc.nat(7), len: fc.nat(4) });
    const arbTree: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        arbView.map((v) => ({ view: v })),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('node'), { maxKeys: 3 }).map((o) => ({ obj: o })),
        fc.array(tie('node'), { maxLength: 2 }).map((xs) => ({ map: xs })),
      ),
    })).node;
    const seed = Number(process.env.GORT_FC_SEED ?? Date.now() % 1_000_000);
    const trees = fc.sample(arbTree, { seed, numRuns: 40 });
    const r = await run(async () => {
      const b = new SharedArrayBuffer(256);
      const width: Record<string, number> = { Int8Array: 1, Uint8Array: 1, Int16Array: 2, Uint16Array: 2, Int32Array: 4, Float32Array: 4, Float64Array: 8, BigUint64Array: 8, DataView: 1 };
      const build = (n: unknown): unknown => {
        if (Array.isArray(n)) return n.map(build);
        const o = n as { view?: { t: string; off: number; len: number }; obj?: Record<string, unknown>; map?: unknown[] };
        if (o.view !== undefined) {
          const C = (globalThis as unknown as Record<string, new (b: SharedArrayBuffer, o: number, n: number) => ArrayBufferView>)[o.view.t]!;
          return new C(b, o.view.off * width[o.view.t]!, o.view.len);
        }
        if (o.obj !== undefined) return Object.fromEntries(Object.entries(o.obj).map(([k, v]) => [k, build(v)]));
        return new Map(o.map!.map((v, i) => [i, build(v)]));
      };
      const shape = (v: unknown): unknown => {
        if (ArrayBuffer.isView(v)) return [Object.getPrototypeOf(v).constructor.name, v.byteOffset, v.byteLength, v.buffer === b];
        if (Array.isArray(v)) return v.map(shape);
        if (v instanceof Map) return [...v].map(([k, x]) => [k, shape(x)]);
        return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, shape(x)]));
      };
      const bad: unknown[] = [];
      for (const t of trees) {
        const v = build(t);
        const echoed = await spawn(async (x: unknown, b: SharedArrayBuffer) => [x, b], v, b);
        const want = JSON.stringify(shape(v));
        const got = JSON.stringify(shape(echoed[0]));
        if (want !== got || echoed[1] !== b) bad.push({ t, want, got });
      }
      return bad;
    }, opts);
    expect(r, `fast-check seed ${seed} (replay with GORT_FC_SEED=${seed})`).toEqual([]);
  });

  it('one buffer sent 10,000 times, as itself and as views, is reclaimed once every thread dropped it', async () => {
    const r = await run(async () => {
      const during = await sendMany();
      let live = -1;
      for (let i = 0; i < 100 && live !== 0; i++) {
        await collect();
        live = stats().memory.objects.SharedArrayBuffer?.count ?? 0;
        if (live !== 0) await new Promise((r) => setTimeout(r, 20));
      }
      return { during, live };
    }, opts);
    expect(r).toEqual({ during: 1, live: 0 });
  }, 60_000);

  it('100,000 short-lived buffers sent through channels leave no records and no kept buffers behind', async () => {
    const r = await run(async () => {
      const c = chan<Float64Array>(64);
      const N = 100_000;
      const sum = spawn(
        async (c: Chan<Float64Array>, n: number) => {
          let s = 0;
          for (let i = 0; i < n; i++) s += (await c.recv())![0]!;
          return s;
        },
        c,
        N,
      );
      const prod = spawn(
        async (c: Chan<Float64Array>, n: number) => {
          for (let i = 0; i < n; i++) {
            const v = new Float64Array(new SharedArrayBuffer(64));
            v[0] = 1;
            await c.send(v);
          }
        },
        c,
        N,
      );
      await prod;
      const total = await sum;
      let live = -1;
      let kept = -1;
      for (let i = 0; i < 100; i++) {
        await collect();
        const m = stats().memory;
        live = m.objects.SharedArrayBuffer?.count ?? 0;
        kept = m.sharedKept;
        if (live === 0 && kept === 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      return { total, live, kept };
    }, opts);
    expect(r).toEqual({ total: 100_000, live: 0, kept: 0 });
  }, 120_000);
});
