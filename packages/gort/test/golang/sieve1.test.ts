// Port of go/test/chan/sieve1.go
//
// Test concurrency primitives: classical inefficient concurrent prime sieve.
// Generate primes up to 100 using channels, checking the results. This sieve consists of
// a linear chain of divisibility filters, equivalent to trial-dividing each n by all
// primes p ≤ n. Every stage is a goroutine; Sieve starts the others from inside itself.
import { describe, it, expect } from 'vitest';
import { run, go, chan, type Chan } from 'gort';

// The prime sieve: Daisy-chain Filter processes together.
async function Sieve(primes: Chan<number>): Promise<void> {
  // Send the sequence 2, 3, 4, ... to channel 'ch'.
  const Generate = async (ch: Chan<number>): Promise<void> => {
    for (let i = 2; ; i++) await ch.send(i); // Send 'i' to channel 'ch'.
  };
  // Copy the values from channel 'in' to channel 'out', removing those divisible by 'prime'.
  const Filter = async (inp: Chan<number>, out: Chan<number>, prime: number): Promise<void> => {
    for await (const i of inp) {
      // Loop over values received from 'in'.
      if (i % prime !== 0) await out.send(i); // Send 'i' to channel 'out'.
    }
  };
  let ch = chan<number>(); // Create a new channel.
  go(Generate, ch); // Start Generate() as a subprocess.
  for (;;) {
    // Note that ch is different on each iteration.
    const prime = (await ch.recv())!;
    await primes.send(prime);
    const ch1 = chan<number>();
    go(Filter, ch, ch1, prime);
    ch = ch1;
  }
}

function trialDivisionPrimes(n: number): number[] {
  const out: number[] = [];
  for (let k = 2; out.length < n; k++) if (out.every((p) => k % p !== 0)) out.push(k);
  return out;
}

describe('go/test/chan/sieve1.go', () => {
  it('the first 25 primes (Go), then the first 300, from a sieve goroutine', async () => {
    const a = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97];
    const got = await run(
      async () => {
        const primes = chan<number>();
        go(Sieve, primes);
        const xs: number[] = [];
        for (let i = 0; i < 300; i++) xs.push((await primes.recv())!);
        return xs;
      },
      { procs: 2 },
    );
    expect(got.slice(0, a.length)).toEqual(a);
    expect(got).toEqual(trialDivisionPrimes(300));
  });
});
