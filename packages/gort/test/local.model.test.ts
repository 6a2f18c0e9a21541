/**
 * Model check of the protocol that shares a thread-local channel (src/chan/local.ts): every
 * interleaving of one or two requesters with the owner is explored, exhaustively, and each
 * run's end state is checked. This is a model of the protocol's atomic steps (the real code
 * calls Atomics on a SharedArrayBuffer that a test cannot suspend between two statements);
 * the real code runs on real threads in chan.local.test.ts.
 *
 * Steps, each one atomic (one Atomics operation in the code):
 *   requester: push its record on the owner's CONVREQ stack (CAS loop: atomic as a whole);
 *              load OWNER; if 0, CAS STATE PENDING→ABANDONED and, if that won, stop (the
 *              owner frees the record); else wait until STATE is neither PENDING nor CLAIMED,
 *              then free the record.
 *   owner:     runs a script of `share` (toShared: OWNER = 0) and `serve` (exchange the stack;
 *              per record: if OWNER ≠ 0 share; CAS STATE PENDING→CLAIMED, then store OK, or,
 *              if the CAS lost, free the record) and ends either running (it serves again
 *              forever: the M loop) or blocked (M.beforeBlock: share, serve, then nothing).
 *
 * Close requests (requestClose) are explored too, and they stand for free requests (freeChan's
 * FREE_REQ), whose steps are the same: the requester claims CLOSED, pushes, and does not wait;
 * if it then finds the channel shared it tries to abandon the record and, if that wins, wakes
 * the waiters itself (a free request: frees the channel itself). Such a record has two
 * holders, the requester and the owner, and the second to let go of it frees it: the owner
 * may serve it and be done before the requester's abandon step runs. Checked: exactly one of
 * the two wakes the waiters.
 *
 * Checked at the end of every interleaving: no requester waits forever; every record is
 * freed exactly once (an abandoned one left on a blocked owner's stack counts: the owner's
 * next serve frees it), and never read or written by either side after it was freed (a
 * freed record's block is at once another record: a CAS on it writes into that one); a
 * requester that saw STATE OK saw the channel shared.
 *
 * On failure the message prints the interleaving (the sequence of thread choices) and its
 * step log: GORT_MODEL_TRACE=<that sequence> replays exactly it.
 */
import { describe, it, expect } from 'vitest';

type OwnerOp = 'share' | 'serve';
interface Scenario {
  name: string;
  /** false: requesters never give up (a broken protocol the checker must catch) */
  abandon?: boolean;
  /**
   * false: the owner frees a close request it served at once, as the code did before the
   * holder count (a broken protocol: the requester's abandon step then touches a freed record)
   */
  holders?: boolean;
  /** the requests are closes (requestClose): the requester does not wait for them */
  close?: boolean;
  requesters: number;
  ownerScript: OwnerOp[];
  ownerEnd: 'running' | 'blocked';
}

const PENDING = 0;
const CLAIMED = 1;
const OK = 2;
const ABANDONED = 3;

interface Rec {
  state: number;
  frees: number;
  /** close requests: holders left (requester and owner); the one that takes it to 0 frees */
  holders: number;
  writesAfterFree: number;
  /** close requests: how many times its waiters were woken as closed (owner or requester) */
  closes: number;
}

interface World {
  owner: number; // 1: local, 0: shared
  stack: number[];
  recs: Rec[];
  log: string[];
  /** a requester that observed OK while OWNER was still local (must never happen) */
  okWhileLocal: number;
}

/** A thread: a generator yielding before each atomic step; `blocked()` says it cannot step now. */
interface Thread {
  name: string;
  gen: Generator<void, void, void>;
  done: boolean;
  waitingOn: (() => boolean) | null;
}

/** One holder of a close request lets go of it; the last one frees it. */
function letGo(w: World, id: number, who: string): void {
  const rec = w.recs[id]!;
  if (rec.frees > 0) rec.writesAfterFree++;
  if (--rec.holders === 0) {
    rec.frees++;
    w.log.push(`${who}: let go of r${id}, free`);
  } else w.log.push(`${who}: let go of r${id}`);
}

function requester(w: World, id: number, t: Thread, abandon: boolean, close: boolean): Generator<void, void, void> {
  return (function* () {
    if (close) {
      yield;
      w.stack.push(id);
      w.log.push(`r${id}: push close`);
      yield;
      const o = w.owner;
      w.log.push(`r${id}: OWNER=${o}`);
      if (o === 0) {
        yield;
        const rec = w.recs[id]!;
        if (rec.frees > 0) rec.writesAfterFree++;
        if (rec.state === PENDING) {
          rec.state = ABANDONED;
          rec.closes++;
          w.log.push(`r${id}: abandon, close it here`);
        } else w.log.push(`r${id}: abandon lost (${rec.state})`);
      }
      yield;
      letGo(w, id, `r${id}`);
      return;
    }
    yield;
    w.stack.push(id);
    w.log.push(`r${id}: push`);
    yield;
    const o = w.owner;
    w.log.push(`r${id}: OWNER=${o}`);
    if (o === 0 && abandon) {
      yield;
      const rec = w.recs[id]!;
      if (rec.frees > 0) rec.writesAfterFree++;
      if (rec.state === PENDING) {
        rec.state = ABANDONED;
        w.log.push(`r${id}: abandon`);
        return;
      }
      w.log.push(`r${id}: abandon lost (${rec.state})`);
    }
    t.waitingOn = () => w.recs[id]!.state !== PENDING && w.recs[id]!.state !== CLAIMED;
    yield;
    t.waitingOn = null;
    if (w.recs[id]!.state === OK && w.owner !== 0) w.okWhileLocal++;
    w.log.push(`r${id}: woke (${w.recs[id]!.state}), free`);
    w.recs[id]!.frees++;
  })();
}

function* serve(w: World, who: string): Generator<void, void, void> {
  yield;
  const taken = w.stack.splice(0);
  w.log.push(`${who}: take [${taken.join(',')}]`);
  for (const id of taken) {
    if (w.owner !== 0) {
      yield;
      w.owner = 0;
      w.log.push(`${who}: share (for r${id})`);
    }
    yield;
    const rec = w.recs[id]!;
    if (rec.frees > 0) rec.writesAfterFree++;
    if (rec.state === PENDING && closeMode) {
      rec.state = CLAIMED;
      rec.closes++;
      w.log.push(`${who}: claim r${id}, close`);
      if (holdersMode) letGo(w, id, who);
      else {
        rec.frees++;
        w.log.push(`${who}: free r${id}`);
      }
    } else if (closeMode) {
      w.log.push(`${who}: r${id} abandoned`);
      letGo(w, id, who);
    } else if (rec.state === PENDING) {
      rec.state = CLAIMED;
      w.log.push(`${who}: claim r${id}`);
      yield;
      if (rec.frees > 0) rec.writesAfterFree++;
      rec.state = OK;
      w.log.push(`${who}: complete r${id}`);
    } else {
      w.log.push(`${who}: r${id} abandoned, free`);
      rec.frees++;
    }
  }
}

function owner(w: World, sc: Scenario, t: Thread): Generator<void, void, void> {
  return (function* () {
    for (const op of sc.ownerScript) {
      if (op === 'share') {
        yield;
        w.owner = 0;
        w.log.push('owner: share');
      } else yield* serve(w, 'owner');
    }
    if (sc.ownerEnd === 'blocked') {
      yield;
      w.owner = 0;
      w.log.push('owner: beforeBlock share');
      yield* serve(w, 'owner(beforeBlock)');
      return;
    }
    // Running: the M loop serves whenever requests are pending (workVisible), until none can come.
    for (;;) {
      t.waitingOn = () => w.stack.length > 0 || allRequestersDone();
      yield;
      t.waitingOn = null;
      if (w.stack.length === 0) return;
      yield* serve(w, 'owner(loop)');
    }
  })();
  function allRequestersDone(): boolean {
    return threadsRef.filter((x) => x.name.startsWith('r')).every((x) => x.done);
  }
}
let threadsRef: Thread[] = [];
let closeMode = false;
let holdersMode = true;

/** Run one interleaving; `choose(n)` picks which of n runnable threads steps. */
function runOnce(sc: Scenario, choose: (n: number) => number): { world: World; deadlock: boolean } {
  const w: World = { owner: 1, stack: [], recs: [], log: [], okWhileLocal: 0 };
  closeMode = sc.close === true;
  holdersMode = sc.holders !== false;
  const threads: Thread[] = [];
  threadsRef = threads;
  for (let i = 0; i < sc.requesters; i++) {
    w.recs.push({ state: PENDING, frees: 0, holders: sc.close === true && sc.holders !== false ? 2 : 1, writesAfterFree: 0, closes: 0 });
    const t: Thread = { name: `r${i}`, gen: null as never, done: false, waitingOn: null };
    t.gen = requester(w, i, t, sc.abandon !== false, sc.close === true);
    threads.push(t);
  }
  const o: Thread = { name: 'owner', gen: null as never, done: false, waitingOn: null };
  o.gen = owner(w, sc, o);
  threads.push(o);
  for (const t of threads) t.gen.next(); // to the first yield
  for (;;) {
    const runnable = threads.filter((t) => !t.done && (t.waitingOn === null || t.waitingOn()));
    if (runnable.length === 0) break;
    const t = runnable[choose(runnable.length)]!;
    if (t.gen.next().done) t.done = true;
  }
  return { world: w, deadlock: threads.some((t) => !t.done && t.name !== 'owner') };
}

/** Every interleaving, depth-first over the choice sequences. */
function explore(sc: Scenario, replay?: number[]): { runs: number; failures: string[] } {
  const failures: string[] = [];
  let runs = 0;
  const stack: Array<{ choices: number[] }> = [{ choices: replay ?? [] }];
  while (stack.length > 0) {
    const { choices } = stack.pop()!;
    const taken: number[] = [];
    const widths: number[] = [];
    const { world, deadlock } = runOnce(sc, (n) => {
      const k = taken.length < choices.length ? choices[taken.length]! : 0;
      taken.push(k);
      widths.push(n);
      return k;
    });
    runs++;
    const bad: string[] = [];
    if (deadlock) bad.push('a requester waits forever');
    for (let i = 0; i < world.recs.length; i++) {
      const r = world.recs[i]!;
      // An abandoned record still on the stack of a blocked owner is freed by its next serve,
      // once it unblocks (or the heap goes at shutdown): it counts as freed by the owner.
      const later = world.stack.includes(i) && r.state === ABANDONED && r.holders <= 1 ? 1 : 0;
      if (r.frees + later !== 1) bad.push(`record r${i} freed ${r.frees} times (+${later} pending)`);
      if (r.writesAfterFree !== 0) bad.push(`record r${i} touched after free`);
      if (sc.close === true && r.closes !== 1) bad.push(`close r${i} woke the waiters ${r.closes} times`);
    }
    if (world.okWhileLocal !== 0) bad.push('a requester woke with the channel still local');
    if (bad.length > 0) failures.push(`${sc.name}: ${bad.join('; ')}\n  GORT_MODEL_TRACE=${taken.join(',')}\n  ${world.log.join('\n  ')}`);
    if (replay !== undefined) break;
    // Siblings of every choice made beyond the prefix we were given.
    for (let d = taken.length - 1; d >= choices.length; d--) {
      for (let k = taken[d]! + 1; k < widths[d]!; k++) stack.push({ choices: [...taken.slice(0, d), k] });
    }
  }
  return { runs, failures };
}

const scenarios: Scenario[] = [];
for (const close of [false, true]) for (const requesters of [1, 2]) {
  for (const ownerScript of [[], ['serve'], ['share'], ['share', 'serve'], ['serve', 'serve']] as OwnerOp[][]) {
    for (const ownerEnd of ['running', 'blocked'] as const) {
      const what = close ? 'closing requester(s)' : 'requester(s)';
      scenarios.push({ name: `${requesters} ${what}, owner ${ownerScript.join('+') || '-'} then ${ownerEnd}`, requesters, ownerScript, ownerEnd, close });
    }
  }
}

describe('model: sharing a thread-local channel (chan/local.ts protocol)', () => {
  const replay = process.env['GORT_MODEL_TRACE']?.split(',').map(Number);
  for (const sc of scenarios) {
    it(sc.name, () => {
      const { runs, failures } = explore(sc, replay);
      expect(failures.slice(0, 3)).toEqual([]);
      if (replay === undefined) expect(runs).toBeGreaterThan(sc.requesters === 1 ? 3 : 50);
    }, 60_000);
  }

  it('the checker catches a broken protocol: an owner that frees a close request it served while its requester may still abandon it', () => {
    const { failures } = explore({ name: 'owner frees at once', holders: false, close: true, requesters: 1, ownerScript: ['serve'], ownerEnd: 'running' });
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toContain('touched after free');
  });

  it('the checker catches a broken protocol: requesters that never give up wait forever on a blocked owner', () => {
    const { failures } = explore({ name: 'no abandon', abandon: false, requesters: 1, ownerScript: [], ownerEnd: 'blocked' });
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toContain('a requester waits forever');
    expect(failures[0]).toContain('GORT_MODEL_TRACE=');
  });
});
