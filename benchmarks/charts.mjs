#!/usr/bin/env node
/**
 * Charts of a benchmark run, as SVG files under benchmarks/charts/:
 *   speedup.svg         speedup by procs for par/* (over the sequential JS version; Go's over
 *                       Go's sequential version) and sched/fanout (over procs 1), with the
 *                       ideal line; a dot is the median, a whisker the min–max
 *   par-<name>.svg      wall time of each variant of a par/* benchmark: sequential JS, gort
 *                       procs 1 and 2, piscina 2 threads, Go sequential and GOMAXPROCS 1 and 2
 *
 *   node benchmarks/charts.mjs [results.json] [--out DIR]
 *
 * regenerates them from the results a full run saved (run.mjs writes results.json beside
 * RESULTS.md and then calls writeCharts). Rows are picked by their `chart` tag (lib/par.mjs,
 * sched/fanout.mjs): { time | speedup: series name, procs?, base? }, base 1 meaning the
 * speedup is over procs 1, which is then 1 by definition.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Svg, lineChart, barChart, legend, INK } from './lib/svg.mjs';
import { summarize } from './lib/common.mjs';

const COLOR = { gort: '#0969da', piscina: '#d1670b', Go: '#1a9c9c', 'JS sequential': '#6e7781', 'Go sequential': '#8fd3d3' };
const SPEEDUP = ['par/mandelbrot', 'par/matmul', 'par/sort', 'sched/fanout'];
const BAR_ORDER = [
  ['JS sequential', undefined, 'JS\nsequential'],
  ['gort', 1, 'gort\n1 proc'],
  ['gort', 2, 'gort\n2 procs'],
  ['piscina', 2, 'piscina\n2 threads'],
  ['Go sequential', undefined, 'Go\nsequential'],
  ['Go', 1, 'Go\n1 proc'],
  ['Go', 2, 'Go\n2 procs'],
];

const stat = (row) => {
  const s = summarize(row.values);
  return { y: s.median, lo: s.min, hi: s.max };
};

/** Two lines at the bottom: where and when, and how to read. */
function footer(svg, data) {
  svg.text(16, svg.height - 24, `node ${data.node}, ${data.cores} cores (${data.cpu}), ${data.date.slice(0, 10)}`, { size: 10, fill: '#666' });
  svg.text(16, svg.height - 10, `median of ${data.reps} repetitions, whiskers min–max; tables in benchmarks/RESULTS.md`, { size: 10, fill: '#666' });
}

function speedupChart(data) {
  const panels = [];
  for (const name of SPEEDUP) {
    const res = data.results.find((r) => r.name === name && !r.error);
    if (!res) continue;
    const series = new Map();
    let base = 0;
    for (const row of res.rows) {
      const tag = row.chart;
      if (!tag?.speedup || row.values.length === 0) continue;
      if (!series.has(tag.speedup)) series.set(tag.speedup, []);
      if (tag.base === 1) {
        base = 1;
        series.get(tag.speedup).push({ x: 1, y: 1 });
      }
      series.get(tag.speedup).push({ x: tag.procs, ...stat(row) });
    }
    if (series.size > 0) panels.push({ name, base, series });
  }
  if (panels.length === 0) return null;
  const cols = 2;
  const pw = 400;
  const ph = 250;
  const svg = new Svg(cols * pw, 70 + Math.ceil(panels.length / cols) * ph + 36);
  svg.text(16, 24, 'Speedup by procs', { size: 16, weight: 'bold' });
  svg.text(16, 44, "par/*: over the sequential JS version on the main thread (Go: over Go's sequential version); sched/fanout: over procs 1", { size: 11, fill: '#666' });
  const names = [...new Set(panels.flatMap((p) => [...p.series.keys()]))];
  legend(svg, 220, 24, [...names.map((n) => ({ label: n, color: COLOR[n] ?? INK })), { label: 'ideal', color: '#999', dash: '5 4' }]);
  panels.forEach((p, i) => {
    const f = { x: (i % cols) * pw + 70, y: 70 + Math.floor(i / cols) * ph + 20, w: pw - 100, h: ph - 90 };
    const all = [...p.series.values()].flat();
    lineChart(svg, f, {
      title: p.name,
      xLabel: 'procs (threads; GOMAXPROCS for Go)',
      yLabel: p.base === 1 ? 'speedup over procs 1' : 'speedup over sequential',
      xs: [1, 2],
      yMax: Math.max(2.2, ...all.map((q) => (Number.isFinite(q.hi) ? q.hi : q.y))),
      ideal: [[1, 1], [2, 2]],
      series: [...p.series].map(([label, points]) => ({ label, color: COLOR[label] ?? INK, points })),
    });
  });
  footer(svg, data);
  return svg;
}

function timeChart(data, res) {
  const bars = [];
  for (const [series, procs, label] of BAR_ORDER) {
    const row = res.rows.find((r) => r.chart?.time === series && r.chart.procs === procs);
    if (!row) continue;
    const s = stat(row);
    bars.push({ label, value: s.y, lo: s.lo, hi: s.hi, color: COLOR[series] });
  }
  if (bars.length === 0) return null;
  const goNote = res.rows.find((r) => r.chart?.time === 'Go sequential')?.note ?? '';
  const svg = new Svg(520, 345);
  svg.text(16, 24, `${res.name}: wall time`, { size: 16, weight: 'bold' });
  svg.text(16, 42, res.rows[0].figure.replace(/^[^:]*: /, ''), { size: 11, fill: '#666' });
  barChart(svg, { x: 70, y: 70, w: 430, h: 190 }, { yLabel: 'ms (lower is better)', bars });
  if (goNote) svg.text(504, 42, `Go: ${goNote.split(',')[0]}`, { size: 11, fill: '#666', anchor: 'end' });
  footer(svg, data);
  return svg;
}

/** The charts of one run's results ({ node, cores, cpu, date, reps, results }): [{ file, svg }]. */
export function charts(data) {
  const out = [];
  const sp = speedupChart(data);
  if (sp) out.push({ file: 'speedup.svg', svg: sp });
  for (const res of data.results) {
    if (!res.name.startsWith('par/') || res.error) continue;
    const svg = timeChart(data, res);
    if (svg) out.push({ file: `${res.name.replace('/', '-')}.svg`, svg });
  }
  return out;
}

/** Write the charts into dir (created if needed); returns the paths written. */
export function writeCharts(data, dir) {
  mkdirSync(dir, { recursive: true });
  return charts(data).map(({ file, svg }) => {
    const path = join(dir, file);
    writeFileSync(path, svg.toString());
    return path;
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const o = args.indexOf('--out');
  const dir = o >= 0 ? args.splice(o, 2)[1] : fileURLToPath(new URL('./charts/', import.meta.url));
  const file = args[0] ?? fileURLToPath(new URL('./results.json', import.meta.url));
  for (const p of writeCharts(JSON.parse(readFileSync(file, 'utf8')), dir)) console.log(`wrote ${p}`);
}
