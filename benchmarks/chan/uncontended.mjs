/**
 * chan/uncontended: buffered chan(1), one goroutine on an M, `await c.send(i); await c.recv()`
 * with numbers, 1,000,000 pairs: ns per pair (the shape of Go's reference figure C2, RESULTS.md). Next to it, in the same
 * goroutine, two floors: two awaits of already-settled promises (what any awaited send+recv
 * pays in V8), and those plus two lock/unlock pairs of Atomics on a SharedArrayBuffer word
 * (what a channel that other threads may touch pays at least; Atomics are builtin calls of
 * ~8 ns each in Node 20, not inlined). And the same send+recv of other values, N / 10 pairs:
 * a Float64Array over a SharedArrayBuffer and the bare buffer (shared by reference: a handle,
 * no copy) beside a small plain object (structured clone), to show what sharing costs.
 */
import { run, spawn, fromModule } from 'gort';
import { Rows } from '../lib/common.mjs';

const w = fromModule(new URL('../lib/chanwork.mjs', import.meta.url));

export default async function ({ reps, quick }) {
  const N = quick ? 100_000 : 1_000_000;
  const rows = new Rows();
  rows.def('buffered send+recv of a number, one goroutine', 'ns', { better: 'lower', target: { op: '<=', value: 150 }, baseline: 'C2: Go 28.8 ns' });
  rows.def('floor: two awaits of settled promises', 'ns', { better: 'lower' });
  rows.def('floor: two awaits + two lock/unlock pairs (Atomics)', 'ns', { better: 'lower' });
  rows.def('gort send+recv minus the Atomics floor', 'ns', { better: 'lower', note: 'channel logic, value encoding, preemption checks' });
  const values = [
    ['view', 'buffered send+recv of a shared Float64Array view', 'shared by reference: a 32-byte block, no copy'],
    ['buffer', 'buffered send+recv of a SharedArrayBuffer', 'shared by reference: a handle'],
    ['object', 'buffered send+recv of a small plain object', 'copied: structured clone (v8.serialize)'],
  ];
  for (const [, name, note] of values) rows.def(name, 'ns', { better: 'lower', note });
  await run(async () => {
    await spawn(w.uncontended, N / 10);
    await spawn(w.awaitFloor, N / 10);
    await spawn(w.lockFloor, N / 10);
    for (let r = 0; r < reps; r++) {
      const g = await spawn(w.uncontended, N);
      const f1 = await spawn(w.awaitFloor, N);
      const f2 = await spawn(w.lockFloor, N);
      rows.add(rows.rows[0].figure, g);
      rows.add(rows.rows[1].figure, f1);
      rows.add(rows.rows[2].figure, f2);
      rows.add(rows.rows[3].figure, g - f2);
      for (const [k, [kind]] of values.entries()) rows.add(rows.rows[4 + k].figure, await spawn(w.uncontendedValue, N / 10, kind));
    }
  }, { procs: 1 });
  return rows.toJSON();
}
