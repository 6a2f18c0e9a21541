/** piscina worker file: the same tasks as the gort benchmarks (lib/gtasks.mjs). */
import { spin } from './cpu.mjs';

/** The no-op task (default export; the task of reference figure A1, RESULTS.md). */
export default function noop() {}

/** One CPU item of `iters` xorshift rounds. */
export function work(iters) {
  return spin(iters);
}

/** The worker's clock as an absolute time (ms), for wake latency. */
export function stamp() {
  return performance.timeOrigin + performance.now();
}
