// gort objects inside plain worker_threads: pass exportRef(obj) in workerData, attach() it there.
import { Worker } from 'node:worker_threads';
import { run, chan, WaitGroup, exportRef } from 'gort';

const N = 4;
const total = await run(async () => {
  const sums = chan(N);
  const wg = new WaitGroup();
  wg.add(N);
  const step = 1_000_000;
  for (let k = 0; k < N; k++) {
    new Worker(new URL('./lib/plain-worker.mjs', import.meta.url), {
      workerData: { sums: exportRef(sums), wg: exportRef(wg), from: k * step, to: (k + 1) * step },
    });
  }
  await wg.wait(); // parks the main goroutine until every plain worker called done()
  let total = 0;
  for (let k = 0; k < N; k++) total += await sums.recv();
  return total;
});
const n = 4_000_000;
console.log(`sum 0..${n - 1} = ${total} (expected ${(n * (n - 1)) / 2})`);
if (total !== (n * (n - 1)) / 2) process.exit(1);
