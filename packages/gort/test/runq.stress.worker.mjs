// One thread of the runq stress test (runq.stress.test.ts). Plain JavaScript because Node 20
// cannot load .ts in a Worker: it uses the BUILT runq (dist/sched/runq.js).
//
// Thread `id` owns queue `id` and pushes its share of distinct G ids [lo, hi). It pops from
// its own queue; when that is empty (and it has nothing left to push) it steals from random
// victims (stealFrom into its own queue, or grab into a private buffer) and drains batches
// from the shared overflow list (in a random order of the two). Every G it obtains is
// "taken": Atomics.add(taken[g], 1), which must find 0. Overflow batches from put go to the
// shared list under a futex lock. Results are counted per thread and posted at the end.
import { workerData, parentPort } from 'node:worker_threads';

const { RunqOwner, RunqStealer, RETRY, RQ, runqWords } = await import(
  new URL('../dist/sched/runq.js', import.meta.url).href
);

// Control words (must match runq.stress.test.ts).
const REMAINING = 0; // Gs not yet taken
const ABORT = 1; // nonzero: stop (1 = Gs lost, 2 = overflow list full, 3 = stalled, 4 = threw)
const IDLE = 2; // threads in the idle loop
const ACT = 3; // bumped whenever a thread leaves the idle loop
const SLEEP = 4; // never written; Atomics.wait target for short sleeps
// Overflow list words.
const LOCK = 0; // 0 free, 1 locked, 2 locked with waiters
const COUNT = 1;
const ITEMS = 16;

const { id, nT, cap, lo, hi, totalG, seed } = workerData;
const q = new Int32Array(workerData.queues);
const taken = new Int32Array(workerData.taken);
const ctl = new Int32Array(workerData.ctl);
const list = new Int32Array(workerData.list);
const listCap = list.length - ITEMS;
const W = runqWords(cap);
const base = id * W;
const mask = cap - 1;

function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rng = mulberry32((seed * 0x9e3779b1) ^ (id + 1) * 0x85ebca6b);

const me = new RunqOwner(Atomics, q, base, cap);
const others = [];
for (let k = 0; k < nT; k++) if (k !== id) others.push(new RunqStealer(Atomics, q, k * W, cap));
const all = Array.from({ length: nT }, (_, k) => new RunqStealer(Atomics, q, k * W, cap));

const s = {
  id,
  ops: 0,
  fresh: 0, // distinct Gs pushed (first put)
  puts: 0,
  gets: 0,
  takes: 0,
  steals: 0,
  stealHits: 0,
  grabs: 0,
  grabHits: 0,
  retries: 0,
  runnextSteals: 0,
  overflowBatches: 0,
  overflowGs: 0,
  globalPops: 0,
  idleSleeps: 0,
  dup: 0,
  badG: 0,
  badBatch: 0,
  badResult: 0,
  stealHist: new Array(cap + 2).fill(0),
  abort: 0,
};

// A futex mutex (Drepper's "mutex2"), with a short spin first.
function lock() {
  let c = Atomics.compareExchange(list, LOCK, 0, 1);
  if (c === 0) return;
  for (let i = 0; i < 64; i++) {
    if (Atomics.load(list, LOCK) === 0 && Atomics.compareExchange(list, LOCK, 0, 1) === 0) return;
  }
  if (c !== 2) c = Atomics.exchange(list, LOCK, 2);
  while (c !== 0) {
    Atomics.wait(list, LOCK, 2);
    c = Atomics.exchange(list, LOCK, 2);
  }
}
function unlock() {
  if (Atomics.sub(list, LOCK, 1) !== 1) {
    Atomics.store(list, LOCK, 0);
    Atomics.notify(list, LOCK, 1);
  }
}

function overflow(batch) {
  s.overflowBatches++;
  s.overflowGs += batch.length;
  if (batch.length !== (cap >> 1) + 1) s.badBatch++;
  lock();
  const n = list[COUNT];
  if (n + batch.length > listCap) {
    unlock();
    Atomics.store(ctl, ABORT, 2);
    throw new Error('overflow list full: some G was queued twice');
  }
  for (let i = 0; i < batch.length; i++) list[ITEMS + n + i] = batch[i];
  list[COUNT] = n + batch.length;
  unlock();
}

function take(g) {
  s.takes++;
  run(g);
  if (!(g >= 1 && g <= totalG)) {
    s.badG++;
    return;
  }
  if (Atomics.add(taken, g, 1) !== 0) s.dup++;
  Atomics.sub(ctl, REMAINING, 1);
}

function put(g, next) {
  me.put(g, next, overflow);
  s.puts++;
  s.ops++;
}

/** Pop up to k Gs from the overflow list: run one, queue the rest. */
function popGlobal() {
  if (Atomics.load(list, COUNT) === 0) return false; // racy peek; the lock decides
  lock();
  const n = list[COUNT];
  const k = Math.min(n, 1 + ((rng() * 64) | 0));
  const got = list.slice(ITEMS + n - k, ITEMS + n);
  list[COUNT] = n - k;
  unlock();
  if (k === 0) return false;
  s.globalPops++;
  s.ops++;
  take(got[0]);
  for (let i = 1; i < k; i++) put(got[i], false); // our queue is empty: k - 1 < cap fits
  return true;
}

const buf = new Int32Array(cap);

/** A few steal attempts on random victims; true if something was obtained. */
function stealSome() {
  for (let a = 0; a < 2 * others.length; a++) {
    const v = others[(rng() * others.length) | 0];
    const rn = rng() < 0.3;
    s.ops++;
    if (rng() < 0.25) {
      s.grabs++;
      const n = v.grab(buf, 0, 0, mask, rn);
      if (n > 0) {
        s.grabHits++;
        s.stealHist[Math.min(n, cap + 1)]++;
        for (let i = 0; i < n; i++) take(buf[i]);
        return true;
      }
      if (n === RETRY) s.retries++;
      else if (n !== 0) s.badResult++;
    } else {
      s.steals++;
      const t0 = q[base + RQ.TAIL]; // our own TAIL: only we write it
      const g = me.stealFrom(v, rn);
      if (g > 0) {
        const n = ((q[base + RQ.TAIL] - t0) | 0) + 1;
        s.stealHits++;
        s.stealHist[n >= 1 && n <= cap ? n : cap + 1]++;
        take(g);
        return true;
      }
      if (g === RETRY) s.retries++;
      else if (g !== 0) s.badResult++;
    }
  }
  return false;
}

function anythingQueued() {
  if (Atomics.load(list, COUNT) > 0) return true;
  for (const v of all) if (v.size() > 0 || v.hasRunnext()) return true;
  return false;
}

// Hang guard (not a timing assertion): if no G at all is taken for STALL_MS while this thread
// looks for work, something is broken (e.g. a corrupted queue that never yields its Gs): abort
// with a failure instead of hanging until the test times out.
const STALL_MS = 30_000;
let stallRemaining = -1;
let stallSince = 0;
let stallTick = 0;
function stalled() {
  if ((++stallTick & 1023) !== 0) return false;
  const rem = Atomics.load(ctl, REMAINING);
  const now = Date.now();
  if (rem !== stallRemaining) {
    stallRemaining = rem;
    stallSince = now;
    return false;
  }
  if (now - stallSince < STALL_MS) return false;
  Atomics.store(ctl, ABORT, 3);
  return true;
}

/** Every G has been taken (or, with a duplication bug, more than that). */
const finished = () => Atomics.load(ctl, REMAINING) <= 0;

/**
 * Nothing to do: wait until work appears or every G is taken. If every thread is idle, nothing
 * is queued anywhere and Gs are still missing, they were lost: abort (fast failure, no hang).
 */
function idle() {
  Atomics.add(ctl, IDLE, 1);
  for (;;) {
    if (finished() || Atomics.load(ctl, ABORT) !== 0) break;
    if (anythingQueued()) break;
    const act = Atomics.load(ctl, ACT);
    if (Atomics.load(ctl, IDLE) === nT && !anythingQueued() && Atomics.load(ctl, ACT) === act) {
      // Every thread is here (none holds a G in hand), nothing is queued, Gs are missing.
      if (Atomics.load(ctl, IDLE) === nT && !finished()) {
        Atomics.store(ctl, ABORT, 1);
        break;
      }
    }
    s.idleSleeps++;
    Atomics.wait(ctl, SLEEP, 0, 0.2);
    if (stalled()) break;
  }
  Atomics.add(ctl, ACT, 1);
  Atomics.sub(ctl, IDLE, 1);
}

// Each thread behaves like a P: it keeps its queue stocked with its own Gs in bursts (usually
// while it is at most half full, sometimes regardless, so it overflows), and "runs" each G it
// takes for a short, G-dependent while, during which thieves can steal from it. Shares are
// unequal (runq.stress.test.ts), so the small-share threads run dry early and spend most of
// the run stealing; a dry thread tries stealing before the overflow list most of the time.
const stealFirst = 0.75;
let sink = 0;
function run(g) {
  const n = Math.imul(g, 0x9e3779b1) >>> 25; // 0..127
  for (let i = 0; i < n; i++) sink = (Math.imul(sink, 31) + i) | 0;
}
let next = lo;
let error = null;
try {
  for (;;) {
    if (Atomics.load(ctl, ABORT) !== 0 || stalled()) break;
    if (next < hi && (me.size() <= cap >> 1 || rng() < 0.01)) {
      const burst = 1 + ((rng() * 64) | 0);
      for (let i = 0; i < burst && next < hi; i++) {
        put(next++, rng() < 0.05);
        s.fresh++;
      }
      continue;
    }
    const g = me.get();
    s.gets++;
    s.ops++;
    if (g !== 0) {
      take(g);
      continue;
    }
    if (next < hi) {
      put(next++, false); // empty but still have Gs of our own: push one
      s.fresh++;
      continue;
    }
    if (rng() < stealFirst) {
      if (stealSome() || popGlobal()) continue;
    } else if (popGlobal() || stealSome()) continue;
    if (finished()) break;
    idle();
    if (finished()) break;
  }
} catch (e) {
  error = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
  Atomics.store(ctl, ABORT, Atomics.load(ctl, ABORT) || 4);
}
s.abort = Atomics.load(ctl, ABORT);
s.sink = sink;
parentPort.postMessage({ ...s, error });
