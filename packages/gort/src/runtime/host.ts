/**
 * The runtime on the main thread: starts the Ms, injects work, settles the main thread's
 * waiters, turns worker failures into errors, and shuts everything down. Main thread only.
 *
 * The main thread holds no P (Go's main thread is just another M; here it is the user's
 * event-loop thread, which must stay responsive): goroutines it creates go to the global
 * queue in batches flushed once per microtask turn (or every INJECT_BATCH Gs), then one idle
 * P is woken (wakep). Results of spawn() come back through thread 0's READY list; the main
 * thread drains it from a pump that parks on its doorbell with Atomics.waitAsync only while
 * some waiter is outstanding.
 *
 * Failure: a panic (a goroutine threw and nobody joined it) or a dead worker rejects
 * `Runtime.failure` once, with the first error; run() then shuts down and rejects with it.
 * A dead worker also stops the runtime at once (crashed): every main-thread waiter rejects
 * with its WorkerCrashError and later calls throw RuntimeStateError; only shutdown() remains.
 * Control messages (ready, panic) use postMessage: they are not on any hot path.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Heap } from '../heap/heap.js';
import { H } from '../heap/layout.js';
import { DeadlockError, GoroutinePanic, RuntimeStateError, WorkerCrashError } from '../errors.js';
import { dump, goroutineProfile } from '../debug/index.js';
import { watchDeadlock } from './deadlock.js';
import { G } from '../sched/g.js';
import { T, initSchedRecords, threadWord } from '../sched/threads.js';
import { initFnTable } from '../shipping/registry.js';
import { current, runtimeEnded, setCurrent } from './thread.js';
import { LoopThread } from './loop-thread.js';
import { startSchedTrace } from './schedtrace.js';
import { collectTrace } from '../debug/trace.js';
import { traceDrop, traceSync, traceWord } from './tracebuf.js';
import { writeFileSync } from 'node:fs';
import { describe } from '../value/describe.js';
import { exposeGc } from './pressure.js';
import { detectTsLoader, setThreadLoader, type TsLoader } from '../shipping/typescript.js';
import { STUCK_WARN_MS, SysmonState, stopSysmon } from './sysmon.js';

/**
 * Limits of each worker thread's JS engine, in MiB: the fields of node:worker_threads'
 * `ResourceLimits`, declared here so that gort's types need no Node type declarations.
 */
export interface WorkerResourceLimits {
  /** Largest size of the main (old-generation) heap. */
  maxOldGenerationSizeMb?: number;
  /** Largest size of the heap space for recently created objects. */
  maxYoungGenerationSizeMb?: number;
  /** Size of the memory range reserved for generated code. */
  codeRangeSizeMb?: number;
  /** Default largest stack size for the thread. */
  stackSizeMb?: number;
}

/** Options of `run()` and `start()`. */
export interface RuntimeOptions {
  /** Number of Ps (worker threads running goroutines). Default: os.availableParallelism(). */
  procs?: number;
  /**
   * Size of the shared heap in bytes: 1 MiB to 2 GiB, default 1 GiB, or GORT_HEAP_LIMIT. The
   * address space is reserved at start; memory is used only as the runtime touches it.
   */
  heapLimit?: number;
  /**
   * @deprecated Ignored. The heap used to start at this size and grow; it is now reserved at
   * `heapLimit` from the start, and the pages the runtime never touches cost no memory.
   */
  heapInitial?: number;
  /** Passed to every worker thread (e.g. a memory cap). */
  resourceLimits?: WorkerResourceLimits;
  /**
   * Node flags for the worker threads. Default: the main thread's, so that what loads
   * TypeScript there (tsx, type stripping) loads it on the Ms too (docs/architecture.md,
   * "TypeScript modules").
   */
  execArgv?: string[];
  /**
   * Whether the runtime may expose V8's gc() (`v8.setFlagsFromString('--expose-gc')`) and ask
   * its threads to collect when the shared heap fills, so that the records held only by
   * objects that are garbage are released early (runtime/pressure.ts). Default true. With
   * false, records are released when V8 collects on its own schedule.
   */
  gcOnPressure?: boolean;
  /**
   * Whether to run sysmon, the monitor thread that finds Ms stalled by a goroutine's
   * synchronous code: it hands the goroutines queued behind it to other Ms, makes the
   * stalling goroutine's next `checkpoint()` yield, shows the stall in `dump()`/`stats()` and
   * warns on stderr (stuckWarnMs). Default true; `GORT_DEBUG=sysmon=0` also turns it off.
   */
  sysmon?: boolean;
  /**
   * Print one warning on stderr when a goroutine holds its M for longer than this many ms
   * without yielding (default 1000; 0: never warn). Needs sysmon.
   */
  stuckWarnMs?: number;
  /**
   * Record where each goroutine was created (its `go()`/`spawn()` call) and where it last
   * parked (the `await` that parked it), for the goroutine profile, the leak checker and
   * panics: `gort/debug`'s `goroutineProfile({ debug: 2 })`. Costs a few microseconds per
   * spawn and per park; nothing when off. Default false, or true with GORT_DEBUG=stacks=1.
   */
  stacks?: boolean;
}

const workerEntry = new URL('./worker-entry.js', import.meta.url);
const sysmonEntry = new URL('./sysmon-entry.js', import.meta.url);

/**
 * A running runtime, as `start()` returns it: for programs that outlive one `main` (a server).
 * `run(main)` is `start()`, `main()`, and `shutdown()` in one call.
 */
export class Runtime {
  /** Number of Ps: the worker threads that run goroutines. */
  readonly procs: number;
  /** Rejects with the first panic or worker crash. Never resolves. */
  readonly failure: Promise<never>;
  private fail!: (e: Error) => void;
  private failed: Error | null = null;
  private stopping = false;
  private readonly workers: Worker[] = [];
  private sysmon: Worker | null = null;
  private stopTrace: (() => void) | null = null;
  private stopDeadlock: (() => void) | null = null;
  /** GORT_TRACE: the file to write the execution trace to at shutdown, and its session word. */
  private traceFile: { path: string; word: number } | null = null;

  /** @internal use start() */
  constructor(
    /** @hidden the shared heap, for the runtime's own tools and tests (not stripped: tests read it) */
    readonly heap: Heap,
    private readonly main: LoopThread,
  ) {
    this.procs = main.procs;
    this.failure = new Promise<never>((_, reject) => {
      this.fail = (e) => {
        if (this.failed !== null || this.stopping) return;
        this.failed = e;
        reject(e);
      };
    });
    this.failure.catch(() => {}); // observed through run() or the caller's own await
  }

  /** @internal */
  async boot(opts: RuntimeOptions, ts: TsLoader): Promise<void> {
    const ready: Promise<void>[] = [];
    for (let i = 1; i <= this.procs; i++) {
      const w = new Worker(workerEntry, {
        workerData: { sab: this.heap.sab, index: i, ts },
        ...(opts.execArgv !== undefined ? { execArgv: opts.execArgv } : {}),
        ...(opts.resourceLimits !== undefined ? { resourceLimits: opts.resourceLimits } : {}),
      });
      this.workers.push(w);
      ready.push(
        new Promise<void>((resolve, reject) => {
          w.on('message', (msg: { type: string; goid?: number; fn?: string; error?: unknown }) => {
            if (msg.type === 'ready') resolve();
            else if (msg.type === 'panic') {
              const err = msg.error;
              const stack = err instanceof Error ? (err.stack ?? '') : '';
              this.fail(new GoroutinePanic(msg.goid ?? 0, msg.fn ?? '?', err, stack));
            }
          });
          w.on('error', (e) => {
            const err = new WorkerCrashError(i, null, this.running(i), e);
            reject(err);
            this.crashed(i, err);
          });
          w.on('exit', (code) => {
            if (this.stopping) return;
            const err = new WorkerCrashError(i, code, this.running(i));
            reject(err);
            this.crashed(i, err);
          });
        }),
      );
    }
    const debug = process.env['GORT_DEBUG'] ?? '';
    if (opts.sysmon !== false && !/(?:^|,)sysmon=0(?:,|$)/.test(debug)) ready.push(this.startSysmon(opts.stuckWarnMs ?? STUCK_WARN_MS));
    await Promise.all(ready);
    const trace = /(?:^|,)schedtrace=(\d+)/.exec(debug);
    if (trace) this.stopTrace = startSchedTrace(this.heap, Number(trace[1]), /(?:^|,)scheddetail=1(?:,|$)/.test(debug));
    this.stopDeadlock = watchDeadlock(
      this.heap,
      () => this.main.parked,
      () => {
        // With stacks on, Go's full report: every goroutine with where it parked and was made.
        // Every thread is parked, so each answers; dump() is the fallback.
        if (this.main.stacks === null) return this.fail(new DeadlockError(dump()));
        goroutineProfile({ debug: 2 }).then(
          (text) => this.fail(new DeadlockError(text.trimEnd())),
          () => this.fail(new DeadlockError(dump())),
        );
      },
    );
  }

  /**
   * Start sysmon's thread (runtime/sysmon.ts). Unref'd: it never keeps the process alive. Its
   * own failure (a bug) is reported on stderr and leaves the runtime running without it.
   */
  private startSysmon(warnMs: number): Promise<void> {
    Atomics.store(this.heap.i32, H.SYSMON, SysmonState.RUNNING); // before the thread: Ms wake it only from now on
    const w = new Worker(sysmonEntry, { workerData: { sab: this.heap.sab, warnMs }, execArgv: [], resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } });
    this.sysmon = w;
    if (this.main.stacks !== null) {
      w.on('message', (m: unknown) => {
        if (typeof m === 'object' && m !== null && 'warn' in m) void this.printStuck(m as { warn: string; goid: number; createdOn: number });
      });
    }
    // After the listeners: a 'message' listener refs the worker's port again, and a ref'd
    // port on main would keep the process alive and hide every deadlock (deadlock.ts).
    w.unref();
    return new Promise<void>((resolve) => {
      w.once('message', () => resolve());
      w.on('error', (e) => {
        stopSysmon(this.heap.i32);
        if (!this.stopping) process.stderr.write(`gort: sysmon stopped: ${e instanceof Error ? e.message : String(e)}\n`);
        resolve();
      });
      w.on('exit', () => resolve());
    });
  }

  /**
   * Sysmon's stuck warning, with stacks on: add where the goroutine was created (its creating
   * thread hands the frames over; a thread that does not answer in time leaves them out).
   */
  private async printStuck(m: { warn: string; goid: number; createdOn: number }): Promise<void> {
    let frames: string[] = [];
    try {
      const rec = this.main.stacks;
      if (m.goid !== 0 && !this.stopping && current === this.main && rec !== null) {
        const { stacks } = await rec.collect((k) => this.main.idle.ringIfParked(k), [m.createdOn]);
        frames = stacks.get(m.goid)?.created ?? [];
      }
    } catch {
      // the runtime ended meanwhile: the warning alone
    }
    const text = m.warn.endsWith('\n') ? m.warn.slice(0, -1) : m.warn;
    process.stderr.write(text + (frames.length > 0 ? `\n  created at:\n${frames.map((f) => `\tat ${f}`).join('\n')}` : '') + '\n');
  }

  /**
   * M i died. It may have held a heap lock or left a record half-written, and the goroutines
   * it ran are gone: the runtime cannot serve on safely, so it stops. Every lock() refuses
   * from now on (H.CRASHED), the other Ms leave their loops (SHUTDOWN), every waiter of the
   * main thread (spawn joins, the main goroutine's parks) rejects with `err`, and every later
   * gort call on this thread that creates, waits or locks throws a RuntimeStateError naming
   * it (need, LoopThread.watch, lock). shutdown() still works.
   */
  private crashed(i: number, err: WorkerCrashError): void {
    this.fail(err);
    if (this.stopping || this.main.crash !== null) return;
    const a = this.heap.i32;
    Atomics.store(a, H.CRASHED, i); // pairs with lock()'s loads
    Atomics.store(a, H.SHUTDOWN, 1); // pairs with each M's load every turn
    stopSysmon(a);
    for (let k = 1; k <= this.procs; k++) if (k !== i) this.main.idle.ring(k);
    this.stopDeadlock?.();
    this.stopDeadlock = null;
    for (const tm of [...this.main.timers]) tm.stop(); // they would fire into the stopped runtime
    this.main.abandon(err);
  }

  /** What M i was running, from its thread record (for crash reports). */
  private running(i: number): string {
    const heap = this.heap;
    const tw = threadWord(heap, i);
    const g = heap.i32[tw + T.CURG]!;
    if (g === 0) return 'no goroutine (between goroutines, or in one resumed after an await)';
    const goid = heap.i32[(g >> 2) + G.GOID]!;
    return `goroutine ${goid} [${this.main.fns.nameOf(heap.i32[(g >> 2) + G.FN]!)}]`;
  }

  /** The first failure, if any. */
  get error(): Error | null {
    return this.failed;
  }

  /**
   * GORT_TRACE=file: record an execution trace from the start (the Ms join at their first
   * turn), written by shutdown(). @internal
   */
  traceTo(path: string): void {
    const word = traceWord(1 + ((Math.random() * 0xfffffe) | 0), 20);
    Atomics.store(this.heap.i32, H.TRACE, word);
    this.traceFile = { path, word };
    traceSync(this.main);
  }

  /** Write the GORT_TRACE file, if that session still records (a stopTrace() call ends it). */
  private async writeTrace(): Promise<void> {
    const f = this.traceFile;
    this.traceFile = null;
    if (f === null || Atomics.load(this.heap.i32, H.TRACE) !== f.word) return;
    try {
      const trace = await collectTrace(this.main, f.word, 2000);
      writeFileSync(f.path, JSON.stringify(trace));
    } catch (e) {
      process.stderr.write(`gort: GORT_TRACE: the trace could not be written to ${f.path}: ${e instanceof Error ? e.message : String(e)}\n`);
    }
  }

  /** Stop every M and release the heap. Goroutines still running are abandoned, as in Go. */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    if (this.traceFile !== null) await this.writeTrace(); // before the Ms leave their loops
    if (this.stopping) return;
    this.stopping = true;
    this.stopTrace?.();
    this.stopDeadlock?.();
    this.main.stopped = true;
    for (const tm of [...this.main.timers]) tm.stop(); // main-thread timers must not fire into the next runtime
    Atomics.store(this.heap.i32, H.SHUTDOWN, 1);
    stopSysmon(this.heap.i32);
    for (let i = 1; i <= this.procs; i++) this.main.idle.ring(i);
    this.main.idle.ring(0);
    await Promise.all([...this.workers, ...(this.sysmon ? [this.sysmon] : [])].map((w) => w.terminate()));
    this.main.shared.close();
    traceDrop(this.main);
    this.main.stacks?.close();
    if (current === this.main) {
      setCurrent(null);
      setThreadLoader(null);
      const f = this.failed;
      runtimeEnded(f === null ? 'it was shut down (run(main) returned, or rt.shutdown() was called)' : `it stopped on ${f.name}: ${f.message.split('\n')[0]}`);
    }
    if (active === this) active = null;
  }
}

let active: Runtime | null = null;

/** Start a long-lived runtime on this thread; `await rt.shutdown()` when done. Main thread. */
export async function start(opts: RuntimeOptions = {}): Promise<Runtime> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`gort: start()'s options must be an object, got ${describe(opts)}`);
  if (opts.execArgv !== undefined && (!Array.isArray(opts.execArgv) || !opts.execArgv.every((a) => typeof a === 'string'))) {
    throw new TypeError(`gort: start()'s execArgv must be an array of strings, got ${describe(opts.execArgv)}`);
  }
  if (opts.resourceLimits !== undefined && (typeof opts.resourceLimits !== 'object' || opts.resourceLimits === null)) {
    throw new TypeError(`gort: start()'s resourceLimits must be an object, got ${describe(opts.resourceLimits)}`);
  }
  if (opts.sysmon !== undefined && typeof opts.sysmon !== 'boolean') throw new TypeError(`gort: start()'s sysmon must be a boolean, got ${describe(opts.sysmon)}`);
  if (opts.stuckWarnMs !== undefined && typeof opts.stuckWarnMs !== 'number') throw new TypeError(`gort: start()'s stuckWarnMs must be a number of ms, got ${describe(opts.stuckWarnMs)}`);
  if (opts.stuckWarnMs !== undefined && !(opts.stuckWarnMs >= 0 && Number.isFinite(opts.stuckWarnMs))) {
    throw new RangeError(`gort: start()'s stuckWarnMs must be a number of ms, 0 or more (0: no warning), got ${describe(opts.stuckWarnMs)}`);
  }
  if (current !== null) throw new RuntimeStateError('gort: a runtime is already running on this thread');
  const procs = opts.procs ?? (Number(process.env['GORT_PROCS']) || availableParallelism());
  if (!Number.isInteger(procs) || procs < 1 || procs > 256) {
    throw new RangeError(`gort: procs must be an integer from 1 to 256, got ${procs}`);
  }
  const limit = opts.heapLimit ?? (Number(process.env['GORT_HEAP_LIMIT']) || 1 << 30);
  if (typeof limit !== 'number' || !(limit >= 1 << 20 && limit <= 2 ** 31)) {
    throw new RangeError(`gort: heapLimit must be a number of bytes from 1 MiB to 2 GiB, got ${String(limit)}`);
  }
  if (opts.gcOnPressure !== false) exposeGc();
  if (opts.stacks !== undefined && typeof opts.stacks !== 'boolean') {
    throw new TypeError(`gort: start()'s stacks must be a boolean, got ${describe(opts.stacks)}`);
  }
  const debug = process.env['GORT_DEBUG'] ?? '';
  const heap = Heap.create(procs, {
    maxBytes: limit,
    checkFree: /(?:^|,)checkfree=1(?:,|$)/.test(debug),
    stacks: opts.stacks ?? /(?:^|,)stacks=1(?:,|$)/.test(debug),
  });
  heap.i32[H.GOID_GEN] = 1; // goroutine 1 is main
  initSchedRecords(heap, procs);
  initFnTable(heap);
  const main = new LoopThread(heap, 0, false);
  const rt = new Runtime(heap, main);
  const ts = detectTsLoader(opts.execArgv);
  setCurrent(main);
  setThreadLoader(ts);
  active = rt;
  const tracePath = process.env['GORT_TRACE'];
  if (tracePath) rt.traceTo(tracePath);
  try {
    await rt.boot(opts, ts);
  } catch (e) {
    await rt.shutdown();
    throw e;
  }
  return rt;
}

/**
 * A check run() makes after main returned and before it shuts down, while the goroutines main
 * left are still there; run() rejects with what it throws. Set by gort/leakcheck/vitest for
 * the test file that asked for it (null: none).
 */
let mainReturnCheck: (() => Promise<void>) | null = null;

/** Set (or clear, with null) the check run() makes when main returns. */
export function setMainReturnCheck(check: (() => Promise<void>) | null): void {
  mainReturnCheck = check;
}

/**
 * Go's program model: start the runtime, run `main` as the main goroutine on this thread, and
 * shut everything down when it returns. Rejects with the first goroutine panic or worker crash.
 */
export async function run<T>(main: () => T | Promise<T>, opts: RuntimeOptions = {}): Promise<Awaited<T>> {
  if (typeof main !== 'function') throw new TypeError(`gort: run() needs the main function, got ${describe(main)}`);
  const rt = await start(opts);
  try {
    const v = await Promise.race([Promise.resolve().then(main), rt.failure]);
    const check = mainReturnCheck;
    if (check !== null) await Promise.race([check(), rt.failure]);
    return v;
  } finally {
    await rt.shutdown();
  }
}

export function activeRuntime(): Runtime | null {
  return active;
}
