/**
 * Stress test of runq.ts on real worker threads (the built dist/sched/runq.js, via
 * runq.stress.worker.mjs): N >= 4 threads, each owning one capacity-256 queue in one
 * SharedArrayBuffer, push their share of distinct Gs, pop them, drain a shared futex-locked
 * overflow list, and steal from random victims when their own queue is empty.
 *
 * At the end every G must have been taken exactly once (a shared "taken" counter per G id,
 * bumped with Atomics.add), every queue and the overflow list must be empty, every overflow
 * batch must hold cap/2 + 1 Gs, and every successful steal must have taken 1..cap/2 Gs (the
 * sizes a thief observed are racy, so only bounds that must always hold are checked). No
 * timing assertions.
 *
 *   GORT_STRESS_SCALE=5 npx vitest run packages/gort/test/runq.stress   # 5x the operations
 *   GORT_STRESS_SEED=7  ...                                            # other per-thread PRNG seeds
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { realAtomics } from '../src/sched/atomics.js';
import { RQ, RunqStealer, runqWords } from '../src/sched/runq.js';

const CAP = 256;
const THREADS = 4;
const SCALE = Number(process.env['GORT_STRESS_SCALE'] ?? '1');
const SEED = Number(process.env['GORT_STRESS_SEED'] ?? '1');
/** Each G is put at least once and taken once: about 2 * TOTAL_G runq operations. */
const TOTAL_G = Math.max(1000, Math.round(1_000_000 * SCALE));
const MIN_OPS = Math.round(1_000_000 * SCALE);

// Control words and overflow-list words (must match runq.stress.worker.mjs).
const REMAINING = 0;
const ABORT = 1;
const LIST_COUNT = 1;
const LIST_ITEMS = 16;

interface Stats {
  id: number;
  ops: number;
  fresh: number;
  puts: number;
  gets: number;
  takes: number;
  steals: number;
  stealHits: number;
  grabs: number;
  grabHits: number;
  retries: number;
  overflowBatches: number;
  overflowGs: number;
  globalPops: number;
  idleSleeps: number;
  dup: number;
  badG: number;
  badBatch: number;
  badResult: number;
  stealHist: number[];
  abort: number;
  error: string | null;
}

function runWorker(url: URL, workerData: Record<string, unknown>): Promise<Stats> {
  return new Promise((resolve, reject) => {
    const w = new Worker(url, { workerData });
    let result: Stats | null = null;
    w.on('message', (m: Stats) => (result = m));
    w.on('error', reject);
    w.on('exit', (code) => (result !== null ? resolve(result) : reject(new Error(`stress worker exited ${code} without a result`))));
  });
}

describe('runq stress on real threads', () => {
  it(`${THREADS} threads, cap ${CAP}, ${TOTAL_G} Gs: every G taken exactly once`, async () => {
    const url = new URL('./runq.stress.worker.mjs', import.meta.url);
    const dist = new URL('../dist/sched/runq.js', import.meta.url);
    expect(existsSync(dist), `${dist.pathname} missing: build dist first`).toBe(true);

    const W = runqWords(CAP);
    const queues = new Int32Array(new SharedArrayBuffer(THREADS * W * 4));
    const taken = new Int32Array(new SharedArrayBuffer((TOTAL_G + 1) * 4));
    const ctl = new Int32Array(new SharedArrayBuffer(64));
    const list = new Int32Array(new SharedArrayBuffer((LIST_ITEMS + TOTAL_G + CAP) * 4));
    ctl[REMAINING] = TOTAL_G;
    // Start every queue's indices a little below 2^31 - 1 so HEAD/TAIL wrap during the run.
    for (let k = 0; k < THREADS; k++) {
      const start = (0x7fffffff - 1000 * (k + 1)) | 0;
      queues[k * W + RQ.HEAD] = start;
      queues[k * W + RQ.TAIL] = start;
    }

    // Unequal shares (the last threads get little), so that most of the run has thieves.
    const weights = Array.from({ length: THREADS }, (_, i) => 2 ** (THREADS - 1 - i));
    const bounds = [1];
    for (let i = 0; i < THREADS; i++)
      bounds.push(i === THREADS - 1 ? TOTAL_G + 1 : bounds[i]! + Math.floor((TOTAL_G * weights[i]!) / weights.reduce((a, b) => a + b)));
    const t0 = Date.now();
    const stats = await Promise.all(
      Array.from({ length: THREADS }, (_, id) =>
        runWorker(url, {
          id,
          nT: THREADS,
          cap: CAP,
          lo: bounds[id]!,
          hi: bounds[id + 1]!,
          totalG: TOTAL_G,
          seed: SEED,
          queues: queues.buffer,
          taken: taken.buffer,
          ctl: ctl.buffer,
          list: list.buffer,
        }),
      ),
    );
    const ms = Date.now() - t0;

    const sum = (f: (s: Stats) => number): number => stats.reduce((a, s) => a + f(s), 0);
    const hist = new Array<number>(CAP + 2).fill(0);
    for (const s of stats) s.stealHist.forEach((c, n) => (hist[n]! += c));
    // Histogram of steal sizes in power-of-two buckets: "lo-hi:count".
    const buckets = new Map<string, number>();
    hist.forEach((c, n) => {
      if (c === 0) return;
      const lo = n < 1 ? n : 2 ** Math.floor(Math.log2(n));
      const key = n < 1 || n > CAP ? `${n}` : `${lo}-${Math.min(2 * lo - 1, CAP)}`;
      buckets.set(key, (buckets.get(key) ?? 0) + c);
    });
    const sizes = [...buckets].map(([k, c]) => `${k}:${c}`);
    console.log(
      `[runq stress] seed ${SEED}, scale ${SCALE}: ${THREADS} threads, ${TOTAL_G} Gs, ${sum((s) => s.ops)} ops ` +
        `(${sum((s) => s.puts)} puts, ${sum((s) => s.gets)} gets, ${sum((s) => s.steals)} stealFrom / ${sum((s) => s.grabs)} grab attempts, ` +
        `${sum((s) => s.stealHits) + sum((s) => s.grabHits)} successful, ${sum((s) => s.retries)} RETRY, ` +
        `${sum((s) => s.overflowBatches)} overflow batches, ${sum((s) => s.globalPops)} list pops) in ${ms} ms\n` +
        `[runq stress] steal sizes (range:count) ${sizes.join(' ')}`,
    );

    // No thread failed or aborted (abort 1 = Gs lost, 2 = a G queued twice, 3 = stalled, 4 = threw).
    for (const s of stats) {
      expect(s.error, `thread ${s.id}`).toBeNull();
      expect(s.abort, `thread ${s.id} saw ABORT`).toBe(0);
    }
    expect(Atomics.load(ctl, ABORT)).toBe(0);

    // Every G was pushed once by its owner thread and taken exactly once.
    expect(sum((s) => s.fresh)).toBe(TOTAL_G);
    expect(sum((s) => s.dup)).toBe(0);
    expect(sum((s) => s.badG)).toBe(0);
    expect(sum((s) => s.takes)).toBe(TOTAL_G);
    expect(Atomics.load(ctl, REMAINING)).toBe(0);
    const wrong: string[] = [];
    for (let g = 1; g <= TOTAL_G; g++) {
      const c = taken[g]!;
      if (c !== 1 && wrong.length < 20) wrong.push(`G ${g} taken ${c} times`);
    }
    expect(wrong).toEqual([]);
    expect(taken[0]).toBe(0);

    // Nothing is left anywhere.
    expect(Atomics.load(list, LIST_COUNT)).toBe(0);
    for (let k = 0; k < THREADS; k++) {
      const v = new RunqStealer(realAtomics, queues, k * W, CAP);
      expect(v.size(), `queue ${k}`).toBe(0);
      expect(v.hasRunnext(), `queue ${k} runnext`).toBe(false);
      // The indices wrapped past 2^31 - 1 on the busy queue and stayed consistent.
      expect(queues[k * W + RQ.HEAD]).toBe(queues[k * W + RQ.TAIL]);
    }

    // Steal results and overflow batches were well-formed.
    expect(sum((s) => s.badResult)).toBe(0);
    expect(sum((s) => s.badBatch)).toBe(0);
    expect(sum((s) => s.overflowGs)).toBe(sum((s) => s.overflowBatches) * (CAP / 2 + 1));
    for (let n = 0; n < hist.length; n++) {
      if (n < 1 || n > Math.ceil(CAP / 2)) expect(hist[n], `steals of size ${n}`).toBe(0);
    }

    // The run exercised what it is meant to: volume, stealing, overflow.
    expect(sum((s) => s.ops)).toBeGreaterThanOrEqual(MIN_OPS);
    expect(sum((s) => s.stealHits) + sum((s) => s.grabHits)).toBeGreaterThan(0);
    expect(sum((s) => s.overflowBatches)).toBeGreaterThan(0);
  });
});
