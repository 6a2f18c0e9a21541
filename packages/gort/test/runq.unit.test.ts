/**
 * Single-threaded unit tests of runq.ts with the real Atomics (and, for lost races, a fake
 * AtomicsLike that lets another "thread" act just before a compareExchange).
 */
import { describe, expect, it } from 'vitest';
import { realAtomics, type AtomicsLike } from '../src/sched/atomics.js';
import { RETRY, RQ, RUNQ_CAP, RunqOwner, RunqStealer, runqWords } from '../src/sched/runq.js';

interface World {
  mem: Int32Array;
  W: number;
  cap: number;
  owner: (k: number) => RunqOwner;
  thief: (k: number) => RunqStealer;
  /** Set HEAD = TAIL = i (an empty queue whose indices start at i). */
  at: (k: number, i: number) => void;
  head: (k: number) => number;
  tail: (k: number) => number;
  runnext: (k: number) => number;
  /** Ring contents [HEAD, TAIL) in order, read directly. */
  ring: (k: number) => number[];
}

function world(cap: number, queues = 3, A: AtomicsLike = realAtomics): World {
  const W = runqWords(cap);
  const mem = new Int32Array(new SharedArrayBuffer(W * queues * 4));
  const w: World = {
    mem,
    W,
    cap,
    owner: (k) => new RunqOwner(A, mem, k * W, cap),
    thief: (k) => new RunqStealer(A, mem, k * W, cap),
    at: (k, i) => {
      mem[k * W + RQ.HEAD] = i;
      mem[k * W + RQ.TAIL] = i;
    },
    head: (k) => mem[k * W + RQ.HEAD]!,
    tail: (k) => mem[k * W + RQ.TAIL]!,
    runnext: (k) => mem[k * W + RQ.RUNNEXT]!,
    ring: (k) => {
      const h = w.head(k);
      const n = (w.tail(k) - h) | 0;
      return Array.from({ length: n }, (_, j) => mem[k * W + RQ.RING + ((h + j) & (cap - 1))]!);
    },
  };
  return w;
}

const noOverflow = (b: number[]): void => {
  throw new Error(`unexpected overflow [${b}]`);
};

/** Drain with get() until 0. */
function drain(o: RunqOwner): number[] {
  const out: number[] = [];
  for (let g = o.get(); g !== 0; g = o.get()) {
    out.push(g);
    if (out.length > 10_000) throw new Error('drain does not terminate');
  }
  return out;
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const CAPS = [2, 4, 8, 256];
const INT32_MAX = 0x7fffffff;

describe('runq layout', () => {
  it('exports the production capacity, layout and RETRY', () => {
    expect(RUNQ_CAP).toBe(256);
    expect(runqWords(4)).toBe(RQ.RING + 4);
    expect(runqWords(256)).toBe(RQ.RING + 256);
    expect([RQ.HEAD, RQ.TAIL, RQ.RUNNEXT, RQ.RING]).toEqual([0, 16, 32, 48]); // one 64-byte line each
    expect(RETRY).toBeLessThan(0); // never a count, never a G, never "empty"
    expect(RETRY).not.toBe(0);
  });

  it('queues at different bases do not touch each other', () => {
    const w = world(4, 3);
    w.owner(1).put(7, false, noOverflow);
    w.owner(1).put(8, true, noOverflow);
    expect(w.owner(0).get()).toBe(0);
    expect(w.owner(2).get()).toBe(0);
    expect(w.thief(0).size()).toBe(0);
    expect(w.thief(1).size()).toBe(1);
    expect(w.thief(1).hasRunnext()).toBe(true);
    expect(w.thief(0).hasRunnext()).toBe(false);
    expect(drain(w.owner(1))).toEqual([8, 7]);
  });
});

describe('owner put/get', () => {
  it.each(CAPS)('ring is FIFO (cap %i)', (cap) => {
    const w = world(cap);
    const o = w.owner(0);
    for (const g of range(1, cap)) o.put(g, false, noOverflow);
    expect(o.size()).toBe(cap);
    expect(o.hasRunnext()).toBe(false);
    expect(drain(o)).toEqual(range(1, cap));
    expect(o.size()).toBe(0);
    expect(o.get()).toBe(0);
  });

  it.each(CAPS)('FIFO holds across many trips around the ring (cap %i)', (cap) => {
    const w = world(cap);
    const o = w.owner(0);
    const model: number[] = [];
    let next = 1;
    // Deterministic pattern that keeps 0..cap Gs queued while the indices go round ~10 times.
    for (let step = 0; step < cap * 30; step++) {
      const put = model.length === 0 || (model.length < cap && (step * 7) % 5 < 3);
      if (put) {
        o.put(next, false, noOverflow);
        model.push(next++);
      } else {
        expect(o.get()).toBe(model.shift());
      }
      expect(o.size()).toBe(model.length);
      if (step % 8 === 0) expect(w.ring(0)).toEqual(model);
    }
    expect(drain(o)).toEqual(model);
  });

  it('put with next goes to runnext, and get takes runnext first', () => {
    const w = world(4);
    const o = w.owner(0);
    o.put(1, false, noOverflow);
    o.put(9, true, noOverflow);
    expect(w.runnext(0)).toBe(9);
    expect(o.size()).toBe(1); // size counts the ring only
    expect(o.hasRunnext()).toBe(true);
    expect(o.get()).toBe(9);
    expect(o.hasRunnext()).toBe(false);
    expect(o.get()).toBe(1);
    expect(o.get()).toBe(0);
  });

  it('put with next twice: the second is in runnext, the first is kicked to the tail', () => {
    const w = world(4);
    const o = w.owner(0);
    o.put(1, false, noOverflow);
    o.put(2, false, noOverflow);
    o.put(10, true, noOverflow);
    o.put(11, true, noOverflow);
    expect(w.runnext(0)).toBe(11);
    expect(w.ring(0)).toEqual([1, 2, 10]);
    o.put(12, true, noOverflow);
    expect(w.runnext(0)).toBe(12);
    expect(w.ring(0)).toEqual([1, 2, 10, 11]);
    // LIFO for the newest, FIFO for everything kicked.
    expect(drain(o)).toEqual([12, 1, 2, 10, 11]);
  });

  it.each(CAPS)('overflow moves exactly the oldest half plus the new G, in order (cap %i)', (cap) => {
    const w = world(cap);
    const o = w.owner(0);
    for (const g of range(1, cap)) o.put(g, false, noOverflow);
    const batches: number[][] = [];
    const h0 = w.head(0);
    o.put(1000, false, (b) => batches.push([...b]));
    expect(batches).toEqual([[...range(1, cap / 2), 1000]]);
    expect(w.head(0)).toBe(h0 + cap / 2);
    expect(o.size()).toBe(cap / 2);
    expect(w.ring(0)).toEqual(range(cap / 2 + 1, cap));
    // The queue keeps working afterwards, and does not overflow until full again.
    for (const g of range(2000, 2000 + cap / 2 - 1)) o.put(g, false, noOverflow);
    expect(drain(o)).toEqual([...range(cap / 2 + 1, cap), ...range(2000, 2000 + cap / 2 - 1)]);
  });

  it('overflow from a runnext kick sends the kicked G, and the new G stays in runnext', () => {
    const w = world(4);
    const o = w.owner(0);
    for (const g of [1, 2, 3, 4]) o.put(g, false, noOverflow);
    o.put(50, true, noOverflow); // ring full, runnext was empty: no overflow
    const batches: number[][] = [];
    o.put(51, true, (b) => batches.push([...b]));
    expect(batches).toEqual([[1, 2, 50]]);
    expect(w.runnext(0)).toBe(51);
    expect(drain(o)).toEqual([51, 3, 4]);
  });

  it('no overflow while the ring has room', () => {
    const w = world(8);
    const o = w.owner(0);
    for (const g of range(1, 8)) o.put(g, false, noOverflow);
    expect(o.get()).toBe(1);
    o.put(9, false, noOverflow);
    expect(o.size()).toBe(8);
  });
});

describe('steal', () => {
  for (const cap of [4, 8, 256]) {
    it(`stealFrom takes ceil(n/2) of n for n = 1..${cap} (cap ${cap})`, () => {
      for (let n = 0; n <= cap; n++) {
        const w = world(cap);
        const victim = w.owner(0);
        const me = w.owner(1);
        for (const g of range(1, n)) victim.put(g, false, noOverflow);
        const take = n - (n >> 1);
        const g = me.stealFrom(w.thief(0), false);
        if (n === 0) {
          expect(g).toBe(0);
          continue;
        }
        expect(take).toBe(Math.ceil(n / 2));
        expect(g, `n=${n}`).toBe(take); // the newest of the stolen Gs is returned to run now
        expect(me.size(), `n=${n}`).toBe(take - 1);
        expect(w.ring(1), `n=${n}`).toEqual(range(1, take - 1)); // the rest, oldest first
        expect(w.thief(0).size(), `n=${n}`).toBe(n - take);
        expect(drain(victim), `n=${n}`).toEqual(range(take + 1, n));
        expect(drain(me)).toEqual(range(1, take - 1));
      }
    });
  }

  it.each(CAPS)('grab copies ceil(n/2) into the destination at its head, wrapped by its mask (cap %i)', (cap) => {
    for (let n = 1; n <= cap; n++) {
      const w = world(cap);
      const victim = w.owner(0);
      for (const g of range(1, n)) victim.put(g, false, noOverflow);
      const dst = new Int32Array(cap + 2).fill(-7);
      const dstHead = cap - 1; // so the copy wraps around the destination ring
      const k = w.thief(0).grab(dst, 1, dstHead, cap - 1, false);
      expect(k, `n=${n}`).toBe(Math.ceil(n / 2));
      for (let i = 0; i < k; i++) expect(dst[1 + ((dstHead + i) & (cap - 1))]).toBe(i + 1);
      expect(dst[0]).toBe(-7); // nothing before dstBase
      expect(dst[cap + 1]).toBe(-7); // nothing after the destination ring
      expect(w.thief(0).size()).toBe(n - k);
    }
  });

  it('repeated steals halve the victim: 8 -> 4 -> 2 -> 1 -> 0', () => {
    const w = world(8);
    const victim = w.owner(0);
    for (const g of range(1, 8)) victim.put(g, false, noOverflow);
    const sizes: number[] = [];
    const got: number[] = [];
    for (;;) {
      const me = w.owner(1);
      const g = me.stealFrom(w.thief(0), false);
      if (g === 0) break;
      sizes.push(me.size() + 1);
      got.push(...drain(me), g);
    }
    expect(sizes).toEqual([4, 2, 1, 1]);
    expect(got).toEqual(range(1, 8));
  });

  it('runnext is stolen only when allowed, and only from an empty ring', () => {
    const w = world(4);
    const victim = w.owner(0);
    const me = w.owner(1);
    victim.put(42, true, noOverflow);
    expect(me.stealFrom(w.thief(0), false)).toBe(0);
    expect(w.thief(0).grab(new Int32Array(4), 0, 0, 3, false)).toBe(0);
    expect(w.runnext(0)).toBe(42);
    expect(me.stealFrom(w.thief(0), true)).toBe(42);
    expect(w.runnext(0)).toBe(0);
    expect(me.size()).toBe(0);
    expect(victim.get()).toBe(0);
    expect(me.stealFrom(w.thief(0), true)).toBe(0); // empty now

    // With Gs in the ring, runnext stays with the owner even when allowed.
    victim.put(1, false, noOverflow);
    victim.put(2, false, noOverflow);
    victim.put(43, true, noOverflow);
    expect(me.stealFrom(w.thief(0), true)).toBe(1);
    expect(w.runnext(0)).toBe(43);
    expect(drain(victim)).toEqual([43, 2]);
  });

  it('grab of runnext into a destination', () => {
    const w = world(4);
    w.owner(0).put(42, true, noOverflow);
    const dst = new Int32Array(4);
    expect(w.thief(0).grab(dst, 0, 2, 3, true)).toBe(1);
    expect(Array.from(dst)).toEqual([0, 0, 42, 0]);
  });

  it('a thief steals into its own non-empty queue while the stolen Gs fit (k + ceil(m/2) <= cap)', () => {
    const w = world(8);
    const victim = w.owner(0);
    const me = w.owner(1);
    for (const g of range(1, 8)) victim.put(g, false, noOverflow);
    for (const g of [100, 101, 102, 103]) me.put(g, false, noOverflow);
    expect(me.stealFrom(w.thief(0), false)).toBe(4);
    expect(w.ring(1)).toEqual([100, 101, 102, 103, 1, 2, 3]);
  });

  it('stealFrom refuses (throws) when the stolen Gs cannot fit on its own queue', () => {
    const w = world(4);
    const victim = w.owner(0);
    const me = w.owner(1);
    for (const g of [1, 2, 3, 4]) victim.put(g, false, noOverflow);
    for (const g of [100, 101, 102]) me.put(g, false, noOverflow);
    expect(() => me.stealFrom(w.thief(0), false)).toThrow(/runq overflow/);
  });
});

describe('int32 wrap-around of HEAD and TAIL', () => {
  const starts = (cap: number): number[] => [
    ...range(0, cap + 1).map((k) => (INT32_MAX - k) | 0),
    -1,
    -(2 ** 31),
  ];

  it.each(CAPS)('put/get/overflow stay FIFO across 2^31-1 -> -2^31 (cap %i)', (cap) => {
    for (const s of starts(cap)) {
      const w = world(cap);
      w.at(0, s);
      const o = w.owner(0);
      for (const g of range(1, cap)) o.put(g, false, noOverflow);
      expect(o.size(), `start ${s}`).toBe(cap);
      expect(w.tail(0)).toBe((s + cap) | 0);
      const batches: number[][] = [];
      o.put(99, false, (b) => batches.push([...b]));
      expect(batches, `start ${s}`).toEqual([[...range(1, cap / 2), 99]]);
      expect(w.head(0)).toBe((s + cap / 2) | 0);
      o.put(100, true, noOverflow);
      expect(drain(o), `start ${s}`).toEqual([100, ...range(cap / 2 + 1, cap)]);
      expect(w.head(0)).toBe(w.tail(0));
      // HEAD and TAIL are stored as int32: past 2^31-1 they are negative.
      expect(Number.isInteger(w.head(0)) && w.head(0) <= INT32_MAX && w.head(0) >= -(2 ** 31)).toBe(true);
    }
  });

  it.each(CAPS)('steal across the wrap, for victim and thief (cap %i)', (cap) => {
    const big = cap > 8;
    const ss = big ? [0, 1, 2, cap / 2, cap - 1, cap, cap + 1].map((k) => (INT32_MAX - k) | 0) : starts(cap);
    const ns = big ? [1, 2, 3, cap / 2 - 1, cap / 2, cap / 2 + 1, cap - 1, cap] : range(1, cap);
    for (const s of ss) {
      for (const n of ns) {
        const w = world(cap);
        w.at(0, s);
        w.at(1, (s + 3) | 0);
        const victim = w.owner(0);
        const me = w.owner(1);
        for (const g of range(1, n)) victim.put(g, false, noOverflow);
        const take = Math.ceil(n / 2);
        expect(me.stealFrom(w.thief(0), false), `start ${s} n ${n}`).toBe(take);
        expect(w.ring(1)).toEqual(range(1, take - 1));
        expect(w.head(0)).toBe((s + take) | 0);
        expect(drain(victim)).toEqual(range(take + 1, n));
      }
    }
  });

  it('the thief rejects a HEAD/TAIL pair that is more than cap apart (stale HEAD) with RETRY', () => {
    // Written directly: TAIL - HEAD = cap + 2 cannot be a real state; grab must not trust it.
    const w = world(4);
    w.mem[RQ.HEAD] = INT32_MAX - 1;
    w.mem[RQ.TAIL] = (INT32_MAX - 1 + 6) | 0;
    expect(w.thief(0).grab(new Int32Array(4), 0, 0, 3, false)).toBe(RETRY);
    expect(w.head(0)).toBe(INT32_MAX - 1); // claimed nothing
    expect(w.thief(0).size()).toBe(4); // size clamps to cap
    w.mem[RQ.TAIL] = INT32_MAX - 3; // TAIL behind HEAD
    expect(w.thief(0).size()).toBe(0);
  });
});

/**
 * An AtomicsLike over the real Atomics that can run `interfere` (another "thread") just
 * before the first compareExchange (or the n-th load), or fail the first compareExchange
 * outright without writing.
 */
function racingAtomics(opts: {
  beforeCas?: () => void;
  failFirstCas?: boolean;
  afterLoad?: { n: number; run: () => void };
}): AtomicsLike & { cas: number } {
  let loads = 0;
  const A = {
    cas: 0,
    load: (a: Int32Array, i: number) => {
      const r = Atomics.load(a, i);
      loads++;
      if (opts.afterLoad && loads === opts.afterLoad.n) opts.afterLoad.run();
      return r;
    },
    store: (a: Int32Array, i: number, v: number) => Atomics.store(a, i, v),
    add: (a: Int32Array, i: number, v: number) => Atomics.add(a, i, v),
    sub: (a: Int32Array, i: number, v: number) => Atomics.sub(a, i, v),
    exchange: (a: Int32Array, i: number, v: number) => Atomics.exchange(a, i, v),
    and: (a: Int32Array, i: number, v: number) => Atomics.and(a, i, v),
    or: (a: Int32Array, i: number, v: number) => Atomics.or(a, i, v),
    notify: (a: Int32Array, i: number, count?: number) => Atomics.notify(a, i, count),
    compareExchange: (a: Int32Array, i: number, e: number, v: number) => {
      A.cas++;
      if (A.cas === 1) {
        opts.beforeCas?.();
        if (opts.failFirstCas) return (Atomics.load(a, i) + 1) | 0 || 1; // "someone else changed it"; writes nothing
      }
      return Atomics.compareExchange(a, i, e, v);
    },
  };
  return A;
}

describe('lost races', () => {
  it('grab returns RETRY, not 0, when its CAS fails; nothing is claimed; the retry succeeds', () => {
    const A = racingAtomics({ failFirstCas: true });
    const w = world(4, 2, A);
    for (const g of [1, 2, 3]) w.owner(0).put(g, false, noOverflow);
    const dst = new Int32Array(4);
    expect(w.thief(0).grab(dst, 0, 0, 3, false)).toBe(RETRY);
    expect(w.head(0)).toBe(0);
    expect(w.thief(0).size()).toBe(3);
    expect(w.thief(0).grab(dst, 0, 0, 3, false)).toBe(2);
    expect(Array.from(dst.subarray(0, 2))).toEqual([1, 2]);
  });

  it('stealFrom passes RETRY on and publishes nothing on its own queue', () => {
    const A = racingAtomics({ failFirstCas: true });
    const w = world(4, 2, A);
    for (const g of [1, 2, 3, 4]) w.owner(0).put(g, false, noOverflow);
    const me = w.owner(1);
    expect(me.stealFrom(w.thief(0), false)).toBe(RETRY);
    expect(w.tail(1)).toBe(0);
    expect(me.size()).toBe(0);
    expect(w.thief(0).size()).toBe(4);
    expect(me.stealFrom(w.thief(0), false)).toBe(2);
    expect(drain(me)).toEqual([1]);
  });

  it('a real concurrent thief between the loads and the CAS: RETRY, then the rest', () => {
    let other: RunqOwner | null = null;
    let w: World;
    const A = racingAtomics({ beforeCas: () => expect(other!.stealFrom(w.thief(0), false)).toBe(3) });
    w = world(8, 3, A);
    other = w.owner(2);
    for (const g of range(1, 6)) w.owner(0).put(g, false, noOverflow);
    const me = w.owner(1);
    expect(me.stealFrom(w.thief(0), false)).toBe(RETRY); // the other thief took 1..3 first
    expect(me.size()).toBe(0);
    expect(me.stealFrom(w.thief(0), false)).toBe(5); // ceil(3/2) = 2 of what is left: 4, 5
    expect(drain(me)).toEqual([4]);
    expect(drain(other)).toEqual([1, 2]);
    expect(drain(w.owner(0))).toEqual([6]);
  });

  it('runnext steal loses to the owner: RETRY, and the G is the owner\'s', () => {
    let w: World;
    let owner: RunqOwner | null = null;
    const A = racingAtomics({ beforeCas: () => expect(owner!.get()).toBe(42) });
    w = world(4, 2, A);
    owner = w.owner(0);
    // Put via exchange (no CAS), then the thief's runnext CAS is the first CAS.
    owner.put(42, true, noOverflow);
    expect(w.owner(1).stealFrom(w.thief(0), true)).toBe(RETRY);
    expect(w.owner(1).size()).toBe(0);
    expect(w.thief(0).hasRunnext()).toBe(false);
  });

  it('HEAD and TAIL read at different times (n > cap/2): RETRY', () => {
    // The thief loads HEAD = 0; before it loads TAIL the owner takes 2 and puts 2 more, so
    // TAIL - HEAD = 6 > cap although the queue never held more than 4.
    let w: World;
    const A = racingAtomics({
      afterLoad: {
        n: 1,
        run: () => {
          const o = new RunqOwner(realAtomics, w.mem, 0, 4);
          expect([o.get(), o.get()]).toEqual([1, 2]);
          o.put(5, false, noOverflow);
          o.put(6, false, noOverflow);
        },
      },
    });
    w = world(4, 2, A);
    const o = new RunqOwner(realAtomics, w.mem, 0, 4);
    for (const g of [1, 2, 3, 4]) o.put(g, false, noOverflow);
    expect(w.thief(0).grab(new Int32Array(4), 0, 0, 3, false)).toBe(RETRY);
    expect(drain(o)).toEqual([3, 4, 5, 6]);
  });

  it('get retries internally after losing HEAD to a thief and returns the next G', () => {
    let w: World;
    const A = racingAtomics({
      beforeCas: () => expect(new RunqOwner(realAtomics, w.mem, w.W, 4).stealFrom(w.thief(0), false)).toBe(1),
    });
    w = world(4, 2, A);
    const o = w.owner(0);
    o.put(1, false, noOverflow);
    o.put(2, false, noOverflow);
    expect(o.get()).toBe(2); // 1 was stolen between get's load of HEAD and its CAS
    expect(o.get()).toBe(0);
  });

  it('get falls back to the ring when a thief takes runnext first', () => {
    let w: World;
    const A = racingAtomics({
      beforeCas: () => expect(new RunqOwner(realAtomics, w.mem, w.W, 4).stealFrom(w.thief(0), false)).toBe(0),
    });
    // Ring empty, runnext 9: the interfering thief cannot take it without runnext stealing...
    w = world(4, 2, A);
    const o = w.owner(0);
    o.put(9, true, noOverflow);
    expect(o.get()).toBe(9);

    let w2: World;
    const A2 = racingAtomics({
      // A thief that saw the ring empty (before the owner's put of 1) claims runnext.
      beforeCas: () => expect(Atomics.compareExchange(w2.mem, RQ.RUNNEXT, 9, 0)).toBe(9),
    });
    // ...but one that does takes runnext under get's feet: get then serves the ring.
    w2 = world(4, 2, A2);
    const o2 = w2.owner(0);
    o2.put(9, true, noOverflow);
    o2.put(1, false, noOverflow);
    expect(o2.get()).toBe(1);
  });

  it('overflow whose CAS loses to a thief retries the put, which then fits: no batch', () => {
    let w: World;
    const A = racingAtomics({
      beforeCas: () => expect(new RunqOwner(realAtomics, w.mem, w.W, 4).stealFrom(w.thief(0), false)).toBe(2),
    });
    w = world(4, 2, A);
    const o = w.owner(0);
    for (const g of [1, 2, 3, 4]) o.put(g, false, noOverflow); // no CAS on this path
    o.put(5, false, noOverflow); // putSlow's CAS loses; the retried put finds room
    expect(A.cas).toBe(2); // putSlow's CAS and the thief's CAS
    expect(w.ring(0)).toEqual([3, 4, 5]);
  });

  it('overflow whose CAS fails outright retries and then sends exactly one batch', () => {
    const A = racingAtomics({ failFirstCas: true });
    const w = world(4, 1, A);
    const o = w.owner(0);
    for (const g of [1, 2, 3, 4]) o.put(g, false, noOverflow);
    const batches: number[][] = [];
    o.put(5, false, (b) => batches.push([...b]));
    expect(batches).toEqual([[1, 2, 5]]);
    expect(drain(o)).toEqual([3, 4]);
  });
});
