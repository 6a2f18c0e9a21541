// gort demo: the same CPU-bound job on 1 proc and on every core, side by side.
//
// One goroutine (running on a worker thread) splits "count the primes below 3,000,000"
// into 96 chunks and starts a goroutine per chunk. Idle Ms steal the chunks from its run
// queue, so every core ends up busy without the main thread handing anything out.
import os from 'node:os';
import { run, spawn, fromModule } from 'gort';
import { stats } from 'gort/debug';

const lib = fromModule(new URL('./lib/primes.mjs', import.meta.url));
const LIMIT = Number(process.env.DEMO_LIMIT ?? 3_000_000);
const CHUNKS = 96;

async function job(procs) {
  return run(
    async () => {
      const t0 = performance.now();
      const total = await spawn(
        async (limit, chunks, url) => {
          const k = fromModule(url);
          const step = Math.ceil(limit / chunks);
          const parts = [];
          for (let lo = 0; lo < limit; lo += step) parts.push(spawn(k.countPrimes, lo, Math.min(limit, lo + step)));
          return (await Promise.all(parts)).reduce((a, b) => a + b, 0);
        },
        LIMIT,
        CHUNKS,
        new URL('./lib/primes.mjs', import.meta.url).href,
      );
      const ms = performance.now() - t0;
      return { total, ms, s: stats() };
    },
    { procs },
  );
}

const all = os.availableParallelism();
console.log(`gort demo — node ${process.version}, ${all} cores; counting primes below ${LIMIT.toLocaleString()} in ${CHUNKS} goroutines\n`);
await spawnWarmup();
const one = await job(1);
const many = await job(all);
if (one.total !== many.total) throw new Error(`results differ: ${one.total} vs ${many.total}`);
const row = (label, r) =>
  `${label.padEnd(10)} ${r.ms.toFixed(0).padStart(6)} ms   tasks per M [${r.s.tasksPerM.join(', ')}]   steals [${r.s.stealsPerM.join(', ')}]`;
console.log(row('procs=1', one));
console.log(row(`procs=${all}`, many));
console.log(`\n${one.total.toLocaleString()} primes; speedup ${(one.ms / many.ms).toFixed(2)}x on ${all} cores`);

async function spawnWarmup() {
  // Let V8 compile the kernel once on this thread so the first timed run is not penalised.
  await lib.countPrimes(0, 50_000);
}
