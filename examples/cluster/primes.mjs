// The prime count of the README's demo, spread over three processes standing for machines,
// with one command: `node examples/cluster/primes.mjs`. It starts a nats-server with
// JetStream on a free loopback port (scripts/nats-server.mjs; Debian: apt-get install
// nats-server) and three worker processes, then counts the primes below LIMIT twice:
//
// 1. net.spawn(): each range is a call that runs on a worker process with a free slot (the
//    calls wait in JetStream meanwhile), as a goroutine on that process' gort runtime.
// 2. A work queue over cluster channels: ranges go into the channel 'jobs' (cap 8: the
//    sender waits while it is full), every worker takes ranges from it until it is closed,
//    counts each in a goroutine, and sends the count on 'counts'.
import { fork } from 'node:child_process';
import { fromModule, spawn, start } from 'gort';
import { connect } from 'gort-nats';

const LIMIT = Number(process.env.PRIMES_LIMIT ?? 2_000_000);
const STEP = 100_000;
const work = new URL('./work.mjs', import.meta.url);
const { count } = fromModule(work);

if (process.argv[2] === 'worker') {
  // A worker "machine": serve work.mjs for net.spawn, and take jobs from the channel.
  const rt = await start({ procs: 1 });
  const net = await connect({ servers: process.argv[3] });
  await net.serve(work, { concurrency: 4 }).ready;
  const jobs = await net.chan('jobs', { cap: 8 });
  const counts = await net.chan('counts', { cap: 64 });
  process.send('ready');
  for await (const lo of jobs) await counts.send(await spawn(count, lo, Math.min(lo + STEP, LIMIT)));
  process.send('drained'); // the coordinator removes the channels only after every worker saw the close
  await new Promise((r) => process.once('disconnect', r)); // the coordinator says when to stop
  await net.close();
  await rt.shutdown();
} else {
  const { startNatsServer } = await import('../../scripts/nats-server.mjs');
  const srv = await startNatsServer();
  const workers = [0, 1, 2].map(() => fork(new URL(import.meta.url).pathname, ['worker', srv.url]));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  const net = await connect({ servers: srv.url });
  const ranges = [];
  for (let lo = 0; lo < LIMIT; lo += STEP) ranges.push(lo);

  const t0 = performance.now();
  const results = await Promise.all(ranges.map((lo) => net.spawn(count, lo, Math.min(lo + STEP, LIMIT))));
  report('net.spawn', results, t0);

  const t1 = performance.now();
  const jobs = await net.chan('jobs', { cap: 8 });
  const counts = await net.chan('counts', { cap: 64 });
  const sending = (async () => {
    for (const lo of ranges) await jobs.send(lo);
    await jobs.close();
  })();
  const got = [];
  for (let i = 0; i < ranges.length; i++) got.push(await counts.recv());
  await sending;
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  report('work queue', got, t1);

  await jobs.destroy();
  await counts.destroy();
  await net.close();
  for (const w of workers) w.disconnect();
  await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
  await srv.stop();
}

function report(how, results, t0) {
  const total = results.reduce((s, r) => s + r.n, 0);
  const by = new Map();
  for (const r of results) by.set(r.by, (by.get(r.by) ?? 0) + 1);
  console.log(`${how}: ${total} primes below ${LIMIT} in ${Math.round(performance.now() - t0)} ms; ranges per process: ${[...by.values()].join(', ')}`);
  if (new Set(results.map((r) => r.lo)).size !== Math.ceil(LIMIT / STEP)) throw new Error(`${how}: a range was counted twice or never`);
}
