// What the cluster example's machines run: count primes in a range, and say who counted.
import { countPrimes } from '../lib/primes.mjs';
import { hostname } from 'node:os';

export function count(lo, hi) {
  return { lo, n: countPrimes(lo, hi), by: `${hostname()}:${process.pid}` };
}
