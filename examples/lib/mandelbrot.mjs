// Goroutine functions for examples/mandelbrot.mjs: every M imports this module on first use.

/**
 * Color the rows [y0, y1) of a w×h view of the plane centred on (cx, cy), `scale` units per
 * pixel: a pixel's byte is 0 inside the set (no escape within maxIter), else 1 + a smoothed
 * escape count folded into 1..255.
 */
export function paintRows(img, w, h, cx, cy, scale, maxIter, y0, y1) {
  for (let y = y0; y < y1; y++) {
    const ci = cy + (y - h / 2) * scale;
    for (let x = 0; x < w; x++) {
      const cr = cx + (x - w / 2) * scale;
      let zr = 0;
      let zi = 0;
      let n = 0;
      while (n < maxIter && zr * zr + zi * zi <= 256) {
        const t = zr * zr - zi * zi + cr;
        zi = 2 * zr * zi + ci;
        zr = t;
        n++;
      }
      // Past radius 16, log2(log2|z|) turns the integer count into a continuous one.
      const smooth = n - Math.log2(Math.log2(zr * zr + zi * zi) / 2);
      img[y * w + x] = n === maxIter ? 0 : 1 + (Math.floor(smooth * 4) % 255);
    }
  }
}

/** A goroutine: paint bands of `band` rows, their first rows taken from a channel until it closes. */
export async function painter(rows, img, w, h, cx, cy, scale, maxIter, band) {
  let bands = 0;
  for await (const y0 of rows) {
    paintRows(img, w, h, cx, cy, scale, maxIter, y0, Math.min(h, y0 + band));
    bands++;
  }
  return bands;
}
