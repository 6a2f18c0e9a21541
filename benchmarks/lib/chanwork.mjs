/**
 * Goroutine workloads for the chan/*, select/* and sync/* benchmarks, used through
 * fromModule(): every M imports this file on first use. Each returns what it measured on its
 * own M (ms or ns), so thread hand-offs to the main thread are not timed.
 */
import { threadId } from 'node:worker_threads';
import { go, spawn, chan, select, recv, WaitGroup, Mutex, fromModule } from 'gort';

const self = fromModule(new URL(import.meta.url));

/** ns per buffered send+recv pair of numbers, one goroutine (Go's BenchmarkChanUncontended shape). */
export async function uncontended(n) {
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
}

/**
 * ns per send+recv on a buffered chan(1) in one goroutine of a value other than a number:
 * 'view' (a Float64Array over a SharedArrayBuffer: shared, not copied), 'buffer' (the bare
 * SharedArrayBuffer) or 'object' (a small plain object: structured clone).
 */
export async function uncontendedValue(n, kind) {
  const b = new SharedArrayBuffer(64);
  const v = kind === 'view' ? new Float64Array(b, 8, 4) : kind === 'buffer' ? b : { x: 1, y: 'two' };
  const c = chan(1);
  for (let i = 0; i < 1000; i++) {
    await c.send(v);
    await c.recv();
  }
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await c.send(v);
    await c.recv();
  }
  return ((performance.now() - t0) * 1e6) / n;
}

const RESOLVED = Promise.resolve();

/** ns per pair of awaits of already-settled promises: the floor of any awaited send+recv in V8. */
export async function awaitFloor(n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await RESOLVED;
    await Promise.resolve(i);
  }
  return ((performance.now() - t0) * 1e6) / n;
}

/**
 * The same two awaits plus what a lock-based channel shared between threads cannot avoid:
 * two lock/unlock pairs (compareExchange + exchange) on a word of a SharedArrayBuffer.
 */
export async function lockFloor(n) {
  const a = new Int32Array(new SharedArrayBuffer(64));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    Atomics.compareExchange(a, 0, 0, 1);
    a[1] = i;
    Atomics.exchange(a, 0, 0);
    await RESOLVED;
    Atomics.compareExchange(a, 0, 0, 1);
    const v = a[1];
    Atomics.exchange(a, 0, 0);
    await Promise.resolve(v);
  }
  return ((performance.now() - t0) * 1e6) / n;
}

/** Hold this M busy for ms, then report which thread we are on (to place two goroutines apart). */
export function hold(ms) {
  const end = performance.now() + ms;
  while (performance.now() < end);
  return threadId;
}

export function where() {
  return threadId;
}

/** Producer: send n numbers on c, then close it. Returns its thread id. */
export async function produce(c, n, holdMs) {
  const tid = hold(holdMs);
  for (let i = 0; i < n; i++) await c.send(i);
  c.close();
  return tid;
}

/** Consumer: receive until closed. Returns [count, ms, thread id]. */
export async function consume(c) {
  const tid = threadId;
  let k = 0;
  let t0 = 0;
  for await (const v of c) {
    if (k === 0) t0 = performance.now();
    k += v >= 0 ? 1 : 0;
  }
  return [k, performance.now() - t0, tid];
}

/** One producer, one consumer: same M (both started from here, procs 1) or, with hold, apart. */
export async function prodcons(n, cap, holdMs) {
  const c = chan(cap);
  const cons = spawn(self.consume, c);
  const prod = spawn(self.produce, c, n, holdMs);
  const [[count, ms, tc], tp] = await Promise.all([cons, prod]);
  return { count, ms, sameThread: tc === tp };
}

/** Ping side: n round trips over two unbuffered channels; µs per round trip. */
export async function ping(a, b, n, holdMs) {
  const tid = hold(holdMs);
  for (let i = 0; i < 200; i++) {
    await a.send(i);
    await b.recv();
  }
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await a.send(i);
    await b.recv();
  }
  const us = ((performance.now() - t0) * 1000) / n;
  a.close();
  return [us, tid];
}

export async function pong(a, b) {
  for await (const v of a) await b.send(v);
  return threadId;
}

/** select/prodcons: two producers on two channels, one consumer selecting. values/s. */
export async function selectProdcons(n, cap) {
  const x = chan(cap);
  const y = chan(cap);
  const wg = new WaitGroup();
  wg.add(2);
  go(async (c, n, wg) => {
    for (let i = 0; i < n; i++) await c.send(i);
    wg.done();
  }, x, n, wg);
  go(async (c, n, wg) => {
    for (let i = 0; i < n; i++) await c.send(i);
    wg.done();
  }, y, n, wg);
  const t0 = performance.now();
  let got = 0;
  while (got < 2 * n) {
    await select([recv(x, () => got++), recv(y, () => got++)]);
  }
  const ms = performance.now() - t0;
  await wg.wait();
  return (2 * n) / (ms / 1000);
}

/** Go's concurrent prime sieve inside a goroutine: ms to the n-th prime. */
export async function sieve(n) {
  const t0 = performance.now();
  const first = chan();
  go(async (ch) => {
    for (let i = 2; ; i++) await ch.send(i);
  }, first);
  let ch = first;
  let prime = 0;
  for (let i = 0; i < n; i++) {
    prime = await ch.recv();
    const next = chan();
    go(
      async (src, dst, p) => {
        for (;;) {
          const v = await src.recv();
          if (v % p !== 0) await dst.send(v);
        }
      },
      ch,
      next,
      prime,
    );
    ch = next;
  }
  return [performance.now() - t0, prime];
}

/**
 * sieve(n) after an untimed sieve(warm) in the same goroutine, so on the same M: that M's
 * compiler has then seen the channel paths, as the main thread's has when the promise
 * version runs (chan/sieve warms it up with a first, untimed repetition). The warm-up's
 * filter chain is left parked, as every run's is.
 */
export async function sieveWarm(n, warm) {
  await sieve(warm);
  return sieve(n);
}

/** ns per uncontended lock+unlock, one goroutine. */
export async function mutexUncontended(n) {
  const mu = new Mutex();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await mu.lock();
    mu.unlock();
  }
  return ((performance.now() - t0) * 1e6) / n;
}

/** One contender: n lock/unlock pairs on mu. */
export async function contend(mu, n, holdMs) {
  const tid = hold(holdMs);
  for (let i = 0; i < n; i++) {
    await mu.lock();
    mu.unlock();
  }
  return tid;
}

/** Ping-pong pair started from here: ping runs first (runnext) and holds this M, pong is stolen. */
export async function pingpong(n, holdMs) {
  const a = chan();
  const b = chan();
  const pongP = spawn(self.pong, a, b);
  const pingP = spawn(self.ping, a, b, n, holdMs);
  const [[us, tPing], tPong] = await Promise.all([pingP, pongP]);
  return { us, apart: tPing !== tPong };
}
