// One simulated thread of the model checker (see sim.ts for the protocol).
//
// Plain JavaScript because Node 20 cannot load .ts in a Worker: it runs the BUILT code
// (dist/sched/runq.js, dist/sched/idle.js; the test command builds dist first). The worker
// lives across many scenarios: each `run` message carries one thread's script, the shared
// memory and the fault mode; by its `kind` the worker interprets the script against the real
// RunqOwner / RunqStealer ('runq') or the real Idle transitions ('idle', idle-sim.mjs), whose
// every atomic operation goes through `seam` below and first waits for the controller's turn.
// At the end it posts its results on `resultPort` and marks itself DONE.
import { parentPort, workerData } from 'node:worker_threads';
import { runIdle } from './idle-sim.mjs';

const { RunqOwner, RunqStealer, RETRY, RQ, runqWords } = await import(
  new URL('../../dist/sched/runq.js', import.meta.url).href
);

// Control words (must match sim.ts).
const STATE = 0; // RUNNING | WAITING | DONE | BLOCKED
const GO = 1; // bumped by the controller to let this thread perform one seam op
const BLOCK_WORD = 4; // BLOCKED: the word waited on
const BLOCK_VALUE = 5; // ... and the value it waits to change from
const STOP = 6; // set by the controller to end a thread blocked at quiescence
const RUNNING = 0;
const WAITING = 1;
const DONE = 2;
const BLOCKED = 3;

const ctl = new Int32Array(workerData.ctl);
const resultPort = workerData.resultPort;

/** Park at a yield point until the controller picks this thread. */
function turn() {
  const g = Atomics.load(ctl, GO);
  Atomics.store(ctl, STATE, WAITING);
  Atomics.notify(ctl, STATE);
  while (Atomics.load(ctl, GO) === g) Atomics.wait(ctl, GO, g);
}

/** Everything one run records; `log` has one entry per yield point, in order. */
let log = [];
let seq = -1; // id of the runq call in progress (numbered per thread)

function record(op, i, a, b, r) {
  log.push([op, i, a, b, r, seq]);
}

/**
 * After a seam op, park again before the plain code that follows it: that code (up to the
 * next seam op) then runs as its own scheduled step, so other threads can run between a seam
 * op and the plain accesses after it (e.g. between a store of TAIL and a slot write wrongly
 * placed after it) — and between plain accesses and the seam op after them.
 */
function plain() {
  if (!plainSteps) return;
  turn();
  record('plain', -1, 0, 0, 0);
}

/**
 * Whether the plain code after a seam op is a step of its own. The idle model turns it off:
 * sched/idle.ts's only plain access to shared memory is a waiter's LINK, written between the
 * load of READY and the CAS that publishes it, and it stays between them when it runs in the
 * load's step; every step saved halves that model's cost.
 */
let plainSteps = true;

/** Thrown out of `block` when the run ended with this thread blocked. */
const stopped = { stopped: true };

/**
 * Atomics.wait(a, i, v) without a timeout, as a scheduled step: if a[i] !== v it returns at
 * once; else the thread is not scheduled until another thread changed a[i]. At quiescence the
 * controller stops it: `stopped` is thrown and the run ends with this thread blocked.
 */
function block(a, i, v) {
  turn();
  if (Atomics.load(a, i) === v) {
    record('block', i, v, 0, v);
    const g = Atomics.load(ctl, GO);
    Atomics.store(ctl, BLOCK_WORD, i);
    Atomics.store(ctl, BLOCK_VALUE, v);
    Atomics.store(ctl, STATE, BLOCKED);
    Atomics.notify(ctl, STATE);
    while (Atomics.load(ctl, GO) === g) Atomics.wait(ctl, GO, g);
    if (Atomics.load(ctl, STOP) !== 0) throw stopped;
  }
  const r = Atomics.load(a, i);
  record('wake', i, v, 0, r);
  plain();
  return r;
}

/**
 * The AtomicsLike the runq code sees. `fault` injects a known bug into the seam itself (used
 * by the self-test that proves the checker catches lost updates): 'splitCas' turns
 * compareExchange into a load and a separately scheduled store, i.e. a CAS that is not atomic.
 */
function makeSeam(fault) {
  /** One atomic operation as one scheduled step, recorded in the trace under `name`. */
  const step = (name, op) => (a, i, v) => {
    turn();
    const r = op(a, i, v);
    record(name, i, v ?? 0, 0, r);
    plain();
    return r;
  };
  return {
    load: step('load', Atomics.load),
    store: step('store', Atomics.store),
    add: step('add', Atomics.add),
    sub: step('sub', Atomics.sub),
    exchange: step('xchg', Atomics.exchange),
    and: step('and', Atomics.and),
    or: step('or', Atomics.or),
    notify(a, i, count) {
      // Nobody really waits on the simulated memory: a waiter is a `block` on the word, and
      // the controller wakes it once the word changed. Still a step, so that a ring is two.
      turn();
      record('notify', i, count ?? 0, 0, 0);
      plain();
      return 0;
    },
    compareExchange(a, i, e, v) {
      if (fault === 'splitCas') {
        turn();
        const r = Atomics.load(a, i);
        record('casLoad', i, e, v, r);
        if (r === e) {
          turn();
          Atomics.store(a, i, v);
          record('casStore', i, e, v, r);
        }
        plain();
        return r;
      }
      turn();
      const r = Atomics.compareExchange(a, i, e, v);
      record('cas', i, e, v, r);
      plain();
      return r;
    },
  };
}

function runScript(cmd, ops) {
  const { cap, script, fault } = cmd;
  const mem = new Int32Array(cmd.mem);
  const W = runqWords(cap);
  const mask = cap - 1;
  const seam = makeSeam(fault);
  const owners = new Map();
  const stealers = new Map();
  const own = (k) => {
    let o = owners.get(k);
    if (!o) owners.set(k, (o = new RunqOwner(seam, mem, k * W, cap)));
    return o;
  };
  const thief = (k) => {
    let s = stealers.get(k);
    if (!s) stealers.set(k, (s = new RunqStealer(seam, mem, k * W, cap)));
    return s;
  };
  let nseq = 0;
  const begin = () => (seq = nseq++);

  const steal = (op) => {
    const o = own(op.q);
    const base = op.q * W;
    const t0 = mem[base + RQ.TAIL]; // our own TAIL: only we write it
    begin();
    const r = o.stealFrom(thief(op.victim), op.runnext);
    let got = [];
    if (r > 0) {
      const n = ((mem[base + RQ.TAIL] - t0) | 0) + 1;
      for (let i = 0; i < n; i++) got.push(mem[base + RQ.RING + ((t0 + i) & mask)]);
    }
    ops.push({ seq, kind: 'steal', q: op.q, victim: op.victim, runnext: op.runnext, r, got });
    return r;
  };
  const grab = (op) => {
    const dst = new Int32Array(cap);
    begin();
    const r = thief(op.victim).grab(dst, 0, 0, mask, op.runnext);
    const got = r > 0 ? Array.from(dst.subarray(0, r)) : [];
    ops.push({ seq, kind: 'grab', victim: op.victim, runnext: op.runnext, r, got });
    return r;
  };

  turn(); // start: nothing runs before the controller says so
  record('start', -1, 0, 0, 0);
  for (const op of script) {
    switch (op.op) {
      case 'put': {
        const batches = [];
        begin();
        own(op.q).put(op.g, !!op.next, (b) => batches.push(Array.from(b)));
        ops.push({ seq, kind: 'put', q: op.q, g: op.g, next: !!op.next, batches });
        break;
      }
      case 'get': {
        begin();
        const r = own(op.q).get();
        ops.push({ seq, kind: 'get', q: op.q, r });
        break;
      }
      case 'drain': {
        for (;;) {
          begin();
          const r = own(op.q).get();
          ops.push({ seq, kind: 'get', q: op.q, r });
          if (r === 0) break;
        }
        break;
      }
      case 'steal': {
        for (let i = 0; i <= (op.retries ?? 0); i++) if (steal(op) !== RETRY) break;
        break;
      }
      case 'grab': {
        for (let i = 0; i <= (op.retries ?? 0); i++) if (grab(op) !== RETRY) break;
        break;
      }
      case 'size': {
        begin();
        const r = thief(op.q).size();
        ops.push({ seq, kind: 'size', q: op.q, r });
        break;
      }
      default:
        throw new Error(`sim-worker: unknown op ${JSON.stringify(op)}`);
    }
  }
}

parentPort.on('message', (cmd) => {
  if (cmd.type !== 'run') return;
  log = [];
  seq = -1;
  const ops = [];
  let error = null;
  let blocked = false;
  plainSteps = cmd.kind !== 'idle';
  try {
    if (cmd.kind === 'idle') {
      turn(); // start: nothing runs before the controller says so
      record('start', -1, 0, 0, 0);
      runIdle(cmd, ops, { seam: makeSeam(null), block, setSeq: (n) => (seq = n) });
    } else runScript(cmd, ops);
  } catch (e) {
    if (e === stopped) blocked = true;
    else error = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
  }
  resultPort.postMessage({ id: cmd.id, ops, log, error, retryValue: RETRY, blocked });
  Atomics.store(ctl, STATE, DONE);
  Atomics.notify(ctl, STATE);
});

parentPort.postMessage({ type: 'ready' });
