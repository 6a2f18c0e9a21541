/**
 * sched/steal: one goroutine, on an M, go()es 10,000 items of ~50 µs with one WaitGroup
 * (procs 2). Nothing is injected from the main thread: the other M gets work only from the
 * spawning M — by stealing from its ring, or from the global queue when that 256-slot ring
 * overflows (the spawner pushes much faster than items run, so most of it goes that way, as
 * in Go). From stats() read before and after the timed batch (inside the run, so before it
 * ends): goroutines started per M, steal operations and Gs stolen, each M's share; and the
 * speedup over the same 10,000 items run one after another in one goroutine. Both times are
 * measured on the M (lib/gtasks.mjs fanGoWg / seq).
 */
import { run, spawn, fromModule } from 'gort';
import { stats } from 'gort/debug';
import { Rows } from '../lib/common.mjs';

const PROCS = 2;
const tasks = fromModule(new URL('../lib/gtasks.mjs', import.meta.url));

export default async function stealBench({ reps, quick, calib, log, quiet }) {
  const N = quick ? 2_000 : 10_000;
  const iters = calib.iters50us;
  const rows = new Rows();
  rows.def(`go() ×${N / 1000}k items of 50 µs from one goroutine, wg.wait()`, 'ms', { better: 'lower' });
  rows.def(`same items in sequence in one goroutine`, 'ms', { better: 'lower', note: `${N} × ${calib.item50usUs.toFixed(1)} µs measured on main = ${((N * calib.item50usUs) / 1000).toFixed(0)} ms` });
  rows.def('speedup parallel / sequential', 'x', { target: { op: '>=', value: 1.7 } });
  for (let m = 1; m <= PROCS; m++) rows.def(`M${m}: share of the goroutines started`, '%');
  rows.def('smallest M share', '%', { target: { op: '>=', value: 40 } });
  for (let m = 1; m <= PROCS; m++) rows.def(`M${m}: goroutines started`, 'count');
  for (let m = 1; m <= PROCS; m++) rows.def(`M${m}: steal operations`, 'count');
  for (let m = 1; m <= PROCS; m++) rows.def(`M${m}: Gs taken by stealing`, 'count', { note: 'the rest reached the M through its own ring or the global queue (ring overflow)' });

  await run(
    async () => {
      const once = async (rep) => {
        const seq = await spawn(tasks.seq, N, iters);
        const s0 = stats();
        const par = await spawn(tasks.fanGoWg, N, iters);
        const s1 = stats(); // read before the run ends
        if (rep < 0) return;
        const started = s1.tasksPerM.map((v, m) => v - s0.tasksPerM[m]);
        const steals = s1.stealsPerM.map((v, m) => v - s0.stealsPerM[m]);
        const stolen = s1.stolenPerM.map((v, m) => v - s0.stolenPerM[m]);
        const total = started.reduce((a, b) => a + b, 0);
        rows.add(rows.rows[0].figure, par);
        rows.add(rows.rows[1].figure, seq);
        rows.add(rows.rows[2].figure, seq / par);
        const shares = started.map((v) => (100 * v) / total);
        shares.forEach((s, m) => rows.add(`M${m + 1}: share of the goroutines started`, s));
        rows.add('smallest M share', Math.min(...shares));
        started.forEach((v, m) => rows.add(`M${m + 1}: goroutines started`, v));
        steals.forEach((v, m) => rows.add(`M${m + 1}: steal operations`, v));
        stolen.forEach((v, m) => rows.add(`M${m + 1}: Gs taken by stealing`, v));
        log(
          `rep ${rep + 1}/${reps}: parallel ${par.toFixed(0)} ms, sequential ${seq.toFixed(0)} ms, ` +
            `started per M [${started}], steals [${steals}], stolen Gs [${stolen}]`,
        );
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
  return rows.toJSON();
}
