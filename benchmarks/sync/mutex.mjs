/**
 * sync/mutex: Mutex lock+unlock, uncontended (one goroutine, ns per pair) and contended
 * (4 goroutines over procs 2, 4 × 50,000 pairs, total pairs/s), side by side with the
 * `multithreading` package's Mutex: 2 of its workers (initRuntime maxWorkers 2) doing the same
 * contended loop with `await mutex.lock()` + `guard.dispose()`.
 */
import { run, spawn, Mutex, fromModule } from 'gort';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { Rows } from '../lib/common.mjs';

const w = fromModule(new URL('../lib/chanwork.mjs', import.meta.url));

// multithreading 0.3.x targets Node 22: it reads navigator.hardwareConcurrency (Node 21+) and
// calls Promise.withResolvers (Node 22+). Give Node 20 both before loading it.
globalThis.navigator ??= { hardwareConcurrency: os.availableParallelism() };
Promise.withResolvers ??= function withResolvers() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
const { initRuntime, spawn: mtSpawn, move, Mutex: MtMutex, shutdown: mtShutdown } = await import('multithreading');

async function multithreadingContended(perWorker) {
  const mu = new MtMutex();
  const t0 = performance.now();
  const hs = [0, 1].map(() =>
    mtSpawn(move(mu, perWorker), async (m, n) => {
      for (let i = 0; i < n; i++) {
        const g = await m.lock();
        g.dispose();
      }
      return n;
    }),
  );
  for (const h of hs) {
    const r = await h.join();
    if (!r.ok) throw r.error ?? new Error('multithreading task failed');
  }
  return (2 * perWorker) / ((performance.now() - t0) / 1000);
}

export default async function ({ reps, quick }) {
  const N = quick ? 100_000 : 1_000_000;
  const C = quick ? 10_000 : 50_000;
  const rows = new Rows();
  rows.def('gort uncontended lock+unlock, one goroutine', 'ns', { better: 'lower', target: { op: '<=', value: 100 } });
  rows.def('gort contended: 4 goroutines on 2 Ms, total', 'pairs/s', { target: { op: '>=', value: 1_000_000 } });
  rows.def('multithreading Mutex contended: 2 workers, total', 'pairs/s', { note: 'multithreading ' + pkgVersion() });
  rows.def('ratio gort / multithreading (contended)', 'x');
  initRuntime({ maxWorkers: 2 });
  try {
    await multithreadingContended(C / 10);
    await run(async () => {
      await spawn(w.mutexUncontended, N / 10);
      const contended = async () => {
        const mu = new Mutex();
        const t0 = performance.now();
        await Promise.all([0, 1, 2, 3].map((k) => spawn(w.contend, mu, C, k === 3 ? 5 : 0)));
        return (4 * C) / ((performance.now() - t0) / 1000);
      };
      await contended();
      for (let r = 0; r < reps; r++) {
        rows.add(rows.rows[0].figure, await spawn(w.mutexUncontended, N));
        const g = await contended();
        const m = await multithreadingContended(C);
        rows.add(rows.rows[1].figure, g);
        rows.add(rows.rows[2].figure, m);
        rows.add(rows.rows[3].figure, g / m);
      }
    }, { procs: 2 });
  } finally {
    mtShutdown();
  }
  return rows.toJSON();
}

function pkgVersion() {
  try {
    return JSON.parse(readFileSync(new URL('../node_modules/multithreading/package.json', import.meta.url), 'utf8')).version;
  } catch {
    return '';
  }
}
