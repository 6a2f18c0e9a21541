#!/usr/bin/env node
/**
 * A/B of two builds of gort in one process, for a change on a hot path:
 *
 *   node benchmarks/ab.mjs <A/dist> <B/dist> [--rounds N] [--quick]
 *
 * A and B are the `dist` directories of two checkouts (build each with `npx -y pnpm@10 build`;
 * e.g. a worktree of the previous commit beside this one). The process loads both, then runs
 * every workload alternately on A's runtime and on B's, N rounds (default 7), the order of A
 * and B swapped every round, so that both see the same machine. It prints each row's median
 * and best for A and B and the ratio B/A of the medians (above 1 is slower for a time, faster
 * for a rate), with the Node version and core count. It reports and never asserts.
 *
 * The workloads are inline goroutines, so each runs on whichever build's runtime started it:
 * - chan/uncontended: buffered chan(1), one goroutine, send+recv of numbers (ns per pair);
 * - chan/pingpong-main: unbuffered ping-pong between main and a goroutine on an M, the
 *   cross-thread wake path both ways (µs per round trip);
 * - chan/pingpong-Ms: the same between goroutines on the two Ms, placed as chan/pingpong does;
 * - select/ready: select() over two buffered channels, one holding a value, in one goroutine
 *   (ns per send + select: the poll path);
 * - select/park-main: a goroutine on an M parked in a select over two channels, woken by main's
 *   send, replying on a third (µs per round trip: the park path);
 * - sched/spawn-main: 100,000 go() + WaitGroup from main (goroutines/s);
 * - sched/spawn-inside: the same from inside a goroutine on an M (goroutines/s);
 * - sched/spawn-await: 20,000 spawn() from main, then Promise.all of their results (tasks/s);
 * - sync/mutex: lock+unlock of an uncontended Mutex in one goroutine (ns per pair).
 */
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const opt = (name, d) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const dirs = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1] === '--rounds'));
if (dirs.length !== 2) {
  console.error('usage: node benchmarks/ab.mjs <A/dist> <B/dist> [--rounds N] [--quick]');
  process.exit(2);
}
const quick = flag('--quick');
const ROUNDS = opt('--rounds', quick ? 2 : 7);
const load = async (d) => import(pathToFileURL(resolve(d, 'index.js')).href);
const builds = [
  { name: 'A', dir: dirs[0], lib: await load(dirs[0]) },
  { name: 'B', dir: dirs[1], lib: await load(dirs[1]) },
];

const N_PAIRS = quick ? 50_000 : 300_000;
const N_PING = quick ? 5_000 : 30_000;
const N_SPAWN = quick ? 20_000 : 100_000;
const N_AWAIT = quick ? 5_000 : 20_000;

/** Main's side of a ping-pong with a goroutine: 500 warm-up round trips, then µs per round trip over N_PING. */
async function roundTrips(ping, pong) {
  for (let i = 0; i < 500; i++) {
    await ping.send(i);
    await pong.recv();
  }
  const t0 = performance.now();
  for (let i = 0; i < N_PING; i++) {
    await ping.send(i);
    await pong.recv();
  }
  return ((performance.now() - t0) * 1e3) / N_PING;
}

/** Each workload: (gort) => Promise<number>, run inside run(); `better` says which way is good. */
const WORKLOADS = [
  {
    row: 'chan/uncontended', unit: 'ns/pair', better: 'lower', procs: 1,
    fn: async (g) =>
      g.spawn(async (n) => {
        const c = chan(1);
        for (let i = 0; i < 1000; i++) {
          await c.send(i);
          await c.recv();
        }
        const t0 = performance.now();
        for (let i = 0; i < n; i++) {
          await c.send(i);
          await c.recv();
        }
        return ((performance.now() - t0) * 1e6) / n;
      }, N_PAIRS),
  },
  {
    row: 'chan/pingpong-main', unit: 'µs/round trip', better: 'lower', procs: 2,
    fn: async (g) => {
      const ping = g.chan();
      const pong = g.chan();
      g.go(async (ping, pong) => {
        for (;;) {
          const [v, ok] = await ping.recvOk();
          if (!ok) return;
          await pong.send(v);
        }
      }, ping, pong);
      const us = await roundTrips(ping, pong);
      ping.close();
      return us;
    },
  },
  {
    // As chan/pingpong places them: ping runs next on this M and holds it 30 ms, so an idle M
    // steals pong; the two channels start local to this M and are shared at pong's first use.
    row: 'chan/pingpong-Ms', unit: 'µs/round trip', better: 'lower', procs: 2,
    fn: async (g) =>
      g.spawn(async (n) => {
        const a = chan();
        const b = chan();
        const pongP = spawn(async (a, b) => {
          for (;;) {
            const [v, ok] = await a.recvOk();
            if (!ok) return 0;
            await b.send(v);
          }
        }, a, b);
        const pingP = spawn(async (a, b, n) => {
          const end = performance.now() + 30;
          while (performance.now() < end);
          for (let i = 0; i < 200; i++) {
            await a.send(i);
            await b.recv();
          }
          const t0 = performance.now();
          for (let i = 0; i < n; i++) {
            await a.send(i);
            await b.recv();
          }
          const us = ((performance.now() - t0) * 1e3) / n;
          a.close();
          return us;
        }, a, b, n);
        const [us] = await Promise.all([pingP, pongP]);
        return us;
      }, N_PING),
  },
  {
    // select()'s poll path: one of two buffered channels holds a value; the cases are made anew
    // each time, as a loop over select() does.
    row: 'select/ready', unit: 'ns/select', better: 'lower', procs: 1,
    fn: async (g) =>
      g.spawn(async (n) => {
        const a = chan(1);
        const b = chan(1);
        const one = async () => {
          await a.send(1);
          return select([recv(a, (v) => v), recv(b, (v) => v)]);
        };
        for (let i = 0; i < 1000; i++) await one();
        const t0 = performance.now();
        for (let i = 0; i < n; i++) await one();
        return ((performance.now() - t0) * 1e6) / n;
      }, N_PAIRS),
  },
  {
    // select()'s park path: a goroutine on an M waits in a select over two channels, main
    // sends on one of them and waits for the reply.
    row: 'select/park-main', unit: 'µs/round trip', better: 'lower', procs: 2,
    fn: async (g) => {
      const ping = g.chan();
      const pong = g.chan();
      const quit = g.chan();
      g.go(async (ping, pong, quit) => {
        for (;;) {
          const v = await select([recv(ping, (v) => v), recv(quit, () => -1)]);
          if (v === -1) return;
          await pong.send(v);
        }
      }, ping, pong, quit);
      const us = await roundTrips(ping, pong);
      quit.close();
      return us;
    },
  },
  {
    row: 'sched/spawn-main', unit: 'goroutines/s', better: 'higher', procs: 2,
    fn: async (g) => {
      const wg = new g.WaitGroup();
      const t0 = performance.now();
      wg.add(N_SPAWN);
      for (let i = 0; i < N_SPAWN; i++) g.go((w) => w.done(), wg);
      await wg.wait();
      return N_SPAWN / ((performance.now() - t0) / 1e3);
    },
  },
  {
    row: 'sched/spawn-inside', unit: 'goroutines/s', better: 'higher', procs: 2,
    fn: async (g) =>
      g.spawn(async (n) => {
        const wg = new WaitGroup();
        const t0 = performance.now();
        wg.add(n);
        for (let i = 0; i < n; i++) go((w) => w.done(), wg);
        await wg.wait();
        return n / ((performance.now() - t0) / 1e3);
      }, N_SPAWN),
  },
  {
    row: 'sched/spawn-await', unit: 'tasks/s', better: 'higher', procs: 2,
    fn: async (g) => {
      const t0 = performance.now();
      const ps = [];
      for (let i = 0; i < N_AWAIT; i++) ps.push(g.spawn((x) => x, i));
      await Promise.all(ps);
      return N_AWAIT / ((performance.now() - t0) / 1e3);
    },
  },
  {
    row: 'sync/mutex', unit: 'ns/pair', better: 'lower', procs: 1,
    fn: async (g) =>
      g.spawn(async (n) => {
        const mu = new Mutex();
        const t0 = performance.now();
        for (let i = 0; i < n; i++) {
          await mu.lock();
          mu.unlock();
        }
        return ((performance.now() - t0) * 1e6) / n;
      }, N_PAIRS),
  },
];

const results = new Map(WORKLOADS.map((w) => [w.row, { A: [], B: [] }]));
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? builds : [...builds].reverse();
  for (const w of WORKLOADS) {
    for (const b of order) {
      const v = await b.lib.run(() => w.fn(b.lib), { procs: w.procs });
      results.get(w.row)[b.name].push(v);
    }
  }
  process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
}

const median = (xs) => {
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x) => (x >= 1000 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3));
console.log(`A/B in one process: Node ${process.version}, ${os.availableParallelism()} cores, ${ROUNDS} alternating rounds`);
console.log(`A = ${builds[0].dir}\nB = ${builds[1].dir}`);
console.log(['row'.padEnd(20), 'unit'.padEnd(14), 'A median'.padStart(12), 'A best'.padStart(12), 'B median'.padStart(12), 'B best'.padStart(12), 'B/A'.padStart(7)].join(' '));
for (const w of WORKLOADS) {
  const { A, B } = results.get(w.row);
  const best = (xs) => (w.better === 'lower' ? Math.min(...xs) : Math.max(...xs));
  const ratio = median(B) / median(A);
  console.log(
    [w.row.padEnd(20), w.unit.padEnd(14), fmt(median(A)).padStart(12), fmt(best(A)).padStart(12), fmt(median(B)).padStart(12), fmt(best(B)).padStart(12), ratio.toFixed(2).padStart(7)].join(' '),
  );
}
