/**
 * par/sort: 10,000,000 float64 in [0, 1) (xorshift32, lib/par.mjs fillRandom) sorted in place
 * in a shared Float64Array. Sequential: one Float64Array.prototype.sort() on the main thread.
 * Parallel: a merge sort: 4 chunks sorted at once (one goroutine each, typed-array sort), then
 * 2 rounds of merges between the array and a shared scratch array of the same size (round 1:
 * two pairs of chunks into the scratch, round 2: the two halves back into the array). Each
 * round runs 4 goroutines: a merge is split by output position into equal parts, each part
 * finding where it starts in both inputs by binary search (the merge-path split), so even the
 * last merge of two halves keeps both cores busy. gort: an errgroup per phase; piscina: one
 * task per chunk and per part, a batch per phase; Go: the same with sort.Float64s and a
 * WaitGroup per phase. Timed: the whole sort (the input is copied in, untimed, before each).
 * --quick: 500,000.
 *
 * Every M and every piscina thread imports this file for its exported functions, so its top
 * level only defines functions.
 */
import { Group } from 'gort';
import { parBench, weightedSum, fillRandom } from '../lib/par.mjs';

const CHUNKS = 4; // a power of 4: an even number of merge rounds ends in the array itself
const PARTS = 4; // goroutines per merge round

/** Sort v[lo, hi) in place. */
export function sortRange(v, lo, hi) {
  v.subarray(lo, hi).sort();
}

/**
 * How many of the first k outputs of merging src[lo, mid) with src[mid, hi) come from the
 * first run (ties taken from the first run first).
 */
function split(src, lo, mid, hi, k) {
  let a = Math.max(0, k - (hi - mid));
  let b = Math.min(k, mid - lo);
  while (a < b) {
    const i = (a + b) >>> 1;
    if (src[lo + i] <= src[mid + k - i - 1]) a = i + 1;
    else b = i;
  }
  return a;
}

/** Outputs [o0, o1) of merging the sorted runs src[lo, mid) and src[mid, hi) into dst[lo, hi). */
export function mergePart(src, dst, lo, mid, hi, o0, o1) {
  let i = lo + split(src, lo, mid, hi, o0 - lo);
  let j = mid + (o0 - lo) - (i - lo);
  const iEnd = lo + split(src, lo, mid, hi, o1 - lo);
  const jEnd = mid + (o1 - lo) - (iEnd - lo);
  let o = o0;
  while (i < iEnd && j < jEnd) {
    const x = src[i];
    const y = src[j];
    if (x <= y) {
      dst[o++] = x;
      i++;
    } else {
      dst[o++] = y;
      j++;
    }
  }
  while (i < iEnd) dst[o++] = src[i++];
  while (j < jEnd) dst[o++] = src[j++];
}

/** piscina tasks. */
export function sortTask({ v, lo, hi }) {
  sortRange(v, lo, hi);
}
export function mergeTask({ src, dst, part }) {
  mergePart(src, dst, ...part);
}

export function noop() {}

/** The plan for n elements: chunk bounds, and per merge round its parts [lo, mid, hi, o0, o1]. */
function plan(n) {
  const b = Array.from({ length: CHUNKS + 1 }, (_, i) => Math.floor((i * n) / CHUNKS));
  const chunks = b.slice(0, CHUNKS).map((lo, i) => [lo, b[i + 1]]);
  const rounds = [];
  for (let w = 1; w < CHUNKS; w *= 2) {
    const merges = [];
    for (let c = 0; c < CHUNKS; c += 2 * w) merges.push([b[c], b[c + w], b[c + 2 * w]]);
    const parts = Math.max(1, PARTS / merges.length);
    const round = [];
    for (const [lo, mid, hi] of merges) {
      for (let p = 0; p < parts; p++) round.push([lo, mid, hi, lo + Math.floor((p * (hi - lo)) / parts), lo + Math.floor(((p + 1) * (hi - lo)) / parts)]);
    }
    rounds.push(round);
  }
  return { chunks, rounds };
}

const f64 = (n) => new Float64Array(new SharedArrayBuffer(n * 8));
/** Round r reads the array and writes the scratch when r is even, the other way when odd. */
const ends = (s, r) => (r % 2 === 0 ? [s.data, s.scratch] : [s.scratch, s.data]);

const spec = {
  name: 'par/sort',
  goName: 'sort',
  size: 10_000_000,
  quickSize: 500_000,
  warmSize: 50_000,
  target: 1.5,
  module: new URL(import.meta.url),
  what: (n) => `${n.toLocaleString('en-US')} float64, Float64Array sort()`,
  how: `merge sort: ${CHUNKS} chunks, then ${PARTS} merge parts per round, one goroutine each (an errgroup per phase)`,
  setup(n) {
    const s = { n, input: f64(n), data: f64(n), scratch: f64(n), plan: plan(n) };
    fillRandom(s.input, 3);
    return s;
  },
  prepare: (s) => s.data.set(s.input),
  output: (s) => new Uint8Array(s.data.buffer),
  checksum: (s) => weightedSum(s.data),
  seq: (s) => s.data.sort(),
  async gort(s, procs, k) {
    const g = new Group();
    for (const [lo, hi] of s.plan.chunks) g.go(k.sortRange, s.data, lo, hi);
    await g.wait();
    for (const [r, round] of s.plan.rounds.entries()) {
      const [src, dst] = ends(s, r);
      const m = new Group();
      for (const part of round) m.go(k.mergePart, src, dst, ...part);
      await m.wait();
    }
  },
  async piscina(pool, s) {
    await Promise.all(s.plan.chunks.map(([lo, hi]) => pool.run({ v: s.data, lo, hi }, { name: 'sortTask' })));
    for (const [r, round] of s.plan.rounds.entries()) {
      const [src, dst] = ends(s, r);
      await Promise.all(round.map((part) => pool.run({ src, dst, part }, { name: 'mergeTask' })));
    }
  },
};

export default (ctx) => parBench(ctx, spec);
