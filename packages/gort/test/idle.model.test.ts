/**
 * Model-checks the idle/park protocol, sched/idle.ts (the built dist/sched/idle.js), with
 * test/model/sim.ts: 2–3 simulated Ms (and the main thread's pump or a producer) run the real
 * transitions under seeded interleavings (uniform, sticky, PCT), each M driven by a copy of
 * runtime/m.ts's order of them (take, spin, park: test/model/idle-sim.mjs). A thread waiting on
 * its doorbell is blocked until another thread changes it, with no timeout; a run ends at
 * quiescence, when every thread has finished or sleeps. Checked:
 *
 * - after every step: 0 ≤ NMSPINNING ≤ procs + 1, popcount(IDLE_MASK) ≤ NPIDLE ≤ procs + the
 *   wakePs between their claim and their NPIDLE − 1, WORK ≥ 0 (see stepViolations);
 * - no lost wake-up: at quiescence no G is queued (every M sleeps on a silent doorbell), no
 *   sleeping thread has a waiter on its READY list, and every pump got what it waits for;
 * - NMSPINNING never leaks: 0 at quiescence, and no M's SPINNING flag is left set;
 * - NPIDLE = popcount(IDLE_MASK) = the number of sleeping Ms at quiescence, each of them
 *   with PARKED = 1 and its own idle bit set;
 * - conservation: every G queued is run once; every waiter pushed is settled once, by its owner.
 *
 * Then the mutation tests: broken variants of the protocol (the Dekker pair of pushReady
 * reversed, idle published after the last look, the historic flag hand-over that leaked
 * NMSPINNING, wakeP keeping its count) must each give a counterexample within the budget.
 *
 *   GORT_MODEL_RUNS=2000 npx vitest run packages/gort/test/idle.model   # more seeds
 *   GORT_MODEL_SEED=17   npx vitest run packages/gort/test/idle.model   # replay one seed
 *
 * dist must be built first (npx -y pnpm@10 build).
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimPool, modelSeeds, mulberry32, runRng, type LogEntry } from './model/sim.js';
import { T, T_WORDS } from '../src/sched/threads.js';
import { W } from '../src/sched/waiter.js';

// ---------------------------------------------------------------------------------------------
// Scenarios

type GOp = { op: 'work'; n: number } | { op: 'ready'; t: number; w: number };
type IdleOp = GOp | { op: 'm'; p: number; start: 'running' | 'spinning' | 'parked'; onRun?: GOp[]; spinLooks?: number } | { op: 'pump'; expect: number };

interface IdleThread {
  name: string;
  /** Runtime thread index: 0 main, p + 1 for P p's M. */
  thread: number;
  script: IdleOp[];
}

type Mutation = 'ringBeforePush' | 'lookBeforePublish' | 'flagHandover' | 'noGiveBack';

interface IdleScenario {
  name: string;
  procs: number;
  threads: IdleThread[];
  /** Gs queued before the run. */
  work?: number;
  mutation?: Mutation;
}

type IdleRecord =
  | { kind: 'work'; n: number }
  | { kind: 'push'; t: number; w: number }
  | { kind: 'settle'; t: number; ws: number[] }
  | { kind: 'run' }
  | { kind: 'spin' }
  | { kind: 'unspin'; last: boolean; more: boolean }
  | { kind: 'park'; found: boolean }
  | { kind: 'woke'; found: boolean; claimed: boolean };

// The model's memory: a compact layout of its own (the transitions take it as parameters).
const NMSPINNING = 0;
const NPIDLE = 1;
const WORK = 2;
const IDLE_MASK = 3;
const THREADS = 16;
/** Thread records: main and up to 3 Ms. The waiters come after them, whatever a record's size. */
const MAX_THREADS = 4;
const WAITERS = THREADS + MAX_THREADS * T_WORDS;
const WAITER_WORDS = 4;
const MAX_WAITERS = 16;
const MEM_WORDS = WAITERS + MAX_WAITERS * WAITER_WORDS;

const tw = (t: number): number => THREADS + t * T_WORDS;
/** Handle (byte offset) of fake waiter k ≥ 1. */
const waiter = (k: number): number => (WAITERS + (k - 1) * WAITER_WORDS) * 4;
const waiterNo = (h: number): number => (h / 4 - WAITERS) / WAITER_WORDS + 1;
const popcount = (x: number): number => {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
};

function mThreads(scn: IdleScenario): number[] {
  return scn.threads.filter((th) => th.script.some((o) => o.op === 'm')).map((th) => th.thread);
}

function validate(scn: IdleScenario): void {
  const seen = new Set<number>();
  for (const th of scn.threads) {
    if (seen.has(th.thread)) throw new Error(`${scn.name}: thread ${th.thread} twice`);
    seen.add(th.thread);
    if (th.thread > scn.procs) throw new Error(`${scn.name}: thread ${th.thread} > procs ${scn.procs}`);
    if (th.thread >= MAX_THREADS) throw new Error(`${scn.name}: thread ${th.thread}: the model's memory holds ${MAX_THREADS} thread records`);
    th.script.forEach((o, i) => {
      if (o.op === 'm' && (o.p + 1 !== th.thread || i !== th.script.length - 1)) throw new Error(`${scn.name}: ${th.name}: 'm' must be P thread-1's, and last`);
      if (o.op === 'pump' && i !== th.script.length - 1) throw new Error(`${scn.name}: ${th.name}: 'pump' must be last`);
    });
  }
  const ws = new Set<number>();
  const addW = (o: GOp, from: number): void => {
    if (o.op !== 'ready') return;
    if (ws.has(o.w) || o.w < 1 || o.w > MAX_WAITERS) throw new Error(`${scn.name}: waiter ${o.w} reused or out of range`);
    if (o.t === from) throw new Error(`${scn.name}: thread ${from} pushes on its own READY list`);
    ws.add(o.w);
  };
  for (const th of scn.threads)
    for (const o of th.script) {
      if (o.op === 'm') for (const g of o.onRun ?? []) addW(g, th.thread);
      else if (o.op !== 'pump') addW(o, th.thread);
    }
}

// ---------------------------------------------------------------------------------------------
// One run and its checks

interface IdleRun {
  scenario: IdleScenario;
  seed: number;
  strategy: string;
  choices: number[];
  initial: Int32Array;
  final: Int32Array;
  logs: LogEntry[][];
  ops: IdleRecord[][];
  blocked: boolean[];
  violations: string[];
  report: () => string;
}

function runIdle(pool: SimPool, scn: IdleScenario, seed: number): IdleRun {
  validate(scn);
  const rng = runRng(scn.name, seed);
  const strategyKind = Math.floor(rng() * 3);
  const mem = new Int32Array(new SharedArrayBuffer(MEM_WORDS * 4));
  mem[WORK] = scn.work ?? 0;
  for (const th of scn.threads) {
    const m = th.script.find((o) => o.op === 'm');
    if (m?.op !== 'm') continue;
    if (m.start === 'spinning') {
      mem[NMSPINNING]!++;
      mem[tw(th.thread) + T.SPINNING] = 1;
    } else if (m.start === 'parked') {
      mem[tw(th.thread) + T.PARKED] = 1;
      mem[NPIDLE]!++;
      mem[IDLE_MASK + (m.p >> 5)]! |= 1 << (m.p & 31);
    }
  }
  const layout = { procs: scn.procs, nmspinning: NMSPINNING, npidle: NPIDLE, idleMask: IDLE_MASK, threads: THREADS, work: WORK };
  const raw = pool.runRaw<IdleRecord>({
    name: scn.name,
    seed,
    mem,
    rng,
    strategyKind,
    messages: scn.threads.map((th) => ({
      kind: 'idle',
      layout,
      thread: th.thread,
      mutation: scn.mutation ?? null,
      script: th.script.map((o) => (o.op === 'ready' ? { ...o, w: waiter(o.w) } : o.op === 'm' ? { ...o, onRun: (o.onRun ?? []).map((g) => (g.op === 'ready' ? { ...g, w: waiter(g.w) } : g)) } : o)),
    })),
  });
  const steps = stepViolations(scn, raw.choices, raw.results.map((r) => r.log), raw.snapshots);
  const run: IdleRun = {
    scenario: scn,
    seed,
    strategy: raw.strategy,
    choices: raw.choices,
    initial: raw.initial,
    final: mem.slice(),
    logs: raw.results.map((r) => r.log),
    ops: raw.results.map((r) => r.ops),
    blocked: raw.results.map((r) => r.blocked === true),
    violations: [],
    report: () => '',
  };
  run.violations = [...steps, ...raw.results.flatMap((r, i) => (r.error !== null ? [`${scn.threads[i]!.name} threw: ${r.error}`] : [])), ...check(run)];
  run.report = () => renderReport(run);
  return run;
}

/**
 * The bounds that hold after every step. NMSPINNING ≤ procs + 1: each M counts once at most,
 * plus the count a wakeP holds from its CAS to its claim or give-back (its CAS needs 0, so
 * one such count at a time). popcount(IDLE_MASK) ≤ NPIDLE ≤ procs + the wakePs between their
 * claiming `and` and their `sub` of NPIDLE: the claimed M may wake for another reason and go
 * idle again (+1) before its claimer's −1.
 */
function stepViolations(scn: IdleScenario, choices: number[], logs: LogEntry[][], snapshots: Int32Array[]): string[] {
  const v: string[] = [];
  const cursor = logs.map(() => 0);
  const claiming = new Set<number>();
  choices.forEach((t, step) => {
    const e = logs[t]?.[cursor[t]!++];
    if (e !== undefined && e[1] === IDLE_MASK && e[0] === 'and') {
      const bit = ~e[2];
      const th = scn.threads[t]!.thread;
      if ((e[4] & bit) !== 0 && (th === 0 || bit !== 1 << (th - 1))) claiming.add(t); // wakeP cleared another P's bit
    }
    if (e !== undefined && e[1] === NPIDLE && e[0] === 'sub') claiming.delete(t);
    const s = snapshots[step]!;
    const nsp = s[NMSPINNING]!;
    const npi = s[NPIDLE]!;
    const bits = popcount(s[IDLE_MASK]!);
    if (v.length >= 5) return;
    if (nsp < 0 || nsp > scn.procs + 1) v.push(`after step ${step}: NMSPINNING = ${nsp}, outside [0, procs + 1 = ${scn.procs + 1}]`);
    if (bits > npi || npi > scn.procs + claiming.size)
      v.push(`after step ${step}: popcount(IDLE_MASK) = ${bits}, NPIDLE = ${npi}: want popcount ≤ NPIDLE ≤ procs + claims in flight = ${scn.procs + claiming.size}`);
    if (s[WORK]! < 0) v.push(`after step ${step}: WORK = ${s[WORK]}`);
  });
  return v;
}

function check(run: IdleRun): string[] {
  const scn = run.scenario;
  const v: string[] = [];
  const m = run.final;
  const ms = new Set(mThreads(scn));
  const sleeping = scn.threads.filter((_, i) => run.blocked[i]).map((th) => th.thread);
  scn.threads.forEach((th, i) => {
    if (ms.has(th.thread) && !run.blocked[i]) v.push(`internal: ${th.name} left its schedule loop`);
    if (!ms.has(th.thread) && run.blocked[i]) v.push(`lost wake-up: ${th.name} sleeps on its doorbell for good (its pump waits for more)`);
  });
  if (m[WORK]! > 0) v.push(`lost wake-up: ${m[WORK]} G(s) queued, every M asleep on a silent doorbell`);
  for (const t of sleeping) {
    if (m[tw(t) + T.READY] !== 0) v.push(`lost wake-up: thread ${t} sleeps with waiter w${waiterNo(m[tw(t) + T.READY]!)} on its READY list`);
  }
  // Spinning.
  if (m[NMSPINNING] !== 0) v.push(`NMSPINNING leaked: ${m[NMSPINNING]} at quiescence, every M asleep`);
  for (const t of ms) if (m[tw(t) + T.SPINNING] !== 0) v.push(`M${t} sleeps with its SPINNING flag set`);
  // Idle set.
  const bits = popcount(m[IDLE_MASK]!);
  if (m[NPIDLE] !== bits) v.push(`NPIDLE = ${m[NPIDLE]} but popcount(IDLE_MASK) = ${bits} at quiescence`);
  if (bits !== ms.size) v.push(`${bits} idle bit(s) at quiescence, ${ms.size} M(s) asleep`);
  for (const t of ms) {
    if ((m[IDLE_MASK]! & (1 << (t - 1))) === 0) v.push(`M${t} sleeps without its idle bit`);
    if (m[tw(t) + T.PARKED] !== 1) v.push(`M${t} sleeps with PARKED = ${m[tw(t) + T.PARKED]}`);
  }
  // Conservation.
  const all = run.ops.flat();
  const queued = (scn.work ?? 0) + all.reduce((s, o) => s + (o.kind === 'work' ? o.n : 0), 0);
  const ran = all.filter((o) => o.kind === 'run').length;
  if (ran + m[WORK]! !== queued) v.push(`conservation: ${queued} G(s) queued, ${ran} run, ${m[WORK]} left`);
  const pushed = new Map<number, number>();
  for (const o of all) if (o.kind === 'push') pushed.set(o.w, o.t);
  const settled = new Map<number, number>();
  run.ops.forEach((ops, i) => {
    for (const o of ops)
      if (o.kind === 'settle')
        for (const w of o.ws) {
          if (settled.has(w)) v.push(`waiter w${waiterNo(w)} settled twice`);
          settled.set(w, scn.threads[i]!.thread);
        }
  });
  for (const [w, t] of pushed) {
    const by = settled.get(w);
    const listed = readyList(m, t).includes(w);
    if (by === undefined && !listed) v.push(`waiter w${waiterNo(w)} pushed for thread ${t} was lost`);
    if (by !== undefined && by !== t) v.push(`waiter w${waiterNo(w)} for thread ${t} settled by thread ${by}`);
  }
  for (const w of settled.keys()) if (!pushed.has(w)) v.push(`waiter w${waiterNo(w)} settled but never pushed`);
  return v;
}

/** Thread t's READY list in memory m, newest first. */
function readyList(m: Int32Array, t: number): number[] {
  const out: number[] = [];
  for (let w = m[tw(t) + T.READY]!; w !== 0 && out.length <= MAX_WAITERS; w = m[(w >> 2) + W.LINK]!) out.push(w);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reporting

function wordName(i: number): string {
  if (i < 0) return '';
  if (i === NMSPINNING) return 'NMSPINNING';
  if (i === NPIDLE) return 'NPIDLE';
  if (i === WORK) return 'WORK';
  if (i === IDLE_MASK) return 'IDLE_MASK';
  if (i >= THREADS && i < WAITERS) {
    const t = Math.floor((i - THREADS) / T_WORDS);
    const f = Object.entries(T).find(([, o]) => o === (i - THREADS) % T_WORDS)?.[0] ?? `+${(i - THREADS) % T_WORDS}`;
    return `t${t}.${f}`;
  }
  if (i >= WAITERS) return `w${Math.floor((i - WAITERS) / WAITER_WORDS) + 1}+${(i - WAITERS) % WAITER_WORDS}`;
  return `[${i}]`;
}

function fmtState(m: Int32Array, scn: IdleScenario): string {
  const parts = [
    `NMSPINNING=${m[NMSPINNING]}`,
    `NPIDLE=${m[NPIDLE]}`,
    `IDLE_MASK=${(m[IDLE_MASK]! >>> 0).toString(2)}`,
    `WORK=${m[WORK]}`,
  ];
  for (let t = 0; t <= scn.procs; t++) {
    const b = tw(t);
    parts.push(`t${t}{bell=${m[b + T.DOORBELL]} parked=${m[b + T.PARKED]} spin=${m[b + T.SPINNING]} ready=[${readyList(m, t).map((w) => `w${waiterNo(w)}`)}]}`);
  }
  return parts.join(' ');
}

function renderReport(run: IdleRun): string {
  const scn = run.scenario;
  const L: string[] = [];
  L.push(`GORT_MODEL_SEED=${run.seed}  scenario="${scn.name}" strategy=${run.strategy} steps=${run.choices.length}${scn.mutation ? ` mutation=${scn.mutation}` : ''}`);
  for (const x of run.violations) L.push(`  VIOLATION: ${x}`);
  L.push(`  threads: ${scn.threads.map((t, i) => `T${i}=${t.name}(thread ${t.thread})`).join(' ')}`);
  L.push(`  choices: ${run.choices.join('')}`);
  L.push(`  initial: ${fmtState(run.initial, scn)}`);
  const cursor = run.logs.map(() => 0);
  run.choices.forEach((t, step) => {
    const e = run.logs[t]?.[cursor[t]!++];
    if (e === undefined) return;
    const [op, i, a, b, r] = e;
    if (op === 'plain') return; // plain code between two seam operations: shown by the ops around it
    const args = op === 'cas' ? `${a}→${b}` : op === 'load' || op === 'start' ? '' : `${a}`;
    L.push(`  #${String(step).padStart(3)} T${t} ${op.padEnd(7)} ${wordName(i).padEnd(13)} ${args.padEnd(12)} = ${r}`);
  });
  L.push(`  final:   ${fmtState(run.final, scn)}`);
  L.push(`  blocked at the end: ${scn.threads.filter((_, i) => run.blocked[i]).map((t) => t.name).join(', ') || 'none'}`);
  return L.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Exploration

interface Explored {
  runs: IdleRun[];
  failures: IdleRun[];
  distinct: number;
}

/**
 * Run scn once per seed (or, with `untilFailure`, until the first failing seed). Runs block
 * this thread (Atomics.wait on the simulated threads): every 50 runs the event loop gets a
 * turn, so that vitest's own messages are answered in long explorations (GORT_MODEL_RUNS).
 */
async function exploreIdle(pool: SimPool, scn: IdleScenario, seedList: number[], untilFailure = false): Promise<Explored> {
  const t0 = Date.now();
  const runs: IdleRun[] = [];
  const failures: IdleRun[] = [];
  const traces = new Set<string>();
  let steps = 0;
  for (const seed of seedList) {
    if (runs.length % 50 === 49) await new Promise((r) => setImmediate(r));
    const r = runIdle(pool, scn, seed);
    runs.push(r);
    steps += r.choices.length;
    traces.add(r.choices.join(''));
    if (r.violations.length > 0) {
      failures.push(r);
      if (untilFailure) break;
      console.error(r.report());
    }
  }
  const range = runs.length === 1 ? `seed ${runs[0]!.seed}` : `seeds ${runs[0]!.seed}..${runs[runs.length - 1]!.seed}`;
  console.log(
    `[idle model] "${scn.name}": ${range} (${runs.length} runs, ${traces.size} distinct interleavings, ${steps} steps, ${failures.length} failing) in ${Date.now() - t0} ms`,
  );
  return { runs, failures, distinct: traces.size };
}

// ---------------------------------------------------------------------------------------------
// The scenarios

const M = (p: number, start: 'running' | 'spinning' | 'parked', onRun: GOp[] = [], before: IdleOp[] = []): IdleThread => ({
  name: `M${p + 1}`,
  thread: p + 1,
  script: [...before, { op: 'm', p, start, onRun }],
});

/**
 * An M parks while another makes work and calls wakeP: M2 runs one long goroutine that
 * spawns twice (it never comes back to take the Gs itself).
 */
const parkVsWakeP: IdleScenario = {
  name: 'an M parks while a busy M queues Gs and calls wakeP',
  procs: 2,
  threads: [M(0, 'running'), { name: 'M2 (busy)', thread: 2, script: [{ op: 'work', n: 1 }, { op: 'work', n: 1 }] }],
};

/**
 * Two Ms go idle while main queues Gs one by one and completes waiters for them: wake-ups for
 * READY and last looks that find a G race wakeP's claims.
 */
const mainWakesTwo: IdleScenario = {
  name: 'two Ms go idle while main queues Gs and completes their waiters',
  procs: 2,
  threads: [
    {
      name: 'main',
      thread: 0,
      script: [
        { op: 'work', n: 1 },
        { op: 'ready', t: 1, w: 1 },
        { op: 'work', n: 1 },
        { op: 'ready', t: 2, w: 2 },
        { op: 'work', n: 1 },
        { op: 'ready', t: 1, w: 3 },
        { op: 'work', n: 1 },
      ],
    },
    M(0, 'running'),
    M(1, 'running'),
  ],
};

/** One M goes idle again and again while main queues Gs one by one: its last look races wakeP. */
const lastLookVsWakeP: IdleScenario = {
  name: "an M's last look races main's wakeP",
  procs: 1,
  threads: [{ name: 'main', thread: 0, script: [{ op: 'work', n: 1 }, { op: 'work', n: 1 }, { op: 'work', n: 1 }] }, M(0, 'running')],
};

/** The main thread queues Gs for three Ms, two of them asleep. */
const mainWakesThree: IdleScenario = {
  name: 'main queues Gs while two of three Ms sleep and one runs',
  procs: 3,
  threads: [
    { name: 'main', thread: 0, script: [{ op: 'work', n: 1 }, { op: 'work', n: 2 }] },
    M(0, 'parked'),
    M(1, 'parked'),
    M(2, 'running', [{ op: 'work', n: 1 }]),
  ],
};

/** A spinning M finds work and leaves spinning: the last spinner wakes another P for more. */
const spinnerFindsWork: IdleScenario = {
  name: 'a spinning M finds work and leaves spinning',
  procs: 3,
  threads: [M(0, 'spinning'), M(1, 'parked'), M(2, 'running', [{ op: 'work', n: 2 }], [{ op: 'work', n: 1 }])],
};

/** READY pushes race their owner M's park. */
const readyVsPark: IdleScenario = {
  name: "READY pushes race the owner M's park",
  procs: 2,
  work: 1,
  threads: [
    { name: 'main', thread: 0, script: [{ op: 'ready', t: 1, w: 3 }, { op: 'ready', t: 2, w: 4 }] },
    M(0, 'running'),
    M(1, 'running', [{ op: 'ready', t: 1, w: 2 }], [{ op: 'ready', t: 1, w: 1 }]),
  ],
};

/** Completions for main race its pump's park; the Ms park too. */
const readyVsPump: IdleScenario = {
  name: "completions for main race its pump's park",
  procs: 2,
  threads: [
    { name: 'main pump', thread: 0, script: [{ op: 'work', n: 2 }, { op: 'pump', expect: 2 }] },
    M(0, 'running', [], [{ op: 'ready', t: 0, w: 1 }]),
    M(1, 'running', [{ op: 'ready', t: 1, w: 3 }], [{ op: 'ready', t: 0, w: 2 }]),
  ],
};

/** A fresh scenario per seed: 2 or 3 Ps, random starts, Gs that queue Gs or complete waiters. */
function randomScenario(seed: number): IdleScenario {
  const rng = mulberry32(seed * 7919 + 29);
  const ri = (n: number): number => Math.floor(rng() * n);
  const procs = 2 + ri(2);
  let nextW = 1;
  const others = (t: number): number => {
    const c = 1 + ri(procs);
    return c === t ? (c % procs) + 1 : c;
  };
  const gop = (t: number): GOp => (rng() < 0.6 ? { op: 'work', n: 1 + ri(2) } : { op: 'ready', t: others(t), w: nextW++ });
  const threads: IdleThread[] = [];
  const mainPushes: IdleOp[] = [];
  for (let p = 0; p < procs; p++) {
    const start = (['running', 'spinning', 'parked'] as const)[ri(3)]!;
    const onRun = Array.from({ length: ri(3) }, () => gop(p + 1));
    const before: IdleOp[] = start === 'parked' ? [] : Array.from({ length: ri(2) }, () => gop(p + 1));
    if (start !== 'parked' && rng() < 0.4) before.push({ op: 'ready', t: 0, w: nextW++ }); // for main's pump
    threads.push(M(p, start, onRun, before));
  }
  const forMain = threads.flatMap((th) => th.script.filter((o) => o.op === 'ready' && o.t === 0)).length;
  for (let k = ri(3); k > 0; k--) mainPushes.push(rng() < 0.5 ? { op: 'work', n: 1 } : { op: 'ready', t: 1 + ri(procs), w: nextW++ });
  if (forMain > 0) mainPushes.push({ op: 'pump', expect: forMain });
  if (mainPushes.length > 0) threads.unshift({ name: forMain > 0 ? 'main pump' : 'main', thread: 0, script: mainPushes });
  // Gs queued at the start need an M that is not asleep (else nobody was told of them).
  const awake = threads.some((th) => th.script.some((o) => o.op === 'm' && o.start !== 'parked'));
  return { name: 'random scripts', procs, work: awake ? ri(2) : 0, threads };
}

// ---------------------------------------------------------------------------------------------

const { seeds, replay } = modelSeeds(100);
const coverage = !replay && seeds.length >= 100;
const distIdle = new URL('../dist/sched/idle.js', import.meta.url);
let pool: SimPool;

beforeAll(async () => {
  if (!existsSync(distIdle)) throw new Error(`${distIdle.pathname} is missing: build dist first (npx -y pnpm@10 build)`);
  pool = await SimPool.create(4);
});

afterAll(async () => {
  await pool?.close();
});

function expectAllPass(rep: Explored): void {
  expect(rep.runs.length).toBe(seeds.length);
  for (const r of rep.runs) expect(r.violations, r.violations.length > 0 ? r.report() : `GORT_MODEL_SEED=${r.seed}`).toEqual([]);
}

const anyOp = (rep: Explored, f: (o: IdleRecord) => boolean): boolean => rep.runs.some((r) => r.ops.flat().some(f));

/** Seeds for the mutation tests: fixed, independent of GORT_MODEL_RUNS. */
const MUTANT_SEEDS = Array.from({ length: 1000 }, (_, i) => i + 1);

describe(`idle/park protocol model (${replay ? `replaying seed ${seeds[0]}` : `${seeds.length} seeds per scenario`})`, () => {
  it(parkVsWakeP.name, async () => {
    const rep = await exploreIdle(pool, parkVsWakeP, seeds);
    expectAllPass(rep);
    if (coverage) {
      expect(rep.distinct).toBeGreaterThan(Math.min(seeds.length, 100) / 2); // the seeds really vary the schedule
      expect(anyOp(rep, (o) => o.kind === 'woke' && o.claimed)).toBe(true); // wakeP handed over spinning
      expect(anyOp(rep, (o) => o.kind === 'park' && o.found)).toBe(true); // the last look found work
      expect(anyOp(rep, (o) => o.kind === 'park' && !o.found)).toBe(true);
    }
  });

  it(mainWakesTwo.name, async () => {
    const rep = await exploreIdle(pool, mainWakesTwo, seeds);
    expectAllPass(rep);
    if (coverage) {
      expect(anyOp(rep, (o) => o.kind === 'woke' && o.claimed && o.found)).toBe(true); // claimed during its last look
      expect(anyOp(rep, (o) => o.kind === 'woke' && !o.claimed && o.found)).toBe(true);
    }
  });

  it(lastLookVsWakeP.name, async () => {
    const rep = await exploreIdle(pool, lastLookVsWakeP, seeds);
    expectAllPass(rep);
    if (coverage) {
      expect(anyOp(rep, (o) => o.kind === 'park' && o.found)).toBe(true);
      expect(anyOp(rep, (o) => o.kind === 'woke' && o.claimed)).toBe(true);
    }
  });

  it(mainWakesThree.name, async () => {
    const rep = await exploreIdle(pool, mainWakesThree, seeds);
    expectAllPass(rep);
    if (coverage) expect(anyOp(rep, (o) => o.kind === 'woke' && o.claimed)).toBe(true);
  });

  it(spinnerFindsWork.name, async () => {
    const rep = await exploreIdle(pool, spinnerFindsWork, seeds);
    expectAllPass(rep);
    if (coverage) {
      expect(anyOp(rep, (o) => o.kind === 'unspin' && o.last && o.more)).toBe(true); // from spinning: must wake
      expect(anyOp(rep, (o) => o.kind === 'unspin' && !o.last)).toBe(true); // two spinners at once
    }
  });

  it(readyVsPark.name, async () => {
    const rep = await exploreIdle(pool, readyVsPark, seeds);
    expectAllPass(rep);
    if (coverage) expect(anyOp(rep, (o) => o.kind === 'woke' && !o.found && !o.claimed)).toBe(true); // rung for READY
  });

  it(readyVsPump.name, async () => {
    expectAllPass(await exploreIdle(pool, readyVsPump, seeds));
  });

  it('random scripts (a fresh scenario per seed)', async () => {
    const t0 = Date.now();
    let steps = 0;
    for (const seed of seeds) {
      if (seed % 50 === 0) await new Promise((r) => setImmediate(r));
      const r = runIdle(pool, randomScenario(seed), seed);
      steps += r.choices.length;
      expect(r.violations, r.violations.length > 0 ? r.report() : `GORT_MODEL_SEED=${seed}`).toEqual([]);
    }
    console.log(`[idle model] "random scripts": seeds ${seeds[0]}..${seeds[seeds.length - 1]} (${seeds.length} runs, ${steps} steps) in ${Date.now() - t0} ms`);
  });

  it('replays a seed exactly (same trace, same per-step log)', () => {
    for (const seed of seeds.slice(0, 5)) {
      const a = runIdle(pool, mainWakesThree, seed);
      const b = runIdle(pool, mainWakesThree, seed);
      expect(b.choices, `GORT_MODEL_SEED=${seed}`).toEqual(a.choices);
      expect(b.logs, `GORT_MODEL_SEED=${seed}`).toEqual(a.logs);
    }
  });

  describe.skipIf(replay)('mutation tests: a broken protocol gives a counterexample', () => {
    const cases: Array<[Mutation, IdleScenario, RegExp]> = [
      ['ringBeforePush', readyVsPark, /lost wake-up: thread \d sleeps with waiter/],
      ['lookBeforePublish', parkVsWakeP, /lost wake-up: \d G\(s\) queued/],
      ['flagHandover', mainWakesTwo, /NMSPINNING leaked/],
      ['noGiveBack', mainWakesTwo, /NMSPINNING leaked/],
    ];
    for (const [mutation, base, want] of cases) {
      it(`${mutation} (on "${base.name}")`, async () => {
        const rep = await exploreIdle(pool, { ...base, name: `${base.name} [${mutation}]`, mutation }, MUTANT_SEEDS, true);
        expect(rep.failures.length, `no seed of ${MUTANT_SEEDS.length} found the ${mutation} bug`).toBeGreaterThan(0);
        const f = rep.failures[0]!;
        expect(f.violations.join('\n')).toMatch(want);
        expect(f.report()).toContain(`GORT_MODEL_SEED=${f.seed}`);
        console.log(`[idle model] mutation ${mutation}: seed ${f.seed} is a counterexample:\n${f.report()}`);
      });
    }
  });
});
