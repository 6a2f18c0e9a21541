// Repro: a goroutine sleeps 0 ms, makes an unbuffered chan on its M, starts a goroutine that closes it once
// a (cancelled) context is done, and receives from it: 20 rounds of 20,000, procs 2. The
// program closes each channel once; a "close of closed channel" panic is a runtime bug.
// Prints the rounds done, or the panic. GORT_REPRO_ROUNDS (default 20).
import { run, go, chan, sleep, background, withCancel } from 'gort';

const ROUNDS = Number(process.env.GORT_REPRO_ROUNDS ?? 20);
const t0 = performance.now();
await run(async () => {
  const [p0, c0] = withCancel(background());
  c0();
  const sink = chan(1000);
  const f = async (p, woke, n, wait) => {
    await sleep(wait);
    const c = chan();
    go(async (p, c) => {
      await p.done().recv();
      c.close();
    }, p, c);
    await c.recv();
    await woke.send(n);
  };
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < 20_000; i += 1000) {
      for (let k = 0; k < 1000; k++) go(f, p0, sink, i + k, 0);
      for (let k = 0; k < 1000; k++) await sink.recv();
    }
  }
}, { procs: 2 });
console.log(`ok: ${ROUNDS} rounds of 20,000 in ${(performance.now() - t0).toFixed(0)} ms`);
