/** piscina pools built the way the reference measurements built them: exactly n started threads, defaults otherwise. */
import { Piscina } from 'piscina';

const filename = new URL('./piscina-task.mjs', import.meta.url).href;

/**
 * A pool of `threads` started threads on lib/piscina-task.mjs, or on module `file` (a URL or
 * path), whose function `warm` then starts the threads (a file's default export may be
 * anything else: a benchmark module's is the benchmark).
 */
export async function piscinaPool(threads, file = filename, warm = undefined) {
  const pool = new Piscina({ filename: String(file), minThreads: threads, maxThreads: threads });
  // Make sure every thread is up before anything is timed.
  const opts = warm === undefined ? undefined : { name: warm };
  await Promise.all(Array.from({ length: threads * 4 }, () => pool.run(0, opts)));
  return pool;
}

/** Submit n tasks at once, then await them all. */
export function piscinaBatch(pool, n, arg, name) {
  const opts = name === undefined ? undefined : { name };
  const ps = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = pool.run(arg, opts);
  return Promise.all(ps);
}
