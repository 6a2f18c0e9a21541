/**
 * Shared CPU kernels: an xorshift32 loop whose cost is set by its iteration count.
 *
 * ITERS_5MS = 2,500,000 iterations is ~5 ms on the 2-vCPU EPYC machines these benchmarks run on
 * (reference figures A3 and C5, at the end of RESULTS.md, used the same loop and count). The 50 µs and 10 µs variants are not fixed: run.mjs
 * calibrates them on the main thread at startup (calibrate()) and hands the iteration counts
 * to every benchmark, which reports the measured per-item time beside its results.
 *
 * Pure JS, no gort import: used by the main thread, by piscina workers (piscina-task.mjs)
 * and by goroutines (gtasks.mjs).
 */
export const ITERS_5MS = 2_500_000;

/** xorshift32, `iters` rounds; the result depends on every round, so the loop cannot be elided. */
export function spin(iters, seed = 0x9e3779b9) {
  let x = seed | 0 || 1;
  for (let i = 0; i < iters; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x;
}

/** Mean wall time of one spin(iters) call over `count` back-to-back calls, in ms. */
export function timeItem(iters, count) {
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) sink ^= spin(iters, i + 1);
  const ms = (performance.now() - t0) / count;
  if (sink === 0.5) console.log(sink); // never true; keeps sink observable
  return ms;
}

/**
 * Calibrate on this thread: warm the loop up until it runs optimized code (~300 ms), then take
 * ns per iteration as the fastest of 30 short samples of 200k iterations (~0.35 ms each: short
 * enough that most are not preempted, so the minimum is the machine's speed even when other
 * processes load it). The loop is linear in its count, so the 50 µs and 10 µs counts follow
 * from that. Reports the per-item wall time of all three sizes over batches of ~20 ms: the
 * median and the fastest of 5 batches, in µs.
 */
export function calibrate() {
  const med = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
  const t0 = performance.now();
  for (let i = 1; performance.now() - t0 < 300; i++) spin(200_000, i); // JIT warm-up
  const nsPerIter = Math.min(...Array.from({ length: 30 }, () => (timeItem(200_000, 1) * 1e6) / 200_000));
  const iters50us = Math.max(1, Math.round(50_000 / nsPerIter));
  const iters10us = Math.max(1, Math.round(10_000 / nsPerIter));
  const measure = (iters, targetUs) => {
    const count = Math.max(4, Math.round(20_000 / targetUs));
    const xs = Array.from({ length: 5 }, () => timeItem(iters, count) * 1000);
    return [med(xs), Math.min(...xs)];
  };
  const [item5msUs, item5msMinUs] = measure(ITERS_5MS, 5000);
  const [item50usUs, item50usMinUs] = measure(iters50us, 50);
  const [item10usUs, item10usMinUs] = measure(iters10us, 10);
  return { nsPerIter, iters5ms: ITERS_5MS, iters50us, iters10us, item5msUs, item5msMinUs, item50usUs, item50usMinUs, item10usUs, item10usMinUs };
}
