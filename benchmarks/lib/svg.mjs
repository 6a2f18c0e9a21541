/**
 * A small SVG writer for the benchmark charts (charts.mjs): no dependencies, plain strings.
 *
 * A chart is an Svg of fixed size with a white background (so it reads the same on GitHub's
 * light and dark themes), holding panels drawn by lineChart() and barChart() into frames
 * { x, y, w, h } (the plot area; titles and axis labels go around it), and a legend().
 * Every text is XML-escaped here; numbers are rounded to 0.1 px to keep the files small and
 * stable from run to run.
 */

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const r1 = (x) => Math.round(x * 10) / 10;
const attrs = (o) =>
  Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${typeof v === 'number' ? r1(v) : esc(v)}"`)
    .join('');

export const INK = '#222';
const GRID = '#ddd';
const MUTED = '#666';

export class Svg {
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.parts = [];
  }
  add(s) {
    this.parts.push(s);
  }
  text(x, y, s, { size = 12, anchor = 'start', weight, fill = INK, rotate } = {}) {
    const transform = rotate === undefined ? undefined : `rotate(${rotate} ${r1(x)} ${r1(y)})`;
    this.add(`<text${attrs({ x, y, 'font-size': size, 'text-anchor': anchor, 'font-weight': weight, fill, transform })}>${esc(s)}</text>`);
  }
  line(x1, y1, x2, y2, { stroke = INK, width = 1, dash } = {}) {
    this.add(`<line${attrs({ x1, y1, x2, y2, stroke, 'stroke-width': width, 'stroke-dasharray': dash })}/>`);
  }
  rect(x, y, w, h, { fill = 'none', stroke } = {}) {
    this.add(`<rect${attrs({ x, y, width: w, height: h, fill, stroke })}/>`);
  }
  circle(cx, cy, r, { fill = INK, stroke = 'white' } = {}) {
    this.add(`<circle${attrs({ cx, cy, r, fill, stroke, 'stroke-width': 1 })}/>`);
  }
  polyline(points, { stroke = INK, width = 2, dash } = {}) {
    const pts = points.map(([x, y]) => `${r1(x)},${r1(y)}`).join(' ');
    this.add(`<polyline${attrs({ points: pts, fill: 'none', stroke, 'stroke-width': width, 'stroke-dasharray': dash, 'stroke-linejoin': 'round' })}/>`);
  }
  toString() {
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${this.height}" viewBox="0 0 ${this.width} ${this.height}" font-family="Helvetica, Arial, sans-serif">`,
      `<rect x="0" y="0" width="${this.width}" height="${this.height}" fill="white"/>`,
      ...this.parts,
      '</svg>',
      '',
    ].join('\n');
  }
}

/** Round ticks from 0 to at least max: about `count` steps of 1, 2 or 5 × 10^k. */
export function ticks(max, count = 5) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const out = [];
  for (let v = 0; v < max + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  if (out[out.length - 1] < max) out.push(out[out.length - 1] + step);
  return out;
}

/** A short number for a label: 3 significant digits, grouped thousands. */
export function short(x) {
  if (!Number.isFinite(x)) return '–';
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** Title above, y axis with grid and label, x axis line; returns y(v) for the frame. */
function frameAxes(svg, f, { title, yLabel, yTicks }) {
  const top = yTicks[yTicks.length - 1];
  const y = (v) => f.y + f.h - (v / top) * f.h;
  if (title) svg.text(f.x + f.w / 2, f.y - 14, title, { size: 14, anchor: 'middle', weight: 'bold' });
  const step = yTicks[1] - yTicks[0];
  const digits = step >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(step) - 1e-9));
  for (const t of yTicks) {
    svg.line(f.x, y(t), f.x + f.w, y(t), { stroke: GRID });
    svg.text(f.x - 6, y(t) + 4, t >= 1000 ? t.toLocaleString('en-US') : t.toFixed(digits), { size: 11, anchor: 'end', fill: MUTED });
  }
  if (yLabel) svg.text(f.x - 40, f.y + f.h / 2, yLabel, { size: 12, anchor: 'middle', rotate: -90, fill: MUTED });
  svg.line(f.x, f.y + f.h, f.x + f.w, f.y + f.h, { stroke: INK });
  svg.line(f.x, f.y, f.x, f.y + f.h, { stroke: INK });
  return y;
}

/**
 * Lines over a numeric x axis. opts: { title, xLabel, yLabel, xs: [x values, in order, with
 * labels xLabels], yMax, series: [{ label, color, dash, points: [{ x, y, lo, hi }] }],
 * ideal: [[x, y], ...] drawn dashed grey }. lo/hi (optional) draw a whisker.
 */
export function lineChart(svg, f, { title, xLabel, yLabel, xs, xLabels = xs.map(String), yMax, series, ideal }) {
  const y = frameAxes(svg, f, { title, yLabel, yTicks: ticks(yMax, 4) });
  const pad = f.w * 0.12;
  const x = (v) => f.x + pad + ((v - xs[0]) / (xs[xs.length - 1] - xs[0] || 1)) * (f.w - 2 * pad);
  xs.forEach((v, i) => svg.text(x(v), f.y + f.h + 16, xLabels[i], { size: 11, anchor: 'middle', fill: MUTED }));
  if (xLabel) svg.text(f.x + f.w / 2, f.y + f.h + 34, xLabel, { size: 12, anchor: 'middle', fill: MUTED });
  if (ideal) svg.polyline(ideal.map(([a, b]) => [x(a), y(b)]), { stroke: '#999', width: 1.5, dash: '5 4' });
  series.forEach((s, k) => {
    const pts = s.points.filter((p) => Number.isFinite(p.y));
    const dx = (k - (series.length - 1) / 2) * 5; // spread overlapping whiskers and dots a little
    if (pts.length > 1) svg.polyline(pts.map((p) => [x(p.x) + dx, y(p.y)]), { stroke: s.color, width: 2.5, dash: s.dash });
    for (const p of pts) {
      if (Number.isFinite(p.lo) && Number.isFinite(p.hi)) svg.line(x(p.x) + dx, y(p.lo), x(p.x) + dx, y(p.hi), { stroke: s.color, width: 1.5 });
      svg.circle(x(p.x) + dx, y(p.y), 4, { fill: s.color });
    }
  });
}

/**
 * Vertical bars, one per entry of bars: [{ label, value, lo, hi, color }], with the value
 * written above each (format(value)). opts: { title, yLabel, format }.
 */
export function barChart(svg, f, { title, yLabel, bars, format = short }) {
  const max = Math.max(...bars.map((b) => (Number.isFinite(b.hi) ? b.hi : b.value)).filter(Number.isFinite), 0);
  const y = frameAxes(svg, f, { title, yLabel, yTicks: ticks(max * 1.1, 4) });
  const slot = f.w / bars.length;
  const bw = Math.min(40, slot * 0.7);
  bars.forEach((b, i) => {
    const cx = f.x + slot * (i + 0.5);
    const lines = String(b.label).split('\n');
    lines.forEach((l, j) => svg.text(cx, f.y + f.h + 15 + 13 * j, l, { size: 11, anchor: 'middle', fill: MUTED }));
    if (!Number.isFinite(b.value)) {
      svg.text(cx, f.y + f.h - 6, 'not run', { size: 10, anchor: 'middle', fill: MUTED });
      return;
    }
    svg.rect(cx - bw / 2, y(b.value), bw, f.y + f.h - y(b.value), { fill: b.color });
    if (Number.isFinite(b.lo) && Number.isFinite(b.hi)) {
      svg.line(cx, y(b.lo), cx, y(b.hi), { stroke: INK, width: 1 });
      svg.line(cx - 4, y(b.hi), cx + 4, y(b.hi), { stroke: INK, width: 1 });
      svg.line(cx - 4, y(b.lo), cx + 4, y(b.lo), { stroke: INK, width: 1 });
    }
    const top = Number.isFinite(b.hi) ? Math.min(y(b.hi), y(b.value)) : y(b.value);
    svg.text(cx, top - 5, format(b.value), { size: 11, anchor: 'middle' });
  });
}

/** A row of legend entries from (x, y): [{ label, color, dash }]; returns the width used. */
export function legend(svg, x, y, items) {
  let cx = x;
  for (const it of items) {
    svg.line(cx, y - 4, cx + 22, y - 4, { stroke: it.color, width: it.dash ? 1.5 : 4, dash: it.dash });
    svg.text(cx + 28, y, it.label, { size: 12 });
    cx += 28 + 7 * it.label.length + 18;
  }
  return cx - x;
}
