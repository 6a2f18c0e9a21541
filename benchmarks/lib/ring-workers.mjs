/**
 * The machine's own price of moving values between two threads, for chan/prodcons across Ms:
 * two plain worker_threads Workers pass n numbers through a ring of `cap` slots in a
 * SharedArrayBuffer, guarded by one spin lock, each side awaiting once per value (as a
 * goroutine does) and watching the count without the lock while the ring is full or empty.
 * No runtime, no encoding, no waiter queues: the least any lock-based channel between two
 * threads pays here. Its rate swings 2x between phases of this VM (1.3M/s to 3.4M/s in one
 * process, minutes apart), which is why it runs beside each repetition.
 */
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';

// Words of the shared record: lock, count, sendx, recvx, ready count; the ring from RING.
const LOCK = 0;
const COUNT = 1;
const SENDX = 2;
const RECVX = 3;
const READY = 8;
const RING = 16;

let sink = 0;
function pause() {
  let x = sink;
  for (let i = 0; i < 48; i++) x = (x * 31 + i) | 0;
  sink = x;
}

async function side(a, producer, n, cap) {
  const lock = () => {
    while (Atomics.compareExchange(a, LOCK, 0, 1) !== 0) pause();
  };
  Atomics.add(a, READY, 1);
  while (Atomics.load(a, READY) < 2);
  let t0 = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    for (;;) {
      if (producer) {
        while (Atomics.load(a, COUNT) >= cap) pause();
        lock();
        const c = a[COUNT];
        if (c < cap) {
          const x = a[SENDX];
          a[RING + x] = i;
          a[SENDX] = x + 1 === cap ? 0 : x + 1;
          a[COUNT] = c + 1;
          Atomics.store(a, LOCK, 0);
          break;
        }
      } else {
        while (Atomics.load(a, COUNT) === 0) pause();
        lock();
        const c = a[COUNT];
        if (c > 0) {
          const x = a[RECVX];
          sum += a[RING + x];
          a[RECVX] = x + 1 === cap ? 0 : x + 1;
          a[COUNT] = c - 1;
          Atomics.store(a, LOCK, 0);
          if (i === 0) t0 = performance.now();
          break;
        }
      }
      Atomics.store(a, LOCK, 0);
    }
    await undefined;
  }
  if (!producer && sum !== (n * (n - 1)) / 2) throw new Error(`ring-workers: lost values (sum ${sum})`);
  return performance.now() - t0;
}

if (!isMainThread && workerData?.ringWorker) {
  parentPort.on('message', async ({ sab, producer, n, cap }) => {
    parentPort.postMessage(await side(new Int32Array(sab), producer, n, cap));
  });
}

/** Start two workers; rate(n, cap) resolves with values/s, timed on the consumer from its first value. */
export async function ringWorkers() {
  const ws = [0, 1].map(() => new Worker(new URL(import.meta.url), { workerData: { ringWorker: true } }));
  const call = (w, msg) =>
    new Promise((res) => {
      w.once('message', res); // a worker that throws crashes the benchmark's process: reported
      w.postMessage(msg);
    });
  return {
    async rate(n, cap) {
      const sab = new SharedArrayBuffer((RING + cap) * 4);
      const [, ms] = await Promise.all([call(ws[0], { sab, producer: true, n, cap }), call(ws[1], { sab, producer: false, n, cap })]);
      return n / (ms / 1000);
    },
    close: () => Promise.all(ws.map((w) => w.terminate())),
  };
}
