// A piscina task that joins gort's heap: it receives numbers on one gort channel and sends
// their squares on another, waiting with Atomics.waitAsync (no goroutine scheduler here).
import { attach } from 'gort';

export default async function square({ jobs, results }) {
  const jobsCh = attach(jobs);
  const resultsCh = attach(results);
  let handled = 0;
  for await (const n of jobsCh) {
    await resultsCh.send({ n, square: n * n });
    handled++;
  }
  return handled;
}
