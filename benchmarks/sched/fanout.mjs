/**
 * sched/fanout: 64 CPU-bound items of ~5 ms (2.5M xorshift rounds, lib/cpu.mjs), spawned from
 * the main thread through a module function (fromModule), then awaited. Wall time with
 * procs: 1 and with procs: 2 — two separate run()s in one process — and the speedup; the same
 * on piscina with 1 and 2 threads for reference.
 * Each repetition: run({procs:1}) { warm-up batch; timed batch }, run({procs:2}) { same },
 * then piscina 1 thread and 2 threads, each with an untimed batch first.
 */
import { run, spawn, fromModule } from 'gort';
import { stats } from 'gort/debug';
import { piscinaPool, piscinaBatch } from '../lib/pools.mjs';
import { Rows, timed } from '../lib/common.mjs';

const tasks = fromModule(new URL('../lib/gtasks.mjs', import.meta.url));

async function gortBatch(procs, n, iters) {
  return run(
    async () => {
      const batch = () => Promise.all(Array.from({ length: n }, () => spawn(tasks.work, iters)));
      await batch(); // warm-up: imports the module on every M and optimizes the loop
      const s0 = stats().tasksPerM;
      const [ms] = await timed(batch);
      const perM = stats().tasksPerM.map((v, m) => v - s0[m]);
      return [ms, perM];
    },
    { procs },
  );
}

async function piscinaTimed(threads, n, iters) {
  const pool = await piscinaPool(threads);
  try {
    await piscinaBatch(pool, n, iters, 'work'); // warm-up
    const [ms] = await timed(() => piscinaBatch(pool, n, iters, 'work'));
    return ms;
  } finally {
    await pool.destroy();
  }
}

export default async function fanoutBench({ reps, quick, calib, log, quiet }) {
  const N = quick ? 32 : 64;
  const iters = calib.iters5ms;
  const ideal = (N * calib.item5msUs) / 1000;
  const rows = new Rows();
  rows.def(`gort procs 1: ${N} × spawn(work 5 ms), then Promise.all`, 'ms', { better: 'lower', chart: { time: 'gort', procs: 1 }, baseline: 'A3: piscina 1 worker 332 ms; C5: Go GOMAXPROCS=1 307 ms' });
  rows.def(`gort procs 2: same`, 'ms', { better: 'lower', chart: { time: 'gort', procs: 2 }, baseline: 'A3: piscina 2 workers 169 ms; C5: Go 157 ms', note: `ideal ≈ ${(ideal / 2).toFixed(0)} ms from the measured item time` });
  rows.def('gort procs 2: items run by the less busy M', '%', { note: 'from stats().tasksPerM; 50% is an even split' });
  rows.def('gort speedup procs 2 / procs 1', 'x', { chart: { speedup: 'gort', procs: 2, base: 1 }, target: { op: '>=', value: 1.9 }, baseline: 'A3: piscina 1.98, raw 1.96; C5: Go 1.97' });
  rows.def(`piscina 1 thread: ${N} × run(work 5 ms)`, 'ms', { better: 'lower' });
  rows.def('piscina 2 threads: same', 'ms', { better: 'lower' });
  rows.def('piscina speedup 2 / 1 threads', 'x', { chart: { speedup: 'piscina', procs: 2, base: 1 }, baseline: 'A3: piscina 1.98 (1.03–2.02)' });
  rows.def('gort procs 2 / piscina 2 threads, wall time', 'x', { better: 'lower', note: '< 1 means gort finished first' });
  for (let r = 0; r < reps; r++) {
    await quiet();
    const [g1] = await gortBatch(1, N, iters);
    const [g2, perM] = await gortBatch(2, N, iters);
    const p1 = await piscinaTimed(1, N, iters);
    const p2 = await piscinaTimed(2, N, iters);
    rows.add(rows.rows[0].figure, g1);
    rows.add(rows.rows[1].figure, g2);
    rows.add(rows.rows[2].figure, (100 * Math.min(...perM)) / N);
    rows.add(rows.rows[3].figure, g1 / g2);
    rows.add(rows.rows[4].figure, p1);
    rows.add(rows.rows[5].figure, p2);
    rows.add(rows.rows[6].figure, p1 / p2);
    rows.add(rows.rows[7].figure, g2 / p2);
    log(`rep ${r + 1}/${reps}: gort ${g1.toFixed(0)} / ${g2.toFixed(0)} ms (items per M [${perM}]), piscina ${p1.toFixed(0)} / ${p2.toFixed(0)} ms`);
  }
  return rows.toJSON();
}
