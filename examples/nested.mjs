// Goroutines that start goroutines: one goroutine, on a worker, splits a prime count into
// chunks and spawns a goroutine per chunk on its own worker; idle workers steal half of its
// queue at a time. The functions come from a module, which each thread imports on first use.
import { run, spawn, fromModule } from 'gort';

const primes = new URL('./lib/primes.mjs', import.meta.url).href;

const total = await run(async () => {
  // An inline goroutine is shipped by source: it may use its parameters, JS globals and
  // gort's names — spawn() reports any other captured variable, by name, right here.
  return spawn(async (url, limit) => {
    // Functions in a module run on any thread: each thread imports the module on first use.
    const k = fromModule(url);
    const parts = [];
    for (let lo = 0; lo < limit; lo += 50_000) parts.push(spawn(k.countPrimes, lo, lo + 50_000));
    return (await Promise.all(parts)).reduce((a, b) => a + b, 0); // spawned on this worker, stolen by idle ones
  }, primes, 1_000_000);
});
console.log(total); // 78498
