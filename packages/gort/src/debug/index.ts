/**
 * gort/debug: what the runtime is doing, readable from any thread with a runtime.
 *
 * dump() prints one line per live goroutine (Go's traceback header): id, state, wait reason
 * and time waiting, function, creator, and where it runs. stats() returns scheduler counters
 * and the heap's memory by kind of object. collect() is Go's runtime.GC(). goroutineProfile()
 * is Go's goroutine profile (debug/profile.ts), with stacks when they are on. startTrace() and
 * stopTrace() record an execution trace in the Chrome Trace Event format (debug/trace.ts).
 * metricsText() gives stats() in the Prometheus text format, and debugHandler() /
 * serveDebug() serve both over HTTP (debug/http.ts, as Go's net/http/pprof).
 *
 * @module gort/debug
 */
import { need } from '../runtime/thread.js';
import { G, waitReasons } from '../sched/g.js';
import { T, mainWaitCode, threadWord } from '../sched/threads.js';
import { H } from '../heap/layout.js';

export { stats, type MemStats, type SchedStats } from './stats.js';
export { metricsText } from './metrics.js';
export { debugHandler, serveDebug, type DebugHandler, type DebugRequest, type DebugResponse, type DebugHandlerOptions, type DebugServer, type ServeDebugOptions } from './http.js';
export { startTrace, stopTrace, type TraceOptions, type StopTraceOptions, type TraceFile, type TraceEvent, type TraceInfo, type TraceThreadInfo, type TraceMissing } from './trace.js';
export { goroutineProfile, goroutineRecords, type GoroutineInfo, type GoroutineRecord, type GoroutineSnapshot, type ProfileOptions } from './profile.js';
import { readRecords, type GoroutineInfo } from './profile.js';

/** Every live goroutine but main, by id, read from the heap without locks (a moment's view, possibly a little stale). */
export function goroutines(): GoroutineInfo[] {
  return readRecords(need('goroutines()')).slice(1);
}

/**
 * Go's goroutine dump: one line per live goroutine, main first, with its state or wait reason
 * and how long it has waited, its function, its creator and its M:
 *
 * ```
 * goroutine 1 [chan receive]: main goroutine on the main thread
 * goroutine 7 [sync.Mutex.Lock, 1204 ms]: worker (created by goroutine 1, on M2)
 * ```
 *
 * Then a line for each M that sysmon finds stuck, held by one goroutine's synchronous code
 * for 10 ms or more without turning its schedule loop:
 *
 * ```
 * M2: stuck for 2104 ms running goroutine 7 (worker)
 * ```
 */
export function dump(): string {
  const t = need('dump()');
  const a = t.heap.i32;
  // Main's reason is its latest park's, shown while its thread waits on the runtime.
  const mw = mainWaitCode(t.heap);
  const mainState = mw !== 0 ? (waitReasons[mw] ?? 'waiting') : 'running';
  const lines = [`goroutine 1 [${mainState}]: main goroutine on the main thread`];
  for (const g of goroutines()) {
    const what = g.waitReason ? `${g.waitReason}, ${Math.round(g.waitingMs)} ms` : g.state;
    const where = g.m < 0 ? 'not started' : `on M${g.m}`;
    lines.push(`goroutine ${g.id} [${what}]: ${g.function} (created by goroutine ${g.creator === 0 ? 1 : g.creator}, ${where})`);
  }
  for (let i = 1; i <= t.procs; i++) {
    const tw = threadWord(t.heap, i);
    const stuck = Atomics.load(a, tw + T.STUCK_MS);
    if (stuck === 0) continue;
    const g = a[tw + T.CURG]!;
    const who = g === 0 ? 'a goroutine resumed after an await' : `goroutine ${a[(g >> 2) + G.GOID]!} (${t.fns.nameOf(a[(g >> 2) + G.FN]!)})`;
    lines.push(`M${i}: stuck for ${stuck} ms running ${who}`);
  }
  return lines.join('\n');
}

/**
 * Go's runtime.GC(): every thread of the runtime runs a full garbage collection, so that the
 * runtime objects (channels, contexts, …) that only garbage JS objects still held are
 * released. Resolves after this thread's collection and a short pause for the other threads'
 * (their finalizers run in later tasks of their own; stats() may lag by a few milliseconds).
 * Needs the gc() the runtime exposes (start()'s gcOnPressure, on by default); without it,
 * the other threads are still asked and this thread's part is left to V8.
 */
export async function collect(): Promise<void> {
  const t = need('collect()');
  t.anchors.endEpoch();
  Atomics.add(t.heap.i32, H.GC_SEQ, 1);
  for (let k = 0, n = t.heap.i32[H.NTHREADS]!; k < n; k++) if (k !== t.index) t.idle.ringIfParked(k);
  t.pressure.poll();
  // Finalizers run in a task after the collection that found their objects dead.
  await new Promise<void>((r) => setTimeout(r, 5));
  await new Promise<void>((r) => setImmediate(r));
  t.shared.sweep();
}
