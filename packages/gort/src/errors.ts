/**
 * Every error gort raises for user misuse, in one table (Go's runtime errors as typed JS
 * errors). A broken runtime invariant is not in this table: it goes through `fatal()`, which
 * names the invariant and is a bug in gort, never in the caller.
 */
import { inspect } from 'node:util';

/** The shared heap reached its configured limit. */
export class HeapExhaustedError extends RangeError {
  /** Always `'HeapExhaustedError'`. */
  override name = 'HeapExhaustedError';
  constructor(
    /** The heap's limit (`heapLimit`), in bytes. */
    readonly limitBytes: number,
    /** The size of the allocation that did not fit. */
    readonly requestedBytes: number,
  ) {
    super(
      `gort: shared heap exhausted: could not allocate ${requestedBytes} bytes within the ` +
        `${limitBytes}-byte limit; raise it with the \`heapLimit\` runtime option ` +
        `(or the GORT_HEAP_LIMIT environment variable, in bytes)`,
    );
  }
}

/** An inline goroutine function refers to a variable it would not have on another thread. */
export class FreeVariableError extends TypeError {
  /** Always `'FreeVariableError'`. */
  override name = 'FreeVariableError';
  constructor(
    /** The outer variables the function uses. */
    readonly variables: readonly string[],
    /** The goroutine function's name (`anonymous` for an unnamed one). */
    readonly functionName: string,
  ) {
    const list = variables.map((v) => `'${v}'`).join(', ');
    super(
      `gort: goroutine function ${functionName} uses ${list} from an outer scope; ` +
        `an inline goroutine runs on another thread and sees only its parameters, JS globals ` +
        `and gort's names. Pass ${variables.length > 1 ? 'them' : 'it'} as an argument, or ` +
        `define the function in a module and use it through fromModule()`,
    );
  }
}

/**
 * A goroutine function from a TypeScript module, where the threads that would import it have
 * no way to load TypeScript. The message says what this process runs under and what to add.
 */
export class TypeScriptLoaderError extends TypeError {
  /** Always `'TypeScriptLoaderError'`. */
  override name = 'TypeScriptLoaderError';
  constructor(
    /** The module's URL. */
    readonly url: string,
    /** Which threads cannot load it, and what this process runs under. */
    readonly reason: string,
    /** Node's own error, when an import failed. */
    cause?: unknown,
  ) {
    super(
      `gort: ${url} is a TypeScript module, and ${reason}. Do one of these:\n` +
        `  - run the program under tsx: \`npx tsx main.ts\`, or \`node --import tsx main.ts\`;\n` +
        `  - give the worker threads tsx (installed in your project): ` +
        `\`run(main, { execArgv: ['--import', 'tsx'] })\` (or start());\n` +
        `  - run on Node 22.18 or later, which strips types itself (22.6 to 22.17: --experimental-strip-types);\n` +
        `  - compile the module and name its .js file`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/** A goroutine threw and nobody joined it: Go's panic. */
export class GoroutinePanic extends Error {
  /** Always `'GoroutinePanic'`. */
  override name = 'GoroutinePanic';
  constructor(
    /** The id of the goroutine that threw. */
    readonly goid: number,
    /** The goroutine function's name. */
    readonly functionName: string,
    /** What it threw, as it arrived on the main thread (a copy: errors keep their name, message, stack and `cause`). */
    readonly error: unknown,
    /** The stack of the thrown error, where it was thrown, if it was an `Error`. */
    readonly goroutineStack: string,
  ) {
    super(`panic in goroutine ${goid} [${functionName}]: ${describe(error)}`, { cause: error });
    if (goroutineStack) this.stack = `${this.name}: ${this.message}\n    goroutine ${goid} stack:\n${goroutineStack}`;
  }
}

/** Misuse of a sync primitive: negative WaitGroup counter, unlock of an unlocked mutex, … */
export class SyncError extends Error {
  /** Always `'SyncError'`. */
  override name = 'SyncError';
}

/** Go's channel panics: send on a closed channel, close of a closed channel. */
export class ClosedChannelError extends Error {
  /** Always `'ClosedChannelError'`. */
  override name = 'ClosedChannelError';
}

/** Every goroutine, main included, is blocked on a runtime primitive and no timer is pending. */
export class DeadlockError extends Error {
  /** Always `'DeadlockError'`. */
  override name = 'DeadlockError';
  constructor(
    /** `dump()` of every goroutine when the deadlock was found (`gort/debug`). */
    readonly dump: string,
  ) {
    super(`all goroutines are asleep - deadlock!\n\n${dump}`);
  }
}

/** A worker thread (an M) died: process.exit inside a goroutine, out of memory, a crash. */
export class WorkerCrashError extends Error {
  /** Always `'WorkerCrashError'`. */
  override name = 'WorkerCrashError';
  constructor(
    /** The M (worker thread, 1..procs) that died. */
    readonly m: number,
    /** Its exit code, if it exited. */
    readonly exitCode: number | null,
    /** What it was running: `goroutine N [function]`, or that it was between goroutines. */
    readonly running: string,
    cause?: unknown,
  ) {
    super(
      `gort: M${m} (worker thread) died${exitCode === null ? '' : ` with exit code ${exitCode}`}` +
        ` while running ${running}${cause === undefined ? '' : `: ${describe(cause)}`}`,
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * A gort call made where no runtime can serve it: outside `run()` or `start()`, after the
 * runtime ended (the message says why: the panic or crash that stopped it, or a shutdown), on
 * an object that was disposed or that belongs to a runtime that has ended.
 */
export class RuntimeStateError extends Error {
  /** Always `'RuntimeStateError'`. */
  override name = 'RuntimeStateError';
}

/** A runtime invariant broke: a bug in gort, never the caller's (please report it with the message). */
export class RuntimeFatalError extends Error {
  /** Always `'RuntimeFatalError'`. */
  override name = 'RuntimeFatalError';
}

export function fatal(msg: string): never {
  throw new RuntimeFatalError(`runtime: ${msg}`);
}

/**
 * A thrown value in one line: an Error's name and message; anything else as util.inspect
 * shows it (`{ code: 42 }`, not `[object Object]`), cut at 300 characters.
 */
export function describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  try {
    const s = typeof e === 'string' ? e : inspect(e, { depth: 3, breakLength: Infinity, maxArrayLength: 20, maxStringLength: 200 });
    return s.length > 300 ? `${s.slice(0, 299)}…` : s;
  } catch {
    return Object.prototype.toString.call(e);
  }
}
