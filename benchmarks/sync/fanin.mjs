/**
 * sync/waitgroup and sync/cancel, procs 2:
 * - WaitGroup fan-in: from main, wg.add(10,000), go((w) => w.done(), wg) × 10,000, wg.wait():
 *   ms from the first go() to wait() returning.
 * - context cancel fan-out: 10,000 goroutines park on ctx.done() (then wg.done()); ms from
 *   cancel() to the WaitGroup reporting the last one woke (target ≤ 50 ms).
 */
import { run, go, WaitGroup, background, withCancel, sleep, numGoroutine } from 'gort';
import { Rows } from '../lib/common.mjs';

export default async function ({ reps, quick }) {
  const N = quick ? 2_000 : 10_000;
  const rows = new Rows();
  rows.def(`WaitGroup fan-in of ${N.toLocaleString('en-US')} goroutines`, 'ms', { better: 'lower' });
  rows.def(`context cancel fan-out to ${N.toLocaleString('en-US')} parked goroutines: until the last woke`, 'ms', {
    better: 'lower',
    target: { op: '<=', value: 50 },
  });
  await run(async () => {
    for (let r = -1; r < reps; r++) {
      let t0 = performance.now();
      const wg = new WaitGroup();
      wg.add(N);
      for (let i = 0; i < N; i++) go((w) => w.done(), wg);
      await wg.wait();
      const fanin = performance.now() - t0;
      const [ctx, cancel] = withCancel(background());
      const woke = new WaitGroup();
      woke.add(N);
      for (let i = 0; i < N; i++) {
        go(async (c, w) => {
          await c.done().recv();
          w.done();
        }, ctx, woke);
      }
      while (numGoroutine() < N + 1) await sleep(5); // all started
      await sleep(50); // and parked
      t0 = performance.now();
      cancel();
      await woke.wait();
      const fanout = performance.now() - t0;
      if (r < 0) continue;
      rows.add(rows.rows[0].figure, fanin);
      rows.add(rows.rows[1].figure, fanout);
    }
  }, { procs: 2 });
  return rows.toJSON();
}
