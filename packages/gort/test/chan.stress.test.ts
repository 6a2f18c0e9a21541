// Channels under stress on real threads: many producers and consumers on one channel, close
// racing with sends and receives, and selects racing close. Every value is accounted for
// exactly once, and nothing hangs (a hang fails the test by its timeout).
// GORT_STRESS_SCALE multiplies the sizes (default 1: about 15-25 s on 2 cores).
import { describe, it, expect } from 'vitest';
import { run, go, spawn, chan, select, recv, send, sleep, fromModule, ClosedChannelError, AtomicInt32, type Chan } from 'gort';

const tasks = fromModule<typeof import('./fixtures/tasks.mjs')>(new URL('./fixtures/tasks.mjs', import.meta.url));

const SCALE = Number(process.env['GORT_STRESS_SCALE'] ?? 1);
const scaled = (n: number): number => Math.max(1, Math.round(n * SCALE));

interface Tally {
  count: number;
  sum: number;
  /** sum of v*v mod 2^32 */
  sq: number;
  /** values seen twice by this consumer */
  dups: number;
  /** bitmap of the values seen, as 32-bit words (plain numbers: a result that travels by copy) */
  words: number[];
}

/** Merge consumer tallies: values seen by two consumers, values never seen, and the sums. */
function merge(tallies: Tally[], n: number): { count: number; sum: number; sq: number; dups: number; overlap: number; missing: number } {
  const seen = new Uint32Array(Math.ceil(n / 32));
  let overlap = 0;
  for (const t of tallies) {
    for (let k = 0; k < seen.length; k++) {
      const w = t.words[k] ?? 0;
      overlap += popcount(seen[k]! & w);
      seen[k] = seen[k]! | w;
    }
  }
  let have = 0;
  for (const w of seen) have += popcount(w);
  return {
    count: tallies.reduce((a, t) => a + t.count, 0),
    sum: tallies.reduce((a, t) => a + t.sum, 0),
    sq: tallies.reduce((a, t) => (a + t.sq) >>> 0, 0),
    dups: tallies.reduce((a, t) => a + t.dups, 0),
    overlap,
    missing: n - have,
  };
}

/** p, or 'hung' if it has not settled after ms (so that a hang fails one round, not the file). */
async function guard<T>(p: Promise<T>, ms: number): Promise<T | 'hung'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<'hung'>((r) => (timer = setTimeout(() => r('hung'), ms)));
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function expected(n: number): { sum: number; sq: number } {
  let sum = 0;
  let sq = 0;
  for (let v = 0; v < n; v++) {
    sum += v;
    sq = (sq + Math.imul(v, v)) >>> 0;
  }
  return { sum, sq };
}

/** P producers send 0..n-1 (each a contiguous range) on one channel; C consumers tally. */
async function producersConsumers(n: number, cap: number, P: number, C: number): Promise<Tally[]> {
  const c = chan<number>(cap);
  const left = chan<number>(P); // producers report here when done
  const per = Math.ceil(n / P);
  for (let p = 0; p < P; p++) {
    go(
      async (c: Chan<number>, left: Chan<number>, from: number, to: number) => {
        for (let v = from; v < to; v++) await c.send(v);
        await left.send(1);
      },
      c,
      left,
      p * per,
      Math.min(n, (p + 1) * per),
    );
  }
  // the closer: once every producer is done, no more values can come
  go(
    async (c: Chan<number>, left: Chan<number>, P: number) => {
      for (let p = 0; p < P; p++) await left.recv();
      c.close();
    },
    c,
    left,
    P,
  );
  const consumers: Promise<Tally>[] = [];
  for (let k = 0; k < C; k++) {
    consumers.push(
      spawn(
        async (c: Chan<number>, n: number): Promise<Tally> => {
          const bits = new Uint32Array(Math.ceil(n / 32));
          let count = 0;
          let sum = 0;
          let sq = 0;
          let dups = 0;
          for await (const v of c) {
            count++;
            sum += v;
            sq = (sq + Math.imul(v, v)) >>> 0;
            const w = v >>> 5;
            const b = 1 << (v & 31);
            if ((bits[w]! & b) !== 0) dups++;
            bits[w] = bits[w]! | b;
          }
          return { count, sum, sq, dups, words: Array.from(bits) };
        },
        c,
        n,
      ),
    );
  }
  return Promise.all(consumers);
}

describe('producers and consumers on one channel', () => {
  for (const [procs, cap, n] of [
    [2, 64, scaled(1_000_000)],
    [4, 64, scaled(1_000_000)],
    [2, 0, scaled(1_000_000)],
    [4, 0, scaled(1_000_000)],
  ] as const) {
    it(`4 producers, 4 consumers, ${n} values, chan(${cap}), procs ${procs}: each value received exactly once`, async () => {
      const tallies = await run(() => producersConsumers(n, cap, 4, 4), { procs });
      const m = merge(tallies, n);
      const e = expected(n);
      expect(m.count).toBe(n);
      expect(m.sum).toBe(e.sum);
      expect(m.sq).toBe(e.sq);
      expect(m.dups).toBe(0);
      expect(m.overlap).toBe(0);
      expect(m.missing).toBe(0);
    });
  }
});

describe('one producer and one consumer alone on two Ms (blocked operations spin before parking)', () => {
  for (const cap of [0, 1, 100]) {
    const n = scaled(200_000);
    it(`chan(${cap}), ${n} values: every value arrives once and in order, close ends the range`, async () => {
      const r = await run(
        async () => {
          const c = chan<number>(cap);
          // Each goroutine first keeps its M busy for 30 ms, so the two start on different Ms.
          const [[got, bad, consTid], prodTid] = await Promise.all([spawn(tasks.rangeInOrder, c, 30), spawn(tasks.sendRange, c, n, 30)]);
          return { got, bad, consTid, prodTid };
        },
        { procs: 2 },
      );
      expect(r.bad).toBe(0);
      expect(r.got).toBe(n);
      expect(r.consTid).not.toBe(r.prodTid);
    });
  }
});

interface SenderReport {
  id: number;
  /** values 0..sent-1 (offset by id * STRIDE) went through */
  sent: number;
  /** how the sender stopped */
  end: string;
}

const STRIDE = 1 << 17; // a sender that sends this many values never saw the close

describe('close racing with sends and receives', () => {
  it('senders that lose get ClosedChannelError; every value sent before close is received exactly once', async () => {
    const rounds = scaled(100);
    const r = await run(
      async () => {
        const problems: string[] = [];
        const note = (msg: string): void => {
          if (problems.length < 40) problems.push(msg);
        };
        let totalSent = 0;
        for (let round = 0; round < rounds; round++) {
          const cap = [0, 1, 16][round % 3]!;
          const useSelect = round % 4 >= 2;
          const c = chan<number>(cap);
          const S = 4;
          const R = 3;
          const senders: Promise<SenderReport>[] = [];
          for (let id = 0; id < S; id++) {
            senders.push(
              spawn(
                async (c: Chan<number>, id: number, STRIDE: number, useSelect: boolean): Promise<SenderReport> => {
                  let sent = 0;
                  for (;;) {
                    try {
                      if (useSelect) await select([send(c, id * STRIDE + sent, () => {})]);
                      else await c.send(id * STRIDE + sent);
                    } catch (e) {
                      return { id, sent, end: e instanceof ClosedChannelError ? e.message : `other: ${String(e)}` };
                    }
                    sent++;
                    if (sent === STRIDE) return { id, sent, end: 'stride exhausted' };
                  }
                },
                c,
                id,
                STRIDE,
                useSelect,
              ),
            );
          }
          // values received so far in this round, by every receiver (the goroutine closer's cue)
          const total = new AtomicInt32();
          const receivers: Promise<number[]>[] = [];
          for (let k = 0; k < R; k++) {
            receivers.push(
              spawn(
                async (c: Chan<number>, useSelect: boolean, total: AtomicInt32) => {
                  const got: number[] = [];
                  for (;;) {
                    const [v, ok] = useSelect ? await select([recv(c, (v, ok) => [v, ok] as const)]) : await c.recvOk();
                    if (!ok) return got;
                    got.push(v!);
                    total.add(1);
                  }
                },
                c,
                useSelect,
                total,
              ),
            );
          }
          // close after a random short while (main), or from a goroutine that receives too,
          // once a random number of values were received in all. (Not once it received a
          // number itself: on a loaded machine its M can get so little CPU that the others
          // take 4 × STRIDE values first, and then main's close below came before its own.)
          if (round % 2 === 0) {
            await sleep(Math.floor(Math.random() * 8));
            c.close();
          } else {
            receivers.push(
              spawn(
                async (c: Chan<number>, k: number, total: AtomicInt32) => {
                  const got: number[] = [];
                  while (total.load() < k) {
                    const [v, ok] = await c.recvOk();
                    if (!ok) break;
                    got.push(v!);
                    total.add(1);
                  }
                  c.close();
                  return got;
                },
                c,
                Math.floor(Math.random() * 8000),
                total,
              ),
            );
          }
          const reports = await guard(Promise.all(senders), 20_000);
          if (reports === 'hung') {
            note(`round ${round} (cap ${cap}, select ${useSelect}): senders still running after 20 s`);
            break;
          }
          // a sender that ran through its stride never saw the close (reported below); close
          // here so that the receivers can finish
          if (reports.some((s) => s.end === 'stride exhausted')) {
            try {
              c.close();
            } catch {
              // closed meanwhile
            }
          }
          const received = await guard(Promise.all(receivers), 20_000);
          if (received === 'hung') {
            note(`round ${round} (cap ${cap}, select ${useSelect}): receivers still parked 20 s after close`);
            break;
          }
          const got = received.flat();
          // every value a sender saw go through was received exactly once, and nothing else
          const want = new Set<number>();
          for (const s of reports) {
            if (s.end !== 'send on closed channel') note(`round ${round}: sender ${s.id} ended with ${s.end}`);
            for (let k = 0; k < s.sent; k++) want.add(s.id * STRIDE + k);
          }
          totalSent += want.size;
          const seen = new Set<number>();
          for (const v of got) {
            if (seen.has(v)) note(`round ${round} (cap ${cap}, select ${useSelect}): ${v} received twice`);
            else if (!want.has(v)) note(`round ${round} (cap ${cap}, select ${useSelect}): ${v} received but its send failed`);
            seen.add(v);
          }
          if (seen.size !== want.size) note(`round ${round} (cap ${cap}, select ${useSelect}): sent ${want.size}, received ${seen.size}`);
        }
        return { problems, totalSent };
      },
      { procs: 2 },
    );
    console.log(`close race: ${rounds} rounds, ${r.totalSent} values sent before close`);
    expect(r.problems).toEqual([]);
    expect(r.totalSent).toBeGreaterThan(0);
  });
});

describe('select racing close', () => {
  it('many goroutines parked or arriving in selects on a channel that gets closed: all wake', async () => {
    const rounds = scaled(40);
    const G = scaled(200);
    const r = await run(
      async () => {
        const problems: string[] = [];
        for (let round = 0; round < rounds; round++) {
          const c = chan<number>(round % 2);
          const other = chan<number>(); // never ready
          const results: Promise<string>[] = [];
          for (let g = 0; g < G; g++) {
            const kind = g % 3;
            results.push(
              spawn(
                async (c: Chan<number>, other: Chan<number>, kind: number, g: number) => {
                  try {
                    if (kind === 0) return await select([recv(other, () => 'other'), recv(c, (_v, ok) => (ok ? 'value' : 'closed'))]);
                    if (kind === 1) return await select([send(c, g, () => 'sent'), recv(other, () => 'other')]);
                    // both directions on c, plus a null case
                    return await select([recv(null, () => 'null'), send(c, g, () => 'sent'), recv(c, (_v, ok) => (ok ? 'value' : 'closed'))]);
                  } catch (e) {
                    return e instanceof ClosedChannelError ? 'send on closed' : `other: ${String(e)}`;
                  }
                },
                c,
                other,
                kind,
                g,
              ),
            );
          }
          // half the rounds: let them park first; the other half: close while they arrive
          if (round % 2 === 0) await sleep(20);
          c.close();
          const outcomes = await guard(Promise.all(results), 20_000);
          if (outcomes === 'hung') {
            problems.push(`round ${round}: selects still parked 20 s after close`);
            break;
          }
          // a value can pass between two selects before the close (sent/value pairs, or the
          // buffer); afterwards every receiver sees closed and every sender panics.
          const count = (s: string): number => outcomes.filter((o) => o === s).length;
          const sent = count('sent');
          const value = count('value');
          const bad = outcomes.filter((o) => !['closed', 'send on closed', 'sent', 'value'].includes(o));
          if (bad.length > 0) problems.push(`round ${round}: unexpected outcomes ${bad.join(', ')}`);
          // values sent = values received + what is left in the buffer
          if (sent !== value + c.len) problems.push(`round ${round}: ${sent} sent, ${value} received, ${c.len} buffered`);
          for (let g = 0; g < G; g++) {
            const o = outcomes[g]!;
            if (g % 3 === 0 && (o === 'sent' || o === 'send on closed')) problems.push(`round ${round}: receiver ${g} got ${o}`);
            if (g % 3 === 1 && (o === 'value' || o === 'closed')) problems.push(`round ${round}: sender ${g} got ${o}`);
          }
        }
        return problems;
      },
      { procs: 2 },
    );
    expect(r).toEqual([]);
  });
});
