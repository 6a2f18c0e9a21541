/**
 * sched/spawn: the cost of creating and completing goroutines that do nothing.
 *
 * (a) from the main thread: N × spawn(noop) then Promise.all, and N × go((w) => w.done(), wg)
 *     with one shared WaitGroup then wg.wait();
 * (b) piscina with as many threads as gort has Ms: N no-op pool.run() submitted, then awaited;
 * (c) from inside a goroutine (on an M): wg.add(N); N × go((w) => w.done(), wg); await wg.wait(),
 *     and N × spawn(noop) then Promise.all. Timed on the M itself.
 * Each workload runs once untimed (warm-up), then `reps` times; one repetition runs every
 * workload back to back, so each repetition's ratios compare neighbours in time.
 */
import { run, spawn, go, WaitGroup } from 'gort';
import { piscinaPool, piscinaBatch } from '../lib/pools.mjs';
import { Rows, timed } from '../lib/common.mjs';

const PROCS = 2;

// Inline goroutines: shipped by source, so they use only their parameters and gort's names.
const noop = () => {};

/** From an M: the loop exactly as a user writes it (a fresh arrow per go()). Also debug/overhead's. */
export const innerGoWg = async (n) => {
  const t0 = performance.now();
  const wg = new WaitGroup();
  wg.add(n);
  for (let i = 0; i < n; i++) go((w) => w.done(), wg);
  await wg.wait();
  return performance.now() - t0;
};

/** From an M, with the goroutine function hoisted out of the loop (one function object). */
const innerGoWgHoisted = async (n) => {
  const done = (w) => w.done();
  const t0 = performance.now();
  const wg = new WaitGroup();
  wg.add(n);
  for (let i = 0; i < n; i++) go(done, wg);
  await wg.wait();
  return performance.now() - t0;
};

const innerSpawnAll = async (n) => {
  const nop = () => {};
  const t0 = performance.now();
  const ps = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = spawn(nop);
  await Promise.all(ps);
  return performance.now() - t0;
};

export default async function spawnBench({ reps, quick, log, quiet }) {
  const N = quick ? 20_000 : 100_000;
  const rows = new Rows();
  const perS = (ms) => (N / ms) * 1000;
  rows.def(`gort, main thread: spawn(noop) ×${N / 1000}k, then Promise.all`, 'tasks/s');
  rows.def(`gort, main thread: go((w) => w.done(), wg) ×${N / 1000}k, then wg.wait()`, 'tasks/s');
  rows.def(`piscina ${PROCS} threads: pool.run(noop) ×${N / 1000}k, then Promise.all`, 'tasks/s', {
    baseline: 'A1: piscina 43,374 (31,619–50,350); raw postMessage 238,003 (162,348–317,279)',
  });
  rows.def('ratio gort spawn / piscina', 'x');
  rows.def('ratio gort go+WaitGroup / piscina', 'x');
  rows.def(`gort, inside a goroutine: go((w) => w.done(), wg) ×${N / 1000}k, then wg.wait()`, 'goroutines/s', {
    target: { op: '>=', value: 1_000_000 },
    baseline: 'C1: Go 191 ns/goroutine = 5.2M/s (GOMAXPROCS=2); 754 ns = 1.3M/s (GOMAXPROCS=1)',
  });
  rows.def('  same, ns per goroutine', 'ns', { better: 'lower', baseline: 'C1: Go 191 ns (163–658)' });
  rows.def(`gort, inside a goroutine: same with the arrow hoisted out of the loop`, 'goroutines/s');
  rows.def(`gort, inside a goroutine: spawn(noop) ×${N / 1000}k, then Promise.all`, 'goroutines/s');

  const pool = await piscinaPool(PROCS);
  try {
    await run(
      async () => {
        const fromMainSpawn = async () => {
          const ps = new Array(N);
          for (let i = 0; i < N; i++) ps[i] = spawn(noop);
          await Promise.all(ps);
        };
        const fromMainGo = async () => {
          const wg = new WaitGroup();
          wg.add(N);
          for (let i = 0; i < N; i++) go((w) => w.done(), wg);
          await wg.wait();
        };
        const pisc = () => piscinaBatch(pool, N, 0);
        const once = async (rep) => {
          const [a] = await timed(fromMainSpawn);
          const [b] = await timed(fromMainGo);
          const c = await spawn(innerGoWg, N);
          const d = await spawn(innerGoWgHoisted, N);
          const e = await spawn(innerSpawnAll, N);
          const [p] = await timed(pisc);
          if (rep < 0) return; // warm-up
          rows.add(rows.rows[0].figure, perS(a));
          rows.add(rows.rows[1].figure, perS(b));
          rows.add(rows.rows[2].figure, perS(p));
          rows.add('ratio gort spawn / piscina', p / a);
          rows.add('ratio gort go+WaitGroup / piscina', p / b);
          rows.add(rows.rows[5].figure, perS(c));
          rows.add('  same, ns per goroutine', (c * 1e6) / N);
          rows.add(rows.rows[7].figure, perS(d));
          rows.add(rows.rows[8].figure, perS(e));
          log(`rep ${rep + 1}/${reps}: spawn ${a.toFixed(0)} ms, go+wg ${b.toFixed(0)} ms, piscina ${p.toFixed(0)} ms, inner go ${c.toFixed(0)} ms`);
        };
        log('warm-up');
        await quiet();
        await once(-1);
        for (let r = 0; r < reps; r++) {
          await quiet();
          await once(r);
        }
      },
      { procs: PROCS },
    );
  } finally {
    await pool.destroy();
  }
  return rows.toJSON();
}
