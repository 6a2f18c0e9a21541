// A pipeline with fan-out and fan-in over every core (Go blog: "Pipelines and cancellation").
//
// gen → N parallel workers (SHA-256 of each record, CPU-bound) → merge → main.
// Closing a channel ends the stage reading it; a WaitGroup closes the merged output.
import os from 'node:os';
import { run, go, chan, WaitGroup } from 'gort';

const RECORDS = Number(process.argv[2] ?? 2000);
const WORKERS = os.availableParallelism() * 2;

const { count, digest } = await run(async () => {
  const jobs = chan(64);
  const results = chan(64);
  go(async (jobs, n) => {
    for (let i = 0; i < n; i++) await jobs.send({ id: i, body: `record-${i}-`.repeat(200) });
    jobs.close();
  }, jobs, RECORDS);

  const wg = new WaitGroup();
  wg.add(WORKERS);
  for (let w = 0; w < WORKERS; w++) {
    go(
      async (jobs, results, wg) => {
        const { createHash } = await import('node:crypto');
        for await (const job of jobs) {
          let h = job.body;
          for (let r = 0; r < 50; r++) h = createHash('sha256').update(h).digest('hex');
          await results.send({ id: job.id, h });
        }
        wg.done();
      },
      jobs,
      results,
      wg,
    );
  }
  go(async (wg, results) => {
    await wg.wait();
    results.close();
  }, wg, results);

  let count = 0;
  let digest = 0;
  for await (const r of results) {
    count++;
    digest = (digest + r.id * parseInt(r.h.slice(0, 8), 16)) >>> 0;
  }
  return { count, digest };
});
console.log(`hashed ${count} records in ${WORKERS} workers; checksum ${digest.toString(16)}`);
if (count !== RECORDS) process.exit(1);
