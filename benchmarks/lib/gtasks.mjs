/**
 * Goroutine functions for the benchmarks, used through fromModule(): each M imports this file
 * on first use, so the functions may call the kernels in cpu.mjs.
 */
import { go, fromModule, WaitGroup } from 'gort';
import { spin } from './cpu.mjs';

const self = fromModule(new URL(import.meta.url));

export function noop() {}

/** One CPU item. */
export function work(iters) {
  return spin(iters);
}

/** One CPU item, then wg.done() (the go + WaitGroup variants). */
export function workDone(wg, iters) {
  spin(iters);
  wg.done();
}

/**
 * From inside a goroutine: go() n CPU items and wait for them with one WaitGroup. Returns the
 * elapsed wall time in ms (measured on this M, from before the first go() to the wait's end).
 */
export async function fanGoWg(n, iters) {
  const t0 = performance.now();
  const wg = new WaitGroup();
  wg.add(n);
  for (let i = 0; i < n; i++) go(self.workDone, wg, iters);
  await wg.wait();
  return performance.now() - t0;
}

/** The same n items one after another in this goroutine. Returns the elapsed time in ms. */
export function seq(n, iters) {
  const t0 = performance.now();
  let x = 0;
  for (let i = 0; i < n; i++) x ^= spin(iters, i + 1);
  if (x === 0.5) console.log(x); // never true; keeps x observable
  return performance.now() - t0;
}
