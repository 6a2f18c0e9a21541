/**
 * sieve: Go's concurrent prime sieve, first 2,000 primes (17,389), run inside a goroutine with
 * procs 2 (and procs 1), side by side with the same program on single-thread promise channels
 * (reference figure D at the end of RESULTS.md: a 25-line unbuffered channel, no workers).
 * Each run in a fresh runtime: after the 2,000th prime the values still in flight keep
 * draining down the abandoned filter chain, ~1.9M more hand-offs until every stage blocks (in
 * Go as in JS), and a next run in the same runtime would compete with that tail.
 *
 * Both sides are timed warm. The promise version runs on the main thread, whose compiler is
 * warm after the first, untimed repetition; a fresh runtime's M starts cold, so its goroutine
 * first runs an untimed sieve of 300 primes (chanwork.mjs, sieveWarm) on the same M. In
 * one process, 7 alternating rounds: cold 977 ms median (821 best), warm 876 (829).
 */
import { run, spawn, fromModule } from 'gort';
import { Rows } from '../lib/common.mjs';
import { PChan } from '../lib/pchan.mjs';

const w = fromModule(new URL('../lib/chanwork.mjs', import.meta.url));

async function promiseSieve(n) {
  const t0 = performance.now();
  const first = new PChan();
  (async () => {
    for (let i = 2; ; i++) await first.send(i);
  })();
  let ch = first;
  let prime = 0;
  for (let i = 0; i < n; i++) {
    prime = await ch.recv();
    const src = ch;
    const dst = new PChan();
    const p = prime;
    (async () => {
      for (;;) {
        const v = await src.recv();
        if (v % p !== 0) await dst.send(v);
      }
    })();
    ch = dst;
  }
  return [performance.now() - t0, prime];
}

export default async function ({ reps, quick }) {
  const N = quick ? 500 : 2000;
  const WARM = quick ? 100 : 300;
  const rows = new Rows();
  rows.def(`gort sieve, first ${N} primes, procs 2`, 'ms', { better: 'lower', baseline: 'C4: Go 224 ms (GOMAXPROCS=2), 334 ms (1)' });
  rows.def(`gort sieve, first ${N} primes, procs 1`, 'ms', { better: 'lower' });
  rows.def(`promise-channel sieve, single thread`, 'ms', { better: 'lower', baseline: 'D: 668 ms warm' });
  rows.def('gort procs 2 / promise version (time ratio)', 'x', { better: 'lower', target: { op: '<=', value: 1.5 } });
  for (let r = -1; r < reps; r++) {
    const [g2] = await run(() => spawn(w.sieveWarm, N, WARM), { procs: 2 });
    const [g1] = await run(() => spawn(w.sieveWarm, N, WARM), { procs: 1 });
    await new Promise((res) => setImmediate(res));
    const [p] = await promiseSieve(N);
    await new Promise((res) => setTimeout(res, 50)); // let the abandoned promise chain drain
    if (r < 0) continue;
    rows.add(rows.rows[0].figure, g2);
    rows.add(rows.rows[1].figure, g1);
    rows.add(rows.rows[2].figure, p);
    rows.add(rows.rows[3].figure, g2 / p);
  }
  return rows.toJSON();
}
