/**
 * Goroutine workloads for the mem/* benchmarks, used through fromModule(): every M imports
 * this file on first use.
 */
import { threadId } from 'node:worker_threads';
import { go, sleep, fromModule } from 'gort';
import { stats } from 'gort/debug';

const self = fromModule(new URL(import.meta.url));

/** Park on ch until it is closed (or gets a value). */
export async function park(ch) {
  await ch.recv();
}

/**
 * go() n parkers on ch, then wait until `total` waiters are parked in the whole runtime
 * (every spawner's), and report this M's V8 heap before and after: what the parked
 * goroutines that run here cost its isolate (plus garbage not yet collected).
 */
export async function spawner(n, ch, total) {
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) go(self.park, ch);
  while ((stats().memory.objects.waiter?.count ?? 0) < total) await sleep(10);
  return { threadId, before, after: process.memoryUsage().heapUsed };
}
