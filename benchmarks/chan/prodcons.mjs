/**
 * chan/prodcons-0|10|100: one producer sends 200,000 numbers, one consumer receives them, on
 * channels of capacity 0, 10 and 100. "same M": procs 1. "across Ms": procs 2, the producer
 * holds its M for 30 ms first so that the consumer is placed on the other M (the row notes
 * how often they really ran apart). values/s, timed on the consumer from its first receive.
 * Each configuration first runs once at full size, untimed: the first runs of a process are
 * 1.5-2x slower while V8 compiles the channel paths on its background threads, which on 2
 * cores preempt one of the two Ms (~210 nonvoluntary context switches of the Ms in a first run of
 * 200,000 values, ~110 in the third).
 *
 * Beside each across-M repetition of capacity 100 runs the machine reference of
 * lib/ring-workers.mjs: the same numbers through a bare spin-locked ring between two plain
 * workers. Both swing together between phases of this VM, so the ratio is the figure that
 * says what the runtime costs.
 */
import { run, spawn, fromModule } from 'gort';
import { Rows } from '../lib/common.mjs';
import { ringWorkers } from '../lib/ring-workers.mjs';

const w = fromModule(new URL('../lib/chanwork.mjs', import.meta.url));

export default async function ({ reps, quick }) {
  const N = quick ? 20_000 : 200_000;
  const rows = new Rows();
  const caps = [0, 10, 100];
  for (const cap of caps) rows.def(`prodcons-${cap}, same M (procs 1)`, 'values/s');
  for (const cap of caps) {
    rows.def(`prodcons-${cap}, across Ms (procs 2)`, 'values/s', cap === 100 ? { target: { op: '>=', value: 2_000_000 } } : {});
  }
  const REF = 'machine reference: bare spin-locked ring of 100 between two plain workers (same moment)';
  const RATIO = 'prodcons-100 across Ms / machine reference';
  rows.def(REF, 'values/s', { note: 'the least a lock-based channel pays between two threads here (lib/ring-workers.mjs)' });
  rows.def(RATIO, 'x');
  rows.def('across-M runs where producer and consumer were on different Ms', '%');
  await run(async () => {
    for (const cap of caps) {
      await spawn(w.prodcons, N, cap, 0);
      for (let r = 0; r < reps; r++) {
        const o = await spawn(w.prodcons, N, cap, 0);
        rows.add(`prodcons-${cap}, same M (procs 1)`, o.count / (o.ms / 1000));
      }
    }
  }, { procs: 1 });
  let apart = 0;
  let total = 0;
  const ring = await ringWorkers();
  await ring.rate(N, 100);
  await run(async () => {
    for (const cap of caps) {
      await spawn(w.prodcons, N, cap, 30);
      for (let r = 0; r < reps; r++) {
        const ref = cap === 100 ? await ring.rate(N, 100) : 0;
        const o = await spawn(w.prodcons, N, cap, 30);
        const rate = o.count / (o.ms / 1000);
        rows.add(`prodcons-${cap}, across Ms (procs 2)`, rate);
        if (cap === 100) {
          rows.add(REF, ref);
          rows.add(RATIO, rate / ref);
        }
        total++;
        if (!o.sameThread) apart++;
      }
    }
  }, { procs: 2 });
  await ring.close();
  rows.add('across-M runs where producer and consumer were on different Ms', (100 * apart) / total);
  return rows.toJSON();
}
