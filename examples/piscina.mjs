// A piscina pool whose tasks talk to goroutines over gort channels.
//
// The tasks run in piscina's threads, not gort's: exportRef() turns a channel into a plain
// cloneable value for the task, and attach() inside the task makes it a live channel there.
import { Piscina } from 'piscina';
import { run, go, chan, exportRef } from 'gort';

const N = 200;
const out = await run(async () => {
  const jobs = chan(16);
  const results = chan(16);
  const pool = new Piscina({ filename: new URL('./lib/piscina-task.mjs', import.meta.url).href, minThreads: 2, maxThreads: 2 });
  const tasks = [0, 1].map(() => pool.run({ jobs: exportRef(jobs), results: exportRef(results) }));
  go(async (jobs, n) => {
    for (let i = 1; i <= n; i++) await jobs.send(i);
    jobs.close();
  }, jobs, N);
  let sum = 0;
  for (let k = 0; k < N; k++) sum += (await results.recv()).square;
  const handled = await Promise.all(tasks);
  await pool.destroy();
  return { sum, handled };
});
console.log(`sum of squares 1..${N} = ${out.sum} (expected ${(N * (N + 1) * (2 * N + 1)) / 6}); per task: ${out.handled.join(', ')}`);
if (out.sum !== (N * (N + 1) * (2 * N + 1)) / 6) process.exit(1);
