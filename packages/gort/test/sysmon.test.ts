// Sysmon (runtime/sysmon.ts) on real worker threads: a stalled M's queue goes to the global
// queue and runs elsewhere while the stall lasts, checkpoint() yields once sysmon asks, one warning per stall on stderr
// (child processes), the stall in stats() and dump(), the scheddetail lines, and sysmon's park
// while every M is parked. No timing assertions: each case asserts what ran, what was printed
// or which state a word reached; loops give up after a bound instead of hanging.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run, start, go, spawn, checkpoint, sleep, AtomicInt32 } from 'gort';
import { stats } from 'gort/debug';

const fixture = fileURLToPath(new URL('./fixtures/sysmon.mjs', import.meta.url));
/** H.SYSMON (heap/layout.ts) and its PARKED value (runtime/sysmon.ts). */
const H_SYSMON = 61;
const PARKED = 2;

/**
 * Two goroutines hold both Ms of procs 2 in synchronous loops. `other` starts first, alone;
 * then `parent` starts on the other M, spawns 100 goroutines onto its own P (runnext and ring)
 * and loops until all 100 have run. Nobody can steal them while both Ms loop: `other` loops
 * until sysmon has moved 100 goroutines to the global queue (H.SYSMON_RETAKEN, read through
 * the heap) or for 300 ms, then its M is free to run them. Returns how many had run when
 * `parent`'s loop ended, and how many sysmon moved and other Ms stole.
 */
async function stalledQueue(sysmon: boolean): Promise<{ atEnd: number; retaken: number; stolen: number }> {
  const rt = await start({ procs: 2, sysmon });
  try {
    const words = new Int32Array(rt.heap.sab);
    const started = new AtomicInt32();
    const other = spawn(
      (words: Int32Array, started: AtomicInt32) => {
        started.store(1);
        const t = performance.now();
        while (Atomics.load(words, 63) < 100 && performance.now() - t < 300);
      },
      words,
      started,
    );
    for (let k = 0; k < 5000 && started.load() === 0; k++) await sleep(1);
    const atEnd = await spawn((limit: number) => {
      const done = new AtomicInt32();
      for (let i = 0; i < 100; i++) go((done: AtomicInt32) => void done.add(1), done);
      const t = performance.now();
      while (done.load() < 100 && performance.now() - t < limit);
      return done.load();
    }, 5000);
    await other;
    const s = stats();
    return { atEnd, retaken: s.sysmonRetaken, stolen: s.stolenPerM.reduce((x, y) => x + y, 0) };
  } finally {
    await rt.shutdown();
  }
}

describe('sysmon: queued goroutines of a stalled M', () => {
  it('with sysmon, a stalled P\'s queue, runnext included, goes to the global queue and runs while the stall lasts', async () => {
    const r = await stalledQueue(true);
    expect(r.atEnd).toBe(100);
    // At least the 100 (a G moved to the other M's queue may be moved again if that M stalls too).
    expect(r.retaken).toBeGreaterThanOrEqual(100);
  });

  // Stealing already takes a busy P's ring, and its runnext on the last pass (a held one once
  // its M's heartbeat stood still for 5 ms: runtime/hold.ts): once `other` ends, its M steals
  // the 100 as the stall goes on. Sysmon's hand-off is a backstop for when no M looks
  // (docs/design/scheduler.md, "Sysmon").
  it('without sysmon, the same goroutines are stolen by the other M once it is free', async () => {
    const r = await stalledQueue(false);
    expect(r).toMatchObject({ atEnd: 100, retaken: 0 });
    expect(r.stolen).toBeGreaterThanOrEqual(100);
  });
});

describe('sysmon: preemption requests', () => {
  /** A goroutine alone on its M calls checkpoint() in a synchronous loop: did one yield? */
  const alone = (sysmon: boolean): Promise<string> =>
    run(
      () =>
        spawn(async (limit: number) => {
          // Right after start, a checkpoint may yield for the thread's own start-up (an
          // event-loop request in flight, another goroutine's step): let that pass first.
          await sleep(50);
          const first = checkpoint();
          if (first !== undefined) await first;
          const t = performance.now();
          while (performance.now() - t < limit) if (checkpoint() !== undefined) return 'yielded';
          return 'never yielded';
        }, 1000),
      { procs: 1, sysmon },
    );

  it('checkpoint() yields once sysmon asks, with nothing else waiting on the M', async () => {
    expect(await alone(true)).toBe('yielded');
  });

  it('without sysmon, checkpoint() does not yield when nothing waits', async () => {
    expect(await alone(false)).toBe('never yielded');
  });
});

interface HogReport {
  id: number;
  stuckSeen: boolean;
  during: string;
  warnings: number;
  sysmon: boolean;
}

function hog(loopMs: number, warnMs: number | '-', mode: 'on' | 'off', debug = ''): { out: HogReport; stderr: string } {
  const env = { ...process.env };
  if (debug !== '') env['GORT_DEBUG'] = debug;
  else delete env['GORT_DEBUG'];
  const r = spawnSync(process.execPath, [fixture, String(loopMs), String(warnMs), mode], { encoding: 'utf8', env, timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return { out: JSON.parse(r.stdout.trim().split('\n').pop()!) as HogReport, stderr: r.stderr };
}

const warningsIn = (stderr: string): string[] => stderr.split('\n').filter((l) => l.includes('without yielding'));

describe('sysmon: the stuck warning (child processes)', () => {
  it('is printed once per stall, naming the goroutine, its function and the advice; stats() and dump() show the stall', () => {
    const { out, stderr } = hog(1000, 200, 'on');
    const w = warningsIn(stderr);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(new RegExp(`^gort: goroutine ${out.id} \\(hog\\) has held M[12] for \\d+ ms without yielding\\. It was created by goroutine 1 on the main thread\\.`));
    expect(w[0]).toContain('await checkpoint()');
    expect(out.warnings).toBe(1);
    expect(out.stuckSeen).toBe(true);
    expect(out.during).toMatch(new RegExp(`^M[12]: stuck for \\d+ ms running goroutine ${out.id} \\(hog\\)$`, 'm'));
  });

  it('with stacks on, also shows where the goroutine was created', () => {
    const { out, stderr } = hog(1000, 200, 'on', 'stacks=1');
    expect(warningsIn(stderr)).toHaveLength(1);
    expect(out.warnings).toBe(1);
    expect(stderr).toMatch(new RegExp(String.raw`goroutine ${out.id} \(hog\) has held M[12] for \d+ ms without yielding\..*
  created at:
	at .*fixtures/sysmon\.mjs:\d+:\d+`));
  });

  it('is not printed below the threshold, though the stall still shows', () => {
    const { out, stderr } = hog(1000, 5000, 'on');
    expect(warningsIn(stderr)).toEqual([]);
    expect(out.warnings).toBe(0);
    expect(out.stuckSeen).toBe(true);
  });

  it('is not printed, and no stall shows, with start({ sysmon: false }) or GORT_DEBUG=sysmon=0', () => {
    for (const [mode, debug] of [
      ['off', ''],
      ['on', 'sysmon=0'],
    ] as const) {
      const { out, stderr } = hog(1000, 200, mode, debug);
      expect(warningsIn(stderr)).toEqual([]);
      expect(out).toMatchObject({ warnings: 0, stuckSeen: false, sysmon: false });
    }
  });
});

describe('sysmon: GORT_DEBUG=schedtrace=N,scheddetail=1', () => {
  it('prints Go-style P, M and G lines after each SCHED line, and they parse', () => {
    const { out, stderr } = hog(600, '-', 'on', 'schedtrace=50,scheddetail=1');
    const lines = stderr.split('\n').filter((l) => l !== '');
    const sched = lines.filter((l) => l.startsWith('SCHED '));
    expect(sched.length).toBeGreaterThan(0);
    for (const l of sched) expect(l).toMatch(/^SCHED \d+ms: gomaxprocs=2 idleprocs=\d+ threads=2 spinningthreads=\d+ goroutines=\d+ runqueue=\d+ \[\d+ \d+\] tasks=\[\d+ \d+\] steals=\[\d+ \d+\] stuck=\[\d+ \d+\]$/);
    const detail = lines.filter((l) => l.startsWith('  '));
    const p = /^ {2}P([01]): status=([01]) schedtick=\d+ syscalltick=0 m=([12]) runqsize=\d+ gfreecnt=0 stuck=\d+ms$/;
    const m = /^ {2}M([12]): p=([01]) curg=(-1|\d+) mallocing=0 throwing=0 preemptoff=(import)? locks=0 dying=0 spinning=(true|false) blocked=(true|false) lockedg=-1 state=(starting|running|spinning|parked|exited|polling) stuck=(\d+)ms$/;
    const g = /^ {2}G(\d+): status=([0-6])\(([a-zA-Z. ()]*)\) m=(-?\d+) lockedm=-1$/;
    for (const l of detail) expect(p.test(l) || m.test(l) || g.test(l), l).toBe(true);
    // Every SCHED line is followed by both Ps, both Ms and main.
    expect(detail.filter((l) => p.test(l))).toHaveLength(2 * sched.length);
    expect(detail.filter((l) => m.test(l))).toHaveLength(2 * sched.length);
    expect(detail.filter((l) => l.startsWith('  G1: '))).toHaveLength(sched.length);
    // While the hog ran, an M line named it as curg, stuck.
    expect(detail.some((l) => m.exec(l)?.[3] === String(out.id) && Number(m.exec(l)![8]) > 0)).toBe(true);
    expect(detail.some((l) => g.exec(l)?.[1] === String(out.id) && g.exec(l)![2] === '2')).toBe(true);
  });
});

describe('sysmon: idle', () => {
  /** Poll word H.SYSMON until it reads `want` (or give up after ~10 s); returns what it read. */
  async function until(a: Int32Array, want: number): Promise<number> {
    for (let k = 0; k < 2000 && Atomics.load(a, H_SYSMON) !== want; k++) await new Promise((r) => setTimeout(r, 5));
    return Atomics.load(a, H_SYSMON);
  }

  it('parks while every M is parked, is woken by an M that wakes, and parks again', async () => {
    const rt = await start({ procs: 2 });
    try {
      const a = rt.heap.i32;
      expect(await until(a, PARKED)).toBe(PARKED);
      // A goroutine that runs long enough for sysmon to see it: sysmon must be awake then.
      const seen = await spawn((a: Int32Array, limit: number) => {
        const t = performance.now();
        while (performance.now() - t < limit) if (Atomics.load(a, 61) !== 2) return 'awake';
        return 'still parked';
      }, new Int32Array(rt.heap.sab), 2000);
      expect(seen).toBe('awake');
      expect(await until(a, PARKED)).toBe(PARKED);
    } finally {
      await rt.shutdown();
    }
  });
});
