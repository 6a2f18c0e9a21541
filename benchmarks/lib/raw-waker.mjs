/**
 * The platform floor for waking an idle thread: a plain worker_threads Worker blocked in
 * Atomics.wait. Word 0 is the request sequence number (main stores and notifies), word 1 the
 * answered sequence number, and the f64 at byte 8 the worker's clock when it woke
 * (performance.timeOrigin + performance.now()). Used by sched/idle as a reference.
 */
import { Worker, isMainThread, workerData } from 'node:worker_threads';

if (!isMainThread && workerData?.rawWaker) {
  const i32 = new Int32Array(workerData.sab);
  const f64 = new Float64Array(workerData.sab);
  let seq = 0;
  for (;;) {
    Atomics.wait(i32, 0, seq);
    seq = Atomics.load(i32, 0);
    if (seq < 0) break;
    f64[1] = performance.timeOrigin + performance.now();
    Atomics.store(i32, 1, seq); // publish f64[1]; pairs with the main thread's waitAsync on word 1
    Atomics.notify(i32, 1);
  }
}

/** Start the waker; wake() resolves with the worker's clock at its wake-up. */
export function rawWaker() {
  const sab = new SharedArrayBuffer(16);
  const i32 = new Int32Array(sab);
  const f64 = new Float64Array(sab);
  const worker = new Worker(new URL(import.meta.url), { workerData: { rawWaker: true, sab } });
  let seq = 0;
  return {
    async wake() {
      const s = ++seq;
      Atomics.store(i32, 0, s);
      Atomics.notify(i32, 0);
      while (Atomics.load(i32, 1) !== s) {
        const r = Atomics.waitAsync(i32, 1, s - 1);
        if (r.async) await r.value;
      }
      return f64[1];
    },
    async close() {
      Atomics.store(i32, 0, -1);
      Atomics.notify(i32, 0);
      await worker.terminate();
    },
  };
}
