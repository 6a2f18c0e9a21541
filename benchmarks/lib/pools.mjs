/** piscina pools built the way the reference measurements built them: exactly n started threads, defaults otherwise. */
import { Piscina } from 'piscina';

const filename = new URL('./piscina-task.mjs', import.meta.url).href;

export async function piscinaPool(threads) {
  const pool = new Piscina({ filename, minThreads: threads, maxThreads: threads });
  // Make sure every thread is up before anything is timed.
  await Promise.all(Array.from({ length: threads * 4 }, () => pool.run(0)));
  return pool;
}

/** Submit n tasks at once, then await them all. */
export function piscinaBatch(pool, n, arg, name) {
  const opts = name === undefined ? undefined : { name };
  const ps = new Array(n);
  for (let i = 0; i < n; i++) ps[i] = pool.run(arg, opts);
  return Promise.all(ps);
}
