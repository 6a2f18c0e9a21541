/**
 * The M side of mem/parked-breakdown.mjs, used through fromModule(): goroutines that park in
 * one way each, and `probe`, which parks n of a kind and reads this isolate's heap before and
 * after (and, if asked, writes a heap snapshot at both points).
 *
 * GORT_DIST names the gort build to import (the driver's; its default is this checkout's).
 * Each parker bumps `parked` in its first synchronous stretch, just before the call that
 * parks it, so `parked === n` means all n have parked.
 */
import v8 from 'node:v8';
import { pathToFileURL } from 'node:url';

const dist = process.env.GORT_DIST;
const gort = await import(dist ? pathToFileURL(`${dist}/index.js`).href : 'gort');
const { stats } = await import(dist ? pathToFileURL(`${dist}/debug/index.js`).href : 'gort/debug');
const { go, sleep, fromModule, chan, Mutex, select, recv } = gort;
const self = fromModule(new URL(import.meta.url));

let parked = 0;
let ended = 0;
let moduleCh = null;
const never = new Promise(() => {});

export async function bare() {
  parked++;
  await never;
}
export async function recvArg(ch) {
  parked++;
  await ch.recv();
  ended++;
}
export async function recvModule() {
  parked++;
  await moduleCh.recv();
  ended++;
}
export async function range(ch) {
  parked++;
  for await (const _ of ch);
  ended++;
}
export async function lock(mu) {
  parked++;
  await mu.lock();
  mu.unlock();
  ended++;
}
export async function sel(a, b) {
  parked++;
  await select([recv(a), recv(b)]);
  ended++;
}
export async function sleeper(ms) {
  parked++;
  await sleep(ms);
  ended++;
}

/**
 * The variants: each starts n parkers and returns what releases them (null: nothing does;
 * they stay parked until the runtime shuts down). `shared` hands out channels made by main.
 */
const VARIANTS = {
  bare: (n) => {
    for (let i = 0; i < n; i++) go(self.bare);
    return null;
  },
  recv: (n, shared) => {
    const ch = shared();
    for (let i = 0; i < n; i++) go(self.recvArg, ch);
    return () => ch.close();
  },
  'recv-noarg': (n, shared) => {
    const ch = (moduleCh = shared());
    for (let i = 0; i < n; i++) go(self.recvModule);
    return () => ch.close();
  },
  'recv-local': (n) => {
    const ch = chan();
    for (let i = 0; i < n; i++) go(self.recvArg, ch);
    return () => ch.close();
  },
  range: (n, shared) => {
    const ch = shared();
    for (let i = 0; i < n; i++) go(self.range, ch);
    return () => ch.close();
  },
  mutex: (n) => {
    const mu = new Mutex();
    mu.tryLock();
    for (let i = 0; i < n; i++) go(self.lock, mu);
    return () => mu.unlock();
  },
  select: (n, shared) => {
    const a = shared();
    const b = shared();
    for (let i = 0; i < n; i++) go(self.sel, a, b);
    return () => a.close();
  },
  sleep: (n, _shared, ms) => {
    for (let i = 0; i < n; i++) go(self.sleeper, ms);
    return null;
  },
};

const variantNames = Object.keys(VARIANTS);

async function until(what, cond) {
  for (let k = 0; !cond(); k++) {
    if (k > 6000) throw new Error(`parkwork: ${what} did not happen within 30 s`);
    await sleep(5);
  }
}

function gcTwice() {
  globalThis.gc();
  globalThis.gc();
}

function read() {
  return { v8: v8.getHeapStatistics().used_heap_size, rss: process.memoryUsage().rss, shared: stats().memory.heapInUse };
}

/**
 * Park `warm` goroutines of `variant` and release them (sleepers: 1 ms), then read the heap,
 * park n more (sleepers: 10 minutes), and read it again, after two full collections each
 * time. `snap`: a path prefix for heap snapshots at both points ('' for none). `chans`:
 * channels made by main, handed out in order.
 */
export async function probe(variant, n, warm, snap, chans) {
  const start = VARIANTS[variant];
  if (start === undefined) throw new Error(`parkwork: no variant '${variant}' (${variantNames.join(', ')})`);
  let next = 0;
  const shared = () => chans[next++];
  parked = ended = 0;
  const release = start(warm, shared, 1);
  await until('the warm-up park', () => parked === warm);
  if (release !== null) {
    release();
    await until('the warm-up release', () => ended === warm);
  } else if (variant === 'sleep') {
    await until('the warm-up sleep', () => ended === warm);
  }
  await sleep(20);
  gcTwice();
  const before = read();
  if (snap) v8.writeHeapSnapshot(`${snap}-before.heapsnapshot`);
  parked = ended = 0;
  const release2 = start(n, shared, 600_000);
  await until('the park', () => parked === n);
  await sleep(20);
  gcTwice();
  const after = read();
  if (snap) v8.writeHeapSnapshot(`${snap}-after.heapsnapshot`);
  if (release2 !== null) {
    release2();
    await until('the release', () => ended === n);
  }
  return { before, after };
}
