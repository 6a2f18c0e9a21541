/**
 * sched/stuck: a goroutine on an M (procs 2) go()es 1,000 goroutines that each `await sleep(1)`
 * onto its own P, then holds its M in a 2 s synchronous loop. The figure is the time from the
 * hog's spawn to the last sleeper's end, with sysmon (start()'s default) and without it
 * (`sysmon: false`), one run() each, alternating within every repetition. Without sysmon the
 * other M still steals the queued sleepers (and takes the ring's overflow from the global
 * queue); sysmon moves what is left on the stalled P to the global queue after 10 ms. Also:
 * goroutines sysmon moved, and stuck warnings printed (the threshold is set above the loop, so
 * none should be).
 */
import { run, spawn, fromModule } from 'gort';
import { stats } from 'gort/debug';
import { Rows } from '../lib/common.mjs';

const w = fromModule(new URL('../lib/stuckwork.mjs', import.meta.url));

async function once(sysmon, n, loopMs) {
  return run(
    async () => {
      const count = new Int32Array(new SharedArrayBuffer(4));
      const end = new Float64Array(new SharedArrayBuffer(8));
      // Load the module on both Ms first (two 30 ms loops at once: one on each M), so that no
      // M imports it while timed: an import on the other M took ~100 ms here.
      await Promise.all([spawn(w.hog, 0, 30, count, end), spawn(w.hog, 0, 30, count, end)]);
      const t0 = performance.timeOrigin + performance.now();
      const hog = spawn(w.hog, n, loopMs, count, end);
      while (end[0] === 0) await new Promise((r) => setTimeout(r, 1)); // the last sleeper stores it after counting
      const ms = end[0] - t0;
      await hog;
      const s = stats();
      return { ms, moved: s.sysmonRetaken, warnings: s.stuckWarnings };
    },
    { procs: 2, sysmon, stuckWarnMs: 60_000 },
  );
}

export default async function stuckBench({ reps, quick, log, quiet }) {
  const N = 1000;
  const LOOP = quick ? 500 : 2000;
  const rows = new Rows();
  rows.def(`sysmon on: ${N} sleepers queued behind a ${LOOP} ms loop, until all finished`, 'ms', { better: 'lower' });
  rows.def(`sysmon off: same`, 'ms', { better: 'lower' });
  rows.def('ratio off / on', 'x');
  rows.def('sysmon on: goroutines sysmon moved to the global queue', 'count');
  rows.def('sysmon on: stuck warnings printed (threshold 60 s)', 'count');
  for (let r = -1; r < reps; r++) {
    await quiet();
    const on = await once(true, N, LOOP);
    await quiet();
    const off = await once(false, N, LOOP);
    if (r < 0) continue;
    rows.add(rows.rows[0].figure, on.ms);
    rows.add(rows.rows[1].figure, off.ms);
    rows.add(rows.rows[2].figure, off.ms / on.ms);
    rows.add(rows.rows[3].figure, on.moved);
    rows.add(rows.rows[4].figure, on.warnings);
    log(`rep ${r + 1}/${reps}: on ${on.ms.toFixed(1)} ms (moved ${on.moved}), off ${off.ms.toFixed(1)} ms`);
  }
  return rows.toJSON();
}
