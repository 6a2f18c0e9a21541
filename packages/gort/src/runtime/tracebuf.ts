/**
 * The execution trace's per-thread recorder (debug/trace.ts collects and converts it).
 *
 * A session is on while H.TRACE is not 0: its low 24 bits are the session number, bits 24-28
 * the log2 of each thread's event cap. A thread joins a session when it sees the word change
 * (an M at the top of each schedule-loop turn, a LoopThread in its 25 ms poll, the thread
 * that starts the session at once): it makes a TraceRec, sets `t.tr` (the field every hook
 * checks: `if (t.tr !== null) …`, one load and compare when tracing is off), stores the
 * session number in its record's T.TRACE, and opens the session's BroadcastChannel. It leaves
 * when the word changes again (stopTrace cleared it) or a `collect` message arrives: it closes
 * its open slice, hands its buffer to the collector (posted on the channel, or directly when
 * the collector is this thread), clears T.TRACE and `t.tr`.
 *
 * Events are fixed records of EV_FIELDS f64s in chunks of CHUNK events, at most `cap` per
 * thread. Overflow policy: recording STOPS at the cap: the first `cap` events are kept, later
 * ones are counted as dropped, and the collector says so in otherData. A slice is recorded
 * whole when it closes (start and end in one record), so none is ever left without an end.
 *
 * What a slice is. JS cannot tell which goroutine runs after an await gort did not resume
 * (docs/architecture.md, "What a goroutine is"), so slices are what gort sees: a thread has at
 * most one open slice. A goroutine's slice opens when the M starts it (execute: `run`) or when
 * a waiter naming it is settled on its thread (`resume`); a resume while another goroutine's
 * slice is open is queued, because the resumed continuation runs after the running step, and
 * opens when that slice closes. A slice closes when its goroutine parks, ends, or returns from
 * its first synchronous part, when another goroutine is started, when the M goes idle, and at
 * the top of every M loop turn (no goroutine code is on the stack there). An M's idle spells
 * (spinning, polling, parked) are slices of their own, closed by the same rules. On a thread
 * without a P (main, attached) the thread's own code has a slice from the session's start and
 * from each settle of its waiters, closed by its parks and at each turn of its pump. A
 * goroutine that keeps running without parking after an await (its operations complete at
 * once) is in no slice until it parks and is resumed. Timestamps
 * are performance.timeOrigin + performance.now(), in ms, the clock every thread shares.
 *
 * Keys: a goroutine's goid; the main goroutine 1; an attached thread's own code −index.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { H } from '../heap/layout.js';
import { G } from '../sched/g.js';
import { T } from '../sched/threads.js';
import { W } from '../sched/waiter.js';
import type { ThreadBase } from './thread.js';

/** Event types (field 0 of a record). */
export const EV = {
  /** [SLICE, start, key, fnId (−1: the thread's own code), end, 1 if opened by a resume] */
  SLICE: 1,
  /** [STATE, start, IDLE code, 0, end, 0]: an M idle spell */
  STATE: 2,
  /** [PARK, ts, key (0: unknown goroutine), wait reason code] */
  PARK: 3,
  /** [WAKE, ts, key woken, key of the waker's open slice or 0] */
  WAKE: 4,
  /** [SPAWN, ts, goid, fnId] */
  SPAWN: 5,
  /** [STEAL, ts, victim P, goroutines taken] */
  STEAL: 6,
  /** [COUNTER, ts, P (−1: the global queue), length] */
  COUNTER: 7,
} as const;
export const EV_FIELDS = 6;
const CHUNK = 16384;
/** What an M's idle slice was (EV.STATE's field 2). */
export const IDLE = { SPINNING: 1, POLLING: 2, PARKED: 3 } as const;
export const idleNames = ['', 'idle: spinning', 'idle: polling', 'idle: parked'];
/** Least gap between two run-queue samples of one M, ms. */
const COUNTER_MS = 1;

export const TRACE_SEQ_MASK = 0xffffff;
/** The H.TRACE word of session `seq` with a per-thread cap of 2^shift events. */
export function traceWord(seq: number, shift: number): number {
  return (shift << 24) | (seq & TRACE_SEQ_MASK);
}

/** What a thread hands to the collector. */
export interface TraceBuffer {
  readonly seq: number;
  readonly index: number;
  /** n × EV_FIELDS f64s */
  readonly data: Float64Array;
  readonly n: number;
  readonly dropped: number;
  readonly startMs: number;
  readonly endMs: number;
}

/** The channel of session buffers for the runtime of `heap`. */
export function traceChannelName(t: ThreadBase): string {
  return `gort.trace.${t.heap.i32[H.SHARED_ID]!}`;
}

export class TraceRec {
  private readonly chunks: Float64Array[] = [];
  n = 0;
  dropped = 0;
  private readonly base = performance.timeOrigin;
  readonly startMs: number;
  /** 0: none, 1: a goroutine's slice, 2: an idle slice */
  private open = 0;
  private openKey = 0;
  private openFn = 0;
  private openAt = -0;
  private openFlag = 0;
  /** Resumed goroutines waiting for the open slice to close: key, fn pairs. */
  private readonly queue: number[] = [];
  private sampledAt = -0;

  constructor(
    readonly seq: number,
    private readonly cap: number,
  ) {
    this.startMs = this.now();
  }

  now(): number {
    return this.base + performance.now();
  }

  private push(type: number, ts: number, a: number, b: number, c: number, d: number): void {
    if (this.n >= this.cap) {
      this.dropped++; // the stop policy: the first `cap` events are kept
      return;
    }
    const k = this.n >> 14;
    let c0 = this.chunks[k];
    if (c0 === undefined) {
      c0 = new Float64Array(CHUNK * EV_FIELDS);
      this.chunks.push(c0);
    }
    const o = (this.n & (CHUNK - 1)) * EV_FIELDS;
    c0[o] = type;
    c0[o + 1] = ts;
    c0[o + 2] = a;
    c0[o + 3] = b;
    c0[o + 4] = c;
    c0[o + 5] = d;
    this.n++;
  }

  private closeOpen(ts: number): void {
    if (this.open === 1) this.push(EV.SLICE, this.openAt, this.openKey, this.openFn, ts, this.openFlag);
    else if (this.open === 2) this.push(EV.STATE, this.openAt, this.openKey, 0, ts, 0);
    this.open = 0;
  }

  private begin(kind: number, key: number, fn: number, flag: number, ts: number): void {
    if (this.open !== 0) this.closeOpen(ts);
    this.open = kind;
    this.openKey = key;
    this.openFn = fn;
    this.openFlag = flag;
    this.openAt = ts;
  }

  /** Close the open slice if it is key's (0: whoever's), then open the next queued resume. */
  private yieldFrom(key: number, ts: number): void {
    if (this.open !== 1 || (key !== 0 && this.openKey !== key)) return;
    this.closeOpen(ts);
    if (this.queue.length !== 0) {
      const k = this.queue.shift()!;
      const fn = this.queue.shift()!;
      this.begin(1, k, fn, 1, ts);
    }
  }

  /** The M starts goroutine `goid` (its first synchronous part). */
  run(goid: number, fn: number): void {
    this.queue.length = 0;
    this.begin(1, goid, fn, 0, this.now());
  }

  /** A goroutine's first synchronous part returned (it awaits something, or it ended). */
  stepEnd(goid: number): void {
    this.yieldFrom(goid, this.now());
  }

  /** Goroutine `goid` ended. */
  end(goid: number): void {
    this.yieldFrom(goid, this.now());
  }

  /** `key` parks (0: a goroutine gort cannot name) for wait reason code `reason`. */
  park(key: number, reason: number): void {
    const ts = this.now();
    this.push(EV.PARK, ts, key, reason, 0, 0);
    this.yieldFrom(key, ts);
  }

  /** `key`'s waiter was settled on this thread: its continuation runs next. */
  resume(key: number, fn: number): void {
    if (this.open === 1) this.queue.push(key, fn);
    else this.begin(1, key, fn, 1, this.now());
  }

  /** The running code completed a waiter of `key` (on any thread). */
  wake(key: number): void {
    this.push(EV.WAKE, this.now(), key, this.open === 1 ? this.openKey : 0, 0, 0);
  }

  spawn(goid: number, fn: number): void {
    this.push(EV.SPAWN, this.now(), goid, fn, 0, 0);
  }

  steal(p: number, n: number): void {
    this.push(EV.STEAL, this.now(), p, n, 0, 0);
  }

  /** The M goes idle (IDLE code). */
  idle(code: number): void {
    this.queue.length = 0;
    this.begin(2, code, 0, 0, this.now());
  }

  /** Top of an M loop turn: nothing of a goroutine runs. True when a run-queue sample is due. */
  turn(): boolean {
    const ts = this.now();
    this.queue.length = 0;
    if (this.open !== 0) this.closeOpen(ts);
    if (ts - this.sampledAt < COUNTER_MS) return false;
    this.sampledAt = ts;
    return true;
  }

  /** Run-queue lengths: P p's and the global queue's. */
  counters(p: number, local: number, global: number): void {
    const ts = this.sampledAt;
    this.push(EV.COUNTER, ts, p, local, 0, 0);
    this.push(EV.COUNTER, ts, -1, global, 0, 0);
  }

  /** Close what is open and copy the events out. */
  finish(index: number): TraceBuffer {
    const endMs = this.now();
    this.queue.length = 0;
    if (this.open !== 0) this.closeOpen(endMs);
    const data = new Float64Array(this.n * EV_FIELDS);
    for (let k = 0; k < this.chunks.length; k++) {
      const from = k * CHUNK;
      const m = Math.min(CHUNK, this.n - from);
      if (m <= 0) break;
      data.set(this.chunks[k]!.subarray(0, m * EV_FIELDS), from * EV_FIELDS);
    }
    this.chunks.length = 0;
    return { seq: this.seq, index, data, n: this.n, dropped: this.dropped, startMs: this.startMs, endMs };
  }
}

// ---- joining and leaving a session ----

/** The collector on this thread, if stopTrace runs here: it takes this thread's buffer directly. */
let localCollector: ((b: TraceBuffer) => void) | null = null;
export function setLocalCollector(f: ((b: TraceBuffer) => void) | null): void {
  localCollector = f;
}

/** The session channel this thread listens on while it records. */
const channels = new WeakMap<ThreadBase, BroadcastChannel>();

/**
 * Bring thread t in line with H.TRACE: hand over its buffer if its session ended, join the
 * current one if there is one. Called when t sees the word differ from t.traceWord.
 */
export function traceSync(t: ThreadBase): void {
  const word = Atomics.load(t.heap.i32, H.TRACE);
  if (t.tr !== null) handOver(t);
  t.traceWord = word;
  if (word === 0) return;
  const seq = word & TRACE_SEQ_MASK;
  const cap = 2 ** ((word >>> 24) & 31);
  const tr = new TraceRec(seq, cap);
  if (t.index === 0 || t.index > t.procs) tr.resume(t.index === 0 ? 1 : -t.index, -1); // the thread's own code runs now
  t.tr = tr;
  Atomics.store(t.heap.i32, t.tw + T.TRACE, seq);
  const bc = new BroadcastChannel(traceChannelName(t));
  bc.onmessage = (e: unknown) => {
    const m = (e as { data: { collect?: number } }).data;
    if (m.collect !== undefined && t.tr !== null && t.tr.seq === m.collect) traceSync(t);
  };
  bc.unref();
  channels.set(t, bc);
}

function handOver(t: ThreadBase): void {
  const tr = t.tr!;
  t.tr = null;
  const buf = tr.finish(t.index);
  Atomics.store(t.heap.i32, t.tw + T.TRACE, 0);
  const bc = channels.get(t);
  channels.delete(t);
  if (localCollector !== null) localCollector(buf);
  else bc?.postMessage({ buf });
  bc?.close();
}

/** Stop recording on t without handing anything over (the runtime is going away). */
export function traceDrop(t: ThreadBase): void {
  t.tr = null;
  channels.get(t)?.close();
  channels.delete(t);
}

// ---- the hooks' bodies (each hook is `if (t.tr !== null) traceX(t, …)`) ----

/** The key of whoever waits on waiter w: its goroutine, or the owner's own code on a thread without a P. */
function waiterKey(t: ThreadBase, w: number): number {
  const a = t.heap.i32;
  const g = a[(w >> 2) + W.G]!;
  if (g !== 0) return a[(g >> 2) + G.GOID]!;
  const owner = a[(w >> 2) + W.OWNER]!;
  if (owner === 0) return 1;
  return owner > t.procs ? -owner : 0;
}

/** Waiter w is completed by the running code. */
export function traceWake(t: ThreadBase, w: number): void {
  const key = waiterKey(t, w);
  if (key !== 0) t.tr!.wake(key);
}

/** Waiter w (owned here, naming goroutine g or none) is settled: its goroutine resumes. */
export function traceResume(t: ThreadBase, g: number): void {
  if (g !== 0) {
    const a = t.heap.i32;
    t.tr!.resume(a[(g >> 2) + G.GOID]!, a[(g >> 2) + G.FN]!);
  } else if (t.index === 0) t.tr!.resume(1, -1);
  else if (t.index > t.procs) t.tr!.resume(-t.index, -1);
}

/** A local channel's waiter of goroutine g (0: unknown) is woken by the running code on its own thread. */
export function traceLocalWake(t: ThreadBase, g: number): void {
  if (g === 0) return;
  const a = t.heap.i32;
  const goid = a[(g >> 2) + G.GOID]!;
  t.tr!.wake(goid);
  t.tr!.resume(goid, a[(g >> 2) + G.FN]!);
}

/** Goroutine g (0: the running code, which gort may not be able to name) parks for reason code `reason`. */
export function tracePark(t: ThreadBase, g: number, reason: number): void {
  if (g !== 0) t.tr!.park(t.heap.i32[(g >> 2) + G.GOID]!, reason);
  else t.tr!.park(t.index === 0 ? 1 : t.index > t.procs ? -t.index : 0, reason);
}
