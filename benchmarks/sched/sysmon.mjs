/**
 * sched/sysmon: what a running sysmon costs, side by side in one process: three workloads,
 * each in a run() with sysmon (start()'s default) and one with `sysmon: false`, alternating
 * within every repetition (procs 2):
 * - sched/spawn's inner loop: go((w) => w.done(), wg) ×100k from inside a goroutine, wg.wait();
 * - chan/pingpong: unbuffered round trips between goroutines on two Ms;
 * - sched/fanout: 64 CPU items of ~5 ms spawned from main.
 * Each run() first does the workload once untimed (module imports, optimization). Ratios are
 * on / off per repetition: above 1 means sysmon costs time. Sysmon looks at the Ms every 20 µs
 * to 10 ms while they run (runtime/sysmon.ts), and each M stores a tick per loop turn and G start.
 */
import { run, spawn, fromModule } from 'gort';
import { innerGoWg } from './spawn.mjs';
import { Rows, timed } from '../lib/common.mjs';

const tasks = fromModule(new URL('../lib/gtasks.mjs', import.meta.url));
const cw = fromModule(new URL('../lib/chanwork.mjs', import.meta.url));

const WORKLOADS = {
  spawn: (ctx) => spawn(innerGoWg, ctx.nSpawn),
  pingpong: async (ctx) => (await spawn(cw.pingpong, ctx.nPing, 30)).us,
  fanout: async (ctx) => (await timed(() => Promise.all(Array.from({ length: 64 }, () => spawn(tasks.work, ctx.iters)))))[0],
};

async function measure(name, sysmon, ctx) {
  return run(
    async () => {
      await WORKLOADS[name](ctx); // warm-up
      return WORKLOADS[name](ctx);
    },
    { procs: 2, sysmon },
  );
}

export default async function sysmonBench({ reps, quick, calib, log, quiet }) {
  const ctx = { nSpawn: quick ? 20_000 : 100_000, nPing: quick ? 2_000 : 20_000, iters: calib.iters5ms };
  const rows = new Rows();
  const label = {
    spawn: [`sched/spawn: go + WaitGroup ×${ctx.nSpawn / 1000}k inside a goroutine`, 'ms'],
    pingpong: [`chan/pingpong: unbuffered round trip across Ms`, 'µs'],
    fanout: ['sched/fanout: 64 items of 5 ms from main', 'ms'],
  };
  for (const k of Object.keys(WORKLOADS)) {
    rows.def(`${label[k][0]}, sysmon on`, label[k][1], { better: 'lower' });
    rows.def(`${label[k][0]}, sysmon off`, label[k][1], { better: 'lower' });
    rows.def(`${label[k][0]}: ratio on / off`, 'x');
  }
  for (let r = 0; r < reps; r++) {
    const line = [];
    for (const k of Object.keys(WORKLOADS)) {
      // Alternate which side goes first, so that neither always runs on a warmer machine.
      const order = r % 2 === 0 ? [true, false] : [false, true];
      const v = {};
      for (const s of order) {
        await quiet();
        v[s] = await measure(k, s, ctx);
      }
      rows.add(`${label[k][0]}, sysmon on`, v[true]);
      rows.add(`${label[k][0]}, sysmon off`, v[false]);
      rows.add(`${label[k][0]}: ratio on / off`, v[true] / v[false]);
      line.push(`${k} ${(v[true] / v[false]).toFixed(3)}`);
    }
    log(`rep ${r + 1}/${reps}: on / off ${line.join(', ')}`);
  }
  return rows.toJSON();
}
