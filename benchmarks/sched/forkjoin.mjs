/**
 * sched/forkjoin: recursive parallel fib(30) with a cutoff of 20. pfib is a module function
 * that spawns itself through fromModule(import.meta.url): above the cutoff it spawns both
 * halves and awaits them, at or below it computes sequentially. Compared with sequential
 * fib(30) on the main thread. A repetition times K back-to-back computations of each (K = 10)
 * and reports the mean per fib(30), after an untimed warm-up of both, alternating, for 2 s.
 * Two diagnostic rows split the parallel block: its first call (the Ms idled through the
 * sequential block before it) and the mean of the other K - 1 (docs/architecture.md, Limits).
 *
 * This file is also imported by every M (for pfib), so its top level only defines functions.
 */
import { run, spawn, fromModule } from 'gort';
import { Rows, timed } from '../lib/common.mjs';
import { fibWorkers } from '../lib/fib-workers.mjs';

const self = fromModule(import.meta.url);

export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

export async function pfib(n, cutoff) {
  if (n <= cutoff) return fib(n);
  const [a, b] = await Promise.all([spawn(self.pfib, n - 1, cutoff), spawn(self.pfib, n - 2, cutoff)]);
  return a + b;
}

/** Goroutines one pfib(n, cutoff) creates (every call above the cutoff spawns two). */
function goroutines(n, cutoff) {
  return n <= cutoff ? 0 : 2 + goroutines(n - 1, cutoff) + goroutines(n - 2, cutoff);
}

const PROCS = 2;

export default async function forkjoinBench({ reps, quick, log, quiet }) {
  const N = 30;
  const CUTOFF = 20;
  const K = quick ? 2 : 10;
  const expect = fib(25) === 75025 ? 832040 : NaN;
  const rows = new Rows();
  rows.def(`sequential fib(${N}) on the main thread`, 'ms', { better: 'lower' });
  rows.def(`parallel fib(${N}), cutoff ${CUTOFF}, spawned from main (${goroutines(N, CUTOFF) + 1} goroutines)`, 'ms', { better: 'lower' });
  rows.def('speedup', 'x', { target: { op: '>=', value: 1.7 } });
  rows.def(`machine reference: 2 plain workers vs 1 on fib(${N}) (same moment)`, 'x', { note: 'the ceiling two busy threads of this code get here (lib/fib-workers.mjs)' });
  rows.def(`parallel: first call of each block (Ms idle before it)`, 'ms', { better: 'lower' });
  rows.def(`parallel: mean of the block's other ${K - 1} calls`, 'ms', { better: 'lower' });
  const ref = await fibWorkers();

  await run(
    async () => {
      const seqK = async () => {
        for (let i = 0; i < K; i++) if (fib(N) !== expect) throw new Error('fib: wrong result');
      };
      const calls = [];
      const parK = async () => {
        calls.length = 0;
        for (let i = 0; i < K; i++) {
          const t0 = performance.now();
          if ((await spawn(self.pfib, N, CUTOFF)) !== expect) throw new Error('pfib: wrong result');
          calls.push(performance.now() - t0);
        }
      };
      // Warm-up until both sides reach steady state: each M compiles pfib and gort's spawn and
      // join paths on its own, and measured after only K runs the parallel side was still
      // getting faster rep by rep (12 ms, 10, 8, 7.5, 5.5 per fib(30)) while main's fib was warm.
      log('warm-up');
      await quiet();
      const warmUntil = performance.now() + (quick ? 300 : 2000);
      while (performance.now() < warmUntil) {
        await seqK();
        await parK();
      }
      for (let r = 0; r < reps; r++) {
        await quiet();
        const [s] = await timed(seqK);
        const [p] = await timed(parK);
        rows.add(rows.rows[0].figure, s / K);
        rows.add(rows.rows[1].figure, p / K);
        rows.add('speedup', s / p);
        rows.add(rows.rows[4].figure, calls[0]);
        rows.add(rows.rows[5].figure, calls.slice(1).reduce((x, y) => x + y, 0) / (K - 1));
        rows.add(rows.rows[3].figure, await ref.speedup(N, K / 2));
        log(`rep ${r + 1}/${reps}: sequential ${(s / K).toFixed(1)} ms, parallel ${(p / K).toFixed(1)} ms per fib(${N})`);
      }
    },
    { procs: PROCS },
  );
  await ref.close();
  return rows.toJSON();
}
