/**
 * Goroutine stacks: where each goroutine was created and where it last parked, recorded
 * while stacks are on (GORT_DEBUG=stacks=1, or start()'s `stacks: true`: the heap header's
 * DEBUG word has DEBUG_STACKS, read by every thread's Thread at creation).
 *
 * Contract:
 * - Off, the runtime keeps `t.stacks === null` and every hook is one field test.
 * - On, a go()/spawn() captures a stack on the creating thread (keyed by the new goid), and a
 *   park of a known goroutine (parkG, parkLocal, sleep) captures one on the goroutine's M,
 *   replacing its previous one. A capture is `Error.captureStackTrace` on a plain object:
 *   V8 records the frames (async ones included: `at async handler`) and formats them only
 *   when `.stack` is first read, here at dump time. ~3.5–5.5 µs per capture.
 * - Captures live in JS memory of the thread that made them, so any thread asking for them
 *   (collectStacks) asks the others over the runtime's debug BroadcastChannel and waits for
 *   their answers, ringing parked threads so that their event loops turn. A thread whose
 *   goroutine holds it (a synchronous loop) cannot answer: after DEBUG_ANSWER_MS it is named
 *   in `missing` and its goroutines are shown without their stacks. Nothing waits forever.
 * - Invariants: a park capture is dropped when its goroutine ends on its M (onEnd); creation
 *   captures are dropped by prune() once their goroutine is gone (its G record reused or
 *   dead), run when the table doubles, so the table stays within twice the live goroutines
 *   created on this thread (plus a floor).
 */
import { BroadcastChannel } from 'node:worker_threads';
import { H } from '../heap/layout.js';
import type { Heap } from '../heap/heap.js';
import { G, Gstatus } from '../sched/g.js';

/** How long collectStacks waits for the other threads' answers. */
const DEBUG_ANSWER_MS = 1000;
/** How often collectStacks rings the threads that have not answered yet. */
const RING_MS = 2;
/** Frames kept per capture (V8's default limit is 10; runtime frames are cut after). */
const FRAMES = 24;

interface Capture {
  stack?: string;
}

/** One goroutine's stacks, formatted: frames as V8 prints them, without `at ` and without the runtime's own frames. */
export interface GoroutineStacks {
  created?: string[];
  parked?: string[];
}

interface Request {
  q: number;
  from: number;
}
interface Answer {
  a: number;
  to: number;
  from: number;
  created: Array<[number, string[]]>;
  parked: Array<[number, string[]]>;
}

/**
 * The directories of the runtime's own code: frames inside them are not the program's. The
 * built code is in dist/; with source maps on (vitest, --enable-source-maps) V8 names the
 * sources in src/ instead.
 */
const runtimeDirs = [new URL('..', import.meta.url).href, new URL('../../src/', import.meta.url).href];

function capture(): Capture {
  const o: Capture = {};
  const lim = Error.stackTraceLimit;
  Error.stackTraceLimit = FRAMES;
  Error.captureStackTrace(o);
  Error.stackTraceLimit = lim;
  return o;
}

/** The program's frames of a capture: its first line ("Error") and the runtime's frames dropped. */
export function frames(c: Capture): string[] {
  const s = c.stack ?? '';
  const out: string[] = [];
  for (const line of s.split('\n').slice(1)) {
    const f = line.trim().replace(/^at /, '');
    if (f === '' || runtimeDirs.some((d) => f.includes(d)) || f.startsWith('node:internal') || f.includes('(node:internal')) continue;
    out.push(f);
  }
  return out;
}

function channelName(heap: Heap): string {
  return `gort-debug-${heap.i32[H.SHARED_ID]!}`;
}

export class StackRecorder {
  private readonly created = new Map<number, { g: number; c: Capture }>();
  private readonly parked = new Map<number, Capture>();
  private pruneAt = 4096;
  private readonly bc: BroadcastChannel;
  private nextQ = 1;
  private readonly pending = new Map<number, (a: Answer) => void>();

  constructor(
    private readonly heap: Heap,
    private readonly index: number,
  ) {
    this.bc = new BroadcastChannel(channelName(heap));
    this.bc.onmessage = (e: unknown) => this.onMessage((e as { data: Request | Answer }).data);
    this.bc.unref();
  }

  /** A goroutine was just made on this thread (newproc): where. */
  onCreate(goid: number, g: number): void {
    this.created.set(goid, { g, c: capture() });
    if (this.created.size >= this.pruneAt) this.prune();
  }

  /** Goroutine g (running here) parks: where. */
  onPark(g: number): void {
    this.parked.set(this.heap.i32[(g >> 2) + G.GOID]!, capture());
  }

  /** The main goroutine (goid 1, no G record) parks: where. */
  onParkMain(): void {
    this.parked.set(1, capture());
  }

  /** Goroutine goid ended on this thread. */
  onEnd(goid: number): void {
    this.parked.delete(goid);
  }

  close(): void {
    this.bc.close();
  }

  /** Drop the creation captures of goroutines that are gone. */
  private prune(): void {
    const a = this.heap.i32;
    for (const [goid, e] of this.created) {
      const st = Atomics.load(a, (e.g >> 2) + G.STATUS);
      if (a[(e.g >> 2) + G.GOID] !== goid || st === Gstatus.DEAD || st === Gstatus.IDLE) this.created.delete(goid);
    }
    this.pruneAt = Math.max(4096, 2 * this.created.size);
  }

  /** This thread's captures, formatted (for goids that are still live: pruned first). */
  private answer(q: number, to: number): Answer {
    this.prune();
    const created: Array<[number, string[]]> = [];
    const parked: Array<[number, string[]]> = [];
    for (const [goid, e] of this.created) created.push([goid, frames(e.c)]);
    for (const [goid, c] of this.parked) parked.push([goid, frames(c)]);
    return { a: q, to, from: this.index, created, parked };
  }

  private onMessage(m: Request | Answer): void {
    if ('q' in m) {
      if (m.from !== this.index) this.bc.postMessage(this.answer(m.q, m.from));
    } else if (m.to === this.index) this.pending.get(m.a)?.(m);
  }

  /**
   * Every thread's captures: goid → its stacks. Waits for main and every M (`ring(k)` wakes
   * thread k if it is parked, so that its event loop turns and it answers) for at most
   * DEBUG_ANSWER_MS, and returns those that did not answer. An attached thread's answer is
   * taken if it comes in that time, not waited for (it may have detached). `only`: wait for
   * these threads alone.
   */
  async collect(ring: (k: number) => void, only?: readonly number[]): Promise<{ stacks: Map<number, GoroutineStacks>; missing: number[] }> {
    const stacks = new Map<number, GoroutineStacks>();
    const add = (x: Answer): void => {
      for (const [goid, f] of x.created) {
        const e = stacks.get(goid);
        if (e === undefined) stacks.set(goid, { created: f });
        else e.created = f;
      }
      for (const [goid, f] of x.parked) {
        const e = stacks.get(goid);
        if (e === undefined) stacks.set(goid, { parked: f });
        else e.parked = f;
      }
    };
    add(this.answer(0, this.index));
    const q = this.nextQ++ * 1024 + this.index; // unique per asking thread
    const waitFor = new Set<number>();
    const ask = only ?? Array.from({ length: this.heap.i32[H.PROCS]! + 1 }, (_, k) => k);
    for (const k of ask) if (k !== this.index) waitFor.add(k);
    if (waitFor.size === 0) return { stacks, missing: [] };
    await new Promise<void>((resolve) => {
      // A rung M may block again before the request reaches its event loop (it then turns
      // only after SYNC_PARK_MS): ring those that have not answered again, every RING_MS.
      const again = setInterval(() => {
        for (const k of waitFor) ring(k);
      }, RING_MS);
      const timer = setTimeout(() => {
        clearInterval(again);
        this.pending.delete(q);
        resolve();
      }, DEBUG_ANSWER_MS);
      this.pending.set(q, (x) => {
        add(x);
        waitFor.delete(x.from);
        if (waitFor.size === 0) {
          clearTimeout(timer);
          clearInterval(again);
          this.pending.delete(q);
          resolve();
        }
      });
      this.bc.postMessage({ q, from: this.index } satisfies Request);
      for (const k of waitFor) ring(k);
    });
    return { stacks, missing: [...waitFor].sort((x, y) => x - y) };
  }
}
