/**
 * The M: a worker thread bound to one P, running Go's schedule loop. Worker threads only.
 *
 * A goroutine spawned here goes to runnext and starts when its spawner reaches its next await
 * (M.kick), as Go runs runnext when the spawner blocks.
 *
 * The loop is described step by step in docs/design/scheduler.md, "The M loop, step by step":
 * settle our READY list, start a batch of Gs (runnext, ring, global queue, steal), let
 * microtasks and the event loop run; with nothing to do, spin, watch for hand-offs, park on
 * the doorbell (blocking when the event loop has nothing to serve: only that park publishes
 * LOOPIDLE = 1, deadlock.ts).
 *
 * Invariants:
 * - A G is started by exactly one M (it was taken from exactly one queue, runq.ts) and, once
 *   started, lives on this thread until it finishes.
 * - `spinning` is true iff this M is counted in NMSPINNING (and its record's SPINNING is 1).
 * - Before parking, the M publishes PARKED and its idle bit, then re-checks every source of
 *   work; a producer publishes work, then checks PARKED / idle bits. No wake is lost. The
 *   steps are sched/idle.ts's named transitions (model-checked); the policy around them is here.
 *
 * Size: past the ~600-line mark on purpose. The loop, execute/finish and the idle policy
 * (spin, poll, park) share the M's private state (spinning, the runnext hold, the main ring,
 * the turn's counters); every shared-memory algorithm they use already lives in its own
 * module (sched/idle.ts, runq.ts, globrunq.ts, hold.ts, main-ring.ts). The next split, when
 * this grows, is the idle policy into a class of its own that the loop owns.
 */
import { H } from '../heap/layout.js';
import type { Heap } from '../heap/heap.js';
import { RETRY, RunqOwner, RunqStealer, RUNQ_CAP } from '../sched/runq.js';
import { realAtomics } from '../sched/atomics.js';
import { globrunqGet, globrunqPutBatch, globrunqSize } from '../sched/globrunq.js';
import { G, Gstatus } from '../sched/g.js';
import { T, TC, ThreadState, pWord, threadWord } from '../sched/threads.js';
import { decodeArgs } from '../value/codec.js';
import type { Compiled } from '../shipping/registry.js';
import { completeWaiter } from './proc.js';
import { requestsPending, serveRequests, shareAll } from '../chan/local.js';
import { SLICE_MS, ThreadBase, setCurrent } from './thread.js';
import { HOLD_GRACE_MS, NOT_HELD, RunnextHold, STILL_HELD } from './hold.js';
import { LoopNudge } from './nudge.js';
import { MainRing } from './main-ring.js';
import { wgAdd } from '../sync/waitgroup.js';
import { groupFinished } from '../errgroup/errgroup.js';
import { endAwaitedElsewhere } from './proc.js';
import { release } from '../value/refs.js';
import { SYNC_PARK_MS, wakeSysmon } from './sysmon.js';
import { IDLE, traceSync } from './tracebuf.js';

/** How long an M with nothing to do keeps looking for work to steal before it parks. */
const SPIN_MS = 0.05;
/**
 * How long an M whose goroutines are parked keeps watching for their wake-up before it
 * parks itself. A started goroutine cannot move to the M that wakes it (Go's ready() puts it
 * on the waker's P; we cannot), so a cross-M hand-off is fast only if its M is awake: a
 * parked M costs ~7 µs and an event-loop turn to wake (docs/design/scheduler.md, "Go's rules
 * kept", hand-off polling).
 */
const POLL_MS = 0.1;
/** The short watch before the macrotask turn (see the loop). */
const QUICK_POLL_MS = 0.01;
/** The longer watch while another M runs goroutines (see the loop). */
const LONG_POLL_MS = 1;
/**
 * Most microtask rounds the loop gives an async goroutine it just started to reach its end
 * (or a park) before it starts the next G (see the loop). Each costs ~0.1 µs when nothing
 * else is queued.
 */
const END_ROUNDS = 4;
/** Gs started between two microtask checkpoints. */
const BATCH = 16;

/**
 * Whether this thread's event loop has nothing to do but keep it alive: no runtime timer
 * (they are unref'd, so Node does not list them) and no active resource but the keep-alive
 * interval of worker-entry.ts. A goroutine's own setTimeout, file or socket request, or
 * message port shows up in the list, and then the M parks with waitAsync so that the event
 * loop can deliver it.
 */
function loopIdle(t: ThreadBase): boolean {
  if (t.timers.size !== 0) return false;
  const r = process.getActiveResourcesInfo();
  return r.length === 0 || (r.length === 1 && r[0] === 'Timeout');
}

/**
 * Whether this thread's event loop holds something for its goroutines (checkpoint()): a
 * runtime timer, or an active resource that is neither the keep-alive interval nor an
 * immediate (the schedule loop's own turns are immediates, and one is pending nearly always).
 */
function loopHasWork(t: ThreadBase): boolean {
  if (t.timers.size !== 0) return true;
  let timeouts = 0;
  for (const r of process.getActiveResourcesInfo()) {
    if (r === 'Immediate') continue;
    if (r !== 'Timeout' || ++timeouts > 1) return true;
  }
  return false;
}

export type PanicReport = (goid: number, fn: string, error: unknown) => void;

const macrotask = (): Promise<void> => new Promise((r) => setImmediate(r));

export class M extends ThreadBase {
  readonly p: number;
  readonly runq: RunqOwner;
  private readonly victims: RunqStealer[] = [];
  /** Holding runnext for goroutines spawned with our local channels (hold.ts). */
  private readonly hold: RunnextHold;
  private spinning = false;
  private seenActivity = 0;
  private parkedNow = false;
  private schedtick = 0;
  /** Turns of the loop, G starts and park ends, published in T.SCHEDTICK for sysmon. */
  private ticks = 0;
  /**
   * The G started last returned a promise, and another thread waits for its end (the loop
   * lets its microtasks run before the next G). Not for a joiner on this M, which cannot
   * run before the batch ends anyway: one microtask round per G cost 10-15% of 100,000
   * spawns of an async no-op from a goroutine.
   */
  private startedAsync = false;
  /** Goroutines started on this M that have not finished. */
  private live = 0;
  private yielded: Array<() => void> = [];
  private readonly buf: number[] = [];
  private readonly overflow = (batch: number[]): void => globrunqPutBatch(this.heap, batch);

  constructor(
    heap: Heap,
    index: number,
    private readonly onPanic: PanicReport,
  ) {
    super(heap, index);
    this.p = index - 1;
    this.runq = new RunqOwner(realAtomics, heap.i32, pWord(heap, this.p), RUNQ_CAP);
    const victimPs: number[] = [];
    for (let p = 0; p < this.procs; p++) {
      if (p === this.p) continue;
      this.victims.push(new RunqStealer(realAtomics, heap.i32, pWord(heap, p), RUNQ_CAP));
      victimPs.push(p);
    }
    this.hold = new RunnextHold(heap, this.tw, this.locals, victimPs, this.victims);
    setCurrent(this);
  }

  // ---- Thread ----

  override ready(g: number, args: readonly unknown[]): void {
    const held = this.hold.mark(args); // before the put: a thief that sees g sees this HOLD or a later one
    if (held !== NOT_HELD) this.beat(); // a thief's grace for g starts now, not at our last operation
    this.runq.put(g, true, this.overflow); // Go's newproc: the new G goes to runnext
    // Go's newproc wakes an idle P. A held G is meant for this M: wake one only when this M
    // starts holding (after an idle spell or unheld spawns), so that it watches (park); an M
    // already watching needs no ring, and a ring per sieve filter cost procs 2 ~20%.
    if (held !== STILL_HELD) this.idle.wakeP();
    this.nudge(); // a G displaced from runnext to the ring waits for the loop
    if (!this.kickQueued && !this.yieldDue()) {
      this.kickQueued = true;
      queueMicrotask(this.kick);
    }
  }

  private kickQueued = false;
  /**
   * Go runs runnext as soon as the spawning goroutine blocks; here the spawner's synchronous
   * segment ends at its next await, and this microtask, queued by the spawn, starts runnext
   * then (unless a thief took it), instead of a whole microtask round later, when the
   * schedule loop gets its turn. The sieve depends on it: its main goroutine spawns a filter
   * and at once waits on it, and every round the new filter waits, the chain upstream keeps
   * filtering numbers past the answer (the generator ran 2x as far, all of it wasted work).
   * Not queued once the slice is over (yieldDue): a goroutine that spawns itself in a loop
   * would otherwise never let the event loop run.
   */
  private readonly kick = (): void => {
    this.kickQueued = false;
    if (Atomics.load(this.heap.i32, H.SHUTDOWN) !== 0) return;
    const g = this.runq.takeRunnext();
    if (g !== 0) this.execute(g);
  };

  /**
   * A runtime timer fired (a `sleep`, a timeout): while this M is parked in waitAsync, the
   * goroutine it wakes runs from the event loop, inside the park. Publish the M as running
   * (STATE, SCHEDTICK), so that sysmon times a stall from here rather than from the park's
   * start, and wake it if it sleeps (sysmon.ts); the park's end sets STATE again.
   */
  override fromEventLoop(): void {
    if (!this.parkedNow) return;
    const a = this.heap.i32;
    a[this.tw + T.SCHEDTICK] = ++this.ticks;
    Atomics.store(a, this.tw + T.STATE, ThreadState.RUNNING);
    wakeSysmon(a);
  }

  override watch(): void {
    // The schedule loop drains READY on every turn and before parking.
  }

  override clock(): number {
    return this.now;
  }

  override get makesLocalChans(): boolean {
    return true;
  }

  override get joinsEarly(): boolean {
    return true; // ready() may settle READY waiters (yieldDue → pollReady): see ThreadBase
  }

  /** About to block the thread: share every local channel and serve requests (chan/local.ts). */
  override beforeBlock(): void {
    this.ringMain(true);
    shareAll(this);
    serveRequests(this);
  }

  /**
   * A goroutine finished and its joiner is on another thread. For the main thread the wake-up
   * waits for the end of this schedule turn (ringMain): spawn() from main in a loop joins
   * thousands of goroutines, and an Atomics.notify per completion, ~1 µs of the M's time
   * each, took 12% of the Ms' profile in sched/fine. A turn starts at most BATCH goroutines,
   * so main is rung at least once per BATCH completions, and before this M goes idle or
   * blocks (docs/design/scheduler.md, "One ring per turn for main").
   */
  override pushReady(owner: number, w: number): void {
    if (owner !== 0 || this.parkedNow) return super.pushReady(owner, w); // parked: no turn end to wait for
    this.mainRing.owe(w);
    this.nudge(); // the ring is made at a turn's end
  }

  private readonly mainRing = new MainRing(this.heap);

  /** Ring main if this M owes it a wake-up (runtime/main-ring.ts); `force` before idling or blocking. */
  private ringMain(force: boolean): void {
    this.mainRing.settle(force, this.now);
  }

  /** Yield the current goroutine: it resumes after the Gs already runnable here had a turn. */
  gosched(): Promise<void> {
    // Called from a goroutine resumed by the event loop (a timer, I/O) while this M is parked:
    // ring our own doorbell, or nobody would run the loop that resolves it.
    if (this.parkedNow) this.idle.ring(this.index);
    this.nudge();
    return new Promise((r) => this.yielded.push(r));
  }

  /**
   * True when the running goroutine should yield (checkpoint()): its slice is over and
   * something else on this M waits for the thread. That is any of: other goroutines here ran
   * a step since the last checkpoint (a wake-up on a local channel resolves a promise, and the
   * woken goroutine gets one step per `await`: busy() moved); an operation deferred to the
   * next event-loop turn (yieldDue: a woken goroutine's next step); a queued G, a READY
   * completion, a gosched caller or a sharing request (workVisible); or the event loop has
   * something for its goroutines (a timer, I/O: loopHasWork, looked at once per slice).
   * Looking only at queues and READY let a hog pair starve a light pair ping-ponging beside
   * it on one M 1,000 to 1 (test/golang/proc.test.ts, TestPingPongHog). A preemption request
   * from sysmon (T.PREEMPT: the loop has not turned for 10 ms) makes it true at once.
   */
  shouldYield(): boolean {
    const b = this.busy();
    const stepped = b !== this.checkpointBusy;
    this.checkpointBusy = b;
    // Sysmon found this M's loop stalled for 10 ms (runtime/sysmon.ts): yield now, slice or not.
    const a = this.heap.i32;
    if (a[this.tw + T.PREEMPT] !== 0) {
      a[this.tw + T.PREEMPT] = 0;
      return true;
    }
    const now = performance.now();
    if (now - this.turnStart <= SLICE_MS) return false;
    if (stepped || this.turnWanted() || this.workVisible()) return true;
    if (now < this.checkpointLoopAt) return false;
    this.checkpointLoopAt = now + SLICE_MS;
    return loopHasWork(this);
  }
  /** When this M last ended its epoch of objects (performance.now()). A double from the start. */
  private epochAt = -0;
  /** busy() at the last checkpoint (shouldYield). */
  private checkpointBusy = 0;
  /** When shouldYield may next look at the event loop (performance.now()). A double from the start (ThreadBase.now). */
  private checkpointLoopAt = -0;

  // ---- the schedule loop ----

  async loop(): Promise<void> {
    const a = this.heap.i32;
    const tw = this.tw;
    this.turnStart = performance.now();
    Atomics.store(a, tw + T.STATE, ThreadState.RUNNING);
    for (;;) {
      if (Atomics.load(this.heap.i32, H.SHUTDOWN) !== 0) break;
      a[tw + T.SCHEDTICK] = ++this.ticks; // the loop turned (sysmon.ts)
      if (a[tw + T.PREEMPT] !== 0) a[tw + T.PREEMPT] = 0; // a request for the stall that just ended
      if (a[H.TRACE] !== this.traceWord) traceSync(this); // an execution trace started or stopped
      if (this.tr !== null && this.tr.turn()) this.tr.counters(this.p, this.runq.size(), globrunqSize(this.heap));
      const turnNow = performance.now();
      // Objects made more than 25 ms apart do not share an epoch (runtime/anchors.ts): an epoch
      // per turn cost sched/spawn-inside 12% (a registration every few goroutines). A
      // collection the heap asked for ends it first, so that the collection can free it.
      if (turnNow - this.epochAt > 25 || this.pressure.asked()) {
        this.anchors.endEpoch();
        this.shared.tick(turnNow);
        this.epochAt = turnNow;
      }
      this.pressure.poll();
      this.now = performance.timeOrigin + turnNow;
      // Goroutines of this M made runtime operations since the last turn: it is busy. A
      // turn that then found nothing to start waits to be nudged (LoopNudge): by a spawn, a
      // gosched, a park on a heap waiter, a completion for main, or the next event-loop
      // turn, and in any case not before a whole microtask round. Such a turn looks only at
      // this M's own queues; stealing, which reads every other P's ring, waits for an idle
      // turn (or every 61st), as a Go M steals only once its goroutine blocks.
      const busy = this.busy() !== this.seenActivity;
      let ran = this.drainReady();
      if (this.yielded.length > 0) {
        const y = this.yielded;
        this.yielded = [];
        for (const r of y) r();
      }
      while (ran < BATCH) {
        const g = this.findRunnable(!busy);
        if (g === 0) break;
        if (this.spinning) this.stopSpinning();
        const loading = this.execute(g);
        ran++;
        // The G's module is being imported on this thread: wait for it before taking more
        // Gs, so the rest of our queue stays stealable instead of piling up behind the import.
        if (loading !== undefined) {
          this.ringMain(true);
          a[tw + T.NOPREEMPT] = 1; // an import is not a stall (sysmon.ts)
          await loading;
          a[tw + T.NOPREEMPT] = 0;
          a[tw + T.SCHEDTICK] = ++this.ticks;
        } else if (this.startedAsync) {
          // An async goroutine may have ended already, or be a few settled awaits from its
          // end (an `await c.send(v)` on a buffered channel, then return), but its end
          // (finish: its joiner, its errgroup's first error) is a reaction queued on its
          // promise. Let its microtasks run while it is neither parked nor finished, for a
          // few rounds, before the next G, which may run synchronous code for long: until
          // that end cancels it, say (an errgroup's siblings polling ctx.err()), which then
          // never came. A G awaiting something else (I/O) costs the rounds and no more.
          this.startedAsync = false;
          const st = (g >> 2) + G.STATUS;
          for (let k = 0; k < END_ROUNDS && this.heap.i32[st] === Gstatus.RUNNING; k++) await undefined;
        }
      }
      this.ringMain(false); // every turn passes here; forced below before idling
      if (ran > 0 || this.yielded.length > 0 || this.busy() !== this.seenActivity) {
        this.seenActivity = this.busy();
        // A batch of started Gs may have run for long: read the clock again after one.
        const now = ran > 0 ? performance.now() : turnNow;
        if (now - this.turnStart > SLICE_MS) {
          await macrotask();
          this.turnStart = performance.now();
        } else if (ran === 0 && this.yielded.length === 0 && !this.loopWait.nudged) {
          await this.loopWait.wait();
        } else {
          // A nudge means something changed (a goroutine parked, a G was queued): look again
          // after one microtask round, as before, so that an M whose goroutines all wait on
          // other Ms reaches its quick poll at once (unbuffered ping-pong across Ms).
          this.loopWait.nudged = false;
          await undefined;
        }
        continue;
      }
      this.ringMain(true);
      // Nothing runnable, and no runtime activity on this thread since the last turn. A
      // reply to one of our parked goroutines often comes within microseconds (a ping-pong
      // across Ms): watch for it briefly first — pending microtasks here wait at most
      // QUICK_POLL_MS. Then a macrotask turn runs any goroutine still in the microtask queue
      // (we cannot see that queue), and timers and I/O; only then spin or poll for longer.
      if (this.parkedGoroutines > 0 && this.poll(QUICK_POLL_MS)) continue;
      await macrotask();
      this.turnStart = performance.now();
      this.ringMain(true); // goroutines resumed by timers or I/O in that turn may have finished
      if (this.busy() !== this.seenActivity || this.workVisible()) continue;
      // A hand-off from another M is likely within microseconds: spin for work (bounded,
      // and only while few Ms spin), or watch for our parked goroutines' wake-ups, then park.
      if (this.spin()) continue;
      if (this.parkedGoroutines > 0 && this.poll(POLL_MS)) continue;
      // Still nothing, but another M is running goroutines, likely the ones ours wait for
      // (a fork-join parent for its children): keep watching rather than park, for up to
      // LONG_POLL_MS. A parked M takes 60-100 µs to wake here, and a join chain crossing Ms
      // pays that at every level.
      if (this.parkedGoroutines > 0 && this.othersRunning() && this.poll(LONG_POLL_MS, true)) continue;
      await this.park();
      this.turnStart = performance.now();
    }
    Atomics.store(this.heap.i32, tw + T.STATE, ThreadState.EXITED);
  }

  /**
   * Spinning in an operation blocks every goroutine of this M, so only when none could run:
   * no queued G, nothing on READY, and every goroutine started here but the caller parked on
   * a runtime waiter (`live - parkedGoroutines`, an estimate: a goroutine awaiting two joins at
   * once counts twice). And only while another M is awake (running, or spinning: an M that
   * just woke for a READY waiter runs it in that state; or waking: runsSoon), which could
   * unblock it.
   */
  override spinWorth(): boolean {
    if (this.procs < 2 || this.live - this.parkedGoroutines > 1) return false;
    if (this.runq.size() > 0 || this.runq.hasRunnext() || this.idle.hasReady(this.index)) return false;
    for (let i = 1; i <= this.procs; i++) {
      if (i !== this.index && this.runsSoon(i, true)) return true;
    }
    return false;
  }

  /**
   * Whether M i is running goroutines (or, with spinning, looking for work), or is parked
   * but its doorbell has rung: it is waking up, most likely for a goroutine ours wait on.
   * Counting a waking M as gone to sleep made two Ms trading a buffered channel park each
   * other in turn, every turn a thread wake-up (0.6 ms and more on this VM).
   */
  private runsSoon(i: number, spinning: boolean): boolean {
    const a = this.heap.i32;
    const tw = threadWord(this.heap, i);
    const st = Atomics.load(a, tw + T.STATE);
    if (st === ThreadState.RUNNING || (spinning && st === ThreadState.SPINNING)) return true;
    return st === ThreadState.PARKED && Atomics.load(a, tw + T.DOORBELL) !== 0;
  }

  protected override pollReady(): void {
    this.drainReady();
  }

  // ---- nudging the schedule loop ----

  private readonly loopWait = new LoopNudge();

  /** Let the schedule loop take its next turn, if it waits for a nudge (runtime/nudge.ts). */
  override nudge(): void {
    this.loopWait.nudge();
  }

  /** Settle the waiters other threads completed for us; returns how many. */
  private drainReady(): number {
    serveRequests(this);
    if (!this.idle.hasReady(this.index)) return 0;
    const n = this.idle.takeReady(this.index, this.buf);
    for (const w of this.buf) this.settle(w);
    Atomics.add(this.heap.i32, this.tw + T.PROGRESS, n);
    return n;
  }

  /** One non-blocking look for a G: Go's findRunnable without the blocking part (steal: see loop). */
  private findRunnable(maySteal: boolean): number {
    const heap = this.heap;
    this.schedtick++;
    if (this.schedtick % 61 === 0 && globrunqSize(heap) > 0) {
      if (globrunqGet(heap, this.procs, 1, this.buf) > 0) return this.buf[0]!;
    }
    const g = this.runq.get();
    if (g !== 0) return g;
    if (globrunqSize(heap) > 0) {
      const n = globrunqGet(heap, this.procs, RUNQ_CAP >> 1, this.buf);
      if (n > 0) {
        for (let k = 1; k < n; k++) this.runq.put(this.buf[k]!, false, this.overflow);
        return this.buf[0]!;
      }
    }
    return maySteal || this.schedtick % 61 === 0 ? this.steal() : 0;
  }

  /** Go's stealWork: up to 4 passes over the victims in random order; runnext on the last. */
  private steal(): number {
    const v = this.victims;
    const n = v.length;
    if (n === 0) return 0;
    const a = this.heap.i32;
    for (let pass = 0; pass < 4; pass++) {
      const start = (Math.random() * n) | 0;
      let lost = false;
      for (let k = 0; k < n; k++) {
        const vi = (start + k) % n;
        const victim = v[vi]!;
        const g = this.runq.stealFrom(victim, pass === 3 && this.hold.mayTake(vi));
        if (g > 0) {
          if (this.tr !== null) this.tr.steal(vi < this.p ? vi : vi + 1, 1 + this.runq.size());
          a[this.tw + T.STEALS] = a[this.tw + T.STEALS]! + 1;
          a[this.tw + T.STOLEN] = a[this.tw + T.STOLEN]! + 1 + this.runq.size();
          return g;
        }
        if (g === RETRY) lost = true;
      }
      if (!lost && pass < 2) pass = 2; // nothing anywhere: one more pass, allowed to take runnext
    }
    return 0;
  }

  /** Start g; returns a promise only when its function must first be imported here. */
  private execute(g: number): Promise<void> | undefined {
    const heap = this.heap;
    const a = heap.i32;
    const i = g >> 2;
    const goid = a[i + G.GOID]!;
    a[i + G.M] = this.index;
    Atomics.store(a, i + G.STATUS, Gstatus.RUNNING);
    a[this.tw + T.CURG] = g;
    a[this.tw + T.LASTG] = g;
    a[this.tw + T.SCHEDTICK] = ++this.ticks;
    a[this.tw + T.TASKS] = a[this.tw + T.TASKS]! + 1;
    if (this.tr !== null) this.tr.run(goid, a[i + G.FN]!);
    const c = this.fns.get(a[i + G.FN]!);
    if (c instanceof Promise) {
      return c.then(
        (cc) => {
          if (this.tr !== null) this.tr.run(goid, heap.i32[i + G.FN]!); // the import came between
          this.start(g, goid, cc);
          if (this.tr !== null) this.tr.stepEnd(goid);
          heap.i32[this.tw + T.CURG] = 0;
        },
        (e: unknown) => {
          this.live++; // finish() counts it out: it never started
          this.finish(g, goid, e, true);
          heap.i32[this.tw + T.CURG] = 0;
        },
      );
    }
    this.start(g, goid, c);
    if (this.tr !== null) this.tr.stepEnd(goid);
    a[this.tw + T.CURG] = 0;
    return undefined;
  }

  private start(g: number, goid: number, c: Compiled): void {
    const heap = this.heap;
    const argsH = heap.i32[(g >> 2) + G.ARGS]!;
    let r: unknown;
    this.live++;
    this.curGoid = goid;
    this.curG = g;
    try {
      const args = argsH === 0 ? [] : decodeArgs(heap, argsH, g);
      heap.i32[(g >> 2) + G.ARGS] = 0;
      const f = c.perG ? (c.fn as unknown as (ctx: { id: number }) => (...a: unknown[]) => unknown)({ id: goid }) : c.fn;
      r = (f as (...a: unknown[]) => unknown)(...args);
    } catch (e) {
      this.curGoid = 0;
      this.curG = 0;
      this.finish(g, goid, e, true);
      return;
    }
    this.curGoid = 0;
    this.curG = 0;
    if (r !== null && typeof r === 'object' && typeof (r as Promise<unknown>).then === 'function') {
      if (endAwaitedElsewhere(this, g)) this.startedAsync = true;
      (r as Promise<unknown>).then(this.ended.bind(g), this.threw.bind(g));
    } else {
      this.finish(g, goid, r, false);
    }
  }

  /**
   * The reactions that end an async goroutine, bound to its G record (`this`: a small integer,
   * passed as is in strict code; the goid is read from the record, which lives until finish).
   * An async goroutine holds them for as long as it lives, parked or not: two bound functions
   * are 96 bytes of the M's V8 heap, where two arrows and the context they shared (the M, g,
   * goid) were 168. A goroutine parked on a channel went from 919 to 846 bytes
   * (benchmarks/mem/parked-breakdown.mjs recv); instructions per async goroutine did not move.
   */
  private readonly ended = ((m: M) =>
    function (this: number, v: unknown): void {
      m.finish(this, m.heap.i32[(this >> 2) + G.GOID]!, v, false);
    })(this);
  private readonly threw = ((m: M) =>
    function (this: number, e: unknown): void {
      m.finish(this, m.heap.i32[(this >> 2) + G.GOID]!, e, true);
    })(this);

  /** Goroutine g returned v (or threw it): end it in its errgroup, complete its joiner or report a panic; free g. */
  private finish(g: number, goid: number, v: unknown, isErr: boolean): void {
    const heap = this.heap;
    const i = g >> 2;
    const join = heap.i32[i + G.JOIN]!;
    const fnId = heap.i32[i + G.FN]!;
    const group = heap.i32[i + G.GROUP]!;
    if (this.tr !== null) this.tr.end(goid);
    this.live--;
    this.goroutineExited();
    this.galloc.free(g);
    if (this.stacks !== null) this.stacks.onEnd(goid);
    // Started by Group.go: its first error cancels the group here and now (errgroup.ts).
    if (group !== 0) return groupFinished(this, group, isErr, v);
    if (join > 0) return completeWaiter(this, join, v, isErr);
    if (isErr) return this.onPanic(goid, this.fns.nameOf(fnId), v);
    if (join < 0) {
      // Started by WaitGroup.go: its done(). Not after a throw: that is a panic, which ends
      // the program as in Go (where the deferred Done runs, unobservably). Done first, the
      // wake-up of a waiter on main could beat the panic's message and let run() resolve.
      try {
        wgAdd(this, -join, -1);
      } catch (e) {
        this.onPanic(goid, this.fns.nameOf(fnId), e); // the WaitGroup was misused (negative)
      }
      release(heap, -join); // G.JOIN's (WaitGroup.go)
    }
  }

  // ---- idle: spinning and parking ----

  private workVisible(): boolean {
    const heap = this.heap;
    if (this.idle.hasReady(this.index) || globrunqSize(heap) > 0 || this.runq.size() > 0) return true;
    if (requestsPending(this)) return true;
    if (this.runq.hasRunnext() || this.yielded.length > 0) return true;
    const v = this.victims;
    for (let vi = 0; vi < v.length; vi++) {
      // A held runnext is work only once its grace is over: an M that spun on one cost the
      // M holding it a third of its speed in the sieve (scheduler.md, "Holding runnext").
      if (v[vi]!.size() > 0 || (v[vi]!.hasRunnext() && this.hold.mayTake(vi))) return true;
    }
    // An execution trace started or stopped: the loop's top joins it or hands the buffer over
    // (the starter stores H.TRACE, then rings the parked Ms: a Dekker pair with publishIdle).
    return Atomics.load(heap.i32, H.SHUTDOWN) !== 0 || Atomics.load(heap.i32, H.TRACE) !== this.traceWord;
  }

  /** Spin for work (Go: only while 2 × spinning Ms < busy Ps). True if work showed up. */
  private spin(): boolean {
    this.hold.drop();
    const a = this.heap.i32;
    if (!this.spinning) {
      if (!this.idle.transitionToSpinning(this.index)) return false;
      this.spinning = true;
      a[this.ctr + TC.SPINS]!++;
    }
    if (this.tr !== null) this.tr.idle(IDLE.SPINNING);
    Atomics.store(a, this.tw + T.STATE, ThreadState.SPINNING);
    const deadline = performance.now() + SPIN_MS;
    do {
      for (let k = 0; k < 32; k++) if (this.workVisible()) return true;
    } while (performance.now() < deadline);
    return false;
  }

  /**
   * Watch for a hand-off to one of our parked goroutines (or any work). True if it came.
   * With whileOthersRun, give up as soon as no other M is running goroutines.
   */
  private poll(ms: number, whileOthersRun = false): boolean {
    this.hold.drop();
    const a = this.heap.i32;
    Atomics.store(a, this.tw + T.STATE, ThreadState.POLLING);
    if (this.tr !== null) this.tr.idle(IDLE.POLLING);
    const deadline = performance.now() + ms;
    let found = false;
    do {
      for (let k = 0; k < 32 && !found; k++) found = this.workVisible();
    } while (!found && performance.now() < deadline && (!whileOthersRun || this.othersRunning()));
    Atomics.store(a, this.tw + T.STATE, ThreadState.RUNNING);
    return found;
  }

  /** Whether another M is running goroutines now, or waking up to (not idle, polling, spinning or parked). */
  private othersRunning(): boolean {
    for (let i = 1; i <= this.procs; i++) {
      if (i !== this.index && this.runsSoon(i, false)) return true;
    }
    return false;
  }

  /**
   * Go's resetspinning: stop counting as spinning; if we were the last spinner, wake another
   * M — but only when more work is visible. Go wakes one unconditionally to go looking; here
   * waking a parked M costs 100+ µs of CPU on this kind of VM (docs/design/scheduler.md).
   */
  private stopSpinning(): void {
    this.spinning = false;
    const a = this.heap.i32;
    Atomics.store(a, this.tw + T.STATE, ThreadState.RUNNING);
    if (this.idle.transitionFromSpinning(this.index) && (this.runq.size() > 0 || globrunqSize(this.heap) > 0)) this.idle.wakeP();
  }

  private async park(): Promise<void> {
    this.hold.drop();
    const a = this.heap.i32;
    const tw = this.tw;
    if (this.spinning) {
      this.spinning = false;
      this.idle.transitionFromSpinning(this.index);
    }
    this.idle.publishIdle(this.p); // doorbell cleared, then PARKED, NPIDLE and our idle bit
    const found = this.workVisible(); // the last look: after publishing (sched/idle.ts)
    if (!found) {
      Atomics.store(a, tw + T.STATE, ThreadState.PARKED);
      if (this.tr !== null) this.tr.idle(IDLE.PARKED);
      if (loopIdle(this)) {
        // Nothing but the doorbell can give this thread work: block on it. A blocked thread
        // wakes in ~10 µs here, one in waitAsync only after an event-loop wake-up (~100-200
        // µs: docs/design/scheduler.md, "Parking"). terminate() interrupts the wait.
        const seen = this.busy();
        // LOOPIDLE: nothing here can make progress until rung (the deadlock check reads it).
        Atomics.store(a, tw + T.LOOPIDLE, 1);
        // A held runnext elsewhere may become ours (hold.ts): look again after its grace.
        while (Atomics.wait(a, tw + T.DOORBELL, 0, this.hold.watch() ? HOLD_GRACE_MS : SYNC_PARK_MS) === 'timed-out') {
          // Give the event loop its turn, then block again unless something showed up.
          Atomics.store(a, tw + T.LOOPIDLE, 0); // callbacks may run in this turn
          await macrotask();
          this.ringMain(true);
          if (this.busy() !== seen || !loopIdle(this) || this.workVisible()) break;
          Atomics.store(a, tw + T.LOOPIDLE, 1);
        }
        Atomics.store(a, tw + T.LOOPIDLE, 0);
      } else {
        // The event loop has work (LOOPIDLE stays 0, and the deadlock check waits). Leave the
        // park after SYNC_PARK_MS to look again: once that work is done, the M must block
        // with LOOPIDLE = 1, or a true deadlock would never be reported.
        const r = Atomics.waitAsync(a, tw + T.DOORBELL, 0, this.hold.watch() ? HOLD_GRACE_MS : SYNC_PARK_MS);
        if (r.async) {
          this.parkedNow = true;
          await r.value;
          this.parkedNow = false;
        }
      }
    }
    if (!this.idle.unpublishIdle(this.p)) {
      // We left the idle set ourselves.
      if (found) {
        // Go's findRunnable: an M whose last re-check finds work becomes spinning again, so
        // that starting it (stopSpinning) wakes another M if more is queued. A producer that
        // saw us spinning left that wake-up to us (wakep returns while NMSPINNING > 0).
        this.spinning = true;
        this.idle.becomeSpinning(this.index);
        a[this.ctr + TC.SPINS]!++;
      }
    } else {
      this.spinning = true; // wakeP claimed our P: it counted us in NMSPINNING
      a[this.ctr + TC.SPINS]!++;
    }
    a[tw + T.SCHEDTICK] = ++this.ticks;
    Atomics.store(a, tw + T.STATE, this.spinning ? ThreadState.SPINNING : ThreadState.RUNNING);
    wakeSysmon(a); // after the store of STATE: the Dekker pair with sysmon's park (sysmon.ts)
  }
}
