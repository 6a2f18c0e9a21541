// Worker pools, as in Go by Example: 3 workers take jobs from one channel, send results to another.
import { run, go, chan, sleep } from 'gort';

const log = await run(async () => {
  const jobs = chan(100);
  const results = chan(100);
  for (let w = 1; w <= 3; w++) {
    go(async (id, jobs, results) => {
      for await (const j of jobs) {
        await sleep(20); // an expensive task
        await results.send({ worker: id, job: j, result: j * 2 });
      }
    }, w, jobs, results);
  }
  for (let j = 1; j <= 9; j++) await jobs.send(j);
  jobs.close();
  const out = [];
  for (let a = 1; a <= 9; a++) out.push(await results.recv());
  return out;
});
for (const r of log) console.log(`worker ${r.worker} finished job ${r.job} -> ${r.result}`);
console.log(`${log.length} results; sum ${log.reduce((s, r) => s + r.result, 0)}`);
