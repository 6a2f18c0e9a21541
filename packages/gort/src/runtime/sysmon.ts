/**
 * Sysmon: Go's system monitor (runtime/proc.go, sysmon and retake), on a small worker thread of
 * its own (runtime/sysmon-entry.ts), started with the runtime and ended at shutdown. It runs
 * no goroutine and holds no P. docs/design/scheduler.md, "Sysmon", gives the reasoning.
 *
 * What it does, per M, each time it looks:
 * - An M that has not turned its loop (T.SCHEDTICK unchanged) for FORCE_PREEMPT_MS while
 *   running (T.STATE RUNNING, or parked with its event loop busy: see below) is *stuck*: sysmon
 *   publishes how long in T.STUCK_MS (stats, dump, schedtrace), asks its running goroutine to
 *   yield at its next checkpoint() (T.PREEMPT), and moves the Gs queued on its P, runnext
 *   included, to the global queue and wakes an idle P (wakeP), so that other Ms run them.
 * - A stuck M that passes the warning threshold gets one warning on stderr per stall (a stall
 *   is one value of SCHEDTICK), naming the goroutine, how long, where it was created and
 *   what waits behind it.
 *
 * Ownership: sysmon takes from a P's queue only through the thieves' protocol
 * (RunqStealer.grab: CAS of HEAD for ring slots, CAS of RUNNEXT for runnext), so runq.ts's
 * invariants hold as for any thief; it writes no other word of an M but T.PREEMPT and
 * T.STUCK_MS. A held runnext (runtime/hold.ts) is taken too: the hold lasts while its M makes
 * progress, and an M whose loop has not turned for 10 ms makes none that could start it (its
 * heartbeat may still move: a goroutine polling channels in a synchronous loop beats).
 *
 * Sleeping: 20 µs between looks, doubling after 50 quiet looks up to 10 ms (Go's backoff);
 * back to 20 µs after it moved Gs or was woken. When every M is parked in a blocking wait
 * (STATE PARKED and LOOPIDLE 1: nothing can run on it until it is rung), sysmon parks on
 * H.SYSMON with no timeout, and the M that leaves its park wakes it (wakeSysmon): an idle
 * program costs sysmon nothing. An M parked in waitAsync (its event loop has a timer or I/O
 * pending) may run goroutine code from that event loop while parked, so while one is, sysmon
 * parks for SYNC_PARK_MS at most; such an M counts as stuck only once it has been parked for
 * SYNC_PARK_MS + FORCE_PREEMPT_MS without turning its loop (it would have turned it by then).
 *
 * The park is a Dekker pair (docs/design/memory-model.md): sysmon stores H.SYSMON = PARKED,
 * then loads every M's STATE and LOOPIDLE; an M stores its STATE on leaving park, then loads
 * H.SYSMON. One of the two sees the other, so an M never runs while sysmon sleeps untimed.
 */
import { writeSync } from 'node:fs';
import type { Heap } from '../heap/heap.js';
import { H } from '../heap/layout.js';
import { G, Gstatus } from '../sched/g.js';
import { forEachG } from '../sched/galloc.js';
import { globrunqPutBatch } from '../sched/globrunq.js';
import { heapIdle, type Idle } from '../sched/idle.js';
import { RETRY, RunqStealer, RUNQ_CAP } from '../sched/runq.js';
import { realAtomics } from '../sched/atomics.js';
import { T, ThreadState, pWord, threadWord } from '../sched/threads.js';
import { fnNameOf } from '../shipping/registry.js';

/** H.SYSMON: off (never started, or stopped), looking, or parked until an M wakes it. */
export const SysmonState = { OFF: 0, RUNNING: 1, PARKED: 2 } as const;

/** Go's forcePreemptNS: an M that has not turned its loop for this long, running, is stuck. */
export const FORCE_PREEMPT_MS = 10;
/** Default threshold of the stuck-goroutine warning (start()'s stuckWarnMs). */
export const STUCK_WARN_MS = 1000;
/**
 * Longest blocking park before an M gives its event loop a turn anyway: the bound on how
 * late something loopIdle() cannot see (an unref'd timer or a waitAsync a goroutine made
 * itself, an unref'd message port) is served. The turn is taken without leaving the park (no
 * spin, no re-publishing), but a timed wake-up still costs ~200 µs of CPU on these VMs: at 50
 * ms an idle M used 0.5% of a core, at 250 ms about 0.1%. Also the longest waitAsync park:
 * an M whose own timer or request is pending looks again this often (LOOPIDLE, deadlock.ts),
 * which sysmon relies on (see the header). Used by runtime/m.ts.
 */
export const SYNC_PARK_MS = 250;
const MIN_DELAY_MS = 0.02;
const MAX_DELAY_MS = 10;
/** Quiet looks at MIN_DELAY_MS before the delay starts doubling (Go: 50, about 1 ms). */
const QUIET_LOOKS = 50;

/**
 * Wake sysmon if it is parked: an M calls this after it stored its STATE on leaving park().
 * One load when sysmon is awake or off.
 */
export function wakeSysmon(a: Int32Array): void {
  if (Atomics.load(a, H.SYSMON) === SysmonState.PARKED && Atomics.compareExchange(a, H.SYSMON, SysmonState.PARKED, SysmonState.RUNNING) === SysmonState.PARKED) {
    Atomics.notify(a, H.SYSMON, 1);
  }
}

/** Stop sysmon (shutdown, a crash): it leaves its loop at its next look, or now if parked. */
export function stopSysmon(a: Int32Array): void {
  if (Atomics.exchange(a, H.SYSMON, SysmonState.OFF) !== SysmonState.OFF) Atomics.notify(a, H.SYSMON, 1);
}

/**
 * Where goroutine g was created, for the stuck warning: its creator's goid and thread, as
 * dump() prints them. The hook for creation stacks: with GORT_DEBUG=stacks=1 the stack of
 * g's `go`/`spawn` call lives in the creating thread's memory (runtime/stacks.ts), handed
 * over on that thread's event loop, and sysmon blocks in Atomics.wait: with stacks on, its
 * thread posts the warning and the goid to main (sysmon-entry.ts), which adds the go() call's
 * frames (Runtime.printStuck) and prints it.
 */
export function whereCreated(heap: Heap, g: number): string {
  const a = heap.i32;
  const creator = a[(g >> 2) + G.CREATOR]!;
  const t = a[(g >> 2) + G.CREATED_T]!;
  return `created by goroutine ${creator === 0 ? 1 : creator} ${t === 0 ? 'on the main thread' : `on M${t}`}`;
}

export interface SysmonOptions {
  /** Warn once per stall longer than this many ms (0: never). */
  warnMs: number;
  /** Where warnings go, with the goid they name (0: not known) and the thread that created it. Default: stderr, written synchronously. */
  write?: (s: string, goid: number, createdOn: number) => void;
}

export class Sysmon {
  private readonly a: Int32Array;
  private readonly procs: number;
  private readonly idle: Idle;
  /** Per M (index 1..procs): its record, its queue, the tick seen last and when, the tick warned about, Gs moved this stall. */
  private readonly tw: number[] = [0];
  private readonly qs: RunqStealer[] = [];
  private readonly tick: number[] = [];
  private readonly tickAt: number[] = [];
  private readonly warned: number[] = [];
  private readonly moved: number[] = [];
  private readonly movedAt: number[] = [];
  private readonly buf = new Int32Array(RUNQ_CAP);
  private readonly batch: number[] = [];
  private delay = MIN_DELAY_MS;
  private quiet = 0;
  private readonly write: (s: string, goid: number, createdOn: number) => void;

  constructor(
    private readonly heap: Heap,
    private readonly opts: SysmonOptions,
  ) {
    this.a = heap.i32;
    this.procs = this.a[H.PROCS]!;
    this.idle = heapIdle(heap);
    this.write = opts.write ?? ((s) => void writeSync(2, s));
    const now = performance.now();
    for (let i = 0; i <= this.procs; i++) {
      this.tw[i] = threadWord(heap, i);
      this.qs[i] = new RunqStealer(realAtomics, this.a, pWord(heap, Math.max(0, i - 1)), RUNQ_CAP);
      this.tick[i] = -1;
      this.tickAt[i] = now;
      this.warned[i] = -1;
      this.moved[i] = 0;
      this.movedAt[i] = -Infinity;
    }
  }

  /** The monitor's loop, until shutdown (H.SHUTDOWN) or stopSysmon. Blocks its thread. */
  run(): void {
    const a = this.a;
    while (Atomics.load(a, H.SHUTDOWN) === 0 && Atomics.load(a, H.SYSMON) !== SysmonState.OFF) {
      if (this.look(performance.now())) {
        this.delay = MIN_DELAY_MS;
        this.quiet = 0;
      } else if (++this.quiet > QUIET_LOOKS) {
        this.delay = Math.min(this.delay * 2, MAX_DELAY_MS);
      }
      const parked = this.allParked();
      if (parked !== 0) this.park(parked);
      else Atomics.wait(a, H.SYSMON, SysmonState.RUNNING, this.delay);
    }
  }

  /**
   * 0 if some M may run goroutine code; 1 if every M is parked in a blocking wait; 2 if every
   * M is parked but some in waitAsync (its event loop may run goroutine code).
   */
  private allParked(): number {
    const a = this.a;
    let async = false;
    for (let i = 1; i <= this.procs; i++) {
      const tw = this.tw[i]!;
      if (Atomics.load(a, tw + T.STATE) !== ThreadState.PARKED) return 0;
      if (Atomics.load(a, tw + T.LOOPIDLE) === 0) async = true;
    }
    return async ? 2 : 1;
  }

  /** Park until an M leaves its park (wakeSysmon), or SYNC_PARK_MS while an M parks in waitAsync. */
  private park(kind: number): void {
    const a = this.a;
    if (Atomics.compareExchange(a, H.SYSMON, SysmonState.RUNNING, SysmonState.PARKED) !== SysmonState.RUNNING) return; // stopped
    // The last look, after publishing PARKED: pairs with an M's store of STATE, then load of H.SYSMON.
    const again = this.allParked();
    if (again !== 0) Atomics.wait(a, H.SYSMON, SysmonState.PARKED, again === 1 ? Infinity : SYNC_PARK_MS);
    Atomics.compareExchange(a, H.SYSMON, SysmonState.PARKED, SysmonState.RUNNING);
    this.delay = MIN_DELAY_MS;
    this.quiet = 0;
    // No clock is reset here: an M that was blocked bumps SCHEDTICK as it leaves its park, and
    // one parked in waitAsync may be running goroutine code all along (its allowance covers
    // the park itself).
  }

  /** One look at every M. True if it moved Gs (the backoff starts again). */
  look(now: number): boolean {
    const a = this.a;
    let acted = false;
    for (let i = 1; i <= this.procs; i++) {
      const tw = this.tw[i]!;
      const tick = a[tw + T.SCHEDTICK]!;
      let allowance = 0;
      if (tick !== this.tick[i]) {
        this.tick[i] = tick;
        this.tickAt[i] = now;
        this.unstuck(i);
        continue;
      }
      const st = Atomics.load(a, tw + T.STATE);
      if (st === ThreadState.PARKED && Atomics.load(a, tw + T.LOOPIDLE) === 0) allowance = SYNC_PARK_MS;
      else if (st !== ThreadState.RUNNING || a[tw + T.NOPREEMPT] !== 0) {
        this.tickAt[i] = now;
        this.unstuck(i);
        continue;
      }
      const stuck = now - this.tickAt[i]! - allowance;
      if (stuck < FORCE_PREEMPT_MS) continue;
      Atomics.store(a, tw + T.STUCK_MS, Math.round(stuck));
      if (a[tw + T.PREEMPT] === 0) Atomics.store(a, tw + T.PREEMPT, 1);
      // At most one hand-off per M every FORCE_PREEMPT_MS: an M that the OS merely did not
      // schedule for 10 ms (more procs than cores) looks stuck too, and each hand-off takes
      // SCHED_LOCK and may ring an idle M.
      if (now - this.movedAt[i]! >= FORCE_PREEMPT_MS) {
        this.movedAt[i] = now;
        if (this.retake(i) > 0) acted = true;
      }
      const warnMs = this.opts.warnMs;
      if (warnMs > 0 && stuck >= warnMs && this.warned[i] !== tick) {
        this.warned[i] = tick;
        Atomics.add(a, H.SYSMON_WARNED, 1);
        const g = a[this.tw[i]! + T.CURG]!;
        this.write(this.warning(i, stuck), g !== 0 ? a[(g >> 2) + G.GOID]! : 0, g !== 0 ? a[(g >> 2) + G.CREATED_T]! : 0);
      }
    }
    return acted;
  }

  private unstuck(i: number): void {
    this.moved[i] = 0;
    if (this.a[this.tw[i]! + T.STUCK_MS] !== 0) Atomics.store(this.a, this.tw[i]! + T.STUCK_MS, 0);
  }

  /**
   * Move every G queued on M i's P, runnext last, to the global queue, and wake an idle P.
   * Only thieves' operations (grab), so a race with the owner or a thief costs a retry.
   */
  private retake(i: number): number {
    const q = this.qs[i]!;
    if (q.size() === 0 && !q.hasRunnext()) return 0;
    const out = this.batch;
    out.length = 0;
    for (let k = 0; k < 64; k++) {
      const n = q.grab(this.buf, 0, 0, RUNQ_CAP - 1, true);
      if (n === RETRY) continue;
      if (n === 0) break;
      for (let j = 0; j < n; j++) out.push(this.buf[j]!);
    }
    if (out.length === 0) return 0;
    globrunqPutBatch(this.heap, out);
    Atomics.add(this.a, H.SYSMON_RETAKEN, out.length);
    this.moved[i] = this.moved[i]! + out.length;
    this.idle.wakeP();
    return out.length;
  }

  /** The warning for M i, stuck for `ms`. */
  private warning(i: number, ms: number): string {
    const heap = this.heap;
    const a = this.a;
    const g = a[this.tw[i]! + T.CURG]!;
    let who: string;
    let where = '';
    let running = 0;
    if (g !== 0) {
      who = `goroutine ${a[(g >> 2) + G.GOID]!} (${fnNameOf(heap, a[(g >> 2) + G.FN]!)})`;
      where = ` It was ${whereCreated(heap, g)}.`;
      running = g;
    } else {
      const last = a[this.tw[i]! + T.LASTG]!;
      const lastOk = last !== 0 && a[(last >> 2) + G.M] === i && Atomics.load(a, (last >> 2) + G.STATUS) === Gstatus.RUNNING;
      who = lastOk
        ? `a goroutine resumed after an await (which one is not known; the last one started there, goroutine ${a[(last >> 2) + G.GOID]!} (${fnNameOf(heap, a[(last >> 2) + G.FN]!)}), is still running)`
        : 'a goroutine resumed after an await (which one is not known)';
    }
    let others = 0;
    forEachG(heap, (h) => {
      if (h !== running && a[(h >> 2) + G.M] === i) {
        const st = Atomics.load(a, (h >> 2) + G.STATUS);
        if (st === Gstatus.RUNNING || st === Gstatus.WAITING) others++;
      }
    });
    const moved = this.moved[i]!;
    return (
      `gort: ${who} has held M${i} for ${Math.round(ms)} ms without yielding.${where} ` +
      `${moved} goroutine${moved === 1 ? '' : 's'} queued behind it went to other Ms; ` +
      `${others} other goroutine${others === 1 ? '' : 's'} started on M${i} cannot resume until it yields. ` +
      `A long synchronous loop stalls its whole thread: call \`await checkpoint()\` in it, or split the work. ` +
      `(Sysmon warns once per stall; start({ stuckWarnMs }) sets the threshold, start({ sysmon: false }) or GORT_DEBUG=sysmon=0 turns it off.)\n`
    );
  }
}
