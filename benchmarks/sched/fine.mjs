/**
 * sched/fine: 100,000 items of ~10 µs (calibrated, lib/cpu.mjs) submitted from the main
 * thread: spawn(work) each then Promise.all, and go(workDone, wg) each then wg.wait(); against
 * piscina (2 threads, the same items through pool.run) and against running the items one after
 * another on the main thread. Each workload runs once untimed first; a repetition runs all four
 * back to back.
 *
 * CPU rows: the process's CPU time (every thread: main, Ms, V8's helper threads) over each gort
 * batch, and over the same promise traffic with no runtime at all (promiseFloor): 100,000
 * promises made on main with their resolve functions kept, a Promise.all over them, then
 * resolved 170 at a time once per millisecond, as main's pump settles completions. That is what
 * V8 charges for `spawn` + Promise.all on a thread that has no core of its own here; the go +
 * WaitGroup batch makes no promise per item. Measured alone (Ms idle), and beside a go +
 * WaitGroup batch (Ms busy), where V8's helper threads compete with the Ms for the 2 cores.
 */
import { run, spawn, go, fromModule, WaitGroup } from 'gort';
import { piscinaPool, piscinaBatch } from '../lib/pools.mjs';
import { Rows, timed } from '../lib/common.mjs';
import { spin } from '../lib/cpu.mjs';

const PROCS = 2;
const tasks = fromModule(new URL('../lib/gtasks.mjs', import.meta.url));

/** Process CPU (all threads), ms. */
function cpuMs() {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/** sched/fine's promise traffic on main without gort (see the header): resolves when done. */
async function promiseFloor(n) {
  const PER_MS = 170;
  const res = [];
  const keep = (resolve) => {
    res.push(resolve);
  };
  const ps = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = new Promise(keep);
  const all = Promise.all(ps);
  for (let k = 0; k < n; k += PER_MS) {
    await new Promise((r) => setTimeout(r, 1));
    for (let j = k; j < Math.min(n, k + PER_MS); j++) {
      const f = res[j];
      res[j] = undefined;
      f(j);
    }
  }
  return all;
}

export default async function fineBench({ reps, quick, calib, log, quiet }) {
  const N = quick ? 20_000 : 100_000;
  const iters = calib.iters10us;
  const k = `${N / 1000}k`;
  const rows = new Rows();
  const perS = (ms) => (N / ms) * 1000;
  rows.def(`main thread, ${k} items in sequence`, 'items/s', { note: `item measured alone: ${calib.item10usUs.toFixed(2)} µs` });
  rows.def(`gort: spawn(work) ×${k}, then Promise.all`, 'items/s');
  rows.def(`gort: go(workDone, wg) ×${k}, then wg.wait()`, 'items/s');
  rows.def(`piscina ${PROCS} threads: pool.run(work) ×${k}, then Promise.all`, 'items/s', { baseline: 'A1 (no-op tasks): piscina 43,374/s, raw postMessage 238,003/s' });
  rows.def('gort spawn / piscina, throughput', 'x', { target: { op: '>=', value: 3 } });
  rows.def('gort go+WaitGroup / piscina, throughput', 'x', { target: { op: '>=', value: 3 } });
  rows.def('gort spawn / main-thread sequence, speedup', 'x', { target: { op: '>=', value: 1.6 } });
  rows.def('gort go+WaitGroup / main-thread sequence, speedup', 'x', { target: { op: '>=', value: 1.6 } });
  rows.def('piscina / main-thread sequence, speedup', 'x');
  rows.def(`process CPU over the gort spawn batch`, 'ms', { better: 'lower' });
  rows.def(`process CPU over the gort go+WaitGroup batch`, 'ms', { better: 'lower' });
  rows.def(`process CPU of the same promise traffic without gort (${k} pending promises + Promise.all), Ms idle`, 'ms', {
    better: 'lower',
  });
  rows.def(`process CPU over a go+WaitGroup batch with that promise traffic beside it on main`, 'ms', {
    better: 'lower',
    note: 'compare with the spawn batch: what spawn adds to go+WaitGroup that is not V8\'s promises',
  });

  const seq = () => {
    let x = 0;
    for (let i = 0; i < N; i++) x ^= spin(iters, i + 1);
    return x;
  };
  const pool = await piscinaPool(PROCS);
  try {
    await run(
      async () => {
        const viaSpawn = () => {
          const ps = new Array(N);
          for (let i = 0; i < N; i++) ps[i] = spawn(tasks.work, iters);
          return Promise.all(ps);
        };
        const viaGo = () => {
          const wg = new WaitGroup();
          wg.add(N);
          for (let i = 0; i < N; i++) go(tasks.workDone, wg, iters);
          return wg.wait();
        };
        const once = async (rep) => {
          const [s] = await timed(seq);
          let c0 = cpuMs();
          const [a] = await timed(viaSpawn);
          const ca = cpuMs() - c0;
          c0 = cpuMs();
          const [b] = await timed(viaGo);
          const cb = cpuMs() - c0;
          const [p] = await timed(() => piscinaBatch(pool, N, iters, 'work'));
          c0 = cpuMs();
          await promiseFloor(N);
          const cf = cpuMs() - c0;
          c0 = cpuMs();
          await Promise.all([viaGo(), promiseFloor(N)]);
          const cgf = cpuMs() - c0;
          if (rep < 0) return;
          rows.add(rows.rows[9].figure, ca);
          rows.add(rows.rows[10].figure, cb);
          rows.add(rows.rows[11].figure, cf);
          rows.add(rows.rows[12].figure, cgf);
          rows.add(rows.rows[0].figure, perS(s));
          rows.add(rows.rows[1].figure, perS(a));
          rows.add(rows.rows[2].figure, perS(b));
          rows.add(rows.rows[3].figure, perS(p));
          rows.add(rows.rows[4].figure, p / a);
          rows.add(rows.rows[5].figure, p / b);
          rows.add(rows.rows[6].figure, s / a);
          rows.add(rows.rows[7].figure, s / b);
          rows.add(rows.rows[8].figure, s / p);
          log(`rep ${rep + 1}/${reps}: sequential ${s.toFixed(0)} ms, spawn ${a.toFixed(0)} ms, go+wg ${b.toFixed(0)} ms, piscina ${p.toFixed(0)} ms`);
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
