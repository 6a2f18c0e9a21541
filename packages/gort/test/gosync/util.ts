// Main-thread helpers shared by the gosync tests (never used inside goroutines: a goroutine
// may only use its parameters, JS globals and gort's names).
import { spawn, fromModule, exportRef, type Context } from 'gort';

/** GORT_STRESS_SCALE multiplies the loop sizes of the ports and of sync.stress.test.ts. */
export const SCALE = Number(process.env['GORT_STRESS_SCALE'] ?? '1');
export const scaled = (n: number): number => Math.max(1, Math.round(n * SCALE));

/**
 * How many children are linked into a cancelable context's child list (Go's
 * len(ctx.(*cancelCtx).children)), read straight from the shared heap: exportRef() gives the
 * heap's SharedArrayBuffer and the record's handle. Word offsets from the layout table at
 * the top of src/context/context.ts: CHILD_HEAD = 4, NEXT = 5.
 * Only for a context made by withCancel/withTimeout/withDeadline (not withValue).
 */
export function childCount(ctx: Context): number {
  const ref = exportRef(ctx);
  const a = new Int32Array(ref.sab);
  let n = 0;
  for (let c = a[(ref.handle >> 2) + 4]!; c !== 0; c = a[(c >> 2) + 5]!) {
    if (++n > 10_000_000) throw new Error('childCount: the child list has a cycle');
  }
  return n;
}

/**
 * The shared heap's high-water mark in bytes: its BUMP word (word 17 of the header, table in
 * src/heap/layout.ts), the first never-used byte. gort/debug's stats() has no heap figures.
 */
export function heapHighWater(obj: Parameters<typeof exportRef>[0]): number {
  return Atomics.load(new Int32Array(exportRef(obj).sab), 17);
}

/** URL of helpers.mjs, for goroutines: `await fromModule<Helpers>(url).where()`. */
export const HELPERS = new URL('./helpers.mjs', import.meta.url).href;
export type Helpers = typeof import('./helpers.mjs');

/**
 * Spawn rounds of 8 short busy goroutines until goroutines have run on `procs` different Ms
 * (at most 50 rounds); returns the number of rounds, or -1. Tests that check that their
 * goroutines ran on every M call this first: right after a runtime starts, the first batch of
 * goroutines sometimes all runs on one M while the other stays idle (seen in about 1 to 7 %
 * of fresh runtimes with procs 2; never in later rounds), which is a scheduler matter, not
 * what these tests are about.
 */
export async function warmUp(procs = 2): Promise<number> {
  for (let round = 1; round <= 50; round++) {
    const threads = await Promise.all(
      Array.from({ length: 8 }, () =>
        spawn(async (helpers: string) => {
          const end = performance.now() + 2;
          while (performance.now() < end);
          return fromModule<Helpers>(helpers).where();
        }, HELPERS),
      ),
    );
    if (new Set(threads).size >= procs) return round;
  }
  return -1;
}
