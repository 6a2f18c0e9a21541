/**
 * GORT_DEBUG=schedtrace=N: print a Go-style SCHED line every N ms (main thread, unref'd timer).
 * With scheddetail=1 as well (GORT_DEBUG=schedtrace=1000,scheddetail=1), each SCHED line is
 * followed, as Go's GODEBUG=scheddetail=1 does, by one line per P, per M and per goroutine,
 * read racily from the heap:
 *
 * ```
 * SCHED 1004ms: gomaxprocs=2 idleprocs=0 threads=2 ... stuck=[0 1003]
 *   P0: status=1 schedtick=812 syscalltick=0 m=1 runqsize=0 gfreecnt=0 stuck=0ms
 *   M1: p=0 curg=-1 mallocing=0 throwing=0 preemptoff= locks=0 dying=0 spinning=false blocked=true lockedg=-1 state=parked stuck=0ms
 *   G1: status=4(chan receive) m=-1 lockedm=-1
 *   G7: status=2() m=2 lockedm=-1
 * ```
 *
 * What gort lacks is printed as Go prints its zero: syscalltick, mallocing, throwing, locks,
 * dying, gfreecnt 0; lockedg, lockedm -1. A P's status is Go's: 0 idle (its M parked), 1
 * running. An M's curg is the goroutine whose synchronous start it is in (-1: none, or one
 * resumed after an await, which gort cannot name), preemptoff is `import` while its loop
 * awaits a module import, blocked is true while it is parked. `stuck` is sysmon's (T.STUCK_MS).
 */
import type { Heap } from '../heap/heap.js';
import { H } from '../heap/layout.js';
import { readStats } from '../debug/stats.js';
import { G, Gstatus, waitReasons } from '../sched/g.js';
import { forEachG } from '../sched/galloc.js';
import { T, ThreadState, threadStateNames, threadWord } from '../sched/threads.js';

export function startSchedTrace(heap: Heap, ms: number, detail = false): () => void {
  const t0 = performance.now();
  const timer = setInterval(() => {
    const s = readStats(heap);
    const ms = Math.round(performance.now() - t0);
    let out =
      `SCHED ${ms}ms: gomaxprocs=${s.procs} idleprocs=${s.idleProcs} threads=${s.threads} ` +
      `spinningthreads=${s.spinningThreads} goroutines=${s.goroutines} runqueue=${s.globalQueue} ` +
      `[${s.localQueues.join(' ')}] tasks=[${s.tasksPerM.join(' ')}] steals=[${s.stealsPerM.join(' ')}] stuck=[${s.stuckMsPerM.join(' ')}]\n`;
    if (detail) out += schedDetail(heap, s.localQueues);
    process.stderr.write(out);
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}

/** The scheddetail lines: per P, per M, per goroutine (main first). */
export function schedDetail(heap: Heap, runq: readonly number[]): string {
  const a = heap.i32;
  const procs = a[H.PROCS]!;
  const lines: string[] = [];
  for (let p = 0; p < procs; p++) {
    const tw = threadWord(heap, p + 1);
    const idle = (Atomics.load(a, H.IDLE_MASK + (p >> 5)) & (1 << (p & 31))) !== 0;
    lines.push(
      `  P${p}: status=${idle ? 0 : 1} schedtick=${a[tw + T.SCHEDTICK]!} syscalltick=0 m=${p + 1} runqsize=${runq[p] ?? 0} gfreecnt=0 stuck=${Atomics.load(a, tw + T.STUCK_MS)}ms`,
    );
  }
  for (let i = 1; i <= procs; i++) {
    const tw = threadWord(heap, i);
    const g = a[tw + T.CURG]!;
    const st = Atomics.load(a, tw + T.STATE);
    lines.push(
      `  M${i}: p=${i - 1} curg=${g === 0 ? -1 : a[(g >> 2) + G.GOID]!} mallocing=0 throwing=0 preemptoff=${a[tw + T.NOPREEMPT] !== 0 ? 'import' : ''} locks=0 dying=0 ` +
        `spinning=${Atomics.load(a, tw + T.SPINNING) !== 0} blocked=${st === ThreadState.PARKED} lockedg=-1 state=${threadStateNames[st] ?? st} stuck=${Atomics.load(a, tw + T.STUCK_MS)}ms`,
    );
  }
  const mw = threadWord(heap, 0);
  const mainWait = Atomics.load(a, mw + T.PARKED) !== 0 ? a[mw + T.WAIT]! : 0;
  lines.push(`  G1: status=${mainWait !== 0 ? Gstatus.WAITING : Gstatus.RUNNING}(${waitReasons[mainWait] ?? ''}) m=-1 lockedm=-1`);
  const gs: Array<[number, string]> = [];
  forEachG(heap, (g) => {
    const i = g >> 2;
    const st = Atomics.load(a, i + G.STATUS);
    const why = st === Gstatus.WAITING ? (waitReasons[a[i + G.WAIT]!] ?? '') : '';
    gs.push([a[i + G.GOID]!, `  G${a[i + G.GOID]!}: status=${st}(${why}) m=${a[i + G.M]!} lockedm=-1`]);
  });
  gs.sort((x, y) => x[0] - y[0]);
  for (const [, l] of gs) lines.push(l);
  return lines.join('\n') + '\n';
}
