/**
 * select/prodcons: two producers on two channels (capacity 0 and 100), one consumer that
 * receives 2 × 100,000 values with select over both; procs 2. values/s on the consumer.
 */
import { run, spawn, fromModule } from 'gort';
import { Rows } from '../lib/common.mjs';

const w = fromModule(new URL('../lib/chanwork.mjs', import.meta.url));

export default async function ({ reps, quick }) {
  const N = quick ? 10_000 : 100_000;
  const rows = new Rows();
  for (const cap of [0, 100]) rows.def(`select over 2 channels of capacity ${cap}, 2 producers`, 'values/s');
  await run(async () => {
    for (const cap of [0, 100]) {
      await spawn(w.selectProdcons, N / 10, cap);
      for (let r = 0; r < reps; r++) rows.add(`select over 2 channels of capacity ${cap}, 2 producers`, await spawn(w.selectProdcons, N, cap));
    }
  }, { procs: 2 });
  return rows.toJSON();
}
