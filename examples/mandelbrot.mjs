// The Mandelbrot set, drawn by goroutines straight into shared memory, written as a PNG.
//
// The image is one Uint8Array over a SharedArrayBuffer. Every goroutine gets the same view
// (passed by reference: nothing is copied) and paints the bands of rows it takes from a
// channel, one goroutine per proc, as Go's worker pool would; main waits for them all and
// writes the file. Usage:
//
//   node examples/mandelbrot.mjs [out.png]      (default: mandelbrot.png in the temp directory)
import os from 'node:os';
import { join, resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import { run, spawn, chan, gomaxprocs, fromModule } from 'gort';
import { encodePalettePng } from './lib/png.mjs';

const lib = fromModule(new URL('./lib/mandelbrot.mjs', import.meta.url));
const W = 1600;
const H = 1200;
const BAND = 8;
const MAX_ITER = 500;
const out = resolve(process.argv[2] ?? join(os.tmpdir(), 'mandelbrot.png'));

const img = new Uint8Array(new SharedArrayBuffer(W * H));
const t0 = performance.now();
const perGoroutine = await run(async () => {
  const rows = chan(H / BAND);
  for (let y0 = 0; y0 < H; y0 += BAND) await rows.send(y0);
  rows.close();
  const painters = [];
  for (let p = 0; p < gomaxprocs(); p++) painters.push(spawn(lib.painter, rows, img, W, H, -0.6, 0, 3.2 / W, MAX_ITER, BAND));
  return Promise.all(painters); // bands painted by each
});
const ms = performance.now() - t0;

/** Palette: 0 is the set (black); 1..255 run through deep blue, white, gold and back. */
function palette() {
  const stops = [[0, [0, 7, 100]], [0.16, [32, 107, 203]], [0.42, [237, 255, 255]], [0.64, [255, 170, 0]], [0.86, [0, 2, 0]], [1, [0, 7, 100]]];
  const pal = [[0, 0, 0]];
  for (let i = 1; i < 256; i++) {
    const t = (i - 1) / 255;
    const k = stops.findIndex(([p]) => p >= t);
    const [p0, c0] = stops[Math.max(0, k - 1)];
    const [p1, c1] = stops[k];
    const f = p1 === p0 ? 0 : (t - p0) / (p1 - p0);
    pal.push(c0.map((c, j) => Math.round(c + (c1[j] - c) * f)));
  }
  return pal;
}

writeFileSync(out, encodePalettePng(W, H, img, palette()));
console.log(`${W}×${H}, ≤ ${MAX_ITER} iterations, ${perGoroutine.length} goroutines (bands each: ${perGoroutine.join(', ')}), ${ms.toFixed(0)} ms`);
console.log(`wrote ${out}`);
