/**
 * The other processes of the net/* benchmarks: one process per role, standing for a machine,
 * forked by `peer()` below and driven over its IPC channel, so that it is started (and its
 * connections opened) once, outside the timed windows.
 *
 *   node netpeer.mjs <role> <config JSON>     config: { nats: url } or { redis: { host, port } }
 *
 * Roles, gort-nats and BullMQ doing the same jobs:
 *
 *   gort-serve   a gort runtime of 1 P serving nettasks.mjs (net.serve, concurrency 64)
 *   bull-serve   a BullMQ Worker on the queue 'spawn' (concurrency 64) whose processor
 *                returns the job's data, as nettasks.mjs's echo does
 *   gort-send    {cmd:'open', name, cap} opens net.chan(name, { cap, storage: 'memory' });
 *                {cmd:'run', n} sends 0..n-1, one awaited send after another, then closes it;
 *                {cmd:'destroy'} removes it
 *   gort-recv    {cmd:'open', name, cap}; {cmd:'run'} receives until the channel is closed
 *                and drained, replying with the count
 *   bull-send    {cmd:'open', name} makes a Queue; {cmd:'run', n, receivers} adds jobs 0..n-1,
 *                one awaited add after another, then one 'stop' job per receiver;
 *                {cmd:'destroy'} closes the Queue
 *   bull-recv    {cmd:'open', name} makes a Worker (concurrency 1, not yet running);
 *                {cmd:'run'} runs it until it takes a 'stop' job, replying with the count of
 *                the others (a worker that took 'stop' fetches no further job, so each
 *                receiver takes exactly one)
 *
 * Every request is answered with { ok: true, ...result } or { ok: false, error }. The process
 * ends when its parent disconnects.
 */
import { execFileSync, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { natsServerPath } from '../../scripts/nats-server.mjs';
import { redisServerPath } from '../../scripts/redis-server.mjs';
import { machineJiffies, pidCpuMs, TICK_MS } from './common.mjs';

/** What the rows' notes say was measured: { gort: 'nats-server 2.9.10', bull: 'BullMQ 6.7.6 on redis-server 7.0.15' }. */
export function versions() {
  const out = (bin) => execFileSync(bin, ['--version'], { encoding: 'utf8' });
  const nats = out(natsServerPath()).match(/v(\d[\w.-]*)/)?.[1] ?? '?';
  const redis = out(redisServerPath()).match(/v=(\d[\w.-]*)/)?.[1] ?? '?';
  const bullmq = JSON.parse(readFileSync(new URL('../node_modules/bullmq/package.json', import.meta.url), 'utf8')).version;
  return { gort: `nats-server ${nats}`, bull: `BullMQ ${bullmq} on redis-server ${redis}` };
}

/**
 * CPU time from now to stop(), Linux only: stop() gives { selfMs } (this process),
 * { ms(pid) } (each of `pids`: the servers and peers) and { otherCores }: what the rest of the
 * machine used meanwhile, per second of wall time (run.mjs's header counts the servers and
 * peers as other processes; this does not). null where /proc cannot tell.
 */
export function cpuMeter(pids) {
  const snap = () => ({ self: process.cpuUsage(), pids: pids.map(pidCpuMs), j: machineJiffies(), t: performance.now() });
  const a = snap();
  return {
    stop() {
      const b = snap();
      const self = process.cpuUsage(a.self);
      if (a.j === null || b.j === null || [...a.pids, ...b.pids].includes(null)) return null;
      const selfMs = (self.user + self.system) / 1000;
      const theirs = new Map(pids.map((p, i) => [p, b.pids[i] - a.pids[i]]));
      const ours = selfMs + [...theirs.values()].reduce((x, y) => x + y, 0);
      return { selfMs, ms: (p) => theirs.get(p), otherCores: Math.max(0, ((b.j.busy - a.j.busy) * TICK_MS - ours) / (b.t - a.t)) };
    },
  };
}

/** Fork a peer and wait for it to say it is ready: { request(msg) → Promise<reply>, stop() }. */
export async function peer(role, config) {
  const cp = fork(fileURLToPath(import.meta.url), [role, JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const queue = [];
  let failed = null;
  cp.on('message', (m) => queue.shift()?.(m));
  const exited = new Promise((r) => cp.once('exit', (code, signal) => {
    failed = new Error(`net peer ${role} exited (${code ?? signal})`);
    for (const w of queue.splice(0)) w({ ok: false, error: failed.message });
    r();
  }));
  const next = () => (failed !== null ? Promise.resolve({ ok: false, error: failed.message }) : new Promise((r) => queue.push(r)));
  const check = (m) => {
    if (!m.ok) throw new Error(`net peer ${role}: ${m.error}`);
    return m;
  };
  check(await next());
  return {
    role,
    pid: cp.pid,
    async request(msg) {
      const reply = next();
      cp.send(msg);
      return check(await reply);
    },
    async stop() {
      if (cp.connected) cp.disconnect();
      await exited;
    },
  };
}

// ---------------------------------------------------------------- the peer process

const failure = (e) => ({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });

async function gortServe({ nats }) {
  const { start } = await import('gort');
  const { connect } = await import('gort-nats');
  const rt = await start({ procs: 1 });
  const net = await connect({ servers: nats });
  await net.serve(new URL('./nettasks.mjs', import.meta.url), { concurrency: 64 }).ready;
  return { end: async () => { await net.close(); await rt.shutdown(); } };
}

async function bullServe({ redis }) {
  const { Worker } = await import('bullmq');
  const worker = new Worker('spawn', async (job) => job.data, { connection: redis, concurrency: 64 });
  await worker.waitUntilReady();
  return { end: () => worker.close() };
}

async function gortChan({ nats }, receiving) {
  const { connect } = await import('gort-nats');
  const net = await connect({ servers: nats });
  let ch = null;
  return {
    async open({ name, cap }) {
      ch = await net.chan(name, { cap, storage: 'memory' });
    },
    async run({ n }) {
      if (receiving) {
        let count = 0;
        for await (const v of ch) {
          if (!Number.isInteger(v)) throw new Error(`received ${String(v)}`);
          count++;
        }
        return { count };
      }
      for (let i = 0; i < n; i++) await ch.send(i);
      await ch.close();
      return {};
    },
    async destroy() {
      await ch.destroy();
    },
    end: () => net.close(),
  };
}

async function bullChan({ redis }, receiving) {
  const { Queue, Worker } = await import('bullmq');
  let queue = null;
  let worker = null;
  let done = null;
  return {
    async open({ name }) {
      if (receiving) {
        let count = 0;
        let finish;
        done = new Promise((r) => (finish = r));
        worker = new Worker(name, async (job) => {
          if (job.name === 'stop') {
            void worker.close(); // closing: the completion of this job fetches no next one
            finish(count);
            return;
          }
          count++;
        }, { connection: redis, concurrency: 1, autorun: false });
        await worker.waitUntilReady();
      } else {
        queue = new Queue(name, { connection: redis, defaultJobOptions: { removeOnComplete: true } });
        await queue.waitUntilReady();
      }
    },
    async run({ n, receivers }) {
      if (receiving) {
        void worker.run();
        return { count: await done };
      }
      for (let i = 0; i < n; i++) await queue.add('v', i);
      for (let r = 0; r < receivers; r++) await queue.add('stop', null);
      return {};
    },
    async destroy() {
      await queue.obliterate({ force: true });
      await queue.close();
    },
    end: async () => {
      await worker?.close();
      await queue?.close();
    },
  };
}

const ROLES = {
  'gort-serve': gortServe,
  'bull-serve': bullServe,
  'gort-send': (c) => gortChan(c, false),
  'gort-recv': (c) => gortChan(c, true),
  'bull-send': (c) => bullChan(c, false),
  'bull-recv': (c) => bullChan(c, true),
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [role, config] = process.argv.slice(2);
  let impl;
  try {
    impl = await ROLES[role](JSON.parse(config));
    process.send({ ok: true });
  } catch (e) {
    process.send(failure(e));
    process.exit(1);
  }
  process.on('message', async (m) => {
    try {
      process.send({ ok: true, ...((await impl[m.cmd](m)) ?? {}) });
    } catch (e) {
      process.send(failure(e));
    }
  });
  process.once('disconnect', async () => {
    setTimeout(() => process.exit(1), 5_000).unref(); // an end that hangs must not outlive the benchmark
    await impl.end();
    process.exit(0);
  });
}
