// Go's idiom for data parallelism, from the README: split a shared array in chunks, one
// goroutine per chunk, a WaitGroup to wait for them. The array is a SharedArrayBuffer, so
// every goroutine writes into the same memory; nothing is copied. Kept runnable here
// (examples/run-all.mjs runs it in CI); it checks the result against a plain loop.
import { run, WaitGroup } from 'gort';

const n = 4_000_000;
const t0 = performance.now();
const a = await run(async () => {
  const a = new Float64Array(new SharedArrayBuffer(n * 8)); // shared by every goroutine
  const wg = new WaitGroup();
  const parts = 16;
  for (let p = 0; p < parts; p++) {
    const lo = Math.floor((p * n) / parts), hi = Math.floor(((p + 1) * n) / parts);
    wg.go((a, lo, hi) => {
      for (let i = lo; i < hi; i++) a[i] = Math.sin(i) * Math.cos(i); // this goroutine's chunk
    }, a, lo, hi);
  }
  await wg.wait();
  return a;
});
const t1 = performance.now();

const b = new Float64Array(n);
for (let i = 0; i < n; i++) b[i] = Math.sin(i) * Math.cos(i);
const t2 = performance.now();
let bad = 0;
for (let i = 0; i < n; i++) if (a[i] !== b[i]) bad++;
if (bad > 0) throw new Error(`${bad} elements differ from the sequential loop`);
console.log(`filled ${n.toLocaleString('en-US')} doubles: goroutines ${(t1 - t0).toFixed(0)} ms (runtime start included), one loop ${(t2 - t1).toFixed(0)} ms; every element matches`);
