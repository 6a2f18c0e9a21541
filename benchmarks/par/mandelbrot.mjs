/**
 * par/mandelbrot: a 2048×2048 escape-time image of the Mandelbrot set (x in [-2, 1], y in
 * [-1.5, 1.5], at most 256 iterations; a pixel's byte is its iteration count mod 256, so the
 * set itself is 0) into a shared Uint8Array. The rows are handed out in chunks of 16: gort
 * fills a buffered channel with the chunks' first rows, closes it, and starts one goroutine
 * per proc (wg.go) that ranges over the channel; piscina gets one task per chunk (its queue
 * hands them out); Go does as gort does. A row gives the share of the chunks the less busy
 * goroutine took (each counts its own in a shared Int32Array; 50% is an even split). Timed: from before the first send to wg.wait()'s end
 * (gort), the batch of tasks (piscina), the whole image (sequential, on the main thread). The
 * harness (lib/par.mjs) compares every image with the sequential one. --quick: 512×512.
 *
 * Every M and every piscina thread imports this file for its exported functions, so its top
 * level only defines functions.
 */
import { chan, WaitGroup } from 'gort';
import { parBench, weightedSum } from '../lib/par.mjs';

const MAX_ITER = 256;
const CHUNK = 16;

/** Rows [y0, y1) of a w×h image into img (row-major bytes). */
export function mandelRows(img, w, h, y0, y1) {
  const dx = 3 / w;
  const dy = 3 / h;
  for (let y = y0; y < y1; y++) {
    const ci = -1.5 + y * dy;
    let o = y * w;
    for (let x = 0; x < w; x++) {
      const cr = -2 + x * dx;
      let zr = 0;
      let zi = 0;
      let i = 0;
      for (; i < MAX_ITER; i++) {
        const zr2 = zr * zr;
        const zi2 = zi * zi;
        if (zr2 + zi2 > 4) break;
        zi = 2 * zr * zi + ci;
        zr = zr2 - zi2 + cr;
      }
      img[o++] = i; // 256 wraps to 0: the set is black
    }
  }
}

/** Goroutine `me`: take chunks of rows from the channel until it is closed; count them in taken[me]. */
export async function mandelWorker(rows, img, w, h, taken, me) {
  for await (const y0 of rows) {
    mandelRows(img, w, h, y0, Math.min(h, y0 + CHUNK));
    taken[me]++;
  }
}

/** A piscina task: one chunk. */
export function mandelTask({ img, w, h, y0 }) {
  mandelRows(img, w, h, y0, Math.min(h, y0 + CHUNK));
}

export function noop() {}

const spec = {
  name: 'par/mandelbrot',
  goName: 'mandelbrot',
  size: 2048,
  quickSize: 512,
  warmSize: 256,
  target: 1.85,
  module: new URL(import.meta.url),
  what: (n) => `${n}×${n}, ≤ ${MAX_ITER} iterations`,
  how: `chunks of ${CHUNK} rows from a buffered channel, one goroutine per proc (WaitGroup)`,
  share: 'chunks taken by the less busy goroutine',
  setup: (n) => ({ n, img: new Uint8Array(new SharedArrayBuffer(n * n)) }),
  prepare: (s) => s.img.fill(0),
  output: (s) => s.img,
  checksum: (s) => weightedSum(s.img),
  seq: (s) => mandelRows(s.img, s.n, s.n, 0, s.n),
  async gort(s, procs, k) {
    const rows = chan(Math.ceil(s.n / CHUNK));
    for (let y0 = 0; y0 < s.n; y0 += CHUNK) await rows.send(y0);
    rows.close();
    const taken = new Int32Array(new SharedArrayBuffer(4 * procs)); // written by goroutine p only
    const wg = new WaitGroup();
    for (let p = 0; p < procs; p++) wg.go(k.mandelWorker, rows, s.img, s.n, s.n, taken, p);
    await wg.wait();
    return (100 * Math.min(...taken)) / Math.ceil(s.n / CHUNK);
  },
  piscina(pool, s) {
    const ps = [];
    for (let y0 = 0; y0 < s.n; y0 += CHUNK) ps.push(pool.run({ img: s.img, w: s.n, h: s.n, y0 }, { name: 'mandelTask' }));
    return Promise.all(ps);
  },
};

export default (ctx) => parBench(ctx, spec);
