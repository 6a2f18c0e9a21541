/**
 * sched/trace: what recording an execution trace (gort/debug startTrace/stopTrace) costs, on
 * three workloads run side by side in one runtime (procs 2), each repetition once with the
 * trace off and once on (the order swapped every repetition):
 * - sched/spawn: 100k go((w) => w.done(), wg) from inside a goroutine, then wg.wait();
 * - chan/pingpong: unbuffered ping-pong between goroutines on the two Ms (lib/chanwork.mjs);
 * - sched/fanout: 64 × spawn(work 5 ms) from main, then Promise.all.
 * Rows: each time off and on, the ratio on / off, and the events a traced run recorded.
 * With the trace off the hooks cost one field check each; the A/B of two builds
 * (benchmarks/ab.mjs) is the way to see that.
 */
import { run, spawn, go, WaitGroup, fromModule } from 'gort';
import { startTrace, stopTrace } from 'gort/debug';
import { Rows } from '../lib/common.mjs';

const chanwork = fromModule(new URL('../lib/chanwork.mjs', import.meta.url));
const tasks = fromModule(new URL('../lib/gtasks.mjs', import.meta.url));

const innerGoWg = async (n) => {
  const t0 = performance.now();
  const wg = new WaitGroup();
  wg.add(n);
  for (let i = 0; i < n; i++) go((w) => w.done(), wg);
  await wg.wait();
  return performance.now() - t0;
};

export default async function traceBench({ reps, quick, calib, log, quiet }) {
  const N_SPAWN = quick ? 20_000 : 100_000;
  const N_PING = quick ? 2_000 : 20_000;
  const N_FAN = quick ? 32 : 64;
  const rows = new Rows();
  const work = [
    { name: `sched/spawn: go + WaitGroup ×${N_SPAWN / 1000}k inside a goroutine`, unit: 'ms', fn: () => spawn(innerGoWg, N_SPAWN) },
    { name: `chan/pingpong: unbuffered round trip across the Ms (×${N_PING / 1000}k)`, unit: 'µs', fn: async () => (await spawn(chanwork.pingpong, N_PING, 30)).us },
    {
      name: `sched/fanout: ${N_FAN} × spawn(work 5 ms) from main`,
      unit: 'ms',
      fn: async () => {
        const t0 = performance.now();
        const ps = [];
        for (let i = 0; i < N_FAN; i++) ps.push(spawn(tasks.work, calib.iters5ms));
        await Promise.all(ps);
        return performance.now() - t0;
      },
    },
  ];
  for (const w of work) {
    rows.def(`${w.name}, trace off`, w.unit, { better: 'lower' });
    rows.def(`${w.name}, trace on`, w.unit, { better: 'lower' });
    const short = w.name.split(':')[0];
    rows.def(`  ${short}: ratio on / off`, 'x', { better: 'lower' });
    rows.def(`  ${short}: events recorded (traced run, all threads)`, 'events');
  }
  const add = (i, v) => rows.rows[i].values.push(v);
  await run(
    async () => {
      for (let r = -1; r < reps; r++) {
        if (r >= 0) await quiet();
        for (let k = 0; k < work.length; k++) {
          const w = work[k];
          const one = async (on) => {
            if (on) startTrace();
            const v = await w.fn();
            const events = on ? (await stopTrace()).otherData.threads.reduce((s, t) => s + t.events, 0) : 0;
            return [v, events];
          };
          const first = r % 2 === 0;
          const a = await one(first);
          const b = await one(!first);
          const [off, on] = first ? [b, a] : [a, b];
          if (r < 0) continue; // warm-up
          add(4 * k, off[0]);
          add(4 * k + 1, on[0]);
          add(4 * k + 2, on[0] / off[0]);
          add(4 * k + 3, on[1]);
          log(`rep ${r + 1}/${reps}: ${w.name}: off ${off[0].toFixed(2)}, on ${on[0].toFixed(2)} ${w.unit} (${on[1]} events)`);
        }
      }
    },
    { procs: 2 },
  );
  return rows.toJSON();
}
