/** piscina worker file: the same tasks as the gort benchmarks (lib/gtasks.mjs). */
import { spin } from './cpu.mjs';

/** The no-op task (default export, as in reference A1). */
export default function noop() {}

/** One CPU item of `iters` xorshift rounds. */
export function work(iters) {
  return spin(iters);
}

/** The worker's clock as an absolute time (ms), for wake latency. */
export function stamp() {
  return performance.timeOrigin + performance.now();
}
