/**
 * The machine's own parallel capacity for sched/forkjoin's code: two plain worker_threads
 * Workers, each computing fib(n) k times at once, against one of them computing it 2k times.
 * No runtime, no messages during the timed part: what two busy threads of this call-heavy
 * code get from this VM at that moment (its two vCPUs have at times delivered well under 2x
 * for it, while the xorshift loop of sched/fanout still scaled 1.95x).
 */
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';

function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

if (!isMainThread && workerData?.fibWorker) {
  parentPort.on('message', ({ n, k }) => {
    const t0 = performance.now();
    for (let i = 0; i < k; i++) if (fib(n) < 0) throw new Error('unreachable');
    parentPort.postMessage(performance.now() - t0);
  });
}

/** Start two workers; speedup(n, k) resolves with (one worker doing 2k) / (two doing k each). */
export async function fibWorkers() {
  const ws = [0, 1].map(() => new Worker(new URL(import.meta.url), { workerData: { fibWorker: true } }));
  const call = (w, n, k) =>
    new Promise((res) => {
      w.once('message', res);
      w.postMessage({ n, k });
    });
  return {
    async speedup(n, k) {
      const one = await call(ws[0], n, 2 * k);
      const t0 = performance.now();
      await Promise.all([call(ws[0], n, k), call(ws[1], n, k)]);
      return one / (performance.now() - t0);
    },
    close: () => Promise.all(ws.map((w) => w.terminate())),
  };
}
