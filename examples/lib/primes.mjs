// CPU-bound kernel for the demo: count the primes in [lo, hi) by trial division.
export function countPrimes(lo, hi) {
  let n = 0;
  for (let x = Math.max(lo, 2); x < hi; x++) {
    let prime = true;
    for (let d = 2; d * d <= x; d++) {
      if (x % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) n++;
  }
  return n;
}
