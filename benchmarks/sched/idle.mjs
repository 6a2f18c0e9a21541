/**
 * sched/idle: what a started runtime with nothing to do costs, and how fast it wakes.
 *
 * CPU: with procs 2 started and warmed up, the main thread sleeps for a 2 s window; the
 * figure is process.cpuUsage() delta / wall time for the whole process (100% = one core), next
 * to the same window measured before the runtime was started. Per-thread CPU comes from
 * /proc/self/task/<tid>/schedstat (Linux), the M threads being the ones start() created.
 *
 * Wake latency: 200 times, from the main thread, sleep 5 ms (Ms park after ~50 µs of spinning),
 * read the clock (performance.timeOrigin + performance.now()), spawn a goroutine that returns
 * the same clock on its M, and await it. wake = goroutine's clock − main's clock at the spawn
 * call; round trip = main's clock when the await resumes − the same start. Each repetition's
 * median and p99 are its values. For reference, the same with the same pauses (100 times per
 * repetition each) on a piscina pool (2 threads) and on a bare worker blocked in Atomics.wait
 * (lib/raw-waker.mjs: the platform's floor for waking an idle thread). The CPU time the
 * worker threads spent per wake-up comes from schedstat over those loops.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { start, spawn } from 'gort';
import { piscinaPool } from '../lib/pools.mjs';
import { rawWaker } from '../lib/raw-waker.mjs';
import { Rows, sleep, median, percentile } from '../lib/common.mjs';

const PROCS = 2;
const now = () => performance.timeOrigin + performance.now();

/** ns on CPU per thread id (Linux); empty map elsewhere. */
function threadCpu() {
  const out = new Map();
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      const s = readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8');
      out.set(tid, Number(s.split(' ')[0]));
    }
  } catch {
    /* not Linux */
  }
  return out;
}

/** CPU use over one idle window: whole process %, and % per listed thread. */
async function idleWindow(ms, tids) {
  const c0 = process.cpuUsage();
  const t0 = threadCpu();
  const w0 = performance.now();
  await sleep(ms);
  const wall = performance.now() - w0;
  const c1 = process.cpuUsage(c0);
  const t1 = threadCpu();
  const pct = (ns) => (100 * ns) / (wall * 1e6);
  return {
    process: (100 * (c1.user + c1.system)) / (wall * 1000),
    threads: tids.map((tid) => pct((t1.get(tid) ?? 0) - (t0.get(tid) ?? 0))),
  };
}

export default async function idleBench({ reps, quick, log, quiet }) {
  const WINDOW = quick ? 500 : 2000;
  const WAKES = quick ? 50 : 200;
  const REF_WAKES = quick ? 50 : 100;
  const PAUSE = 5;
  const rows = new Rows();
  const win = `${WINDOW / 1000} s`;
  rows.def(`idle ${win}, before start(): whole process CPU`, '% of a core', { better: 'lower', note: 'one window, measured once' });
  rows.def(`idle ${win}, procs 2 started and parked: whole process CPU`, '% of a core', { better: 'lower' });
  rows.def('  per M, upper bound: (process − before start()) / procs', '% of a core', { better: 'lower', target: { op: '<=', value: 1 }, note: 'charges every other thread of the process (main, V8 helpers) to the Ms' });
  rows.def('  busiest M thread (schedstat)', '% of a core', { better: 'lower', target: { op: '<=', value: 1 } });
  rows.def(`gort wake latency after ${PAUSE} ms idle, median`, 'µs', { better: 'lower', target: { op: '<=', value: 50 }, baseline: 'B1: Atomics.wait/notify round trip 13.2 µs; B2: waitAsync 16.7–19.1 µs' });
  rows.def('gort wake latency, p99', 'µs', { better: 'lower' });
  rows.def('gort spawn round trip after idle, median', 'µs', { better: 'lower', baseline: 'A2 (busy, no pauses): piscina p50 36.9 µs, raw 24.8 µs' });
  rows.def('gort spawn round trip after idle, p99', 'µs', { better: 'lower', baseline: 'A2: piscina p99 118 µs, raw 63.8 µs' });
  rows.def('gort back-to-back await spawn(0.5 ms goroutine): its end → main resumes, median', 'µs', { better: 'lower', note: 'no pause: main had just settled the previous result (its pump parks timed, PARKED = 2)' });
  rows.def('gort: CPU of all Ms per wake-up', 'µs', { better: 'lower', note: 'schedstat of the M threads over the wake loop / wakes' });
  rows.def('piscina wake latency after idle, median', 'µs', { better: 'lower' });
  rows.def('piscina wake latency, p99', 'µs', { better: 'lower' });
  rows.def('piscina round trip after idle, median', 'µs', { better: 'lower' });
  rows.def('piscina round trip after idle, p99', 'µs', { better: 'lower' });
  rows.def('piscina: CPU of its workers per wake-up', 'µs', { better: 'lower' });
  rows.def('bare worker in Atomics.wait: wake latency after idle, median', 'µs', { better: 'lower', note: 'the platform floor' });
  rows.def('bare worker in Atomics.wait: wake latency, p99', 'µs', { better: 'lower' });

  const tids0 = new Set(threadCpu().keys());
  const pool = await piscinaPool(PROCS);
  const pTids = [...threadCpu().keys()].filter((t) => !tids0.has(t));
  const raw = rawWaker();
  await quiet();
  await sleep(200);
  const before = await idleWindow(WINDOW, []);
  rows.add(rows.rows[0].figure, before.process);

  const tidsBefore = new Set(threadCpu().keys());
  const rt = await start({ procs: PROCS });
  try {
    const mTids = [...threadCpu().keys()].filter((t) => !tidsBefore.has(t));
    log(`threads created by start(): ${mTids.length} (${mTids.join(', ')})`);
    const stamp = () => performance.timeOrigin + performance.now();
    /** n samples of: pause, clock, wake something that returns its clock, clock again. */
    const sample = async (n, wake, tids) => {
      const wake_ = [];
      const rtt = [];
      const c0 = threadCpu();
      for (let i = 0; i < n; i++) {
        await sleep(PAUSE);
        const t0 = now();
        const t1 = await wake();
        const t2 = now();
        wake_.push((t1 - t0) * 1000);
        rtt.push((t2 - t0) * 1000);
      }
      const c1 = threadCpu();
      const cpuUs = tids.reduce((acc, t) => acc + ((c1.get(t) ?? 0) - (c0.get(t) ?? 0)), 0) / 1000 / n;
      return { wake: wake_, rtt, cpuUs };
    };
    const wakeGort = (n) => sample(n, () => Promise.race([spawn(stamp), rt.failure]), mTids);
    const wakePiscina = (n) => sample(n, () => pool.run(0, { name: 'stamp' }), pTids);
    const wakeRaw = (n) => sample(n, () => raw.wake(), []);
    /** Back-to-back spawn-and-await of a goroutine busy for 0.5 ms: µs from its last line to main's. */
    const busyHalfMs = () => {
      const t = performance.now();
      while (performance.now() - t < 0.5);
      return performance.timeOrigin + performance.now();
    };
    const backToBack = async (n) => {
      const out = [];
      for (let i = 0; i < n; i++) {
        const end = await spawn(busyHalfMs); // awaited directly: the next spawn comes before main's pump looks again
        out.push((now() - end) * 1000);
      }
      return out;
    };
    log('warm-up');
    await wakeGort(20);
    await wakePiscina(20);
    await wakeRaw(20);
    await backToBack(20);
    for (let r = 0; r < reps; r++) {
      await quiet();
      await sleep(100); // let both Ms finish spinning and park
      const idle = await idleWindow(WINDOW, mTids);
      const g = await wakeGort(WAKES);
      const p = await wakePiscina(REF_WAKES);
      const w = await wakeRaw(REF_WAKES);
      const b2b = await backToBack(REF_WAKES);
      rows.add(rows.rows[1].figure, idle.process);
      rows.add(rows.rows[2].figure, Math.max(0, idle.process - before.process) / PROCS);
      if (idle.threads.length > 0) rows.add(rows.rows[3].figure, Math.max(...idle.threads));
      rows.add(rows.rows[4].figure, median(g.wake));
      rows.add(rows.rows[5].figure, percentile(g.wake, 99));
      rows.add(rows.rows[6].figure, median(g.rtt));
      rows.add(rows.rows[7].figure, percentile(g.rtt, 99));
      rows.add(rows.rows[8].figure, median(b2b));
      if (mTids.length > 0) rows.add('gort: CPU of all Ms per wake-up', g.cpuUs);
      rows.add('piscina wake latency after idle, median', median(p.wake));
      rows.add('piscina wake latency, p99', percentile(p.wake, 99));
      rows.add('piscina round trip after idle, median', median(p.rtt));
      rows.add('piscina round trip after idle, p99', percentile(p.rtt, 99));
      if (pTids.length > 0) rows.add('piscina: CPU of its workers per wake-up', p.cpuUs);
      rows.add('bare worker in Atomics.wait: wake latency after idle, median', median(w.wake));
      rows.add('bare worker in Atomics.wait: wake latency, p99', percentile(w.wake, 99));
      log(
        `rep ${r + 1}/${reps}: idle process ${idle.process.toFixed(2)}% (M threads ${idle.threads.map((x) => x.toFixed(2)).join(', ')}%), ` +
          `wake p50: gort ${median(g.wake).toFixed(1)} µs (min ${Math.min(...g.wake).toFixed(1)}), ` +
          `piscina ${median(p.wake).toFixed(1)} µs, bare Atomics.wait ${median(w.wake).toFixed(1)} µs; ` +
          `back-to-back result to main ${median(b2b).toFixed(1)} µs; ` +
          `CPU per wake: gort Ms ${g.cpuUs.toFixed(0)} µs, piscina workers ${p.cpuUs.toFixed(0)} µs`,
      );
    }
  } finally {
    await rt.shutdown();
    await pool.destroy();
    await raw.close();
  }
  return rows.toJSON().filter((r) => r.values.length > 0);
}
