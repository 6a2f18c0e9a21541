/**
 * Helpers shared by the benchmarks: the row format, summaries, environment line, timing.
 *
 * A benchmark module (sched/*.mjs) exports `default async function (ctx) -> Row[]`.
 * ctx = { reps, quick, calib, log, quiet }: reps timed repetitions (after warm-up), quick for
 * the CI smoke sizes, calib the kernel iteration counts from lib/cpu.mjs calibrate(), log(msg)
 * for progress lines (stderr), quiet() to await before each repetition (with --wait-quiet it
 * waits for other processes to leave the machine; otherwise it returns at once). A Row is
 *   { figure, unit, values: number[] (one per repetition), better: 'higher' | 'lower',
 *     target?: { op: '>=' | '<=', value: number, text?: string }, baseline?: string, note?: string }
 * Benchmarks report; they never assert. run.mjs summarizes each row as median (min–max) and
 * compares the median with the target.
 */
import os from 'node:os';
import { readFileSync } from 'node:fs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Nearest-rank percentile, p in [0, 100]. */
export function percentile(xs, p) {
  if (xs.length === 0) return NaN;
  const s = xs.slice().sort((a, b) => a - b);
  const k = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[k];
}

/** Median, min, max and count; a row without values (a variant not run) gives NaN, shown as '–'. */
export function summarize(values) {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

export function envLine() {
  return `node ${process.version}, ${os.availableParallelism()} cores`;
}

export function cpuModel() {
  return os.cpus()[0]?.model?.trim() ?? 'unknown';
}

/** Format a number for a table: 3 significant digits below 1000, grouped integers above. */
export function fmt(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '–';
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return '0';
  return x.toPrecision(3);
}

/** Time one whole workload with performance.now(): returns [ms, result]. */
export async function timed(fn) {
  const t0 = performance.now();
  const r = await fn();
  return [performance.now() - t0, r];
}

/** Collects rows by figure name across repetitions. */
export class Rows {
  constructor() {
    this.rows = [];
    this.byName = new Map();
  }
  /** Declare a row (fixes the table order); values are pushed later with add(). */
  def(figure, unit, opts = {}) {
    const row = { figure, unit, values: [], better: opts.better ?? 'higher', ...opts };
    this.rows.push(row);
    this.byName.set(figure, row);
    return row;
  }
  add(figure, value) {
    const row = this.byName.get(figure);
    if (row === undefined) throw new Error(`benchmark bug: row '${figure}' not declared`);
    row.values.push(value);
  }
  toJSON() {
    return this.rows;
  }
}

/** Busy and total jiffies of the whole machine (Linux /proc/stat), or null. */
export function machineJiffies() {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3] + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}
export const TICK_MS = 10; // USER_HZ = 100 on Linux

/** CPU time (user + system) process `pid` has used so far, in ms (Linux /proc/<pid>/stat), or null. */
export function pidCpuMs(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
    return (Number(f[11]) + Number(f[12])) * TICK_MS; // fields 14 and 15: utime, stime
  } catch {
    return null;
  }
}

/**
 * Wait (up to maxS seconds) until the machine is below 0.1 core busy over a `windowMs` window,
 * this process's own CPU excluded. Returns the seconds waited. The machines here are shared.
 */
export async function waitQuiet(maxS, windowMs = 2000) {
  const t0 = performance.now();
  for (;;) {
    const j0 = machineJiffies();
    if (j0 === null) return 0;
    const c0 = process.cpuUsage();
    await sleep(windowMs);
    const j1 = machineJiffies();
    const c1 = process.cpuUsage(c0);
    const cores = ((j1.busy - j0.busy) * TICK_MS - (c1.user + c1.system) / 1000) / windowMs;
    const waited = (performance.now() - t0) / 1000;
    if (cores < 0.1 || waited >= maxS) return waited;
  }
}
