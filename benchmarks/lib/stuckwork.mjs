/**
 * Goroutine functions for sched/stuck, used through fromModule(): a goroutine that queues n
 * sleepers on its own P and then holds its M in a synchronous loop.
 */
import { go, fromModule, sleep } from 'gort';

const self = fromModule(new URL(import.meta.url));

/** Sleep 1 ms; the last of n to finish stores the time (timeOrigin-based ms) in end[0]. */
export async function sleeper(count, end, n) {
  await sleep(1);
  if (Atomics.add(count, 0, 1) + 1 === n) end[0] = performance.timeOrigin + performance.now();
}

/** go() n sleepers (onto this M's P), then loop synchronously for loopMs. */
export function hog(n, loopMs, count, end) {
  for (let i = 0; i < n; i++) go(self.sleeper, count, end, n);
  const t = performance.now();
  let x = 0;
  while (performance.now() - t < loopMs) x++;
  return x;
}
