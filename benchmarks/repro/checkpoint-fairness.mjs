/**
 * Issue 16, finding 8: checkpoint() does not yield to goroutines woken on its own M.
 *
 * What it measures: Go's TestPingPongHog on procs 1. A hog pair (goroutines that loop hogLimit
 * steps, awaiting checkpoint() every 10,000 steps, then hand a token to each other over a
 * channel) runs beside a light pair (the same with 1,000 steps) for 100 ms; printed: the work
 * each pair did and the ratio hog/light. Go's test bounds it at 20×. The same with gosched()
 * in place of checkpoint() for comparison. Each kind runs in its own child process, killed
 * after 60 s.
 *
 * Run (from the repository root, after `npx -y pnpm@10 build`):
 *   node benchmarks/repro/checkpoint-fairness.mjs                      checkpoint and gosched
 *   node benchmarks/repro/checkpoint-fairness.mjs checkpoint [hogLimit] one kind (hogLimit 1e6)
 *
 * Results (2 cores, Node 20; see README.md): on f62cb12 the hog pair did 695-1,065× the light
 * pair's work with checkpoint() (0.11-0.29 with gosched()); on main 3.5-6.2× with checkpoint()
 * (0.08-0.42 with gosched()).
 */
import { fileURLToPath } from 'node:url';
import { isChild, runChild, describeExit, lastLine } from './lib/child.mjs';

const KINDS = ['checkpoint', 'gosched'];

if (!isChild()) {
  const kinds = KINDS.includes(process.argv[2]) ? [process.argv[2]] : KINDS;
  const limit = process.argv[3] ?? '1000000';
  for (const k of kinds) {
    const r = await runChild(fileURLToPath(import.meta.url), [k, limit], { limitS: 60 });
    const line = lastLine(r.out);
    console.log(line.startsWith('finding 8') ? line : `finding 8 ${k}: ${describeExit(r)}`);
  }
  process.exit(0);
}

const { run, spawn } = await import('gort');
const kind = process.argv[2];
const limit = Number(process.argv[3]);
// Inline goroutines: chan, select, recv, go, sleep, checkpoint, gosched, AtomicInt32 are gort
// exports, in scope inside them.
const r = await run(() => spawn(async (hogLimit, kind) => {
  const done = chan();
  const hogChan = chan();
  const lightChan = chan();
  const hogCount = new AtomicInt32();
  const lightCount = new AtomicInt32();
  const pair = async (limit, counter, wake, done, kind) => {
    for (;;) {
      const stop = await select([recv(done, () => true), recv(wake, () => false)]);
      if (stop) return;
      let n = 0;
      for (let i = 0; i < limit; i++) {
        if (++n === 10000) {
          counter.add(n);
          n = 0;
          if (kind === 'checkpoint') await checkpoint();
          else await gosched();
        }
      }
      counter.add(n);
      await wake.send(true);
    }
  };
  for (let i = 0; i < 2; i++) go(pair, hogLimit, hogCount, hogChan, done, kind);
  for (let i = 0; i < 2; i++) go(pair, 1000, lightCount, lightChan, done, kind);
  await hogChan.send(true);
  await lightChan.send(true);
  await sleep(100);
  done.close();
  await hogChan.recv();
  await lightChan.recv();
  return [hogCount.load(), lightCount.load()];
}, limit, kind), { procs: 1 });
console.log(`finding 8 ${kind.padEnd(10)}: hog/light work ratio ${(r[0] / r[1]).toFixed(2)} (hog pair ${r[0]}, light pair ${r[1]}; Go's bound: 20)`);
process.exit(0);
