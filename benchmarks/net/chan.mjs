/**
 * net/chan: values through a cluster channel on loopback, gort-nats' net.chan side by side
 * with a BullMQ queue on Redis used as one.
 *
 * The benchmark starts its own nats-server (JetStream on, scripts/nats-server.mjs) and its
 * own redis-server (no persistence, scripts/redis-server.mjs) on free loopback ports. One
 * sending process and one or two receiving processes (lib/netpeer.mjs), each a process
 * standing for a machine, move N numbers:
 *
 *   gort-nats  net.chan(name, { cap: 100, storage: 'memory' }) (memory, as Redis without
 *              persistence keeps its data); the sender awaits each send, then closes the
 *              channel; each receiver runs `for await (const v of ch)` until closed and drained
 *   BullMQ     the sender awaits each queue.add (no capacity: a queue never makes a sender
 *              wait), then adds one 'stop' job per receiver; each receiver is a Worker of
 *              concurrency 1 (one value at a time, as a channel receiver takes them) that
 *              counts jobs until it takes a 'stop'; completed jobs are removed
 *
 * Every process opens its channel or queue before the clock starts (a fresh name each
 * repetition). Timed: from telling the receivers to start and the sender to send, to the last
 * receiver's count (the counts must add up to N). Figures: values/s for each system with one
 * and with two receivers, and the ratios gort-nats / BullMQ inside a repetition (> 1 when
 * gort-nats is faster); the CPU time of every process of the system (server, sender,
 * receivers, and this process, which only waits) per value (Linux /proc); and the load of the
 * rest of the machine meanwhile. A gort-nats channel hands out one value at a time across all its
 * receivers (FIFO: max_ack_pending 1), so a second receiver is not expected to add
 * throughput there; BullMQ's two workers take jobs independently.
 */
import { startNatsServer } from '../../scripts/nats-server.mjs';
import { startRedisServer } from '../../scripts/redis-server.mjs';
import { cpuMeter, peer, versions } from '../lib/netpeer.mjs';
import { Rows } from '../lib/common.mjs';

const CAP = 100;

/**
 * One move of n values from sender to receivers through a fresh channel or queue:
 * { perSec, cpuUs (per value: every process of the system, this one and the server
 * included), otherCoresMs (the rest of the machine's load × ms) , ms }.
 */
async function move(server, sender, receivers, allPids, name, n) {
  await Promise.all([sender, ...receivers].map((p) => p.request({ cmd: 'open', name, cap: CAP })));
  const meter = cpuMeter(allPids);
  const t0 = performance.now();
  const counts = receivers.map((p) => p.request({ cmd: 'run' }));
  await sender.request({ cmd: 'run', n, receivers: receivers.length });
  const total = (await Promise.all(counts)).reduce((s, m) => s + m.count, 0);
  const ms = performance.now() - t0;
  const cpu = meter.stop();
  if (total !== n) throw new Error(`${sender.role}: the receivers counted ${total} values of ${n}`);
  await sender.request({ cmd: 'destroy' });
  const sysMs = cpu === null ? NaN : cpu.selfMs + [server, sender.pid, ...receivers.map((p) => p.pid)].reduce((x, p) => x + cpu.ms(p), 0);
  return { perSec: (n * 1000) / ms, cpuUs: (sysMs * 1000) / n, otherCoresMs: cpu === null ? NaN : cpu.otherCores * ms, ms };
}

export default async function ({ reps, quick, log, quiet }) {
  const N = quick ? 300 : 2_000;
  const peers = [];
  let nats = null;
  let redis = null;
  const start = async (role, config) => {
    const p = await peer(role, config);
    peers.push(p);
    return p;
  };
  try {
    nats = await startNatsServer();
    redis = await startRedisServer();
    const gort = { nats: nats.url };
    const bull = { redis: { host: redis.host, port: redis.port } };
    // [name, its server's pid, sender, receivers, how]
    const systems = [
      ['gort-nats', nats.pid, await start('gort-send', gort), [await start('gort-recv', gort), await start('gort-recv', gort)], `net.chan, cap ${CAP}`],
      ['BullMQ', redis.pid, await start('bull-send', bull), [await start('bull-recv', bull), await start('bull-recv', bull)], 'queue.add → Worker'],
    ];
    const allPids = [nats.pid, redis.pid, ...peers.map((p) => p.pid)];
    const rows = new Rows();
    const v = versions();
    const to = (k) => (k === 1 ? 'one receiving process' : 'two receiving processes');
    for (const k of [1, 2]) {
      for (const [sys, , , , how] of systems) {
        rows.def(`${sys}, ${how}: one sending process, ${to(k)}`, 'values/s', { note: `${N.toLocaleString('en-US')} values; ${sys === 'BullMQ' ? v.bull : v.gort}` });
      }
      rows.def(`ratio gort-nats / BullMQ, ${to(k)}`, 'x');
      for (const [sys] of systems) rows.def(`${sys}, ${to(k)}: CPU per value (every process of the system)`, 'µs', { better: 'lower' });
    }
    rows.def('other processes used, during the timed moves', 'cores', { better: 'lower', note: "not this benchmark's servers and processes (run.mjs's header counts those too)" });
    let run = 0;
    for (let r = -1; r < reps; r++) {
      if (r >= 0) await quiet();
      let otherMs = 0;
      let wallMs = 0;
      for (const k of [1, 2]) {
        const got = {};
        for (const [sys, server, sender, recvs, how] of systems) {
          const m = await move(server, sender, recvs.slice(0, k), allPids, `bench-${run++}`, r < 0 ? Math.min(N, 200) : N);
          got[sys] = m.perSec;
          if (r < 0) continue; // warm-up: connections, JIT, both servers' first use
          rows.add(`${sys}, ${how}: one sending process, ${to(k)}`, m.perSec);
          if (!Number.isNaN(m.cpuUs)) rows.add(`${sys}, ${to(k)}: CPU per value (every process of the system)`, m.cpuUs);
          if (!Number.isNaN(m.otherCoresMs)) {
            otherMs += m.otherCoresMs;
            wallMs += m.ms;
          }
        }
        if (r < 0) continue;
        rows.add(`ratio gort-nats / BullMQ, ${to(k)}`, got['gort-nats'] / got.BullMQ);
        log(`rep ${r + 1}, ${to(k)}: gort-nats ${Math.round(got['gort-nats'])}/s, BullMQ ${Math.round(got.BullMQ)}/s`);
      }
      if (wallMs > 0) rows.add('other processes used, during the timed moves', otherMs / wallMs);
    }
    return rows.toJSON();
  } finally {
    for (const p of peers) await p.stop();
    await redis?.stop();
    await nats?.stop();
  }
}
