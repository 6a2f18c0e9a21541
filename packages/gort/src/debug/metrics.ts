/**
 * The runtime's figures in the Prometheus text exposition format, version 0.0.4
 * (`text/plain; version=0.0.4`), for a scrape of `/metrics` (debug/http.ts) or for a program
 * that serves or pushes them its own way.
 *
 * Contract:
 * - Every family has a `# HELP` and a `# TYPE` line, its name starts with `gort_`, counters
 *   end in `_total` and byte figures in `_bytes` (what `promtool check metrics` asks for).
 * - Counters only grow while one runtime runs, but for a 32-bit wrap (debug/stats.ts); a new
 *   runtime starts them again from 0. Prometheus's `rate()` reads either as a counter reset.
 * - The figures are a moment's racy view (readStats: no lock), except the heap's, which come
 *   from one walk of the heap under the allocator's lock (readMemStats; a few milliseconds on
 *   a heap of a million blocks).
 * - Goroutines by state count every live goroutine record plus main, as Go counts main: it is
 *   `waiting` while its thread is parked on the runtime, else `running` (and always `running`
 *   when the caller is main itself, as when a server on the main thread answers a scrape).
 *
 * @module gort/debug
 */
import { need } from '../runtime/thread.js';
import { G, Gstatus } from '../sched/g.js';
import { forEachG } from '../sched/galloc.js';
import { mainWaitCode } from '../sched/threads.js';
import { readMemStats, readStats } from './stats.js';
import type { Heap } from '../heap/heap.js';

/** The goroutine states `gort_goroutines` has a series for, by Gstatus code. */
const STATES: ReadonlyArray<readonly [number, string]> = [
  [Gstatus.RUNNABLE, 'runnable'],
  [Gstatus.RUNNING, 'running'],
  [Gstatus.SYSCALL, 'syscall'],
  [Gstatus.WAITING, 'waiting'],
];

/** Live goroutines by state, main included: counts indexed by Gstatus code. */
function goroutinesByState(heap: Heap, callerIsMain: boolean): number[] {
  const a = heap.i32;
  const n = new Array<number>(8).fill(0);
  forEachG(heap, (g) => {
    const st = Atomics.load(a, (g >> 2) + G.STATUS);
    n[st] = n[st]! + 1;
  });
  const m = !callerIsMain && mainWaitCode(heap) !== 0 ? Gstatus.WAITING : Gstatus.RUNNING;
  n[m] = n[m]! + 1;
  return n;
}

/** A label value, escaped as the text format wants (backslash, double quote, newline). */
function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Builds the exposition text one family at a time. */
class Exposition {
  private readonly out: string[] = [];

  /** A family: its HELP and TYPE lines, then one sample per entry (label value → value). */
  family(name: string, type: 'gauge' | 'counter', help: string, samples: number | ReadonlyArray<readonly [Record<string, string>, number]>): void {
    this.out.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    if (typeof samples === 'number') {
      this.out.push(`${name} ${samples}`);
      return;
    }
    for (const [labels, v] of samples) {
      const ls = Object.entries(labels)
        .map(([k, x]) => `${k}="${labelValue(x)}"`)
        .join(',');
      this.out.push(`${name}{${ls}} ${v}`);
    }
  }

  text(): string {
    return this.out.join('\n') + '\n';
  }
}

/** One sample per M (label `m`: its thread index, 1..procs, as dump() prints `on M1`). */
const perM = (xs: readonly number[]): Array<[Record<string, string>, number]> => xs.map((v, k) => [{ m: String(k + 1) }, v]);
/** One sample per key of a record, under label `label`. */
const byKey = (label: string, r: Record<string, number>): Array<[Record<string, string>, number]> => Object.entries(r).map(([k, v]) => [{ [label]: k }, v]);

/**
 * The runtime's metrics in the Prometheus text exposition format 0.0.4 (serve it as
 * `text/plain; version=0.0.4; charset=utf-8`). Families, all prefixed `gort_`:
 *
 * | family | type | labels | what |
 * |---|---|---|---|
 * | `gort_goroutines` | gauge | `state`: runnable, running, syscall, waiting | live goroutines, main included |
 * | `gort_procs` | gauge | | Ps (gomaxprocs) |
 * | `gort_idle_procs` | gauge | | Ps whose M is parked |
 * | `gort_spinning_threads` | gauge | | Ms looking for work |
 * | `gort_run_queue_goroutines` | gauge | `p` (0..procs-1) | goroutines in a P's local run queue |
 * | `gort_global_run_queue_goroutines` | gauge | | goroutines in the global run queue |
 * | `gort_goroutines_created_total`, `gort_goroutines_exited_total` | counter | | goroutines made and finished |
 * | `gort_goroutines_started_total` | counter | `m` (1..procs) | goroutines started on an M |
 * | `gort_steals_total`, `gort_stolen_goroutines_total` | counter | `m` | steals from other Ps, and the goroutines they took |
 * | `gort_spins_total` | counter | `m` | times an M started spinning for work |
 * | `gort_parks_total`, `gort_wakes_total` | counter | `reason`: `chan receive`, `select`, `sleep`, `sync.Mutex.Lock`, … | goroutines parked, and woken, by wait reason |
 * | `gort_stuck_seconds` | gauge | `m` | how long sysmon has seen the M hold one goroutine without turning its loop (0: not stuck) |
 * | `gort_stuck_warnings_total` | counter | | stuck-goroutine warnings sysmon printed |
 * | `gort_sysmon_retaken_goroutines_total` | counter | | goroutines sysmon moved from stuck Ms' queues to the global queue |
 * | `gort_heap_limit_bytes`, `gort_heap_used_bytes`, `gort_heap_inuse_bytes`, `gort_heap_free_bytes` | gauge | | the shared heap (stats().memory) |
 * | `gort_live_objects`, `gort_live_object_bytes` | gauge | `kind`: `Chan`, `Mutex`, `waiter`, `data`, … | live heap blocks by what they hold |
 *
 * Any thread with a running runtime (main, an M, an attached thread); throws a
 * RuntimeStateError otherwise.
 */
export function metricsText(): string {
  const t = need('metricsText()');
  const heap = t.heap;
  const s = readStats(heap);
  const m = readMemStats(heap);
  const byState = goroutinesByState(heap, t.index === 0);
  const e = new Exposition();
  e.family('gort_goroutines', 'gauge', 'Live goroutines by state, main included (waiting: parked on a gort primitive; running: started and not parked on one).', STATES.map(([code, name]) => [{ state: name }, byState[code]!]));
  e.family('gort_procs', 'gauge', 'Number of Ps (gomaxprocs): worker threads running goroutines.', s.procs);
  e.family('gort_idle_procs', 'gauge', 'Ps whose M is parked.', s.idleProcs);
  e.family('gort_spinning_threads', 'gauge', 'Ms looking for work to steal before they park.', s.spinningThreads);
  e.family('gort_run_queue_goroutines', 'gauge', "Goroutines in a P's local run queue (its ring plus runnext).", s.localQueues.map((v, p) => [{ p: String(p) }, v]));
  e.family('gort_global_run_queue_goroutines', 'gauge', 'Goroutines in the global run queue.', s.globalQueue);
  e.family('gort_goroutines_created_total', 'counter', 'Goroutines created (main not included).', s.goroutinesCreated);
  e.family('gort_goroutines_exited_total', 'counter', 'Goroutines that finished.', s.goroutinesExited);
  e.family('gort_goroutines_started_total', 'counter', 'Goroutines started, per M.', perM(s.tasksPerM));
  e.family('gort_steals_total', 'counter', 'Successful steals from other Ps, per M.', perM(s.stealsPerM));
  e.family('gort_stolen_goroutines_total', 'counter', 'Goroutines taken by steals, per M.', perM(s.stolenPerM));
  e.family('gort_spins_total', 'counter', 'Times an M started spinning for work, per M.', perM(s.spinsPerM));
  e.family('gort_parks_total', 'counter', 'Goroutines parked, by wait reason (main not counted).', byKey('reason', s.parks));
  e.family('gort_wakes_total', 'counter', 'Parked goroutines made to run again, by the reason they waited for.', byKey('reason', s.wakes));
  e.family('gort_stuck_seconds', 'gauge', 'How long sysmon has seen the M hold one goroutine without turning its loop, per M (0: not stuck).', perM(s.stuckMsPerM.map((ms) => ms / 1000)));
  e.family('gort_stuck_warnings_total', 'counter', 'Stuck-goroutine warnings sysmon printed.', s.stuckWarnings);
  e.family('gort_sysmon_retaken_goroutines_total', 'counter', "Goroutines sysmon moved from stuck Ms' queues to the global queue.", s.sysmonRetaken);
  e.family('gort_heap_limit_bytes', 'gauge', "The shared heap's size limit.", m.heapLimit);
  e.family('gort_heap_used_bytes', 'gauge', 'Bytes of the shared heap carved so far.', m.heapUsed);
  e.family('gort_heap_inuse_bytes', 'gauge', 'Bytes of live blocks in the shared heap.', m.heapInUse);
  e.family('gort_heap_free_bytes', 'gauge', 'Bytes of free blocks kept for reuse in the shared heap.', m.heapFree);
  const kinds = Object.entries(m.objects);
  e.family('gort_live_objects', 'gauge', 'Live heap blocks by what they hold (a runtime object kind, waiter, goroutine records, data).', kinds.map(([k, v]) => [{ kind: k }, v.count]));
  e.family('gort_live_object_bytes', 'gauge', 'Bytes of those blocks, block headers included.', kinds.map(([k, v]) => [{ kind: k }, v.bytes]));
  return e.text();
}
