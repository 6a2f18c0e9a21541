/**
 * Issue 16, finding 7: a dead worker under start() strands its joiners.
 *
 * What it measures: start({ procs: 2, resourceLimits }) with a small old generation; 20
 * spawn()ed goroutines park on one channel; then a goroutine that keeps growing an array (and
 * sends on that channel now and then) runs its M out of memory. After rt.failure rejects:
 * how soon all 20 spawn() promises settled and how (1.5 s after the crash), what a later
 * spawn() does (within 2 s), and whether rt.shutdown() returns (within 5 s). Wanted: every join
 * rejected with WorkerCrashError within a second, a later call served or refused with an
 * error naming the crash, shutdown returning. The child process is killed after 60 s.
 *
 * Run (from the repository root, after `npx -y pnpm@10 build`):
 *   node benchmarks/repro/dead-worker.mjs     (~5 s)
 *
 * Results (2 cores, Node 20; see README.md): on f62cb12, 19-20 of the 20 joins never settled
 * (and a later spawn() was served); on main every join not already answered rejected with
 * WorkerCrashError 1-7 ms after rt.failure, a later spawn() throws RuntimeStateError naming
 * the crash, and shutdown() returns.
 */
import { fileURLToPath } from 'node:url';
import { isChild, runChild, describeExit } from './lib/child.mjs';

if (!isChild()) {
  const r = await runChild(fileURLToPath(import.meta.url), [], { limitS: 60 });
  const lines = r.out.split('\n').filter((l) => l.startsWith('finding 7'));
  for (const l of lines) console.log(l);
  if (r.killed || !lines.some((l) => l.includes('shutdown'))) console.log(`finding 7: ${describeExit(r)}`);
  process.exit(0);
}

const { start, go, spawn, chan } = await import('gort');
const t0 = performance.now();
const rt = await start({ procs: 2, resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 } });
const c = chan();
const joins = [];
for (let i = 0; i < 20; i++) joins.push(spawn(async (c) => c.recv(), c));
await new Promise((r) => setTimeout(r, 200));
go(async function hog(c) {
  const keep = [];
  for (let i = 0; ; i++) {
    keep.push(new Array(1e5).fill(1.5));
    if (i % 10 === 0) await c.send(i).catch(() => {});
  }
}, c);
const states = joins.map(() => 'pending');
let lastSettle = 0;
joins.forEach((p, i) => p.then((v) => (states[i] = 'ok'), (e) => (states[i] = e?.name ?? String(e))).finally(() => (lastSettle = performance.now())));
const failure = await rt.failure.catch((e) => e);
const tf = performance.now();
console.log(`finding 7: rt.failure rejected with ${failure?.name} ${(tf - t0).toFixed(0)} ms after start`);
await new Promise((r) => setTimeout(r, 1500));
const counts = {};
for (const s of states) counts[s] = (counts[s] ?? 0) + 1;
const settled = states.every((s) => s !== 'pending');
console.log(
  `finding 7: 1.5 s after the crash, the 20 joins: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}` +
    (settled ? `; all settled ${Math.max(0, lastSettle - tf).toFixed(1)} ms after rt.failure rejected` : `; ${counts.pending} never settled`),
);
let later;
try {
  later = await Promise.race([
    spawn(() => 1).then((v) => `served (${v})`, (e) => `rejected ${e?.name}: ${String(e?.message).slice(0, 160)}`),
    new Promise((r) => setTimeout(() => r('never settled within 2 s'), 2000)),
  ]);
} catch (e) {
  later = `threw ${e?.name}: ${String(e?.message).slice(0, 160)}`;
}
console.log(`finding 7: a later spawn(): ${later}`);
const sd = await Promise.race([
  rt.shutdown().then(() => 'returned', (e) => `rejected ${e?.name}`),
  new Promise((r) => setTimeout(() => r('never returned within 5 s'), 5000)),
]);
console.log(`finding 7: rt.shutdown(): ${sd}`);
process.exit(0);
