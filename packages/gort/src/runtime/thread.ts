/**
 * The runtime as seen from one thread: its heap views, caches, and local promise table.
 *
 * Exactly one `Thread` exists per JS thread while a runtime is up: the main thread's is made
 * by start(), each M's by its worker entry. `current` is null elsewhere, and every public
 * call that needs a runtime goes through `need()`, which throws RuntimeStateError, also once
 * a worker has died (`crash`: the runtime is stopped, and its heap may be half-written).
 *
 * Local promises: a waiter record owned by this thread carries a TOKEN, an index into this
 * thread's `promises` table (plain arrays with a free list: no Map, no per-entry object).
 * Only this thread touches the table. Waiters owned here are settled here (settle), either
 * directly by a completion on this thread or from the READY list.
 */
import { DEBUG_STACKS, type Heap } from '../heap/heap.js';
import { H } from '../heap/layout.js';
import { StackRecorder } from './stacks.js';
import { RuntimeStateError } from '../errors.js';
import { GAllocator } from '../sched/galloc.js';
import { G, Gstatus } from '../sched/g.js';
import { T, TC, threadWord } from '../sched/threads.js';
import { heapIdle, type Idle } from '../sched/idle.js';
import { W, WFlag, WState, waiterAlloc } from '../sched/waiter.js';
import { ClosedChannelError, HeapExhaustedError } from '../errors.js';
import { read, setSharedLookup, SLOT_BYTES } from '../value/codec.js';
import { SharedBuffers } from '../value/shared.js';
import { FnRegistry } from '../shipping/registry.js';
import { setFnLookup } from '../shipping/fnvalue.js';
import type { LocalChan } from '../chan/local.js';
import { Anchors } from './anchors.js';
import { Pressure, threadGc } from './pressure.js';
import { traceResume, type TraceRec } from './tracebuf.js';

type Settle = (v: unknown) => void;

/** What a receive completed by close() settles with. */
export const CLOSED: unique symbol = Symbol('gort.closed') as never;

/**
 * Pending promises of this thread, indexed by token. Only each promise's resolve function is
 * kept: a failure resolves it with a rejected promise, which it adopts. Keeping the reject
 * function too held one more closure alive per pending promise, and 100,000 pending spawns on
 * the main thread are copied by every scavenge (sched/fine).
 */
export class LocalPromises {
  private readonly res: Array<Settle | undefined> = [];
  /**
   * What each pending promise keeps alive: the object its goroutine parked on (pin). A
   * suspended async function does not keep the locals it no longer needs, and once V8 has
   * optimized it, `await c.recv()` as its last use of c leaves c collectable while the
   * goroutine waits: c's record would lose its last count under a parked waiter, and the
   * send or close that should wake it could no longer name it.
   */
  private readonly keep: unknown[] = [];
  private readonly free: number[] = [];
  size = 0;

  add(resolve: Settle): number {
    const k = this.free.length > 0 ? this.free.pop()! : this.res.length;
    this.res[k] = resolve;
    this.size++;
    return k;
  }

  settle(k: number, ok: boolean, v: unknown): void {
    const f = this.res[k];
    this.res[k] = undefined;
    this.keep[k] = undefined;
    this.free.push(k);
    this.size--;
    if (f === undefined) return;
    if (ok) f(v);
    else f(Promise.reject(v));
  }

  /** Reject every pending promise with e (the runtime stopped under them: Runtime.crashed). */
  rejectAll(e: Error): void {
    for (let k = 0; k < this.res.length; k++) if (this.res[k] !== undefined) this.settle(k, false, e);
  }

  /** Keep obj alive until entry k settles (see keep). */
  pin(k: number, obj: unknown): void {
    this.keep[k] = obj;
  }

  /** Forget entry k without settling it (its waiter was never published). */
  cancel(k: number): void {
    this.res[k] = undefined;
    this.keep[k] = undefined;
    this.free.push(k);
    this.size--;
  }
}

const GOID_BATCH = 64;
/** Longest a thread runs microtasks (goroutines) without giving its event loop a turn, ms. */
export const SLICE_MS = 4;

/** State every thread shares; MainThread and M extend it. */
export abstract class ThreadBase {
  readonly procs: number;
  readonly fns: FnRegistry;
  readonly galloc: GAllocator;
  readonly promises = new LocalPromises();
  /** Word index of this thread's record. */
  readonly tw: number;
  /** Word index of this thread's counter block (T.COUNTERS, TC): parks, wakes, spins. */
  readonly ctr: number;
  /** The idle/park protocol's transitions (sched/idle.ts): wakeP, the READY list, the doorbell. */
  readonly idle: Idle;
  /**
   * Bumped by every park and every settle on this thread: goroutines here are exchanging
   * values in microtasks, so the scheduler must not spin or park (it would block them). An
   * operation that completes at once bumps opCount instead (yieldDue); busy() sums the two.
   */
  activity = 0;
  /** Runtime operations that completed at once (yieldDue counts them and paces its checks by them). */
  opCount = 0;
  /** Changes whenever goroutines on this thread parked, were settled or completed an operation. */
  busy(): number {
    return this.activity + this.opCount;
  }
  /**
   * When this thread's event loop last had a turn (performance.now()). Goroutines exchanging
   * values on one thread run entirely in microtasks, which would starve timers and I/O
   * forever: runtime operations check it (yieldDue) and then resolve through setImmediate.
   */
  turnStart = performance.now();
  /**
   * The WorkerCrashError that stopped the runtime, on the main thread once a worker died
   * (Runtime.crashed): from then on need() and every park here throw (crashedError).
   */
  crash: Error | null = null;
  /** Pending runtime timers made on this thread (cleared when the runtime shuts down). */
  readonly timers = new Set<{ stop(): boolean }>();
  /**
   * This thread's execution-trace recorder while a session records (runtime/tracebuf.ts), else
   * null: every trace hook is `if (t.tr !== null) …`, the whole cost of tracing when it is off.
   */
  tr: TraceRec | null = null;
  /** The H.TRACE word this thread last acted on (tracebuf.ts traceSync). */
  traceWord = 0;
  /** goid of the goroutine whose synchronous code is running now (0: none). */
  curGoid = 0;
  /** Handle of that goroutine's G record (0: none or unknown). */
  curG = 0;
  /** A value slot for encoding before taking a lock, and decoding after releasing it. */
  readonly scratch: number;
  /** Waiters matched under a lock, completed after it is released: (waiter, state) pairs. */
  readonly wakes: number[] = [];
  nwakes = 0;
  /**
   * Wall-clock ms, coarse: the M loop refreshes it on every turn (M.clock returns it), so a
   * park does not pay for performance.now(). Only Ms keep it; the main thread leaves it 0 and
   * its clock() reads the real clock. Thread-local channels, which read it directly, exist
   * only on Ms (makesLocalChans).
   *
   * Time fields start as -0, not 0: V8 gives a field the representation of the first value
   * stored in it, and -0 is a double where 0 is a small integer. A field that changes from
   * integer to double later deprecates the object's map, and every optimized function that
   * saw the old map is thrown out. On an M that happened seconds into a run (turnAsked, first
   * set once a goroutine ran past a slice): ~20 functions of the schedule loop deoptimized at
   * once and were compiled again, on the same two cores (--trace-deopt: "wrong map").
   */
  now = -0;
  /** The clock for wait-start times (dump). */
  clock(): number {
    return performance.timeOrigin + performance.now();
  }
  /** Token of the local promise made last (waiter(), localPromise()). */
  lastToken = 0;
  /** One executor for every local promise (no closure per park): registers it, keeps its token. */
  private readonly executor = (resolve: Settle): void => {
    this.lastToken = this.promises.add(resolve);
  };
  private goidNext = 0;
  private goidEnd = 0;
  private created = 0;
  private exited = 0;

  constructor(
    readonly heap: Heap,
    /** Thread index: 0 main, 1..procs the Ms. */
    readonly index: number,
  ) {
    this.procs = heap.i32[H.PROCS]!;
    this.fns = new FnRegistry(heap, () => (index === 0 ? 1 : this.curGoid)); // goid() as index.ts reads it
    this.galloc = new GAllocator(heap);
    this.tw = threadWord(heap, index);
    this.ctr = heap.i32[this.tw + T.COUNTERS]! >> 2;
    this.idle = heapIdle(heap);
    this.scratch = heap.alloc(SLOT_BYTES);
    this.anchors = new Anchors(heap, () => current === this && this.crash === null && Atomics.load(heap.i32, H.CRASHED) === 0);
    this.shared = new SharedBuffers(heap, this.anchors);
    this.stacks = (heap.i32[H.DEBUG]! & DEBUG_STACKS) !== 0 ? new StackRecorder(heap, index) : null;
    this.pressure = new Pressure(heap, threadGc(), () => {
      for (let k = 0, n = heap.i32[H.NTHREADS]!; k < n; k++) if (k !== index) this.idle.ringIfParked(k);
    });
  }

  /** Heap pressure: this thread collects when the heap asks (runtime/pressure.ts). */
  readonly pressure: Pressure;

  /** This thread's epochs: the counts its JS objects hold on their records (runtime/anchors.ts). */
  readonly anchors: Anchors;

  /** The SharedArrayBuffers this thread has sent or received (value/shared.ts). */
  readonly shared: SharedBuffers;

  /** Where goroutines were created and parked, while stacks are on; else null (runtime/stacks.ts). */
  readonly stacks: StackRecorder | null;

  /** Hand a freshly made G, made with args, to this thread's scheduler (M: own run queue; main: inject). */
  abstract ready(g: number, args: readonly unknown[]): void;
  /** A local waiter was registered: make sure something will drain the READY list. */
  abstract watch(): void;

  /** Settle now the waiters other threads completed for this one, if its loop allows it. */
  protected pollReady(): void {}

  /** A goroutine of this thread parked, spawned or yielded: the M's schedule loop should look (M.nudge). */
  nudge(): void {}

  /** A runtime timer of this thread fired: goroutine code may run from the event loop now (M.fromEventLoop). */
  fromEventLoop(): void {}

  /**
   * Whether a blocked runtime operation may spin briefly before parking: only another thread
   * can unblock it, and this thread has nothing else to run meanwhile. Never on a thread that
   * is not an M (its event loop is the program's).
   */
  spinWorth(): boolean {
    return false;
  }

  /**
   * About to block the thread (Atomics.wait): publish anything this thread holds back for a
   * later microtask — goroutines a LoopThread injects in batches — or it would never run.
   */
  beforeBlock(): void {}

  /** Hand a goroutine's join waiter w to thread `owner` (not this one): READY list and ring. */
  pushReady(owner: number, w: number): void {
    this.idle.pushReady(owner, w);
  }

  /**
   * Whether the runtime operation being made should resolve only after an event-loop turn.
   * Once this thread has gone SLICE_MS without a turn (the clock is read every 64 calls), one
   * operation defers and a turn is requested: with a single chain of goroutines that is enough
   * for the microtask queue to drain. If the turn is still overdue a slice later (several
   * chains keep the queue busy), every operation defers until it has happened. Deferring
   * everything at once from the start costs ~15% when thousands of goroutines are active
   * (each deferral is a promise to release), hence the two steps.
   *
   * Every 16 calls it also settles what other threads completed for this one (pollReady):
   * otherwise a goroutine woken from another M waits for the schedule loop's next turn,
   * which comes only after every microtask already queued here — up to a millisecond when a
   * thousand goroutines exchange values on this M (the sieve), and the chain of hand-offs
   * across Ms stalls on it.
   */
  yieldDue(): boolean {
    // Small enough to inline into every operation; the rest runs every 16th call.
    return this.yielding || ((++this.opCount & 15) === 0 && this.yieldCheck());
  }

  private yieldCheck(): boolean {
    const n = this.opCount;
    this.beat();
    this.pollReady();
    if ((n & 63) !== 0) return false;
    const now = performance.now();
    if (now - this.turnStart <= SLICE_MS) return false;
    if (this.turnAsked === 0) {
      this.turnAsked = now;
      setImmediate(this.turn);
      return true;
    }
    if (now - this.turnAsked > SLICE_MS) this.yielding = true;
    return this.yielding;
  }

  private beats = 0;
  /**
   * Publish that this thread's goroutines are making progress (T.BEAT; plain store, read
   * racily by thieves deciding whether to wait for a held runnext: RunnextHold.mayTake).
   */
  beat(): void {
    this.heap.i32[this.tw + T.BEAT] = ++this.beats;
  }

  /** A promise of v that resolves after the pending event-loop turn (call when yieldDue()). */
  yieldTurn<V>(v: V): Promise<V> {
    return new Promise((resolve) => this.deferred.push(() => resolve(v)));
  }

  private readonly deferred: Array<() => void> = [];
  /**
   * Whether something on this thread waits for its event loop's next turn: an operation
   * deferred by yieldDue (a woken goroutine's next step: yieldTurn), or a turn asked for.
   */
  protected turnWanted(): boolean {
    return this.deferred.length !== 0 || this.turnAsked !== 0;
  }
  private yielding = false;
  /** When the pending turn was asked for (performance.now()), or 0. A double from the start (see now). */
  private turnAsked = -0;
  private readonly turn = (): void => {
    this.yielding = false;
    this.turnAsked = 0;
    this.turnStart = performance.now();
    const d = this.deferred.splice(0);
    for (const f of d) f();
  };

  /** An already-settled result, as a promise: at most once per slice, through an event-loop turn. */
  settled<V>(v: V): Promise<V> {
    return this.yieldDue() ? this.yieldTurn(v) : Promise.resolve(v);
  }

  /** A new goroutine id (Go's per-P goid cache: one shared add per GOID_BATCH ids). */
  newGoid(): number {
    if (this.goidNext === this.goidEnd) {
      this.goidNext = Atomics.add(this.heap.i32, H.GOID_GEN, GOID_BATCH) + 1;
      this.goidEnd = this.goidNext + GOID_BATCH;
    }
    this.created++;
    Atomics.store(this.heap.i32, this.tw + T.CREATED, this.created);
    return this.goidNext++;
  }

  goroutineExited(): void {
    this.exited++;
    Atomics.store(this.heap.i32, this.tw + T.EXITED, this.exited);
  }

  /** The waiter record made by the last waiter() call (a field, not a tuple: no allocation). */
  lastWaiter = 0;

  /** A waiter owned by this thread (left in lastWaiter); returns the local promise it settles. */
  waiter<R>(g: number): Promise<R> {
    this.activity++;
    this.nudge();
    const p = new Promise<R>(this.executor as never);
    this.lastWaiter = waiterAlloc(this.heap, this.index, g, this.lastToken);
    this.watch();
    return p;
  }

  /**
   * A local promise with no waiter record and no table entry (a thread-local channel's
   * waiter): its resolve function is left in lastResolve, for the channel to keep. Counted in
   * localParked until woken or adopted.
   */
  localPromise<R>(): Promise<R> {
    this.activity++;
    this.localParked++;
    return new Promise<R>(this.keepResolve as never);
  }

  /** Resolve function of the promise localPromise() made last. */
  lastResolve: Settle = () => {};
  private readonly keepResolve = (resolve: Settle): void => {
    this.lastResolve = resolve;
  };
  /** Goroutines parked on this thread's local channels (chan/local.ts). */
  localParked = 0;

  /** Register a local channel waiter's resolve function in the table (the channel is being shared); its token. `pin` is kept until it settles. */
  adoptLocal(resolve: Settle, pin: unknown): number {
    this.localParked--;
    this.watch();
    const k = this.promises.add(resolve);
    this.promises.pin(k, pin);
    return k;
  }

  /** Keep obj (the object a goroutine parks on) alive until the promise waiter() made last settles. */
  pinLast(obj: unknown): void {
    this.promises.pin(this.lastToken, obj);
  }

  /** Goroutines of this thread parked on runtime waiters, local or not. */
  get parkedGoroutines(): number {
    return this.promises.size + this.localParked;
  }

  /** State of the channels this thread owns while they are thread-local (chan/local.ts). */
  readonly locals = new Map<number, LocalChan>();

  /** Whether channels made here start thread-local (Ms: their goroutines never block the thread). */
  get makesLocalChans(): boolean {
    return false;
  }

  /**
   * Whether spawn() must register its join promise before it queues the goroutine (waiter()),
   * rather than after (joinRecord, joinPromise). An M's ready() can settle completions
   * synchronously (yieldDue's check drains READY), and another M may already have stolen,
   * run and completed the new goroutine by then: its waiter must carry its TOKEN before the
   * goroutine is published. (With the late order on Ms, sched/spawn hung about once in 100
   * repetitions: a settle read TOKEN 0, resolved another spawn's promise, and freed the
   * record that the late write then hit.) A LoopThread settles only in its pump.
   */
  get joinsEarly(): boolean {
    return false;
  }

  /**
   * spawn()'s join waiter on a thread that may join late (joinsEarly false), in two steps:
   * the record first, then, once the goroutine is queued (and an idle M rung), its promise
   * (joinPromise). A parked M takes ~50 µs to wake here and building the promise (and
   * starting the main thread's pump) took 10-25 µs after idleness, so the wake-up should not
   * wait for it. TOKEN is left 0 until then: only this thread reads it, when it settles the
   * waiter, which it does only in its pump, after spawn() has returned.
   */
  joinRecord(): number {
    return waiterAlloc(this.heap, this.index, 0, 0);
  }

  /** The promise of join record w (joinRecord), registered in the table. */
  joinPromise<R>(w: number): Promise<R> {
    this.activity++;
    const p = new Promise<R>(this.executor as never);
    this.heap.i32[(w >> 2) + W.TOKEN] = this.lastToken;
    this.watch();
    return p;
  }

  /** Drop a waiter that was never published. */
  cancelWaiter(w: number): void {
    this.promises.cancel(this.heap.i32[(w >> 2) + W.TOKEN]!);
    this.heap.free(w);
  }

  /** Settle the local promise of waiter w (owned here) from its record, and free the record. */
  settle(w: number): void {
    this.settleAs(w, Atomics.load(this.heap.i32, (w >> 2) + W.STATE));
  }

  /** settle() with the outcome given, for a waiter completed on this thread just now. */
  settleAs(w: number, state: number): void {
    this.activity++;
    const heap = this.heap;
    const i = w >> 2;
    const token = heap.i32[i + W.TOKEN]!;
    const g = heap.i32[i + W.G]!;
    let v: unknown;
    let good = state !== WState.ERROR;
    try {
      if (state === WState.SEND_CLOSED) {
        good = false;
        v = new ClosedChannelError('send on closed channel');
      } else if (state === WState.HEAP_EXHAUSTED) {
        good = false;
        v = new HeapExhaustedError(heap.limitBytes, 0);
      } else if (state === WState.CLOSED) {
        v = CLOSED;
      } else {
        v = read(heap, w + W.VALUE * 4, true, g);
      }
      const flags = heap.i32[i + W.FLAGS]!;
      if (flags !== 0 && good) {
        if ((flags & WFlag.SELECT) !== 0) v = [heap.i32[i + W.CASE]!, v];
        else if ((flags & WFlag.RECV_VALUE) !== 0) v = v === CLOSED ? undefined : v;
        else if ((flags & WFlag.RECV_PAIR) !== 0) v = v === CLOSED ? [undefined, false] : [v, true];
        else if ((flags & WFlag.RECV_ITER) !== 0) v = v === CLOSED ? { value: undefined, done: true } : { value: v, done: false };
      }
    } catch (e) {
      v = e;
      good = false;
    }
    if (g !== 0) {
      heap.i32[this.ctr + TC.WAKES + heap.i32[(g >> 2) + G.WAIT]!]!++;
      heap.i32[(g >> 2) + G.WAIT] = 0;
      heap.i32[(g >> 2) + G.STATUS] = Gstatus.RUNNING; // plain: see parkCurrent
    }
    if (this.tr !== null) traceResume(this, g);
    // A select's own waiter is freed by the select once its case waiters are unlinked: until
    // then they still name it in W.SEL, and a reused record would be claimed by mistake.
    if ((heap.i32[i + W.FLAGS]! & WFlag.SELECT) === 0) heap.free(w);
    this.promises.settle(token, good, v);
  }
}

export type Thread = ThreadBase;

export let current: ThreadBase | null = null;
setSharedLookup(() => current?.shared);
setFnLookup(() => current?.fns);

export function setCurrent(t: ThreadBase | null): void {
  current = t;
  if (t !== null) ended = null;
}

/** Why this thread's last runtime ended, once it has (cleared when another starts). */
let ended: string | null = null;
/** The runtime of this thread ended (Runtime.shutdown): `why` is said by every later call that needs one. */
export function runtimeEnded(why: string): void {
  ended = why;
}

export function need(what: string): ThreadBase {
  if (current === null) {
    if (ended !== null) {
      throw new RuntimeStateError(`gort: ${what} was called after the runtime ended: ${ended}. Nothing of it runs any more; start a new one with run(main) or start()`);
    }
    throw new RuntimeStateError(`gort: ${what} needs a running runtime: call it inside run(main), or after start()`);
  }
  if (current.crash !== null) throw crashedError(what, current.crash);
  return current;
}

/** The error of a call refused because a worker died (ThreadBase.crash). */
export function crashedError(what: string, crash: Error): RuntimeStateError {
  return new RuntimeStateError(`gort: ${what} refused: the runtime stopped when a worker died (${crash.message})`, { cause: crash });
}
