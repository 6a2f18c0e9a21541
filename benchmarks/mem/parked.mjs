/**
 * mem/parked: what a parked goroutine costs (Go's, reference C6 in RESULTS.md: VmRSS delta after 100,000 goroutines
 * block in `<-ch`, divided by 100,000: ~2.7 KB, of which 2 KB of stack).
 *
 * Each repetition starts a fresh runtime (procs 2), parks and releases 1,000 goroutines to
 * load and compile the code on both Ms, then reads the baseline: process RSS
 * (process.memoryUsage().rss, every thread's V8 heap and the shared heap's touched pages
 * included) and stats().memory (gort/debug). Main spawns two spawners (lib/memwork.mjs);
 * each go()es N/2 goroutines that park in `await ch.recv()` on one channel made by main, and
 * waits until all N are parked (stats().memory.objects.waiter.count). Where the parkers run
 * is up to the scheduler (a spawner's queue overflows to the global queue, the other M takes
 * from it and steals): the split is logged, from gort/debug goroutines() read after the
 * figures. Figures: RSS gained per parked goroutine; heap bytes in use gained per goroutine
 * and by kind (a G record, a waiter); the V8 heap gained per goroutine on the Ms (each
 * spawner reads its isolate's heapUsed before go()ing and once all are parked; garbage of
 * the spawning loop not yet collected is included, so it is an upper bound; only reported
 * when the two spawners ran on different Ms). Then the channel is closed, every parker
 * ends, and the runtime shuts down. The first repetition is a warm-up and not reported.
 * What those bytes are, object by object, and what other ways of parking cost:
 * mem/parked-breakdown.mjs (not run here; docs/architecture.md, "Memory").
 */
import { start, spawn, chan, sleep, fromModule } from 'gort';
import { stats, goroutines } from 'gort/debug';
import { Rows, fmt } from '../lib/common.mjs';

const w = fromModule(new URL('../lib/memwork.mjs', import.meta.url));

async function parkAll(rt, n, report) {
  const ch = chan();
  const spawners = Promise.all([spawn(w.spawner, n / 2, ch, n), spawn(w.spawner, n / 2, ch, n)]);
  const [s1, s2] = await Promise.race([spawners, rt.failure]);
  const at = { rss: process.memoryUsage().rss, mem: stats().memory, v8: null, split: null };
  if (s1.threadId !== s2.threadId) at.v8 = s1.after - s1.before + (s2.after - s2.before);
  if (report) {
    const byM = new Map();
    for (const g of goroutines()) if (g.state === 'waiting') byM.set(g.m, (byM.get(g.m) ?? 0) + 1);
    at.split = [...byM].sort((a, b) => a[0] - b[0]).map(([m, k]) => `M${m}: ${k.toLocaleString('en-US')}`).join(', ');
  }
  ch.close();
  while (stats().goroutines > 1) await sleep(10);
  return at;
}

export default async function ({ reps, quick, log, quiet }) {
  const N = quick ? 10_000 : 100_000;
  const n = N.toLocaleString('en-US');
  const rows = new Rows();
  rows.def(`RSS per parked goroutine (${n} parked on a channel, procs 2)`, 'bytes', {
    better: 'lower',
    baseline: 'C6: Go 2,732 bytes of RSS per parked goroutine (2,048 of stack)',
  });
  rows.def('  shared heap in use per parked goroutine', 'bytes', { better: 'lower', note: 'stats().memory.heapInUse delta / N' });
  rows.def('  V8 heap of the Ms per parked goroutine', 'bytes', { better: 'lower', note: 'heapUsed delta of both Ms\' isolates / N; includes uncollected garbage of the spawn loop' });
  const kindRow = (k) => `    of which ${k}`;
  for (let r = -1; r < reps; r++) {
    await quiet();
    const rt = await start({ procs: 2 });
    try {
      await parkAll(rt, 1000, false);
      await sleep(50);
      const rss0 = process.memoryUsage().rss;
      const m0 = stats().memory;
      const at = await parkAll(rt, N, r >= 0);
      if (r < 0) continue;
      rows.add(rows.rows[0].figure, (at.rss - rss0) / N);
      rows.add(rows.rows[1].figure, (at.mem.heapInUse - m0.heapInUse) / N);
      if (at.v8 !== null) rows.add(rows.rows[2].figure, at.v8 / N);
      const parts = [];
      for (const k of Object.keys(at.mem.objects)) {
        const d = (at.mem.objects[k].bytes - (m0.objects[k]?.bytes ?? 0)) / N;
        if (d === 0) continue;
        if (!rows.byName.has(kindRow(k))) rows.def(kindRow(k), 'bytes', { better: 'lower', note: 'objects[kind].bytes delta / N' });
        rows.add(kindRow(k), d);
        parts.push(`${k} ${fmt(d)} B`);
      }
      log(
        `rep ${r + 1}/${reps}: per parked goroutine RSS ${fmt((at.rss - rss0) / N)} B, heap ${fmt((at.mem.heapInUse - m0.heapInUse) / N)} B (${parts.join(', ')}), ` +
          `V8 heap of the Ms ${at.v8 === null ? '– (both spawners ran on one M)' : `${fmt(at.v8 / N)} B`}; parked: ${at.split}`,
      );
    } finally {
      await rt.shutdown();
    }
  }
  return rows.toJSON().filter((r) => r.values.length > 0);
}
