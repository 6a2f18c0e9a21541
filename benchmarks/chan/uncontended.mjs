/**
 * chan/uncontended: buffered chan(1), one goroutine on an M, `await c.send(i); await c.recv()`
 * with numbers, 1,000,000 pairs: ns per pair (Go's C2 shape). Next to it, two awaits of
 * already-resolved promises in the same goroutine: the floor an awaited API pays in V8.
 */
import { run, spawn, fromModule } from 'gort';
import { Rows } from '../lib/common.mjs';

const w = fromModule(new URL('../lib/chanwork.mjs', import.meta.url));

export default async function ({ reps, quick }) {
  const N = quick ? 100_000 : 1_000_000;
  const rows = new Rows();
  rows.def('buffered send+recv of a number, one goroutine', 'ns', { better: 'lower', target: { op: '<=', value: 150 }, baseline: 'C2: Go 28.8 ns' });
  await run(async () => {
    await spawn(w.uncontended, N / 10);
    for (let r = 0; r < reps; r++) rows.add(rows.rows[0].figure, await spawn(w.uncontended, N));
  }, { procs: 1 });
  return rows.toJSON();
}
