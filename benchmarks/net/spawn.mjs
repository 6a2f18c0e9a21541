/**
 * net/spawn: a remote call on loopback, gort-nats' net.spawn side by side with BullMQ on Redis.
 *
 * The benchmark starts its own nats-server (JetStream on, scripts/nats-server.mjs) and its
 * own redis-server (no persistence, scripts/redis-server.mjs) on free loopback ports, and two
 * serving processes (lib/netpeer.mjs): a gort runtime of 1 P serving lib/nettasks.mjs with
 * net.serve (concurrency 64), and a BullMQ Worker (concurrency 64) whose processor returns
 * the job's data. This process is the caller:
 *
 *   gort-nats  await net.spawn(fromModule(nettasks).echo, i)  (a call is kept by JetStream,
 *              on file storage, until the serving process acknowledges it)
 *   BullMQ     await (await queue.add('echo', i)).waitUntilFinished(queueEvents)
 *              (the Queue's completed jobs are trimmed to the last 1,000)
 *
 * Each call is timed from before the call to its result (which must be i). With concurrency
 * c, c loops make calls one after another until N calls are done; the figures are calls per
 * second of the whole batch and the p50 and p99 of the calls' latencies, at c = 1 and 64.
 * A repetition runs gort-nats then BullMQ at c = 1, then both at 64; the ratios are
 * computed inside a repetition: throughput gort-nats / BullMQ and latency BullMQ / gort-nats
 * (both > 1 when gort-nats is faster). Both servers and both serving processes stay up the
 * whole time (idle while the other system runs). CPU per call: the CPU time of this process,
 * the system's server and its serving process over a batch (Linux /proc), divided by N; and
 * the load of the rest of the machine meanwhile. Two cores hold the caller, a server and a
 * serving process: the figures are what loopback on one small machine gives, not a network.
 */
import { fromModule } from 'gort';
import { connect } from 'gort-nats';
import { Queue, QueueEvents } from 'bullmq';
import { startNatsServer } from '../../scripts/nats-server.mjs';
import { startRedisServer } from '../../scripts/redis-server.mjs';
import { cpuMeter, peer, versions } from '../lib/netpeer.mjs';
import { Rows, percentile } from '../lib/common.mjs';

const { echo } = fromModule(new URL('../lib/nettasks.mjs', import.meta.url));

/** n calls of call(i) from c loops: { perSec, p50Us, p99Us }. */
async function batch(call, n, c) {
  const lat = new Float64Array(n);
  let next = 0;
  const loop = async () => {
    for (let i = next++; i < n; i = next++) {
      const t = performance.now();
      const r = await call(i);
      lat[i] = performance.now() - t;
      if (r !== i) throw new Error(`call ${i} returned ${String(r)}`);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, loop));
  const ms = performance.now() - t0;
  const us = Array.from(lat, (x) => x * 1000);
  return { perSec: (n * 1000) / ms, p50Us: percentile(us, 50), p99Us: percentile(us, 99) };
}

export default async function ({ reps, quick, log, quiet }) {
  const N = { 1: quick ? 200 : 2_000, 64: quick ? 1_000 : 10_000 };
  const peers = [];
  let nats = null;
  let redis = null;
  let net = null;
  let queue = null;
  let events = null;
  try {
    nats = await startNatsServer();
    redis = await startRedisServer();
    const connection = { host: redis.host, port: redis.port };
    peers.push(await peer('gort-serve', { nats: nats.url }), await peer('bull-serve', { redis: connection }));
    const allPids = [nats.pid, redis.pid, ...peers.map((p) => p.pid)];
    net = await connect({ servers: nats.url });
    queue = new Queue('spawn', { connection, defaultJobOptions: { removeOnComplete: { count: 1000 } } });
    queue.setMaxListeners(0); // each call waiting in waitUntilFinished listens for the queue's close
    events = new QueueEvents('spawn', { connection });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    // [name, what a call is, call(i), the processes besides this one that do its work]
    const systems = [
      ['gort-nats', 'net.spawn(echo, i)', (i) => net.spawn(echo, i), [nats.pid, peers[0].pid]],
      ['BullMQ', 'queue.add + waitUntilFinished', async (i) => (await queue.add('echo', i)).waitUntilFinished(events), [redis.pid, peers[1].pid]],
    ];

    const rows = new Rows();
    const v = versions();
    for (const c of [1, 64]) {
      for (const [sys, how] of systems) {
        rows.def(`${sys}, concurrency ${c}: ${how}`, 'calls/s', { note: `${N[c].toLocaleString('en-US')} calls; ${sys === 'BullMQ' ? v.bull : v.gort}` });
      }
      rows.def(`ratio gort-nats / BullMQ, calls/s at concurrency ${c}`, 'x');
      for (const p of ['p50', 'p99']) {
        for (const [sys] of systems) rows.def(`${sys}, concurrency ${c}: ${p} latency`, 'µs', { better: 'lower' });
        rows.def(`ratio BullMQ / gort-nats, ${p} latency at concurrency ${c}`, 'x');
      }
      for (const [sys] of systems) rows.def(`${sys}, concurrency ${c}: CPU per call (caller, server, serving process)`, 'µs', { better: 'lower' });
    }
    rows.def('other processes used, during the timed batches', 'cores', { better: 'lower', note: "not this benchmark's servers and processes (run.mjs's header counts those too)" });
    for (let r = -1; r < reps; r++) {
      if (r >= 0) await quiet();
      let otherMs = 0;
      let wallMs = 0;
      for (const c of [1, 64]) {
        const got = {};
        for (const [sys, , call, pids] of systems) {
          const t0 = performance.now();
          const meter = cpuMeter(allPids);
          const n = r < 0 ? Math.min(N[c], 500) : N[c];
          got[sys] = await batch(call, n, c);
          const cpu = meter.stop();
          const ms = performance.now() - t0;
          if (r < 0 || cpu === null) continue; // warm-up: connections, JIT, both servers' first use
          rows.add(`${sys}, concurrency ${c}: CPU per call (caller, server, serving process)`, ((cpu.selfMs + pids.reduce((x, p) => x + cpu.ms(p), 0)) * 1000) / n);
          otherMs += cpu.otherCores * ms;
          wallMs += ms;
        }
        if (r < 0) continue;
        const [g, b] = [got['gort-nats'], got.BullMQ];
        rows.add(`gort-nats, concurrency ${c}: ${systems[0][1]}`, g.perSec);
        rows.add(`BullMQ, concurrency ${c}: ${systems[1][1]}`, b.perSec);
        rows.add(`ratio gort-nats / BullMQ, calls/s at concurrency ${c}`, g.perSec / b.perSec);
        for (const p of ['p50', 'p99']) {
          rows.add(`gort-nats, concurrency ${c}: ${p} latency`, g[`${p}Us`]);
          rows.add(`BullMQ, concurrency ${c}: ${p} latency`, b[`${p}Us`]);
          rows.add(`ratio BullMQ / gort-nats, ${p} latency at concurrency ${c}`, b[`${p}Us`] / g[`${p}Us`]);
        }
        log(`rep ${r + 1}, concurrency ${c}: gort-nats ${Math.round(g.perSec)}/s, BullMQ ${Math.round(b.perSec)}/s`);
      }
      if (wallMs > 0) rows.add('other processes used, during the timed batches', otherMs / wallMs);
    }
    return rows.toJSON();
  } finally {
    await events?.close();
    await queue?.close();
    await net?.close();
    for (const p of peers) await p.stop();
    await redis?.stop();
    await nats?.stop();
  }
}
