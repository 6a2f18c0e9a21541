/**
 * GORT_DEBUG=schedtrace=N: print a Go-style SCHED line every N ms (main thread, unref'd timer).
 */
import type { Heap } from '../heap/heap.js';
import { readStats } from '../debug/stats.js';

export function startSchedTrace(heap: Heap, ms: number): () => void {
  const t0 = performance.now();
  const timer = setInterval(() => {
    const s = readStats(heap);
    const ms = Math.round(performance.now() - t0);
    process.stderr.write(
      `SCHED ${ms}ms: gomaxprocs=${s.procs} idleprocs=${s.idleProcs} threads=${s.threads} ` +
        `spinningthreads=${s.spinningThreads} goroutines=${s.goroutines} runqueue=${s.globalQueue} ` +
        `[${s.localQueues.join(' ')}] tasks=[${s.tasksPerM.join(' ')}] steals=[${s.stealsPerM.join(' ')}]\n`,
    );
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}
