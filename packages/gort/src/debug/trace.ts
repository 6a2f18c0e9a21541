/**
 * The execution trace: startTrace() / stopTrace() (gort/debug) and GORT_TRACE=file, in the
 * Chrome Trace Event JSON that Perfetto and chrome://tracing open.
 *
 * Recording is per thread (runtime/tracebuf.ts: the session word H.TRACE, the hooks, what a
 * slice is). Collecting: the stopping thread listens on the session's BroadcastChannel, reads
 * which threads joined (their T.TRACE; none leaves before the word changes), clears H.TRACE
 * (a CAS: one stopper wins), takes its own
 * buffer, posts `collect` and rings the parked threads. Each thread hands its buffer over when
 * it next looks (an M at the top of its next loop turn, a thread without a P on the message or
 * its 25 ms poll). A thread that does not within `timeoutMs` (a goroutine holding it in
 * synchronous code, a dead worker) is listed in otherData.missing; its events are lost.
 *
 * Conversion (toChrome): one tid per thread (main 0, M i → i, attached threads after), `M`
 * events naming them, `X` slices for goroutines (name: the function) and idle spells, `i`
 * instants for parks (args.reason), spawns and steals, `C` counters of run-queue lengths, and
 * flows (`s`/`f`, bp "e"): from a waker's slice to the woken goroutine's next resumed slice
 * (per goroutine, each resumed slice takes the latest wake before it that no slice took), and
 * from a spawner's slice to the spawned goroutine's first slice. A flow whose start lies in
 * no slice of its thread (the waker was code gort could not name) is left out and counted.
 * Timestamps are µs from the earliest buffer's start.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { H } from '../heap/layout.js';
import { T, threadWord } from '../sched/threads.js';
import { waitReasons } from '../sched/g.js';
import { RuntimeStateError } from '../errors.js';
import { describe } from '../value/describe.js';
import { need, type ThreadBase } from '../runtime/thread.js';
import { EV, EV_FIELDS, idleNames, setLocalCollector, traceChannelName, traceSync, traceWord, TRACE_SEQ_MASK, type TraceBuffer } from '../runtime/tracebuf.js';

/** Options of `startTrace()`. */
export interface TraceOptions {
  /**
   * Most events kept per thread, rounded up to a power of two (1,024 to 16,777,216; default
   * 1,048,576, 48 MiB). At the cap a thread stops recording: it keeps its first events, and
   * `otherData.threads[].dropped` counts the rest.
   */
  maxEventsPerThread?: number;
}

/** Options of `stopTrace()`. */
export interface StopTraceOptions {
  /** Also write the trace to this file (JSON). */
  path?: string;
  /** How long to wait for each thread's buffer, ms (default 2,000). A thread that has not answered by then is listed in `otherData.missing`. */
  timeoutMs?: number;
}

/** One event of the Chrome Trace Event format. */
export interface TraceEvent {
  /** Phase: `X` complete, `i` instant, `s`/`f` flow start/end, `C` counter, `M` metadata. */
  ph: 'X' | 'i' | 's' | 'f' | 'C' | 'M';
  /** A slice's goroutine function, an instant's kind (`park`, `spawn`, `steal`), a counter's or a metadata record's name. */
  name: string;
  /** Category, for the viewers' filters. */
  cat?: string;
  /** The process (every thread of the runtime shares it). */
  pid: number;
  /** The thread: 0 main, 1..procs the Ms, then attached threads. */
  tid: number;
  /** µs from the trace's start */
  ts?: number;
  /** µs (`X` only) */
  dur?: number;
  /** instant scope: `t` (thread) */
  s?: 't';
  /** flow id (`s`, `f`) */
  id?: number;
  /** flow binding point: `e`, the enclosing slice */
  bp?: 'e';
  /** Details: a slice's goid, a park's wait reason, a counter's values, a thread's name. */
  args?: Record<string, unknown>;
}

/** What one thread recorded, in `otherData.threads`. */
export interface TraceThreadInfo {
  /** Its tid in the events. */
  tid: number;
  /** `main`, `M1 (P0)`, …, `attached 1`, … */
  name: string;
  /** events kept */
  events: number;
  /** events dropped at the cap (recording stopped there) */
  dropped: number;
}

/** `otherData` of a trace: what was recorded and what was not. */
export interface TraceInfo {
  /** Always `gort`. */
  producer: 'gort';
  /** Number of Ps of the runtime. */
  procs: number;
  /** Wall-clock start of the trace (ts 0), ISO 8601. */
  startedAt: string;
  /** From the start to the stop, ms. */
  durationMs: number;
  /** The overflow policy, in words. */
  overflow: string;
  /** The cap on each thread's buffer, in events. */
  maxEventsPerThread: number;
  /** Each thread that handed its buffer over. */
  threads: TraceThreadInfo[];
  /** Threads that recorded but did not hand their buffer over in time. */
  missing: TraceMissing[];
  /** Wake and spawn flows left out: their start was in no slice (code gort could not name). */
  flowsLeftOut: number;
  /** How slices are found (gort's view of which goroutine runs). */
  slices: string;
}

/** A thread that did not hand its buffer over in time (a goroutine held it). */
export interface TraceMissing {
  /** Its tid. */
  tid: number;
  /** Its name, as in TraceThreadInfo. */
  name: string;
}

/** A trace as `stopTrace()` returns it and GORT_TRACE writes it. */
export interface TraceFile {
  /** Every event, every thread's, in time order per thread. */
  traceEvents: TraceEvent[];
  /** How the viewers show times. */
  displayTimeUnit: 'ms';
  /** What was recorded and what was not. */
  otherData: TraceInfo;
}

const DEFAULT_SHIFT = 20;
const DEFAULT_TIMEOUT_MS = 2000;

/**
 * Start recording an execution trace on every thread of the runtime: goroutine slices per
 * thread, parks with their reason, wakes, spawns, steals, the Ms' idle spells and run-queue
 * lengths. Stop it with `stopTrace()`. Throws RuntimeStateError if a trace is already being
 * recorded (by this call, another thread's, or GORT_TRACE).
 */
export function startTrace(opts: TraceOptions = {}): void {
  const t = need('startTrace()');
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`gort: startTrace()'s options must be an object, got ${describe(opts)}`);
  const shift = capShift(opts.maxEventsPerThread);
  const word = traceWord(1 + ((Math.random() * (TRACE_SEQ_MASK - 1)) | 0), shift);
  if (Atomics.compareExchange(t.heap.i32, H.TRACE, 0, word) !== 0) {
    throw new RuntimeStateError('gort: startTrace() was called while a trace is being recorded: call stopTrace() first');
  }
  traceSync(t);
  for (let k = 0, n = t.heap.i32[H.NTHREADS]!; k < n; k++) if (k !== t.index) t.idle.ringIfParked(k); // parked Ms join now
}

function capShift(n: unknown): number {
  if (n === undefined) return DEFAULT_SHIFT;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1024 || n > 2 ** 24) {
    throw new RangeError(`gort: startTrace()'s maxEventsPerThread must be an integer from 1024 to 16777216, got ${describe(n)}`);
  }
  return Math.ceil(Math.log2(n));
}

/**
 * Stop the trace and collect every thread's events: resolves with the trace (and writes it to
 * `path` if given). Throws RuntimeStateError if no trace is being recorded.
 */
export async function stopTrace(opts: StopTraceOptions = {}): Promise<TraceFile> {
  const t = need('stopTrace()');
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`gort: stopTrace()'s options must be an object, got ${describe(opts)}`);
  if (opts.path !== undefined && typeof opts.path !== 'string') throw new TypeError(`gort: stopTrace()'s path must be a string, got ${describe(opts.path)}`);
  const timeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeout !== 'number' || !(timeout >= 0)) throw new RangeError(`gort: stopTrace()'s timeoutMs must be a number ≥ 0, got ${describe(timeout)}`);
  const word = Atomics.load(t.heap.i32, H.TRACE);
  if (word === 0) throw new RuntimeStateError('gort: stopTrace() was called with no trace being recorded: call startTrace() first (or set GORT_TRACE)');
  const trace = await collectTrace(t, word, timeout);
  if (opts.path !== undefined) writeFileSync(opts.path, JSON.stringify(trace));
  return trace;
}

const threadName = (procs: number, i: number): string => (i === 0 ? 'main' : i <= procs ? `M${i} (P${i - 1})` : `attached ${i - procs}`);

/** Collect session `word` from every thread (t: the calling thread) and convert it. */
export async function collectTrace(t: ThreadBase, word: number, timeoutMs: number): Promise<TraceFile> {
  const heap = t.heap;
  const seq = word & TRACE_SEQ_MASK;
  const bufs = new Map<number, TraceBuffer>();
  const take = (b: TraceBuffer): void => {
    if (b.seq === seq) bufs.set(b.index, b);
  };
  const bc = new BroadcastChannel(traceChannelName(t));
  bc.onmessage = (e: unknown) => {
    const m = (e as { data: { buf?: TraceBuffer } }).data;
    if (m.buf !== undefined) take(m.buf);
  };
  try {
    // Who to wait for, read before the word changes: a thread leaves only once it has changed.
    const n = heap.i32[H.NTHREADS]!;
    const expected: number[] = [];
    for (let k = 0; k < n; k++) if (k !== t.index && Atomics.load(heap.i32, threadWord(heap, k) + T.TRACE) === seq) expected.push(k);
    if (Atomics.compareExchange(heap.i32, H.TRACE, word, 0) !== word) {
      throw new RuntimeStateError('gort: stopTrace() was called with no trace being recorded: another stopTrace() took it');
    }
    setLocalCollector(take);
    try {
      traceSync(t);
    } finally {
      setLocalCollector(null);
    }
    bc.postMessage({ collect: seq });
    for (const k of expected) t.idle.ringIfParked(k);
    const deadline = performance.now() + timeoutMs;
    while (expected.some((k) => !bufs.has(k)) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 2));
    }
    const procs = heap.i32[H.PROCS]!;
    const missing = expected.filter((k) => !bufs.has(k)).map((k) => ({ tid: k, name: threadName(procs, k) }));
    return toChrome([...bufs.values()], {
      procs,
      cap: 2 ** ((word >>> 24) & 31),
      missing,
      nameOf: (fn) => (fn < 0 ? '' : t.fns.nameOf(fn)),
    });
  } finally {
    bc.close();
  }
}

interface Slice {
  tid: number;
  start: number;
  end: number;
  key: number;
  resumed: boolean;
}

const SLICES_NOTE =
  'A slice is gort\'s view of which goroutine runs: it opens when an M starts a goroutine, or when a waiter ' +
  'naming it is settled on its thread (after the slice open then, if any), and closes when the goroutine parks, ends ' +
  'or returns from its first synchronous part, when another starts, when the M goes idle, and at each M loop turn. ' +
  'Code resumed by something gort does not see (a timer, I/O, another promise) is in no slice.';

/** Convert collected buffers to the Chrome Trace Event format. */
export function toChrome(
  bufs: TraceBuffer[],
  info: { procs: number; cap: number; missing: { tid: number; name: string }[]; nameOf: (fn: number) => string },
): TraceFile {
  const pid = process.pid;
  const procs = info.procs;
  bufs.sort((x, y) => x.index - y.index);
  const t0 = bufs.length === 0 ? performance.timeOrigin + performance.now() : Math.min(...bufs.map((b) => b.startMs));
  const t1 = bufs.length === 0 ? t0 : Math.max(...bufs.map((b) => b.endMs));
  const us = (ms: number): number => Math.round((ms - t0) * 1e6) / 1e3;
  const ev: TraceEvent[] = [{ ph: 'M', name: 'process_name', pid, tid: 0, args: { name: `gort (pid ${pid})` } }];
  const names = new Map<number, string>();
  const fnName = (key: number, fn: number): string => {
    if (fn < 0) return key === 1 ? 'main' : 'attached thread';
    let s = names.get(fn);
    if (s === undefined) names.set(fn, (s = info.nameOf(fn) || `fn#${fn}`));
    return s;
  };
  const slices: Slice[][] = [];
  const wakes: { tid: number; ts: number; key: number }[] = [];
  const spawns: { tid: number; ts: number; goid: number }[] = [];
  const firstSlice = new Map<number, Slice>();
  const resumedByKey = new Map<number, Slice[]>();
  for (const b of bufs) {
    const tid = b.index;
    ev.push({ ph: 'M', name: 'thread_name', pid, tid, args: { name: threadName(procs, tid) } });
    ev.push({ ph: 'M', name: 'thread_sort_index', pid, tid, args: { sort_index: tid } });
    const mine: Slice[] = [];
    slices[tid] = mine;
    const d = b.data;
    for (let k = 0; k < b.n; k++) {
      const o = k * EV_FIELDS;
      const type = d[o]!;
      const ts = d[o + 1]!;
      const a = d[o + 2]!;
      const bb = d[o + 3]!;
      if (type === EV.SLICE) {
        const end = d[o + 4]!;
        const resumed = d[o + 5] === 1;
        const s: Slice = { tid, start: ts, end, key: a, resumed };
        mine.push(s);
        if (resumed) {
          let l = resumedByKey.get(a);
          if (l === undefined) resumedByKey.set(a, (l = []));
          l.push(s);
        } else if (!firstSlice.has(a)) firstSlice.set(a, s);
        const args: Record<string, unknown> = { goid: a, start: resumed ? 'resume' : 'execute' };
        ev.push({ ph: 'X', name: fnName(a, bb), cat: 'goroutine', pid, tid, ts: us(ts), dur: us(end) - us(ts), args });
      } else if (type === EV.STATE) {
        const end = d[o + 4]!;
        mine.push({ tid, start: ts, end, key: 0, resumed: false });
        ev.push({ ph: 'X', name: idleNames[a] ?? 'idle', cat: 'idle', pid, tid, ts: us(ts), dur: us(end) - us(ts) });
      } else if (type === EV.PARK) {
        ev.push({ ph: 'i', s: 't', name: 'park', cat: 'park', pid, tid, ts: us(ts), args: { goid: a, reason: waitReasons[bb] ?? `reason ${bb}` } });
      } else if (type === EV.WAKE) {
        wakes.push({ tid, ts, key: a });
      } else if (type === EV.SPAWN) {
        spawns.push({ tid, ts, goid: a });
        ev.push({ ph: 'i', s: 't', name: 'go', cat: 'spawn', pid, tid, ts: us(ts), args: { goid: a, fn: fnName(a, bb) } });
      } else if (type === EV.STEAL) {
        ev.push({ ph: 'i', s: 't', name: 'steal', cat: 'steal', pid, tid, ts: us(ts), args: { fromP: a, goroutines: bb } });
      } else if (type === EV.COUNTER) {
        ev.push({ ph: 'C', name: a < 0 ? 'runq global' : `runq P${a}`, pid, tid, ts: us(ts), args: { length: bb } });
      }
    }
    mine.sort((x, y) => x.start - y.start);
  }
  // Flows. A start must lie in a slice of its thread (bp "e" binds it to that slice).
  const enclosing = (tid: number, ts: number): Slice | undefined => {
    const l = slices[tid];
    if (l === undefined) return undefined;
    let lo = 0;
    let hi = l.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (l[mid]!.start <= ts) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const s = found >= 0 ? l[found] : undefined;
    return s !== undefined && s.end >= ts && s.key !== 0 ? s : undefined;
  };
  let id = 0;
  let leftOut = 0;
  const flow = (name: string, from: { tid: number; ts: number }, to: Slice): void => {
    if (enclosing(from.tid, from.ts) === undefined) {
      leftOut++;
      return;
    }
    id++;
    ev.push({ ph: 's', id, name, cat: name, pid, tid: from.tid, ts: us(from.ts), bp: 'e' });
    ev.push({ ph: 'f', id, name, cat: name, pid, tid: to.tid, ts: us(to.start), bp: 'e' });
  };
  // Each resumed slice takes the latest wake of its goroutine before it that no slice took.
  const wakesByKey = new Map<number, { tid: number; ts: number; key: number }[]>();
  for (const w of wakes) {
    let l = wakesByKey.get(w.key);
    if (l === undefined) wakesByKey.set(w.key, (l = []));
    l.push(w);
  }
  for (const [key, rs] of resumedByKey) {
    const ws = wakesByKey.get(key);
    if (ws === undefined) continue;
    ws.sort((x, y) => x.ts - y.ts);
    rs.sort((x, y) => x.start - y.start);
    let wi = 0;
    for (const r of rs) {
      let pick: (typeof ws)[number] | undefined;
      while (wi < ws.length && ws[wi]!.ts <= r.start) pick = ws[wi++];
      if (pick !== undefined) flow('wake', pick, r);
    }
  }
  for (const s of spawns) {
    const first = firstSlice.get(s.goid);
    if (first === undefined) continue;
    // Two threads' clocks (timeOrigin + now()) can disagree by microseconds: a goroutine
    // started at once on another M may seem to start before its spawn. Its flow then ends at
    // the spawn's time, inside that first slice.
    if (first.start >= s.ts) flow('spawn', s, first);
    else if (s.ts <= first.end) flow('spawn', s, { ...first, start: s.ts });
  }
  return {
    traceEvents: ev,
    displayTimeUnit: 'ms',
    otherData: {
      producer: 'gort',
      procs,
      startedAt: new Date(t0).toISOString(),
      durationMs: Math.round((t1 - t0) * 1000) / 1000,
      overflow: `stop: each thread keeps its first ${info.cap} events; "dropped" counts the events after them`,
      maxEventsPerThread: info.cap,
      threads: bufs.map((b) => ({ tid: b.index, name: threadName(procs, b.index), events: b.n, dropped: b.dropped })),
      missing: info.missing,
      flowsLeftOut: leftOut,
      slices: SLICES_NOTE,
    },
  };
}
