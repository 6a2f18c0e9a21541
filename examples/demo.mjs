// gort demo: the same CPU-bound job on 1 proc and on every core, side by side.
//
// One goroutine (running on a worker thread) splits "count the primes below 3,000,000"
// into 96 chunks and starts a goroutine per chunk. Idle Ms steal the chunks from its run
// queue, so every core ends up busy without the main thread handing anything out.
//
// The speedup can only be as good as the cores are free: the demo measures how much CPU
// other processes used during each run (from /proc/stat, on Linux) and says so.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { run, spawn, fromModule } from 'gort';
import { stats } from 'gort/debug';

const lib = fromModule(new URL('./lib/primes.mjs', import.meta.url));
const LIMIT = Number(process.env.DEMO_LIMIT ?? 3_000_000);
const CHUNKS = 96;

/** Busy CPU time of the whole machine so far, in ms (null where /proc/stat is not there). */
function machineBusyMs() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    return ((f.reduce((a, b) => a + b, 0) - idle) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** Cores' worth of CPU that other processes used while fn ran. */
async function measured(fn) {
  const b0 = machineBusyMs();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await fn();
  const wall = performance.now() - t0;
  const b1 = machineBusyMs();
  const c = process.cpuUsage(c0);
  const others = b0 === null || b1 === null ? null : Math.max(0, (b1 - b0 - (c.user + c.system) / 1000) / wall);
  return { ...r, others };
}

async function job(procs) {
  return measured(() => run(
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
  ));
}

const all = os.availableParallelism();
console.log(`gort demo — node ${process.version}, ${all} cores; counting primes below ${LIMIT.toLocaleString()}: one goroutine starts ${CHUNKS} more, one per chunk\n`);
await spawnWarmup();
const one = await job(1);
const many = await job(all);
if (one.total !== many.total) throw new Error(`results differ: ${one.total} vs ${many.total}`);
const row = (label, r) =>
  `${label.padEnd(10)} ${r.ms.toFixed(0).padStart(6)} ms   goroutines run per M [${r.s.tasksPerM.join(', ')}] (${CHUNKS} + the one that started them)   steals [${r.s.stealsPerM.join(', ')}]` +
  (r.others === null ? '' : `   other processes: ${r.others.toFixed(2)} cores`);
console.log(row('procs=1', one));
console.log(row(`procs=${all}`, many));
console.log(`\n${one.total.toLocaleString()} primes; speedup ${(one.ms / many.ms).toFixed(2)}x on ${all} cores`);
const busy = Math.max(one.others ?? 0, many.others ?? 0);
if (busy > 0.25) {
  console.log(
    `note: other processes used up to ${busy.toFixed(2)} of the ${all} cores during these runs, so the speedup is ` +
      `below what this machine gives when it is quiet; run the demo again when it is.`,
  );
}

async function spawnWarmup() {
  // Let V8 compile the kernel once on this thread so the first timed run is not penalised.
  await lib.countPrimes(0, 50_000);
}
