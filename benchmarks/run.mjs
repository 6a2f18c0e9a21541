#!/usr/bin/env node
/**
 * gort benchmark suite: runs the sched/* benchmarks side by side and reports them.
 *
 *   node benchmarks/run.mjs                 every benchmark, BENCH_REPS (default 5) repetitions,
 *                                           table on stdout, benchmarks/RESULTS.md written
 *   node benchmarks/run.mjs sched/spawn     one benchmark (or several); table only
 *   node benchmarks/run.mjs --quick         CI smoke: 2 repetitions, smaller sizes (< 60 s)
 *   options: --out FILE (write the report there, and its rows as JSON beside it, FILE with .json;
 *            default for a full, non-quick run: RESULTS.md, results.json and the SVG charts under
 *            charts/, which `node benchmarks/charts.mjs` redraws from results.json),
 *            --no-write, --wait-quiet[=S] (before calibrating and before every repetition, wait up
 *            to S seconds, default 300, until other processes use < 0.1 core: the machines
 *            here are shared; the wall times reported and the timeout exclude those waits);
 *            env BENCH_REPS, BENCH_TIMEOUT_S (per benchmark; default 150, quick 50)
 *
 * The main thread calibrates the CPU kernels first (lib/cpu.mjs). Each benchmark then runs in
 * its own child process (this file with --child), so that a crash or a hang in one is reported
 * and the rest still run, and every benchmark starts from a fresh process. The exit code is 1
 * if any benchmark crashed or timed out. Benchmarks never assert: targets are reported as met
 * or not.
 */
import { fork, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { calibrate } from './lib/cpu.mjs';
import { writeCharts } from './charts.mjs';
import { summarize, envLine, cpuModel, fmt, machineJiffies, waitQuiet, TICK_MS } from './lib/common.mjs';

const BENCHMARKS = [
  ['sched/spawn', 'goroutine creation: 100k no-op goroutines from the main thread and from inside a goroutine, vs piscina no-op tasks'],
  ['sched/fanout', '64 CPU items of ~5 ms spawned from main: procs 1 vs procs 2 (two run()s), piscina 1 vs 2 threads for reference'],
  ['sched/steal', '10k items of ~50 µs go()ne from one goroutine on an M (procs 2): spread over the Ms, steals, speedup over one goroutine'],
  ['sched/fine', '100k items of ~10 µs from main (spawn each; go + WaitGroup): vs piscina, and vs the main thread alone'],
  ['sched/forkjoin', 'recursive parallel fib(30), cutoff 20, a module function spawning itself; vs sequential fib(30) on main'],
  ['sched/idle', 'a started, idle runtime (procs 2): CPU used over 2 s; wake latency after 5 ms pauses (vs piscina)'],
  ['sched/stuck', 'a goroutine holds its M in a 2 s synchronous loop with 1,000 sleep(1) goroutines queued on its P (procs 2): time until all finish, sysmon on vs off'],
  ['sched/latency', 'how soon a goroutine\'s end is seen while Ms run synchronous code (procs 2): its result on main; an errgroup\'s first error stopping CPU-bound siblings'],
  ['chan/uncontended', 'buffered chan(1), one goroutine: send+recv of numbers, ns per pair'],
  ['chan/prodcons', 'one producer, one consumer, capacity 0, 10, 100: on one M and across Ms'],
  ['chan/pingpong', 'unbuffered ping-pong between goroutines on two Ms, vs a MessageChannel between two workers'],
  ['select/prodcons', 'one consumer selecting over two channels fed by two producers'],
  ['chan/sieve', "Go's concurrent prime sieve, 2,000 primes, procs 2 and 1, vs a single-thread promise-channel version"],
  ['sync/mutex', "Mutex uncontended and contended across 2 Ms, vs the multithreading package's Mutex"],
  ['sync/fanin', 'WaitGroup fan-in of 10,000 goroutines; context cancel fan-out to 10,000 parked goroutines'],
  ['par/mandelbrot', 'a 2048×2048 escape-time image into a shared Uint8Array, chunks of rows from a channel: sequential JS vs gort procs 1 and 2 vs piscina vs Go'],
  ['par/matmul', '512×512 float64 matrix product over SharedArrayBuffers, rows split across goroutines: sequential JS vs gort procs 1 and 2 vs piscina vs Go'],
  ['par/sort', 'merge sort of 10M float64 in a shared buffer (chunks sorted in parallel, merged in parallel rounds): sequential sort() vs gort procs 1 and 2 vs piscina vs Go'],
  ['mem/churn', 'the per-request pattern of a server from main (procs 2): withTimeout + cancel, chan(1), a replying goroutine, Mutex, WaitGroup; requests/s and heap bytes left per request'],
  ['debug/overhead', 'each debugging aid on (stacks, tracing, sysmon) vs all off, in one process: sched/spawn from a goroutine, chan/pingpong across Ms, sched/fanout; ratios on / all off'],
  ['net/spawn', 'a remote call on loopback, gort-nats net.spawn vs BullMQ on Redis (add + waitUntilFinished), each served by another process: calls/s, p50 and p99 latency at concurrency 1 and 64, ratios'],
  ['net/chan', 'a cluster channel on loopback, gort-nats net.chan (cap 100) vs a BullMQ queue on Redis: values/s from one sending process to one and to two receiving processes, ratios'],
  ['mem/parked', '100,000 goroutines parked on a channel over 2 Ms: RSS, shared heap and V8 heap per parked goroutine (Go: ~2.7 KB of RSS)'],
];

const here = fileURLToPath(new URL('.', import.meta.url));
const argv = process.argv.slice(2);


// ---------------------------------------------------------------- child: one benchmark

async function child(name) {
  const send = (msg) => new Promise((r) => process.send(msg, r));
  // Load from other processes, measured over the benchmark's own segments (from one quiet()
  // call to the next, and to the end), so that --wait-quiet pauses are not counted.
  const maxS = Number(process.env.BENCH_WAIT_QUIET_S) || 0;
  let seg = null;
  let segMs = 0;
  let otherMs = 0;
  let waitedS = 0;
  const open = () => {
    seg = { j: machineJiffies(), c: process.cpuUsage(), t: performance.now() };
  };
  const close = () => {
    if (seg === null || seg.j === null) return;
    const j = machineJiffies();
    const c = process.cpuUsage(seg.c);
    segMs += performance.now() - seg.t;
    otherMs += Math.max(0, (j.busy - seg.j.busy) * TICK_MS - (c.user + c.system) / 1000);
    seg = null;
  };
  try {
    const mod = await import(new URL(`./${name}.mjs`, import.meta.url).href);
    const ctx = {
      reps: Number(process.env.BENCH_REPS_EFFECTIVE),
      quick: process.env.BENCH_QUICK === '1',
      calib: JSON.parse(process.env.BENCH_CALIB),
      log: (msg) => process.stderr.write(`  [${name}] ${msg}\n`),
      quiet: async () => {
        close();
        if (maxS > 0) {
          const waited = await waitQuiet(maxS, 1000);
          waitedS += waited;
          await send({ type: 'waited', seconds: waited }); // not counted against the timeout
          if (waited > 1.5) process.stderr.write(`  [${name}] waited ${waited.toFixed(0)} s for other processes to quiet down\n`);
        }
        open();
      },
    };
    open();
    const rows = await mod.default(ctx);
    close();
    const cpu = process.cpuUsage();
    await send({
      type: 'result',
      rows,
      env: envLine(),
      cpuMs: (cpu.user + cpu.system) / 1000,
      otherCores: segMs > 0 ? otherMs / segMs : null,
      waitedS,
    });
    process.exit(0);
  } catch (e) {
    await send({ type: 'error', error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    process.exit(1);
  }
}

// ---------------------------------------------------------------- parent

function parseArgs() {
  const opts = { quick: false, names: [], out: undefined, write: true, waitQuietS: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') opts.quick = true;
    else if (a === '--no-write') opts.write = false;
    else if (a === '--wait-quiet') opts.waitQuietS = 300;
    else if (a.startsWith('--wait-quiet=')) opts.waitQuietS = Number(a.slice('--wait-quiet='.length));
    else if (a === '--out') opts.out = argv[++i];
    else if (a === '-h' || a === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
      process.exit(0);
    } else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else {
      const name = a.includes('/') ? a : `sched/${a}`;
      if (!BENCHMARKS.some(([n]) => n === name)) {
        throw new Error(`unknown benchmark ${a}; known: ${BENCHMARKS.map(([n]) => n).join(', ')}`);
      }
      opts.names.push(name);
    }
  }
  return opts;
}

function runChild(name, env, timeoutMs) {
  return new Promise((resolve) => {
    const j0 = machineJiffies();
    const p0 = process.cpuUsage();
    const t0 = performance.now();
    const cp = fork(fileURLToPath(import.meta.url), ['--child', name], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let msg = null;
    let timedOut = false;
    const kill = () => {
      timedOut = true;
      cp.kill('SIGKILL');
    };
    let deadline = performance.now() + timeoutMs;
    let timer = setTimeout(kill, timeoutMs);
    cp.on('message', (m) => {
      if (m?.type !== 'waited') msg = m;
      else {
        // Time spent waiting for a quiet machine moves the deadline.
        clearTimeout(timer);
        deadline += m.seconds * 1000;
        timer = setTimeout(kill, Math.max(0, deadline - performance.now()));
      }
    });
    cp.on('exit', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const j1 = machineJiffies();
      const parentMs = (() => {
        const d = process.cpuUsage(p0);
        return (d.user + d.system) / 1000;
      })();
      let otherCores = null;
      if (msg?.type === 'result' && typeof msg.otherCores === 'number') otherCores = msg.otherCores;
      else if (j0 && j1 && msg?.type === 'result') {
        const busyMs = (j1.busy - j0.busy) * TICK_MS;
        otherCores = Math.max(0, (busyMs - msg.cpuMs - parentMs) / wallMs);
      }
      const base = { name, wallMs, otherCores, waitedS: msg?.waitedS ?? 0 };
      if (timedOut) resolve({ ...base, error: `timed out after ${timeoutMs / 1000} s (killed): a hang?` });
      else if (msg?.type === 'result' && code === 0) resolve({ ...base, rows: msg.rows, env: msg.env });
      else if (msg?.type === 'error') resolve({ ...base, error: msg.error });
      else resolve({ ...base, error: `exited with code ${code}${signal ? `, signal ${signal}` : ''} without a result` });
    });
  });
}

function verdict(row, s) {
  if (!row.target) return '';
  const { op, value } = row.target;
  const ok = op === '>=' ? s.median >= value : s.median <= value;
  return ok ? 'met' : 'NOT met';
}
const targetText = (row) => (row.target ? `${row.target.op === '>=' ? '≥' : '≤'} ${fmt(row.target.value)}` : '');

function printTable(res) {
  const head = `${res.name} — ${res.env ?? envLine()}` +
    (res.otherCores !== null ? ` (other processes used ${res.otherCores.toFixed(2)} cores meanwhile)` : '') +
    `, ${((res.wallMs / 1000) - (res.waitedS ?? 0)).toFixed(1)} s` +
    (res.waitedS > 1 ? ` (+ ${res.waitedS.toFixed(0)} s waiting for a quiet machine)` : '');
  console.log(`\n${head}`);
  if (res.error) {
    console.log(`  CRASHED: ${res.error.split('\n').join('\n  ')}`);
    return;
  }
  const lines = [['figure', 'unit', 'median', 'min–max', 'n', 'target', '']];
  for (const row of res.rows) {
    const s = summarize(row.values);
    lines.push([row.figure, row.unit, fmt(s.median), `${fmt(s.min)}–${fmt(s.max)}`, String(s.n), targetText(row), verdict(row, s)]);
  }
  const w = lines[0].map((_, c) => Math.max(...lines.map((l) => l[c].length)));
  for (const l of lines) {
    console.log('  ' + l.map((x, c) => (c >= 2 && c <= 4 ? x.padStart(w[c]) : x.padEnd(w[c]))).join('  ').trimEnd());
  }
}

function versionOf(pkg) {
  try {
    return JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url), 'utf8')).version;
  } catch {
    return '?';
  }
}

/** Newest modification time under gort's dist/ (other sessions may rebuild it while we run). */
function distBuiltAt() {
  try {
    const dir = fileURLToPath(new URL('./node_modules/gort/dist/', import.meta.url));
    let newest = 0;
    const walk = (d) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = `${d}/${e.name}`;
        if (e.isDirectory()) walk(p);
        else newest = Math.max(newest, statSync(p).mtimeMs);
      }
    };
    walk(dir);
    return newest > 0 ? new Date(newest).toISOString() : '?';
  } catch {
    return '?';
  }
}

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '?';
  }
}

async function main() {
  let opts;
  try {
    opts = parseArgs();
  } catch (e) {
    console.error(`run.mjs: ${e.message}`);
    process.exit(2);
  }
  const names = opts.names.length > 0 ? opts.names : BENCHMARKS.map(([n]) => n);
  const full = opts.names.length === 0 && !opts.quick;
  const reps = Number(process.env.BENCH_REPS) || (opts.quick ? 2 : 5);
  const timeoutMs = (Number(process.env.BENCH_TIMEOUT_S) || (opts.quick ? 50 : 150)) * 1000;
  const started = new Date();
  const load0 = os.loadavg();
  const dist0 = distBuiltAt();
  const t0 = performance.now();

  console.log(`gort benchmarks — ${envLine()}, ${cpuModel()}; ${reps} repetitions${opts.quick ? ', --quick sizes' : ''}`);
  if (opts.waitQuietS > 0) await waitQuiet(opts.waitQuietS);
  const calib = calibrate();
  console.log(
    `calibration (main thread): ${calib.nsPerIter.toFixed(2)} ns/iteration; ` +
      `5 ms item = ${calib.iters5ms.toLocaleString('en-US')} it. → ${fmt(calib.item5msUs)} µs, ` +
      `50 µs item = ${calib.iters50us.toLocaleString('en-US')} it. → ${fmt(calib.item50usUs)} µs, ` +
      `10 µs item = ${calib.iters10us.toLocaleString('en-US')} it. → ${fmt(calib.item10usUs)} µs`,
  );

  const results = [];
  for (const name of names) {
    console.log(`\n▶ ${name}`);
    const res = await runChild(
      name,
      {
        BENCH_REPS_EFFECTIVE: String(reps),
        BENCH_QUICK: opts.quick ? '1' : '0',
        BENCH_CALIB: JSON.stringify(calib),
        BENCH_WAIT_QUIET_S: String(opts.waitQuietS),
      },
      timeoutMs,
    );
    results.push(res);
    printTable(res);
  }
  const totalS = (performance.now() - t0) / 1000;
  const failed = results.filter((r) => r.error);
  const dist1 = distBuiltAt();
  if (dist1 !== dist0) console.log(`\nWARNING: gort's dist/ was rebuilt during the run (${dist0} → ${dist1}): later benchmarks ran on different code`);

  console.log('\ntargets:');
  for (const t of targetRows(results)) {
    if (t.figure === '(crashed)') console.log(`  ${t.bench.padEnd(15)} crashed: no result`);
    else console.log(`  ${t.bench.padEnd(15)} ${t.figure} ${fmt(t.median)} ${t.unit} (target ${t.target}): ${t.verdict}`);
  }
  console.log(`\ntotal ${totalS.toFixed(1)} s${failed.length ? `; ${failed.length} benchmark(s) FAILED: ${failed.map((f) => f.name).join(', ')}` : ''}`);

  const out = !opts.write ? undefined : (opts.out ?? (full ? new URL('./RESULTS.md', import.meta.url) : undefined));
  if (out !== undefined) {
    writeFileSync(out, report({ results, calib, reps, quick: opts.quick, started, load0, load1: os.loadavg(), totalS, dist0, dist1 }));
    console.log(`wrote ${out instanceof URL ? fileURLToPath(out) : out}`);
    // The rows as data beside the report, for charts.mjs (and for charts redrawn later).
    const outPath = out instanceof URL ? fileURLToPath(out) : out;
    const jsonPath = outPath.replace(/(\.md)?$/, '.json').replace(/RESULTS\.json$/, 'results.json');
    const data = { date: started.toISOString(), node: process.version, cores: os.availableParallelism(), cpu: cpuModel(), reps, quick: opts.quick, command: ['node benchmarks/run.mjs', ...argv].join(' '), results };
    writeFileSync(jsonPath, JSON.stringify(data, null, 1) + '\n');
    console.log(`wrote ${jsonPath}`);
    if (opts.out === undefined) {
      for (const p of writeCharts(data, fileURLToPath(new URL('./charts/', import.meta.url)))) console.log(`wrote ${p}`);
    }
  }
  process.exitCode = failed.length > 0 ? 1 : 0;
}

function targetRows(results) {
  const out = [];
  for (const r of results) {
    if (r.error) {
      out.push({ bench: r.name, figure: '(crashed)', median: NaN, unit: '', target: '', verdict: 'no result' });
      continue;
    }
    for (const row of r.rows) {
      if (!row.target) continue;
      const s = summarize(row.values);
      out.push({ bench: r.name, figure: row.figure.trim(), median: s.median, min: s.min, max: s.max, unit: row.unit, target: targetText(row), verdict: verdict(row, s) });
    }
  }
  return out;
}

// ---------------------------------------------------------------- RESULTS.md

const esc = (s) => String(s).replace(/\|/g, '\\|');

function report({ results, calib, reps, quick, started, load0, load1, totalS, dist0, dist1 }) {
  const L = [];
  const about = new Map(BENCHMARKS);
  L.push('# gort benchmark results', '');
  L.push(`Written by \`${['node benchmarks/run.mjs', ...argv].join(' ')}\` (root: \`pnpm bench\` runs \`node benchmarks/run.mjs\` after a build). Do not edit by hand: rerun the suite.`, '');
  L.push('| | |', '|---|---|');
  L.push(`| date | ${started.toISOString()} |`);
  L.push(`| node | ${process.version} |`);
  L.push(`| os.availableParallelism() | ${os.availableParallelism()} |`);
  L.push(`| CPU model | ${esc(cpuModel())} |`);
  L.push(`| platform | ${os.platform()} ${os.release()}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM |`);
  L.push(`| gort | commit ${gitCommit()} of this repository (plus any uncommitted edits present at build time); \`dist/\` built ${dist0}` +
    (dist1 !== dist0 ? `, **rebuilt during the run (${dist1}): later benchmarks ran on different code**` : ', unchanged during the run') + ' |');
  L.push(`| piscina | ${versionOf('piscina')} (2-thread pools: minThreads = maxThreads, default options otherwise) |`);
  L.push(`| repetitions | ${reps} per benchmark (BENCH_REPS)${quick ? ', --quick sizes' : ''} |`);
  L.push(`| load average (1/5/15 min) | start ${load0.map((x) => x.toFixed(2)).join(' / ')}, end ${load1.map((x) => x.toFixed(2)).join(' / ')} |`);
  L.push(`| suite wall time | ${totalS.toFixed(0)} s |`, '');

  L.push('## How to read', '');
  L.push(
    'Every figure is a whole workload timed with `performance.now()` around it (tinybench is not used: none of these is a ' +
      'micro-benchmark, and its per-call sampling would time the submission of one task, not the workload). Each workload ' +
      'first runs once untimed (warm-up: workers started, modules imported, code optimized, on gort and on piscina alike), ' +
      `then ${reps} times; a row shows the **median** of those ${reps} values and their **min–max**. Within one repetition the ` +
      'compared workloads run back to back, and every ratio (speedup, gort/piscina) is computed inside a repetition and then ' +
      'summarized like any other figure, so a slow moment on the machine hits both sides of a ratio. Each benchmark runs in ' +
      'a fresh child process. Targets are checked against the median. The machine is a shared 2-vCPU VM: the header of each ' +
      'benchmark gives the CPU that *other* processes used while it ran (from /proc/stat); when that is well above 0 the ' +
      'absolute figures are pessimistic, and the ranges wide. Compare with the reference baselines (measured on these machines another day, quoted in the ' +
      '"baseline" column and at the end) only for scale: they were measured another day; the piscina rows here were measured ' +
      'side by side in the same run.',
    '',
  );
  L.push('Units: `tasks/s`, `items/s`, `goroutines/s` are completed per second of wall time; `x` is a ratio (higher is better ' +
    'unless the row says otherwise); `% of a core` is CPU time / wall time (100 = one core busy).', '');

  L.push('## CPU kernel calibration (main thread, at startup)', '');
  L.push('`lib/cpu.mjs` is an xorshift32 loop sized by its iteration count. The 5 ms item is fixed at 2.5M iterations (as in ' +
    'reference A3/C5, where it measured 5.01 ms); the 50 µs and 10 µs items were sized at startup on this machine from ' +
    'the fastest of 30 short samples of the loop (load from other processes only adds time).', '');
  L.push('| item | iterations | measured per item, µs: median of 5 batches | fastest batch |', '|---|---:|---:|---:|');
  L.push(`| ~5 ms | ${calib.iters5ms.toLocaleString('en-US')} | ${fmt(calib.item5msUs)} | ${fmt(calib.item5msMinUs)} |`);
  L.push(`| ~50 µs | ${calib.iters50us.toLocaleString('en-US')} | ${fmt(calib.item50usUs)} | ${fmt(calib.item50usMinUs)} |`);
  L.push(`| ~10 µs | ${calib.iters10us.toLocaleString('en-US')} | ${fmt(calib.item10usUs)} | ${fmt(calib.item10usMinUs)} |`);
  L.push(`| one iteration | 1 | ${calib.nsPerIter.toFixed(2)} ns (fastest of 30 samples of 200k) | |`, '');

  L.push('## Targets', '');
  L.push('| benchmark | figure | target | median | min–max | verdict |', '|---|---|---|---:|---:|---|');
  for (const t of targetRows(results)) {
    L.push(`| ${t.bench} | ${esc(t.figure)} | ${t.target} ${esc(t.unit)} | ${fmt(t.median)} | ${t.min === undefined ? '' : `${fmt(t.min)}–${fmt(t.max)}`} | ${t.verdict === 'met' ? 'met' : `**${t.verdict}**`} |`);
  }
  L.push('');

  for (const r of results) {
    L.push(`## ${r.name} — ${r.env ?? envLine()}`, '');
    L.push(`${about.get(r.name)}. Source: \`benchmarks/${r.name}.mjs\` (its header comment says exactly what is timed). ` +
      `Wall time ${(r.wallMs / 1000 - (r.waitedS ?? 0)).toFixed(1)} s` +
      (r.waitedS > 1 ? ` (plus ${r.waitedS.toFixed(0)} s of waiting for other processes to quiet down, not measured)` : '') +
      (r.otherCores !== null ? `; other processes used ${r.otherCores.toFixed(2)} cores on average while it measured.` : '.'), '');
    if (r.error) {
      L.push('**CRASHED**:', '', '```', r.error, '```', '');
      continue;
    }
    L.push('| figure | unit | median | min–max | n | target | baseline / note |', '|---|---|---:|---:|---:|---|---|');
    for (const row of r.rows) {
      const s = summarize(row.values);
      const tgt = row.target ? `${targetText(row)} (${verdict(row, s)})` : '';
      const note = [row.baseline, row.note].filter(Boolean).join('; ');
      L.push(`| ${esc(row.figure.trim())} | ${esc(row.unit)} | ${fmt(s.median)} | ${fmt(s.min)}–${fmt(s.max)} | ${s.n} | ${tgt} | ${esc(note)} |`);
    }
    L.push('');
  }

  L.push('## Reference figures quoted (same kind of machine, another day)', '');
  L.push('The "baseline" column quotes these by label. Each was measured alone, on a 2-vCPU VM of the same kind (Node v20.20.2, ' +
    'piscina 5.3.2, Go 1.19), as the median (range) of 15 fresh processes, on another day: compare with them only for scale. ' +
    'Pools were made with exactly 2 started threads and warmed up; "raw" is 2 plain `Worker`s fed round-robin by `postMessage`. ' +
    'Go figures are from one Go program per shape, GOMAXPROCS as stated.', '');
  L.push('| label | what was measured | median (range) |', '|---|---|---|');
  L.push('| A1 | 100,000 no-op tasks submitted at once to a 2-thread pool, then awaited | raw 238,003 tasks/s (162,348–317,279); piscina 43,374 (31,619–50,350); poolifier / tinypool / workerpool 61,901 / 16,255 / 12,286 |');
  L.push('| A2 | one no-op task at a time, round trip, p50 / p99 of 5,000 | raw 24.8 / 63.8 µs; piscina 36.9 / 118 µs |');
  L.push('| A3 | 64 tasks of ~5 ms of `lib/cpu.mjs`\'s loop, on 1 then 2 workers | piscina 332 → 169 ms, speedup 1.98; raw 1.96 |');
  L.push('| B1 | `Atomics.wait`/`notify` round trip between two workers | 13.2 µs |');
  L.push('| B2 | the same with `Atomics.waitAsync` on one side: the other side async / blocking | 19.1 / 16.7 µs |');
  L.push('| B4 | `MessageChannel` round trip between two workers | 17.7 µs |');
  L.push('| C1 | Go: spawn and complete 1M goroutines (a WaitGroup), per goroutine | 191 ns with GOMAXPROCS=2 (5.2M/s; 163–658 ns), 754 ns with 1 |');
  L.push('| C2 | Go: `ch <- i; <-ch` on `make(chan int, 1)`, one goroutine | 28.8 ns |');
  L.push('| C3 | Go: unbuffered ping-pong round trip between two goroutines | 279 ns (GOMAXPROCS=2), 256 ns (1); 32 µs with each goroutine locked to its own OS thread |');
  L.push('| C4 | Go: the concurrent prime sieve, first 2,000 primes | 224 ms (GOMAXPROCS=2), 334 ms (1) |');
  L.push('| C5 | Go: 64 items of ~5 ms (the same loop and count), one goroutine each | 307 → 157 ms from GOMAXPROCS 1 to 2, speedup 1.97 |');
  L.push('| C6 | Go: RSS per goroutine blocked in `<-ch`, 100,000 of them | 2,732 bytes (2,048 of stack) |');
  L.push('| D | the same sieve on one thread: async functions and a 25-line promise channel (`lib/pchan.mjs`) | 668 ms warm (≈305 ns per hand-off) |');
  L.push('');
  return L.join('\n');
}

// ---------------------------------------------------------------- entry (last: after every const above)

if (argv[0] === '--child') await child(argv[1]);
else await main();
