/**
 * Issue 17: the per-request pattern of a server leaks its runtime objects.
 *
 * What it runs (start({ procs: 2 }), heapLimit as given, default 1 GiB): the loop of the issue,
 *
 *   const [ctx, cancel] = withTimeout(background(), 1000); cancel();
 *   const c = chan(1); await c.send(i); await c.recv();
 *
 * for N iterations (default 5,000,000), printing every N/10 iterations: iterations done,
 * requests/s over the last stretch, heap bytes in use (stats().memory.heapInUse), heap bytes
 * carved (heapUsed), live Chan and Context records, and RSS. Then one summary line: the
 * iteration it died at (HeapExhaustedError) or "completed", with the largest heapInUse and
 * RSS seen. A runtime that leaks ~290 bytes a request dies after ~3.7M iterations in 1 GiB
 * (~230k in 64 MiB); one that reclaims keeps heapInUse under a fixed bound. The child
 * process is killed after the time limit (default 600 s).
 *
 * Run (from the repository root, after `npx -y pnpm@10 build`):
 *   node benchmarks/repro/leak-per-request.mjs [N] [heapLimitMiB]     (~1-2 min for 5M)
 */
import { fileURLToPath } from 'node:url';
import { isChild, runChild, describeExit } from './lib/child.mjs';

const N = Number(process.argv[2] ?? 5_000_000);
const LIMIT_MIB = Number(process.argv[3] ?? 1024);

if (!isChild()) {
  const r = await runChild(fileURLToPath(import.meta.url), [N, LIMIT_MIB], { limitS: 600 });
  const lines = r.out.split('\n').filter((l) => l.trim() !== '');
  for (const l of lines) console.log(l);
  if (!lines.some((l) => l.startsWith('summary'))) console.log(`summary: ${describeExit(r)}`);
  process.exit(0);
}

const { start, chan, background, withTimeout } = await import('gort');
const { stats } = await import('gort/debug');
const rt = await start({ procs: 2, heapLimit: LIMIT_MIB * 2 ** 20 });
const mib = (b) => (b / 2 ** 20).toFixed(1);
let maxInUse = 0;
let maxRss = 0;
let i = 0;
try {
  let t0 = performance.now();
  let last = 0;
  for (; i < N; i++) {
    const [ctx, cancel] = withTimeout(background(), 1000);
    cancel();
    const c = chan(1);
    await c.send(i);
    await c.recv();
    if ((i + 1) % Math.max(1, Math.floor(N / 10)) === 0) {
      const m = stats().memory;
      const rss = process.memoryUsage().rss;
      maxInUse = Math.max(maxInUse, m.heapInUse);
      maxRss = Math.max(maxRss, rss);
      const now = performance.now();
      console.log(
        `${(i + 1).toLocaleString('en-US').padStart(11)} iterations: ${Math.round(((i + 1 - last) / (now - t0)) * 1000).toLocaleString('en-US')} req/s; ` +
          `heap in use ${mib(m.heapInUse)} MiB, carved ${mib(m.heapUsed)} MiB; live Chan ${m.objects.Chan?.count ?? 0}, ` +
          `Context ${m.objects.Context?.count ?? 0}; RSS ${mib(rss)} MiB`,
      );
      t0 = now;
      last = i + 1;
    }
    void ctx;
  }
  console.log(`summary: completed ${N.toLocaleString('en-US')} iterations in a ${LIMIT_MIB} MiB heap; max heap in use ${mib(maxInUse)} MiB, max RSS ${mib(maxRss)} MiB`);
} catch (e) {
  console.log(`summary: died at iteration ${i.toLocaleString('en-US')} with ${e?.name}: ${e?.message}`);
} finally {
  await rt.shutdown();
}
