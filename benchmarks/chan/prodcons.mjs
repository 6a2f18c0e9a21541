/**
 * chan/prodcons-0|10|100: one producer sends 200,000 numbers, one consumer receives them, on
 * channels of capacity 0, 10 and 100. "same M": procs 1. "across Ms": procs 2, the producer
 * holds its M for 30 ms first so that the consumer is placed on the other M (the row notes
 * how often they really ran apart). values/s, timed on the consumer from its first receive.
 * Each configuration first runs once at full size, untimed: the first runs of a process are
 * 1.5-2x slower while V8 compiles the channel paths on its background threads, which on 2
 * cores preempt one of the two Ms (~210 nonvoluntary context switches of the Ms in a first run of
 * 200,000 values, ~110 in the third).
 */
import { run, spawn, fromModule } from 'gort';
import { Rows } from '../lib/common.mjs';

const w = fromModule(new URL('../lib/chanwork.mjs', import.meta.url));

export default async function ({ reps, quick }) {
  const N = quick ? 20_000 : 200_000;
  const rows = new Rows();
  const caps = [0, 10, 100];
  for (const cap of caps) rows.def(`prodcons-${cap}, same M (procs 1)`, 'values/s');
  for (const cap of caps) {
    rows.def(`prodcons-${cap}, across Ms (procs 2)`, 'values/s', cap === 100 ? { target: { op: '>=', value: 2_000_000 } } : {});
  }
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
  await run(async () => {
    for (const cap of caps) {
      await spawn(w.prodcons, N, cap, 30);
      for (let r = 0; r < reps; r++) {
        const o = await spawn(w.prodcons, N, cap, 30);
        rows.add(`prodcons-${cap}, across Ms (procs 2)`, o.count / (o.ms / 1000));
        total++;
        if (!o.sameThread) apart++;
      }
    }
  }, { procs: 2 });
  rows.add('across-M runs where producer and consumer were on different Ms', (100 * apart) / total);
  return rows.toJSON();
}
