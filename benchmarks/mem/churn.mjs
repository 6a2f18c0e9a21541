/**
 * mem/churn: the per-request pattern of a Go server, and what it leaves in the shared heap.
 *
 * On start({ procs: 2 }), the main thread serves requests one after another. One request:
 *
 *   const [ctx, cancel] = withTimeout(background(), 1000); cancel();
 *   const c = chan(1); const mu = new Mutex(); const wg = new WaitGroup();
 *   wg.add(1); go(reply, c, i, wg);          // a goroutine on an M: c.send(i); wg.done()
 *   await mu.lock(); mu.unlock();
 *   await c.recv(); await wg.wait();
 *
 * After a warm-up (WARM requests), each repetition reads stats().memory (gort/debug: a walk of
 * the heap's blocks under the allocator lock, outside the timed window), serves N requests
 * timed with performance.now(), and reads it again. Figures: requests/s; heap bytes in use
 * gained per request (heapInUse delta / N) and, per kind of block (objects[kind].bytes delta
 * / N), which records accumulate; heapInUse at the end of the repetition; and RSS gained per
 * request. Runtime objects are freed once the JS objects that hold them are collected
 * (docs/design/memory.md), and the heap asks every thread to collect each time live objects
 * grow by a sixteenth of the limit (at most 64 MiB): heap in use saw-tooths, so one
 * repetition's gain per request says where in a tooth it started and ended, and the
 * end-of-repetition figure stays under a bound set by the limit. (Before objects were
 * reclaimed, every request left ~288 bytes until shutdown.)
 */
import { start, go, chan, Mutex, WaitGroup, background, withTimeout } from 'gort';
import { stats } from 'gort/debug';
import { Rows, fmt } from '../lib/common.mjs';

async function serve(n, base) {
  for (let i = base; i < base + n; i++) {
    const [ctx, cancel] = withTimeout(background(), 1000);
    cancel();
    const c = chan(1);
    const mu = new Mutex();
    const wg = new WaitGroup();
    wg.add(1);
    go(async (ch, v, w) => {
      await ch.send(v);
      w.done();
    }, c, i, wg);
    await mu.lock();
    mu.unlock();
    const v = await c.recv();
    if (v !== i) throw new Error(`mem/churn: request ${i} got the reply ${v}`);
    await wg.wait();
    if (ctx.err() === null) throw new Error('mem/churn: a cancelled context is not done');
  }
}

export default async function ({ reps, quick, log, quiet }) {
  const N = quick ? 20_000 : 100_000;
  const WARM = quick ? 2_000 : 10_000;
  const rows = new Rows();
  rows.def('requests/s, from main (withTimeout + cancel, chan(1), a replying goroutine, Mutex, WaitGroup)', 'requests/s');
  rows.def('heap in use gained per request, after warm-up', 'bytes', {
    better: 'lower',
    target: { op: '<=', value: 1 },
    note: `heapInUse delta over ${N.toLocaleString('en-US')} requests / N; issue 17 measured ~290 B/request with RSS (no Mutex, WaitGroup or goroutine)`,
  });
  rows.def('heap in use at the end of the repetition', 'MiB', {
    better: 'lower',
    note: 'bounded: objects are freed once collected, and collections are asked every sixteenth of the heap limit (at most 64 MiB)',
  });
  rows.def('RSS gained per request', 'bytes', { better: 'lower', note: 'process.memoryUsage().rss delta / N: includes the Ms\' V8 heaps' });
  const kindRow = (k) => `  of which ${k}`;
  const rt = await start({ procs: 2 });
  try {
    let served = 0;
    await serve(WARM, served);
    served += WARM;
    for (let r = 0; r < reps; r++) {
      await quiet();
      const m0 = stats().memory;
      const rss0 = process.memoryUsage().rss;
      const t0 = performance.now();
      await Promise.race([serve(N, served), rt.failure]);
      const ms = performance.now() - t0;
      const rss1 = process.memoryUsage().rss;
      const m1 = stats().memory;
      served += N;
      rows.add(rows.rows[0].figure, N / (ms / 1000));
      rows.add(rows.rows[1].figure, (m1.heapInUse - m0.heapInUse) / N);
      rows.add(rows.rows[2].figure, m1.heapInUse / 2 ** 20);
      rows.add(rows.rows[3].figure, (rss1 - rss0) / N);
      const parts = [];
      for (const k of Object.keys(m1.objects)) {
        const d = (m1.objects[k].bytes - (m0.objects[k]?.bytes ?? 0)) / N;
        const dc = (m1.objects[k].count - (m0.objects[k]?.count ?? 0)) / N;
        if (!rows.byName.has(kindRow(k))) rows.def(kindRow(k), 'bytes', { better: 'lower', note: 'objects[kind].bytes delta / N' });
        rows.add(kindRow(k), d);
        if (d !== 0) parts.push(`${k} ${fmt(d)} B (${fmt(dc)} blocks)`);
      }
      log(
        `rep ${r + 1}/${reps}: ${fmt(N / (ms / 1000))} requests/s; per request ${fmt((m1.heapInUse - m0.heapInUse) / N)} B of heap: ` +
          `${parts.join(', ')}; heap in use ${fmt(m1.heapInUse / 2 ** 20)} MiB after ${served.toLocaleString('en-US')} requests`,
      );
    }
  } finally {
    await rt.shutdown();
  }
  return rows.toJSON().filter((r) => r.values.length > 0);
}
