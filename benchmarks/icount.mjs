#!/usr/bin/env node
/**
 * icount: machine instructions per operation, counted by valgrind's cachegrind instead of
 * timed. On the shared VMs here wall times of the same build swing by ±20% from one minute to
 * the next; an instruction count does not depend on the neighbours, so it is the measure that
 * can tell a 5% change in a hot path (docs/architecture.md, "Thread-local channels", was
 * measured with it). It is not a speed claim — memory stalls and the JIT's luck do not show —
 * so `pnpm bench` stays the judge; use this to compare two builds of one path.
 *
 * Each workload runs twice in a child `node --single-threaded` (no concurrent compiler or GC
 * threads: fewer sources of variation) under `valgrind --tool=cachegrind --cache-sim=no`,
 * with a small and a large count; (instructions(large) − instructions(small)) / (operations
 * added) is the cost of one operation with start-up, warm-up and shutdown cancelled out.
 * Repeated counts of one build differ by about 2%. Needs valgrind (`apt-get install
 * valgrind`); ~30–60 s per workload.
 *
 *   node benchmarks/icount.mjs                  every workload
 *   node benchmarks/icount.mjs relay awaits     some of them
 *   GORT_DIST=<other checkout>/packages/gort/dist node benchmarks/icount.mjs   another build
 *
 * Workloads (per operation):
 *   relay          a value crossing one of 21 goroutines chained by unbuffered channels, all
 *                  on one M (procs 1): the same-M hand-off of a pipeline (chan/sieve)
 *   promise-relay  the same chain on single-thread promise channels (the sieve's baseline)
 *   uncontended    a buffered send+recv pair of numbers, one goroutine (chan/uncontended)
 *   spawn-inside   go() of an empty goroutine + WaitGroup done, from a goroutine (sched/spawn)
 *   spawn-await    spawn() of a goroutine returning a value + its await, on the same M
 *   awaits         two awaits of settled promises: the floor under `uncontended`
 *
 * This file is also imported by the M that runs the workloads (fromModule), so its top level
 * only defines functions unless it is run as a script.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PChan } from './lib/pchan.mjs';

// GORT_DIST=<checkout>/packages/gort/dist counts another build (the Ms that import this file
// inherit the variable, so they load the same one); default: the workspace's gort.
const GORT_DIST = process.env.GORT_DIST;
const { run, spawn, go, chan, fromModule, WaitGroup } = await import(GORT_DIST ? pathToFileURL(resolve(GORT_DIST, 'index.js')).href : 'gort');

const self = fromModule(import.meta.url);
const RELAY_STAGES = 20;

/** Pass n values through a chain of RELAY_STAGES relaying goroutines on this M. */
export async function relay(n) {
  const first = chan();
  let ch = first;
  for (let j = 0; j < RELAY_STAGES; j++) {
    const next = chan();
    go(
      async (src, dst) => {
        for (;;) await dst.send(await src.recv());
      },
      ch,
      next,
    );
    ch = next;
  }
  go(
    async (c, n) => {
      for (let i = 0; i < n; i++) await c.send(i);
    },
    first,
    n,
  );
  for (let i = 0; i < n; i++) await ch.recv();
}

/** n buffered send+recv pairs on one goroutine. */
export async function uncontended(n) {
  const c = chan(1);
  for (let i = 0; i < n; i++) {
    await c.send(i);
    await c.recv();
  }
}

/** n go() of an empty goroutine and a WaitGroup wait, from a goroutine on this M. */
export async function spawnInside(n) {
  const wg = new WaitGroup();
  for (let i = 0; i < n; i += 1000) {
    wg.add(1000);
    for (let j = 0; j < 1000; j++) go((w) => w.done(), wg);
    await wg.wait();
  }
}

/** n spawn() of a goroutine returning a number, from this M, awaited in batches of 1000. */
export async function spawnAwait(n) {
  for (let i = 0; i < n; i += 1000) {
    const ps = [];
    for (let j = 0; j < 1000; j++) ps.push(spawn((x) => x + 1, j));
    await Promise.all(ps);
  }
}

/** n pairs of awaits of a settled promise. */
export async function awaits(n) {
  const r = Promise.resolve();
  for (let i = 0; i < n; i++) {
    await r;
    await r;
  }
}

async function promiseRelay(n) {
  const first = new PChan();
  let ch = first;
  for (let j = 0; j < RELAY_STAGES; j++) {
    const src = ch;
    const dst = new PChan();
    void (async () => {
      for (;;) await dst.send(await src.recv());
    })();
    ch = dst;
  }
  void (async () => {
    for (let i = 0; i < n; i++) await first.send(i);
  })();
  for (let i = 0; i < n; i++) await ch.recv();
}

/** name → [operations per unit of n, small n, large n, unit] */
const WORKLOADS = {
  relay: [RELAY_STAGES + 1, 10_000, 60_000, 'hand-off'],
  'promise-relay': [RELAY_STAGES + 1, 10_000, 60_000, 'hand-off'],
  uncontended: [1, 100_000, 600_000, 'send+recv pair'],
  'spawn-inside': [1, 20_000, 120_000, 'go() + done'],
  'spawn-await': [1, 10_000, 60_000, 'spawn() + await'],
  awaits: [1, 100_000, 600_000, 'pair of awaits'],
};

/** Child: run one workload of size n (gort ones inside a goroutine on procs 1). */
async function child(name, n) {
  if (name === 'promise-relay') return promiseRelay(n);
  const fn = { 'spawn-inside': 'spawnInside', 'spawn-await': 'spawnAwait' }[name] ?? name;
  await run(() => spawn(self[fn], n), { procs: 1 });
}

/** Instructions valgrind counted for one child run of workload `name` with size n. */
function count(name, n) {
  const args = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null'];
  args.push(process.execPath, '--single-threaded', fileURLToPath(import.meta.url), '--child', name, String(n));
  const r = spawnSync('valgrind', args, { encoding: 'utf8' });
  const m = /I\s+refs:\s+([\d,]+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || m === null) throw new Error(`icount: valgrind failed for ${name} (${n}): ${r.error?.message ?? r.stderr}`);
  return Number(m[1].replaceAll(',', ''));
}

const isScript = process.argv[1] === fileURLToPath(import.meta.url);
if (isScript && process.argv[2] === '--child') {
  await child(process.argv[3], Number(process.argv[4]));
} else if (isScript) {
  if (spawnSync('valgrind', ['--version']).status !== 0) {
    console.error('icount: valgrind is not installed (apt-get install valgrind)');
    process.exit(1);
  }
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(WORKLOADS);
  console.log(`icount — node ${process.version}, ${GORT_DIST ?? 'gort'}, instructions per operation (valgrind cachegrind, node --single-threaded)`);
  for (const name of names) {
    const w = WORKLOADS[name];
    if (w === undefined) {
      console.error(`icount: unknown workload ${name} (one of: ${Object.keys(WORKLOADS).join(', ')})`);
      process.exit(1);
    }
    const [perN, small, large, unit] = w;
    const d = count(name, large) - count(name, small);
    console.log(`  ${name.padEnd(14)} ${Math.round(d / ((large - small) * perN)).toLocaleString('en-US').padStart(7)} instructions per ${unit}`);
  }
}
