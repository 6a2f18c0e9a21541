/**
 * chan/pingpong: round trips over two unbuffered channels between two goroutines on two Ms
 * (procs 2; a goroutine starts both: ping, in its runnext, holds that M for 30 ms first, so
 * pong is stolen by the other M),
 * side by side with a MessageChannel ping-pong between two plain worker threads (the shape of
 * reference figure B4, listed at the end of RESULTS.md). µs per round trip and the ratio MessageChannel / gort (target ≥ 10).
 */
import { Worker, MessageChannel } from 'node:worker_threads';
import { run, spawn, fromModule } from 'gort';
import { Rows } from '../lib/common.mjs';

const w = fromModule(new URL('../lib/chanwork.mjs', import.meta.url));

const MC_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { port, role, n } = workerData;
if (role === 'pong') port.on('message', (v) => port.postMessage(v));
else {
  let i = 0, t0 = 0;
  port.on('message', () => {
    i++;
    if (i === 200) t0 = performance.now();
    if (i === 200 + n) { parentPort.postMessage((performance.now() - t0) * 1000 / n); process.exit(0); }
    port.postMessage(i);
  });
  port.postMessage(0);
}`;

async function messageChannelRT(n) {
  const { port1, port2 } = new MessageChannel();
  const pongW = new Worker(MC_WORKER, { eval: true, workerData: { port: port2, role: 'pong', n }, transferList: [port2] });
  const pingW = new Worker(MC_WORKER, { eval: true, workerData: { port: port1, role: 'ping', n }, transferList: [port1] });
  const us = await new Promise((res) => pingW.once('message', res));
  await pongW.terminate();
  return us;
}

export default async function ({ reps, quick }) {
  const N = quick ? 2_000 : 20_000;
  const rows = new Rows();
  rows.def('gort: unbuffered ping-pong between goroutines on two Ms', 'µs', { better: 'lower', baseline: 'C3: Go 279 ns (GOMAXPROCS=2), 32 µs with LockOSThread' });
  rows.def('MessageChannel ping-pong between two worker threads', 'µs', { better: 'lower', baseline: 'B4: 17.7 µs' });
  rows.def('ratio MessageChannel / gort', 'x', { target: { op: '>=', value: 10 } });
  rows.def('runs where the two goroutines were on different Ms', '%');
  let apart = 0;
  await run(async () => {
    for (let r = -1; r < reps; r++) {
      const { us, apart: sep } = await spawn(w.pingpong, N, 30);
      const mc = await messageChannelRT(N);
      if (r < 0) continue;
      if (sep) apart++;
      rows.add(rows.rows[0].figure, us);
      rows.add(rows.rows[1].figure, mc);
      rows.add(rows.rows[2].figure, mc / us);
    }
  }, { procs: 2 });
  rows.add(rows.rows[3].figure, (100 * apart) / reps);
  return rows.toJSON();
}
