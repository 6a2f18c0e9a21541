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
 * After a warm-up (WARM requests), each repetition runs collect() (gort/debug, Go's
 * runtime.GC()) and reads stats().memory (a walk of the heap's blocks under the allocator
 * lock), both outside the timed window, serves N requests timed with performance.now(), reads
 * stats().memory (what the requests left, garbage not yet finalized included), then collects
 * and reads it again (what they retained). Figures: requests/s; heap bytes retained per
 * request (heapInUse delta after collect() / N, per kind too: which records accumulate); heap
 * in use at the end before and after the collect; and RSS gained per request. Objects are
 * reclaimed once nothing names them (docs/design/memory.md): the target is under 1 retained
 * byte per request, and heap in use bounded whatever the number of requests.
 */
import { start, go, chan, Mutex, WaitGroup, background, withTimeout } from 'gort';
import { stats, collect } from 'gort/debug';
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
  rows.def('heap retained per request, after warm-up', 'bytes', {
    better: 'lower',
    target: { op: '<=', value: 1 },
    note: `heapInUse delta (each side after collect()) over ${N.toLocaleString('en-US')} requests / N; before reclamation: 288 B/request`,
  });
  rows.def('heap in use at the end of the repetition, after collect()', 'MiB', {
    better: 'lower',
    note: 'steady state: the same after every repetition',
  });
  rows.def('heap in use at the end of the repetition, before collect()', 'MiB', {
    better: 'lower',
    note: 'records whose JS objects are garbage not yet finalized: bounded by the pressure step (live runtime objects may double, at least 16 MiB, at most an eighth of the limit)',
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
      await collect();
      const m0 = stats().memory;
      const rss0 = process.memoryUsage().rss;
      const t0 = performance.now();
      await Promise.race([serve(N, served), rt.failure]);
      const ms = performance.now() - t0;
      const rss1 = process.memoryUsage().rss;
      const pending = stats().memory;
      await collect();
      const m1 = stats().memory;
      served += N;
      rows.add(rows.rows[0].figure, N / (ms / 1000));
      rows.add(rows.rows[1].figure, (m1.heapInUse - m0.heapInUse) / N);
      rows.add(rows.rows[2].figure, m1.heapInUse / 2 ** 20);
      rows.add(rows.rows[3].figure, pending.heapInUse / 2 ** 20);
      rows.add(rows.rows[4].figure, (rss1 - rss0) / N);
      const parts = [];
      for (const k of new Set([...Object.keys(m1.objects), ...Object.keys(m0.objects)])) {
        const d = ((m1.objects[k]?.bytes ?? 0) - (m0.objects[k]?.bytes ?? 0)) / N;
        const dc = ((m1.objects[k]?.count ?? 0) - (m0.objects[k]?.count ?? 0)) / N;
        if (!rows.byName.has(kindRow(k))) rows.def(kindRow(k), 'bytes', { better: 'lower', note: 'objects[kind].bytes delta / N' });
        rows.add(kindRow(k), d);
        if (d !== 0) parts.push(`${k} ${fmt(d)} B (${fmt(dc)} blocks)`);
      }
      log(
        `rep ${r + 1}/${reps}: ${fmt(N / (ms / 1000))} requests/s; per request ${fmt((m1.heapInUse - m0.heapInUse) / N)} B of heap retained` +
          `${parts.length > 0 ? `: ${parts.join(', ')}` : ''}; heap in use ${fmt(pending.heapInUse / 2 ** 20)} MiB before collect(), ` +
          `${fmt(m1.heapInUse / 2 ** 20)} MiB after, after ${served.toLocaleString('en-US')} requests`,
      );
    }
  } finally {
    await rt.shutdown();
  }
  return rows.toJSON().filter((r) => r.values.length > 0);
}
