/**
 * A small deterministic model checker for runq.ts: it explores seeded interleavings of the
 * REAL run-queue code (the built dist/sched/runq.js) and checks invariants after each run.
 *
 * How a thread is simulated. Synchronous JS cannot be suspended, so each simulated thread runs
 * in a real worker_threads Worker (sim-worker.mjs) and is handed an `AtomicsLike` seam whose
 * every operation first parks at a yield point: the worker stores WAITING in its STATE word
 * and `Atomics.wait`s on its GO word. This controller (the test's thread) waits until every
 * live thread is parked or DONE, picks ONE parked thread with a seeded PRNG, bumps its GO word,
 * and waits until it parks again (or finishes). So exactly one simulated thread runs at any
 * time. A thread parks before every seam operation and again right after it, so a step is
 * either exactly one seam operation, or the plain code between two seam operations (a
 * "plain" step, which ends at the park before the next seam operation). Each thread also
 * parks once before its script starts, so no code runs unscheduled.
 *
 * Granularity. Plain array reads and writes between two seam calls therefore execute as one
 * atomic block. This is the granularity loom uses, and it is sufficient here: runq's
 * correctness argument relies only on the seam operations being sequentially consistent
 * (JS Atomics are SC) and on plain slot writes being published by a later atomic store of
 * TAIL, which pairs with the thieves' atomic load of TAIL. Races *between* seam operations
 * (a thief's stale HEAD, a lost CAS, an owner that refills a slot a thief read) are exactly
 * what the scheduler interleaves. Because the plain block is scheduled separately from the
 * seam operations on both sides of it, a slot written *after* the store that should publish
 * it (or read *before* the load that should make it visible) is caught too. Reorderings of
 * plain accesses that a weak memory model would allow are not modelled (JS plain accesses
 * to shared memory are unordered; the algorithm never relies on their order).
 *
 * Determinism. Between two seam calls a thread's behaviour depends only on memory and on
 * values returned by seam calls, so the sequence of choices (the trace) determines the run; a
 * seed determines the choices. Every run records the trace, a snapshot of the shared memory
 * after every step, and each thread's per-step log (operation, word, arguments, result).
 *
 * Strategies (picked by the seed): uniform random choice; "sticky" (the last thread keeps
 * running with high probability, so long uninterrupted sequences and rare preemptions both
 * occur); and PCT-style random priorities with a few random priority-change points. The
 * initial HEAD/TAIL of each queue is also seeded: 0, just below 2^31-1 (so the int32 indices
 * wrap during the run), or a random int32.
 *
 * Invariants checked after every run (see `check`):
 * - after every step, 0 <= TAIL-HEAD <= cap (int32 arithmetic) on every queue;
 * - conservation: Gs put (prefill + puts) = Gs returned by get/steal/grab + Gs in overflow
 *   batches + Gs left in any queue (ring [HEAD,TAIL) and runnext), as multisets: every G
 *   exactly once;
 * - every overflow batch has cap/2 + 1 Gs;
 * - every successful steal/grab took 1..cap/2 Gs; when the victim's HEAD/TAIL/RUNNEXT did
 *   not change between the thief's first seam op and its claiming CAS ("quiescent"), with m
 *   Gs in the ring it took n between floor(m/2) and ceil(m/2) of them, namely the n oldest in
 *   FIFO order (or exactly runnext when m = 0 and runnext stealing was allowed), a result of
 *   0 means the victim was empty, and RETRY is impossible;
 * - a get on a quiescent queue returned runnext, else the ring's head, else 0 iff empty;
 * - size() is in [0, cap]; no thread threw.
 *
 * Reproduction: on failure the report starts with `GORT_MODEL_SEED=<seed>`; running the test
 * with that environment variable replays exactly that seed (same trace). `GORT_MODEL_RUNS`
 * scales the number of seeds per scenario.
 *
 * Other models. `SimPool.runRaw` is the controller without the run-queue specifics: any
 * program a simulated thread runs through the seam (the worker picks it by the message's
 * `kind`; test/idle.model.test.ts runs sched/idle.ts this way). A thread may also block, as in
 * Atomics.wait: it is not scheduled while its word holds the value it waits on. A run ends
 * when every thread is done or blocked (quiescence); blocked threads are then stopped and
 * report `blocked: true`.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { RQ, runqWords } from '../../src/sched/runq.js';

// ---------------------------------------------------------------------------------------------
// Scenario language

export type Op =
  /** Owner of queue q: put(g, next). */
  | { op: 'put'; q: number; g: number; next?: boolean }
  /** Owner of queue q: one get(). */
  | { op: 'get'; q: number }
  /** Owner of queue q: get() until it returns 0. */
  | { op: 'drain'; q: number }
  /** Owner of queue q: q.stealFrom(victim, runnext), again up to `retries` times on RETRY. */
  | { op: 'steal'; q: number; victim: number; runnext: boolean; retries?: number }
  /** Any thread: victim.grab into a private buffer, again up to `retries` times on RETRY. */
  | { op: 'grab'; victim: number; runnext: boolean; retries?: number }
  /** Any thread: size() of queue q. */
  | { op: 'size'; q: number };

export interface ThreadSpec {
  name: string;
  script: Op[];
}

export interface Prefill {
  q: number;
  ring?: number[];
  runnext?: number;
}

export interface Scenario {
  name: string;
  /** Ring capacity, a power of two. */
  cap: number;
  /** Number of queues in the shared buffer (queue k starts at k * runqWords(cap)). */
  queues: number;
  threads: ThreadSpec[];
  /** Gs placed in queues before the threads start (counted as put). */
  prefill?: Prefill[];
  /** Scenario-specific checks; return violation messages. */
  check?: (run: RunResult) => string[];
  /** Inject a known bug into the seam (checker self-test): a non-atomic compareExchange. */
  fault?: 'splitCas';
}

/** One completed runq call, as the worker recorded it. */
export type OpRecord =
  | { seq: number; kind: 'put'; q: number; g: number; next: boolean; batches: number[][] }
  | { seq: number; kind: 'get'; q: number; r: number }
  | { seq: number; kind: 'steal'; q: number; victim: number; runnext: boolean; r: number; got: number[] }
  | { seq: number; kind: 'grab'; victim: number; runnext: boolean; r: number; got: number[] }
  | { seq: number; kind: 'size'; q: number; r: number };

/** [op, word index, arg1, arg2, result, seq] — one per yield point of a thread. */
export type LogEntry = [string, number, number, number, number, number];

export interface RunResult {
  scenario: string;
  seed: number;
  strategy: string;
  /** Initial HEAD (= TAIL before prefill) of each queue. */
  init: number[];
  /** The trace: the thread chosen at each step. */
  choices: number[];
  /** Shared memory after each step (index s = after step s); `initial` is before step 0. */
  initial: Int32Array;
  snapshots: Int32Array[];
  ops: OpRecord[][];
  logs: LogEntry[][];
  errors: (string | null)[];
  /** Gs left in each queue at the end: ring [HEAD, TAIL) in order, then runnext if any. */
  remaining: number[][];
  violations: string[];
  /** How many get/steal/grab results were checked exactly because their queue was quiescent. */
  quiescentChecks: number;
  /** Human-readable report: seed line, violations, trace, final state. */
  report: () => string;
}

// ---------------------------------------------------------------------------------------------
// Deterministic PRNG

/** mulberry32: a tiny 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Seeds

const DEFAULT_RUNS = 250;

/** The seeds to explore: GORT_MODEL_SEED (one, replay) or 1..GORT_MODEL_RUNS. */
export function modelSeeds(defaultRuns = DEFAULT_RUNS): { seeds: number[]; replay: boolean } {
  const one = process.env['GORT_MODEL_SEED'];
  if (one !== undefined && one !== '') {
    const s = Number(one);
    if (!Number.isInteger(s)) throw new Error(`GORT_MODEL_SEED must be an integer, got ${one}`);
    return { seeds: [s], replay: true };
  }
  const env = process.env['GORT_MODEL_RUNS'];
  const n = env !== undefined && env !== '' ? Math.max(1, Math.floor(Number(env))) : defaultRuns;
  if (!Number.isFinite(n)) throw new Error(`GORT_MODEL_RUNS must be a number, got ${env}`);
  return { seeds: Array.from({ length: n }, (_, i) => i + 1), replay: false };
}

// ---------------------------------------------------------------------------------------------
// Controller

const STATE = 0;
const GO = 1;
/** A blocked thread waits while mem[BLOCK_WORD] === BLOCK_VALUE; STOP ends it at quiescence. */
const BLOCK_WORD = 4;
const BLOCK_VALUE = 5;
const STOP = 6;
const CTL_BYTES = 32;
const RUNNING = 0;
const WAITING = 1;
const DONE = 2;
const BLOCKED = 3;
/** A thread that neither parks nor finishes within this many ms is hung (not a timing check). */
const HANG_MS = 20_000;
const STEP_LIMIT = 50_000;

interface SimThread {
  worker: Worker;
  ctl: Int32Array;
  results: MessagePort;
}

/** What a simulated thread posts at the end of a run. */
export interface WorkerResult<O = OpRecord> {
  id: number;
  ops: O[];
  log: LogEntry[];
  error: string | null;
  /** runq: the value of RETRY */
  retryValue?: number;
  /** The run ended while this thread was blocked (it was stopped). */
  blocked?: boolean;
}

/** One seeded run of a simulated-thread program, before any model-specific check. */
export interface RawRun<O = unknown> {
  strategy: string;
  choices: number[];
  initial: Int32Array;
  snapshots: Int32Array[];
  results: WorkerResult<O>[];
  /** Violations the per-step check reported (at most 5). */
  stepViolations: string[];
}

export interface RawRunOptions {
  /** For error messages. */
  name: string;
  seed: number;
  /** The shared memory, already initialised; snapshots are taken after every step. */
  mem: Int32Array;
  /** The run's PRNG, after the caller drew `strategyKind` and its own initial state from it. */
  rng: () => number;
  strategyKind: number;
  /** One message per simulated thread; `type`, `id` and `mem` are added. */
  messages: Record<string, unknown>[];
  /** Checked after every step on the snapshot; returns violations. */
  stepCheck?: (snap: Int32Array, step: number) => string[];
}

interface Strategy {
  name: string;
  pick: (ready: number[], step: number, last: number) => number;
}

/** The thread-choice strategy of a run: kind 0 uniform, 1 sticky, 2 PCT-style. */
function makeStrategy(kind: number, rng: () => number, nT: number): Strategy {
  if (kind === 0) return { name: 'uniform', pick: (ready) => ready[Math.floor(rng() * ready.length)]! };
  if (kind === 1) {
    const stay = 0.6 + 0.35 * rng();
    return {
      name: `sticky(${stay.toFixed(2)})`,
      pick: (ready, _step, last) => (ready.includes(last) && rng() < stay ? last : ready[Math.floor(rng() * ready.length)]!),
    };
  }
  const prio = Array.from({ length: nT }, () => rng());
  const changes = new Set<number>();
  const depth = 1 + Math.floor(rng() * 3);
  for (let i = 0; i < depth; i++) changes.add(Math.floor(rng() * 160));
  let low = 0;
  return {
    name: `pct(d=${depth})`,
    pick: (ready, step) => {
      let best = ready[0]!;
      for (const i of ready) if (prio[i]! > prio[best]!) best = i;
      if (changes.has(step)) {
        prio[best] = low -= 1; // demote the running thread below everyone
        best = ready[0]!;
        for (const i of ready) if (prio[i]! > prio[best]!) best = i;
      }
      return best;
    },
  };
}

/** The PRNG of (scenario name, seed): every model derives its run's choices from it. */
export function runRng(name: string, seed: number): () => number {
  return mulberry32(hashString(name) ^ Math.imul(seed, 0x9e3779b1));
}

/** A set of long-lived simulation workers; runs scenarios synchronously on the caller's thread. */
export class SimPool {
  private nextId = 1;
  private broken: string | null = null;
  private constructor(private readonly threads: SimThread[]) {}

  static async create(n: number): Promise<SimPool> {
    const url = new URL('./sim-worker.mjs', import.meta.url);
    const threads = await Promise.all(
      Array.from({ length: n }, async () => {
        const ctl = new Int32Array(new SharedArrayBuffer(CTL_BYTES));
        const { port1, port2 } = new MessageChannel();
        const worker = new Worker(url, { workerData: { ctl: ctl.buffer, resultPort: port2 }, transferList: [port2] });
        await new Promise<void>((resolve, reject) => {
          const onMessage = (m: unknown): void => {
            if ((m as { type?: string }).type === 'ready') {
              worker.off('error', reject);
              resolve();
            }
          };
          worker.once('message', onMessage);
          worker.once('error', reject);
        });
        return { worker, ctl, results: port1 };
      }),
    );
    return new SimPool(threads);
  }

  get size(): number {
    return this.threads.length;
  }

  async close(): Promise<void> {
    for (const t of this.threads) t.results.close();
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private waitParked(t: SimThread, what: string): number {
    const deadline = Date.now() + HANG_MS;
    for (;;) {
      const s = Atomics.load(t.ctl, STATE);
      if (s !== RUNNING) return s;
      const left = deadline - Date.now();
      if (left <= 0) {
        this.broken = `simulated thread hung (${what})`;
        throw new Error(this.broken);
      }
      Atomics.wait(t.ctl, STATE, RUNNING, Math.min(left, 1000));
    }
  }

  private release(t: SimThread): void {
    Atomics.store(t.ctl, STATE, RUNNING);
    Atomics.add(t.ctl, GO, 1);
    Atomics.notify(t.ctl, GO);
  }

  private receive<O>(t: SimThread, id: number): WorkerResult<O> {
    const deadline = Date.now() + HANG_MS;
    for (;;) {
      const m = receiveMessageOnPort(t.results);
      if (m !== undefined) {
        const r = m.message as WorkerResult<O>;
        if (r.id === id) return r;
        continue; // a stale result cannot happen, but never confuse runs
      }
      if (Date.now() > deadline) throw new Error('simulated thread finished without a result');
      Atomics.wait(t.ctl, 3, 0, 1); // short sleep; word 3 is never written
    }
  }

  /** Run `scn` under the schedule of `seed` and check it. Synchronous. */
  run(scn: Scenario, seed: number): RunResult {
    validate(scn);
    const rng = runRng(scn.name, seed);
    const strategyKind = Math.floor(rng() * 3);
    const W = runqWords(scn.cap);
    const mem = new Int32Array(new SharedArrayBuffer(scn.queues * W * 4));
    const init: number[] = [];
    for (let k = 0; k < scn.queues; k++) {
      const r = rng();
      const h = r < 1 / 3 ? 0 : r < 2 / 3 ? (0x7fffffff - Math.floor(rng() * scn.cap)) | 0 : (rng() * 2 ** 32) | 0;
      init.push(h);
      mem[k * W + RQ.HEAD] = h;
      mem[k * W + RQ.TAIL] = h;
    }
    for (const p of scn.prefill ?? []) {
      const b = p.q * W;
      for (const g of p.ring ?? []) {
        const t = mem[b + RQ.TAIL]!;
        mem[b + RQ.RING + (t & (scn.cap - 1))] = g;
        mem[b + RQ.TAIL] = (t + 1) | 0;
      }
      if (p.runnext !== undefined) mem[b + RQ.RUNNEXT] = p.runnext;
    }

    const raw = this.runRaw<OpRecord>({
      name: scn.name,
      seed,
      mem,
      rng,
      strategyKind,
      messages: scn.threads.map((th) => ({ kind: 'runq', cap: scn.cap, script: th.script, fault: scn.fault ?? null })),
      stepCheck: (snap, step) => {
        const v: string[] = [];
        for (let k = 0; k < scn.queues; k++) {
          const d = (snap[k * W + RQ.TAIL]! - snap[k * W + RQ.HEAD]!) | 0;
          if (d < 0 || d > scn.cap) v.push(`after step ${step}: queue ${k} has TAIL-HEAD = ${d}, outside [0, ${scn.cap}]`);
        }
        return v;
      },
    });
    const results = raw.results;
    const remaining: number[][] = [];
    for (let k = 0; k < scn.queues; k++) {
      const b = k * W;
      const h = mem[b + RQ.HEAD]!;
      const t = mem[b + RQ.TAIL]!;
      const gs: number[] = [];
      const d = (t - h) | 0;
      for (let j = 0; j >= 0 && j < d && j <= scn.cap; j++) gs.push(mem[b + RQ.RING + ((h + j) & (scn.cap - 1))]!);
      const rn = mem[b + RQ.RUNNEXT]!;
      if (rn !== 0) gs.push(rn);
      remaining.push(gs);
    }

    const run: RunResult = {
      scenario: scn.name,
      seed,
      strategy: raw.strategy,
      init,
      choices: raw.choices,
      initial: raw.initial,
      snapshots: raw.snapshots,
      ops: results.map((r) => r.ops),
      logs: results.map((r) => r.log),
      errors: results.map((r) => r.error),
      remaining,
      violations: [],
      quiescentChecks: 0,
      report: () => '',
    };
    const retryValue = results[0]?.retryValue ?? -1;
    run.violations = [...raw.stepViolations, ...check(scn, run, retryValue)];
    run.report = () => renderReport(scn, run);
    return run;
  }

  /**
   * Run one program per simulated thread under the schedule the strategy draws from `rng`,
   * one step at a time, until every thread is done or blocked. Synchronous.
   */
  runRaw<O>(o: RawRunOptions): RawRun<O> {
    if (this.broken !== null) throw new Error(`SimPool unusable: ${this.broken}`);
    const { name, seed, mem, rng } = o;
    const nT = o.messages.length;
    if (nT > this.threads.length) throw new Error(`scenario ${name} needs ${nT} simulated threads`);
    const initial = mem.slice();
    const strategy = makeStrategy(o.strategyKind, rng, nT);

    // Start every thread; each parks before its first instruction.
    const id = this.nextId++;
    const used = this.threads.slice(0, nT);
    used.forEach((t, i) => {
      Atomics.store(t.ctl, STATE, RUNNING);
      Atomics.store(t.ctl, STOP, 0);
      t.worker.postMessage({ ...o.messages[i], type: 'run', id, mem: mem.buffer });
    });
    const state = used.map((t, i) => this.waitParked(t, `${name} seed ${seed} thread ${i} start`));

    const choices: number[] = [];
    const snapshots: Int32Array[] = [];
    const stepViolations: string[] = [];
    let last = -1;
    const runnable = (i: number): boolean =>
      state[i] === WAITING || (state[i] === BLOCKED && mem[used[i]!.ctl[BLOCK_WORD]!] !== used[i]!.ctl[BLOCK_VALUE]);
    for (let step = 0; ; step++) {
      const ready: number[] = [];
      for (let i = 0; i < nT; i++) if (runnable(i)) ready.push(i);
      if (ready.length === 0) break;
      if (step >= STEP_LIMIT) {
        this.broken = `step limit ${STEP_LIMIT} exceeded (livelock?) in ${name} seed ${seed}`;
        throw new Error(this.broken);
      }
      const i = strategy.pick(ready, step, last);
      last = i;
      choices.push(i);
      this.release(used[i]!);
      state[i] = this.waitParked(used[i]!, `${name} seed ${seed} step ${step}`);
      const snap = mem.slice();
      snapshots.push(snap);
      if (o.stepCheck && stepViolations.length < 5) stepViolations.push(...o.stepCheck(snap, step).slice(0, 5 - stepViolations.length));
    }
    // Quiescence: stop the threads still blocked.
    used.forEach((t, i) => {
      if (state[i] !== BLOCKED) return;
      Atomics.store(t.ctl, STOP, 1);
      this.release(t);
      state[i] = this.waitParked(t, `${name} seed ${seed} thread ${i} stop`);
    });
    if (state.some((s) => s !== DONE)) throw new Error('internal: run ended with a thread not DONE');
    const results = used.map((t) => this.receive<O>(t, id));
    return { strategy: strategy.name, choices, initial, snapshots, results, stepViolations };
  }
}

function validate(scn: Scenario): void {
  if (scn.cap < 2 || (scn.cap & (scn.cap - 1)) !== 0) throw new Error(`${scn.name}: cap must be a power of two`);
  const owner = new Map<number, number>();
  const gs = new Set<number>();
  const claim = (q: number, t: number): void => {
    if (q < 0 || q >= scn.queues) throw new Error(`${scn.name}: queue ${q} out of range`);
    const o = owner.get(q);
    if (o !== undefined && o !== t) throw new Error(`${scn.name}: queue ${q} has two owners (${o}, ${t})`);
    owner.set(q, t);
  };
  const addG = (g: number): void => {
    if (g === 0 || gs.has(g)) throw new Error(`${scn.name}: G ${g} is zero or not unique`);
    gs.add(g);
  };
  for (const p of scn.prefill ?? []) {
    for (const g of p.ring ?? []) addG(g);
    if (p.ring !== undefined && p.ring.length > scn.cap) throw new Error(`${scn.name}: prefill over capacity`);
    if (p.runnext !== undefined) addG(p.runnext);
  }
  scn.threads.forEach((th, t) => {
    for (const op of th.script) {
      switch (op.op) {
        case 'put':
          claim(op.q, t);
          addG(op.g);
          break;
        case 'get':
        case 'drain':
          claim(op.q, t);
          break;
        case 'steal':
          claim(op.q, t);
          if (op.victim === op.q) throw new Error(`${scn.name}: a queue cannot steal from itself`);
          break;
        case 'grab':
        case 'size':
          break;
      }
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Invariants

interface QState {
  head: number;
  tail: number;
  runnext: number;
  ring: number[]; // [head, tail) in order (clamped to cap)
}

function qstate(mem: Int32Array, k: number, cap: number): QState {
  const b = k * runqWords(cap);
  const head = mem[b + RQ.HEAD]!;
  const tail = mem[b + RQ.TAIL]!;
  const runnext = mem[b + RQ.RUNNEXT]!;
  const d = Math.min(Math.max((tail - head) | 0, 0), cap);
  const ring: number[] = [];
  for (let j = 0; j < d; j++) ring.push(mem[b + RQ.RING + ((head + j) & (cap - 1))]!);
  return { head, tail, runnext, ring };
}

/** The global steps at which (thread, seq) executed a seam op, with the word each touched. */
function stepsOf(run: RunResult): Map<string, { step: number; word: number }[]> {
  const m = new Map<string, { step: number; word: number }[]>();
  const cursor = run.logs.map(() => 0);
  run.choices.forEach((t, step) => {
    const e = run.logs[t]?.[cursor[t]!++];
    if (e === undefined || e[1] < 0) return; // 'start' and 'plain' steps touch no atomic word
    const key = `${t}:${e[5]}`;
    let l = m.get(key);
    if (l === undefined) m.set(key, (l = []));
    l.push({ step, word: e[1] });
  });
  return m;
}

function snapshotBefore(run: RunResult, step: number): Int32Array {
  return step === 0 ? run.initial : run.snapshots[step - 1]!;
}

/**
 * If queue k's HEAD/TAIL/RUNNEXT stayed the same from just before step `from` until just
 * before step `to` (the op's own modifying step), return its state before `from`.
 */
function quiescent(run: RunResult, cap: number, k: number, from: number, to: number): QState | null {
  const s0 = qstate(snapshotBefore(run, from), k, cap);
  for (let s = from; s < to; s++) {
    const x = qstate(run.snapshots[s]!, k, cap);
    if (x.head !== s0.head || x.tail !== s0.tail || x.runnext !== s0.runnext) return null;
  }
  return s0;
}

function check(scn: Scenario, run: RunResult, RETRY: number): string[] {
  const v: string[] = [];
  const cap = scn.cap;
  const W = runqWords(cap);
  run.errors.forEach((e, t) => {
    if (e !== null) v.push(`thread ${t} (${scn.threads[t]!.name}) threw: ${e}`);
  });
  run.logs.forEach((l, t) => {
    const n = run.choices.filter((c) => c === t).length;
    if (n !== l.length) v.push(`internal: thread ${t} took ${n} steps but logged ${l.length}`);
  });

  // Conservation.
  const count = new Map<number, number>();
  const bump = (g: number, d: number): void => {
    count.set(g, (count.get(g) ?? 0) + d);
  };
  for (const p of scn.prefill ?? []) {
    for (const g of p.ring ?? []) bump(g, 1);
    if (p.runnext !== undefined) bump(p.runnext, 1);
  }
  const out: string[] = [];
  for (const ops of run.ops)
    for (const o of ops) {
      if (o.kind === 'put') {
        bump(o.g, 1);
        for (const b of o.batches) {
          for (const g of b) bump(g, -1);
          out.push(`overflow[${b.join(',')}]`);
          if (b.length !== cap / 2 + 1) v.push(`put(${o.g}) overflowed a batch of ${b.length}, want ${cap / 2 + 1}`);
        }
        if (o.batches.length > 1) v.push(`put(${o.g}) called overflow ${o.batches.length} times`);
      }
    }
  for (const ops of run.ops)
    for (const o of ops) {
      if (o.kind === 'get' && o.r !== 0) bump(o.r, -1);
      if (o.kind === 'steal' && o.r > 0) bump(o.r, -1);
      if (o.kind === 'grab' && o.r > 0) for (const g of o.got) bump(g, -1);
    }
  run.remaining.forEach((gs) => gs.forEach((g) => bump(g, -1)));
  for (const [g, c] of count) {
    if (c > 0) v.push(`conservation: G ${g} was put but is lost (${c} missing)`);
    if (c < 0) v.push(`conservation: G ${g} came out ${-c} more time(s) than it was put`);
  }

  // Per-op checks.
  const steps = stepsOf(run);
  run.ops.forEach((ops, t) => {
    for (const o of ops) {
      const my = steps.get(`${t}:${o.seq}`) ?? [];
      const first = my[0]?.step;
      const label = `thread ${t} (${scn.threads[t]!.name}) ${o.kind}#${o.seq}`;
      if (o.kind === 'size' && (o.r < 0 || o.r > cap)) v.push(`${label}: size ${o.r} outside [0, ${cap}]`);
      if (o.kind === 'steal' || o.kind === 'grab') {
        const n = o.kind === 'steal' ? (o.r > 0 ? o.got.length : 0) : o.r > 0 ? o.r : 0;
        if (o.r !== RETRY && o.r < 0) v.push(`${label}: returned ${o.r}, neither a count/G, 0 nor RETRY`);
        if (o.r > 0 && (n < 1 || n > cap / 2)) v.push(`${label}: stole ${n}, outside [1, ${cap / 2}]`);
        if (o.kind === 'steal' && o.r > 0 && o.got[o.got.length - 1] !== o.r)
          v.push(`${label}: returned G ${o.r} but the last stolen slot holds ${o.got[o.got.length - 1]}`);
        if (new Set(o.got).size !== o.got.length || o.got.includes(0)) v.push(`${label}: stole [${o.got}]`);
        // Quiescence of the victim from the first op up to the last op on the victim's words.
        const vb = o.victim * W;
        const onVictim = my.filter((x) => x.word >= vb && x.word < vb + W);
        const lastV = onVictim[onVictim.length - 1]?.step;
        if (first === undefined || lastV === undefined) continue;
        const s = quiescent(run, cap, o.victim, first, lastV);
        if (s === null) continue;
        run.quiescentChecks++;
        const m = s.ring.length;
        const what = `${label} from quiescent queue ${o.victim} (ring ${m} [${s.ring}], runnext ${s.runnext})`;
        if (o.r === RETRY) v.push(`${what}: returned RETRY although no race was lost`);
        else if (o.r === 0) {
          if (m !== 0 || (o.runnext && s.runnext !== 0)) v.push(`${what}: returned 0 (empty) but it was not`);
        } else if (o.r > 0) {
          if (m > 0) {
            if (n < Math.floor(m / 2) || n > Math.ceil(m / 2) || n < 1)
              v.push(`${what}: took ${n}, want floor(m/2)..ceil(m/2)`);
            const want = s.ring.slice(0, n);
            if (want.join(',') !== o.got.join(',')) v.push(`${what}: took [${o.got}], want the oldest [${want}]`);
          } else if (!o.runnext || s.runnext === 0 || n !== 1 || o.got[0] !== s.runnext) {
            v.push(`${what}: took [${o.got}] from an empty ring (runnext stealing ${o.runnext})`);
          }
        }
      }
      if (o.kind === 'get' && first !== undefined) {
        const lastStep = my[my.length - 1]!.step;
        const s = quiescent(run, cap, o.q, first, lastStep);
        if (s === null) continue;
        run.quiescentChecks++;
        const want = s.runnext !== 0 ? s.runnext : (s.ring[0] ?? 0);
        if (o.r !== want) v.push(`${label} on quiescent queue ${o.q} (ring [${s.ring}], runnext ${s.runnext}): got ${o.r}, want ${want}`);
      }
    }
  });

  if (scn.check) v.push(...scn.check(run));
  return v;
}

// ---------------------------------------------------------------------------------------------
// Reporting

function wordName(i: number, cap: number): string {
  if (i < 0) return '';
  const W = runqWords(cap);
  const k = Math.floor(i / W);
  const off = i % W;
  const f =
    off === RQ.HEAD ? 'HEAD' : off === RQ.TAIL ? 'TAIL' : off === RQ.RUNNEXT ? 'RUNNEXT' : off >= RQ.RING ? `ring[${off - RQ.RING}]` : `+${off}`;
  return `q${k}.${f}`;
}

function fmtQueues(mem: Int32Array, scn: Scenario): string {
  const parts: string[] = [];
  for (let k = 0; k < scn.queues; k++) {
    const s = qstate(mem, k, scn.cap);
    parts.push(`q${k}{h=${s.head} t=${s.tail} rn=${s.runnext} [${s.ring}]}`);
  }
  return parts.join(' ');
}

function renderReport(scn: Scenario, run: RunResult): string {
  const L: string[] = [];
  L.push(`GORT_MODEL_SEED=${run.seed}  scenario="${scn.name}" strategy=${run.strategy} init=[${run.init}] steps=${run.choices.length}`);
  for (const x of run.violations) L.push(`  VIOLATION: ${x}`);
  L.push(`  threads: ${scn.threads.map((t, i) => `T${i}=${t.name}`).join(' ')}`);
  L.push(`  choices: ${run.choices.join('')}`);
  L.push(`  initial: ${fmtQueues(run.initial, scn)}`);
  const cursor = run.logs.map(() => 0);
  const opOf = (t: number, seq: number): string => {
    const o = run.ops[t]?.find((x) => x.seq === seq);
    if (o === undefined) return seq < 0 ? '' : `#${seq}`;
    switch (o.kind) {
      case 'put':
        return `put(${o.g}${o.next ? ',next' : ''})#${seq}`;
      case 'get':
        return `get()=${o.r}#${seq}`;
      case 'steal':
        return `steal(q${o.victim}→q${o.q}${o.runnext ? ',rn' : ''})=${o.r}[${o.got}]#${seq}`;
      case 'grab':
        return `grab(q${o.victim}${o.runnext ? ',rn' : ''})=${o.r}[${o.got}]#${seq}`;
      case 'size':
        return `size(q${o.q})=${o.r}#${seq}`;
    }
  };
  run.choices.forEach((t, step) => {
    const e = run.logs[t]?.[cursor[t]!++];
    if (e === undefined) return;
    const [op, i, a, b, r, seq] = e;
    if (op === 'plain') {
      L.push(`  #${String(step).padStart(3)} T${t} (plain code up to its next seam op)`);
      return;
    }
    const args = op === 'cas' || op === 'casLoad' || op === 'casStore' ? `${a}→${b}` : op === 'load' || op === 'start' ? '' : `${a}`;
    L.push(
      `  #${String(step).padStart(3)} T${t} ${op.padEnd(8)} ${wordName(i, scn.cap).padEnd(12)} ${args.padEnd(24)} = ${String(r).padEnd(11)} ${opOf(t, seq)}`,
    );
  });
  const fin = run.snapshots[run.snapshots.length - 1] ?? run.initial;
  L.push(`  final:   ${fmtQueues(fin, scn)}`);
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Exploration

export interface ExploreReport {
  runs: RunResult[];
  failures: RunResult[];
  /** Number of distinct traces (choice sequences) among the runs. */
  distinct: number;
  steps: number;
  quiescentChecks: number;
  ms: number;
  summary: string;
}

/**
 * Run `scn` once per seed. Failing runs print their report (with `GORT_MODEL_SEED=`); the
 * explored seed range is logged. Only failing runs keep their snapshots.
 */
export function explore(pool: SimPool, scn: Scenario, seeds: number[]): ExploreReport {
  const t0 = Date.now();
  const runs: RunResult[] = [];
  const failures: RunResult[] = [];
  const traces = new Set<string>();
  let steps = 0;
  let quiescentChecks = 0;
  for (const seed of seeds) {
    const r = pool.run(scn, seed);
    steps += r.choices.length;
    quiescentChecks += r.quiescentChecks;
    traces.add(r.choices.join(''));
    if (r.violations.length > 0) {
      failures.push(r);
      if (!scn.fault) console.error(r.report());
    } else {
      r.snapshots = []; // keep memory small
    }
    runs.push(r);
  }
  const ms = Date.now() - t0;
  const range = seeds.length === 1 ? `seed ${seeds[0]}` : `seeds ${seeds[0]}..${seeds[seeds.length - 1]}`;
  const summary =
    `[runq model] "${scn.name}": ${range} (${seeds.length} runs, ${traces.size} distinct interleavings, ` +
    `${steps} steps, ${quiescentChecks} exact quiescent checks, ${failures.length} failing) in ${ms} ms`;
  console.log(summary);
  return { runs, failures, distinct: traces.size, steps, quiescentChecks, ms, summary };
}
