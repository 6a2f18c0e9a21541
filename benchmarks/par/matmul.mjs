/**
 * par/matmul: C = A × B for 512×512 float64 matrices (row-major, each in its own
 * SharedArrayBuffer; A and B from xorshift32, lib/par.mjs fillRandom), the i-k-j loop order
 * (each C row accumulated in k order, as the Go version does, so the bits agree). The rows are
 * split in 16 chunks of 32: gort starts one goroutine per chunk in an errgroup and waits for
 * it; piscina gets one task per chunk; Go runs one goroutine per chunk with a WaitGroup. Timed:
 * from the first go() to the group's wait (gort), the batch of tasks (piscina), the whole
 * product (sequential, on the main thread). --quick: 128×128.
 *
 * Every M and every piscina thread imports this file for its exported functions, so its top
 * level only defines functions.
 */
import { Group } from 'gort';
import { parBench, weightedSum, fillRandom } from '../lib/par.mjs';

const CHUNKS = 16;

/** Rows [r0, r1) of c = a × b, n×n. */
export function matmulRows(a, b, c, n, r0, r1) {
  for (let i = r0; i < r1; i++) {
    const ci = i * n;
    for (let j = 0; j < n; j++) c[ci + j] = 0;
    for (let k = 0; k < n; k++) {
      const aik = a[ci + k];
      const bk = k * n;
      for (let j = 0; j < n; j++) c[ci + j] += aik * b[bk + j];
    }
  }
}

/** A piscina task: one chunk of rows. */
export function matmulTask({ a, b, c, n, r0, r1 }) {
  matmulRows(a, b, c, n, r0, r1);
}

export function noop() {}

const f64 = (n) => new Float64Array(new SharedArrayBuffer(n * 8));

function chunks(n) {
  const out = [];
  for (let i = 0; i < CHUNKS; i++) out.push([Math.floor((i * n) / CHUNKS), Math.floor(((i + 1) * n) / CHUNKS)]);
  return out;
}

const spec = {
  name: 'par/matmul',
  goName: 'matmul',
  size: 512,
  quickSize: 128,
  warmSize: 64,
  target: 1.85,
  module: new URL(import.meta.url),
  what: (n) => `${n}×${n} float64, C = A × B`,
  how: `${CHUNKS} chunks of rows, one goroutine each (errgroup)`,
  setup(n) {
    const s = { n, a: f64(n * n), b: f64(n * n), c: f64(n * n) };
    fillRandom(s.a, 1);
    fillRandom(s.b, 2);
    return s;
  },
  prepare: (s) => s.c.fill(0),
  output: (s) => new Uint8Array(s.c.buffer),
  checksum: (s) => weightedSum(s.c),
  seq: (s) => matmulRows(s.a, s.b, s.c, s.n, 0, s.n),
  async gort(s, procs, k) {
    const g = new Group();
    for (const [r0, r1] of chunks(s.n)) g.go(k.matmulRows, s.a, s.b, s.c, s.n, r0, r1);
    await g.wait();
  },
  piscina(pool, s) {
    return Promise.all(chunks(s.n).map(([r0, r1]) => pool.run({ a: s.a, b: s.b, c: s.c, n: s.n, r0, r1 }, { name: 'matmulTask' })));
  },
};

export default (ctx) => parBench(ctx, spec);
