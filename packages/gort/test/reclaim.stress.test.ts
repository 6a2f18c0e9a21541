/**
 * Reclamation of runtime objects, on real workers (2 Ms), each case in a child process that
 * prints JSON lines (fixtures/reclaim-soak.mjs, fixtures/reclaim-handles.mjs).
 *
 * - Soak: request after request of a server's per-request pattern (a context with a timeout,
 *   `chan(1)`, a `Mutex`, a `WaitGroup`, one goroutine using them all, then `cancel`) in a
 *   64 MiB heap. The run must finish (no HeapExhaustedError: a leak of the ~290 bytes a
 *   request makes fills that heap in ~230,000 requests), the bytes in use must stay flat after
 *   warm-up (at most 16 MiB over the first sample after it), and no kind of object
 *   (`Chan`, `Context`, `Mutex`, `WaitGroup`) may have 50,000 live at a sample.
 * - Handles: N channels, each made on one M, given its index, sent on a channel of channels
 *   and dropped; received on either M, checked, used once more and dropped. Run with
 *   GORT_DEBUG=checkfree=1 (freed blocks poisoned), so that a channel freed while still in
 *   use reads as garbage. Every channel must arrive exactly once and work, and afterwards the
 *   live `Chan` count must come back to within 1% of N (at least 1,000) of its count before
 *   the work within 10 s, with the garbage collector run on every thread between looks.
 *
 * Sized for CI (~1 minute on 2 cores): GORT_SOAK_ITERS=3000000 and GORT_RECLAIM_N=1000000
 * run the full sizes. GORT_SOAK_EVERY sets the soak's sampling interval (default a sixth of
 * the run).
 */
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MiB = 1 << 20;
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

interface ChildResult {
  status: number | null;
  /** Set if the child was killed after `timeout` ms. */
  timedOut: boolean;
  lines: Record<string, unknown>[];
  stderr: string;
}

/**
 * Run a fixture in a fresh node with `env` added: its status, its JSON lines, its stderr.
 * Asynchronous, so that this process stays responsive to vitest while the child runs.
 */
function runFixture(name: string, nodeArgs: string[], env: Record<string, string>, timeout: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...nodeArgs, fixture(name)],
      { env: { ...process.env, ...env }, timeout, encoding: 'utf8', maxBuffer: 64 * MiB },
      (err, stdout, stderr) => {
        if (err !== null && err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') return reject(err);
        const lines: Record<string, unknown>[] = [];
        for (const l of stdout.split('\n')) {
          if (l.trim() === '') continue;
          try {
            lines.push(JSON.parse(l) as Record<string, unknown>);
          } catch {
            lines.push({ unparsed: l });
          }
        }
        resolve({ status: err === null ? 0 : typeof err.code === 'number' ? err.code : null, timedOut: err?.killed === true, lines, stderr });
      },
    );
  });
}

interface Sample {
  sample: number;
  iter: number;
  heapInUse: number;
  heapUsed: number;
  objects: Record<string, number>;
}

const SOAK_ITERS = Number(process.env.GORT_SOAK_ITERS ?? 1_200_000);
const SOAK_EVERY = Number(process.env.GORT_SOAK_EVERY ?? Math.max(1, Math.floor(SOAK_ITERS / 6)));
const SOAK_WARMUP = 2; // samples before the reference one
const SOAK_GROWTH = 16 * MiB; // heapInUse over the reference sample, at most
const LIVE_BOUND = 50_000; // live objects of one kind at a sample, fewer than
const SOAK_KINDS = ['Chan', 'Context', 'Mutex', 'WaitGroup'];

const N = Number(process.env.GORT_RECLAIM_N ?? 200_000);
const SLACK = Math.max(1000, Math.floor(N / 100));

describe('reclamation on 2 Ms', () => {
  it(`soak: ${SOAK_ITERS} requests of context + chan + Mutex + WaitGroup + goroutine in a 64 MiB heap stay in bounded memory`, async () => {
    const r = await runFixture(
      'reclaim-soak.mjs',
      [],
      { GORT_SOAK_ITERS: String(SOAK_ITERS), GORT_SOAK_EVERY: String(SOAK_EVERY) },
      120_000 + SOAK_ITERS / 5,
    );
    const samples = r.lines.filter((l) => 'sample' in l) as unknown as Sample[];
    const row = (s: Sample): string =>
      `${String(s.iter).padStart(9)}  inUse ${(s.heapInUse / MiB).toFixed(2).padStart(6)} MiB  ` +
      SOAK_KINDS.map((k) => `${k} ${s.objects[k] ?? 0}`).join('  ');
    console.log(`soak samples (every ${SOAK_EVERY} requests):\n${samples.map(row).join('\n')}`);

    expect(r.timedOut, r.stderr).toBe(false);
    expect(r.lines.at(-1), r.stderr).toEqual({ done: SOAK_ITERS });
    expect(r.status, r.stderr).toBe(0);
    expect(samples.length).toBeGreaterThanOrEqual(Math.max(SOAK_WARMUP + 1, Math.floor(SOAK_ITERS / SOAK_EVERY)));
    const after = samples.slice(SOAK_WARMUP);
    const ref = after[0]!.heapInUse;
    const peak = Math.max(...after.map((s) => s.heapInUse));
    expect(peak - ref, `heapInUse grew from ${ref} to ${peak} bytes after warm-up`).toBeLessThanOrEqual(SOAK_GROWTH);
    for (const s of after) {
      for (const k of SOAK_KINDS) expect(s.objects[k] ?? 0, `live ${k} after ${s.iter} requests`).toBeLessThan(LIVE_BOUND);
    }
  }, 180_000 + SOAK_ITERS / 4);

  it(`handles: ${N} channels sent through a channel of channels across both Ms, under checkfree, all arrive and are reclaimed`, async () => {
    const debug = [process.env.GORT_DEBUG, 'checkfree=1'].filter((s) => s !== undefined && s !== '').join(',');
    const r = await runFixture(
      'reclaim-handles.mjs',
      ['--expose-gc'],
      { GORT_DEBUG: debug, GORT_RECLAIM_N: String(N), GORT_RECLAIM_SETTLE_MS: '10000', GORT_RECLAIM_SLACK: String(SLACK) },
      120_000 + N / 2,
    );
    const out = r.lines.at(-1) ?? {};
    console.log(`handles (GORT_DEBUG=${debug}): ${JSON.stringify(out)}`);

    expect(r.timedOut, r.stderr).toBe(false);
    expect(out.error, `${String(out.message)}\n${r.stderr}`).toBeUndefined();
    expect(r.status, r.stderr).toBe(0);
    const threads = out.threads as number[];
    expect(new Set(threads).size, `workers on threads ${threads.join(', ')}`).toBe(2);
    expect({ received: out.received, bad: out.bad, dupes: out.dupes, missing: out.missing }).toEqual({ received: N, bad: 0, dupes: 0, missing: 0 });
    const baseline = out.baseline as number;
    expect(out.settled as number, `live Chan ${String(out.settled)} (baseline ${baseline}, ${String(out.afterWork)} right after the work)`).toBeLessThanOrEqual(baseline + SLACK);
  }, 180_000 + N);
});
