/**
 * debug/overhead: what each debugging aid costs when it is on, side by side with all of them
 * off, in one process: sched/spawn (100,000 go() + WaitGroup from inside a goroutine on an M,
 * procs 2), chan/pingpong (unbuffered round trips between goroutines on two Ms) and
 * sched/fanout (64 CPU items of ~5 ms spawned from main, procs 2). Each repetition runs every
 * mode once, in a rotating order, each in its own run(), each workload once untimed first. A
 * ratio is mode / all off: above 1 is slower for a time, faster for a rate.
 *
 * Modes: all off (`sysmon: false`), stacks on (`stacks: true`: a stack captured per go() and
 * per park), tracing on (startTrace() before the workloads, stopTrace() after, not timed),
 * sysmon running (the default: its thread watching the Ms). That each aid costs nothing when
 * off (one field test per hook) is an A/B of two builds: benchmarks/ab.mjs.
 */
import { run, spawn, fromModule } from 'gort';
import { startTrace, stopTrace } from 'gort/debug';
import { innerGoWg } from '../sched/spawn.mjs';
import { Rows, timed } from '../lib/common.mjs';

const tasks = fromModule(new URL('../lib/gtasks.mjs', import.meta.url));
const chanwork = fromModule(new URL('../lib/chanwork.mjs', import.meta.url));

export const MODES = [
  { name: 'all off', opts: { sysmon: false } },
  { name: 'stacks on', opts: { sysmon: false, stacks: true } },
  { name: 'tracing on', opts: { sysmon: false }, trace: true },
  { name: 'sysmon running', opts: {} },
];

const WORKLOADS = [
  {
    name: 'sched/spawn',
    unit: 'goroutines/s',
    better: 'higher',
    what: (q) => `${q ? 20_000 : 100_000} × go() + WaitGroup from a goroutine on an M`,
    async measure(q) {
      const n = q ? 20_000 : 100_000;
      await spawn(innerGoWg, 1000); // warm-up
      return (n / (await spawn(innerGoWg, n))) * 1000;
    },
  },
  {
    name: 'chan/pingpong',
    unit: 'µs',
    better: 'lower',
    what: (q) => `${q ? 2_000 : 20_000} unbuffered round trips between goroutines on two Ms, per round trip`,
    async measure(q) {
      await spawn(chanwork.pingpong, 500, 30); // warm-up
      return (await spawn(chanwork.pingpong, q ? 2_000 : 20_000, 30)).us;
    },
  },
  {
    name: 'sched/fanout',
    unit: 'ms',
    better: 'lower',
    what: (q) => `${q ? 32 : 64} × spawn(work 5 ms) from main, then Promise.all`,
    async measure(q, calib) {
      const n = q ? 32 : 64;
      const batch = () => Promise.all(Array.from({ length: n }, () => spawn(tasks.work, calib.iters5ms)));
      await batch(); // warm-up
      return (await timed(batch))[0];
    },
  },
];

export default async function overheadBench({ reps, quick, calib, log, quiet }) {
  const rows = new Rows();
  for (const w of WORKLOADS) {
    for (const m of MODES) rows.def(`${w.name}, ${m.name}: ${w.what(quick)}`, w.unit, { better: w.better });
    for (const m of MODES.slice(1)) rows.def(`${w.name}: ${m.name} / all off`, 'x', { better: w.better });
  }
  for (let r = 0; r < reps; r++) {
    await quiet();
    const got = new Map();
    for (let k = 0; k < MODES.length; k++) {
      const m = MODES[(k + r) % MODES.length];
      const vals = await run(async () => {
        if (m.trace) startTrace();
        const out = [];
        for (const w of WORKLOADS) out.push(await w.measure(quick, calib));
        if (m.trace) await stopTrace();
        return out;
      }, { procs: 2, ...m.opts });
      got.set(m.name, vals);
    }
    WORKLOADS.forEach((w, i) => {
      const off = got.get(MODES[0].name)[i];
      for (const m of MODES) rows.add(`${w.name}, ${m.name}: ${w.what(quick)}`, got.get(m.name)[i]);
      for (const m of MODES.slice(1)) rows.add(`${w.name}: ${m.name} / all off`, got.get(m.name)[i] / off);
    });
    log(`rep ${r + 1}/${reps}: ` + MODES.map((m) => `${m.name} [${got.get(m.name).map((v) => v.toFixed(1)).join(', ')}]`).join('; '));
  }
  return rows.toJSON();
}
