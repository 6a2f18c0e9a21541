// Go's concurrent prime sieve (https://go.dev/doc/play/sieve.go), on gort.
//
// A generator sends 2, 3, 4, … into a channel; each prime found adds a filter goroutine
// between the last channel and a new one. The stages run spread over every core, each
// hand-off an unbuffered channel rendezvous between goroutines.
import { run, go, chan } from 'gort';

const N = Number(process.argv[2] ?? 500);

const primes = await run(async () => {
  const first = chan();
  go(async (ch) => {
    for (let i = 2; ; i++) await ch.send(i);
  }, first);
  const out = [];
  let ch = first;
  for (let i = 0; i < N; i++) {
    const prime = await ch.recv();
    out.push(prime);
    const next = chan();
    go(
      async (src, dst, p) => {
        for (;;) {
          const v = await src.recv();
          if (v % p !== 0) await dst.send(v);
        }
      },
      ch,
      next,
      prime,
    );
    ch = next;
  }
  return out;
});
console.log(`first ${N} primes: ${primes.slice(0, 10).join(' ')} … ${primes.at(-1)}`);
