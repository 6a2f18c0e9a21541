/**
 * sync.Once in the shared heap: `do(fn)` runs fn once across every thread that shares the
 * Once; every other caller waits until that first call has returned (Go's doSlow).
 *
 * | word | name | note                                   |
 * |------|------|----------------------------------------|
 * | 0    | DONE | Atomics: 1 once fn has returned         |
 * | 2-6  | M    | a Mutex (mutex.ts layout), 8-aligned    |
 *
 * fn runs on the thread of the goroutine that wins; it may be async (awaited before DONE).
 * As in Go, if fn throws, the Once still counts as done and the error goes to that caller.
 */
import { RuntimeObject, shareAnchor } from '../runtime/object.js';
import { registerHandleKind } from '../value/codec.js';
import { Kind } from '../value/kinds.js';
import { describe } from '../value/describe.js';
import { Mutex } from './mutex.js';

/** Word offsets of a Once (the table above). */
export const ONCE = { DONE: 0, M: 2 } as const;
export const ONCE_BYTES = 32;

/**
 * Go's `sync.Once`: `do(fn)` runs `fn` once across every thread that shares the Once, and
 * every other caller waits until that first call has returned.
 */
export class Once extends RuntimeObject {
  private readonly m: Mutex;

  /** A Once that has not run. */
  constructor();
  /** @internal revival of a handle */
  constructor(handle?: number, g?: number);
  constructor(handle?: number, g?: number) {
    super('new Once()', Kind.ONCE, ONCE_BYTES, handle, g);
    this.m = new Mutex(this.h + ONCE.M * 4, this.g, true);
    shareAnchor(this.m, this);
  }

  /**
   * Run `fn` if no call of `do` has run one yet; otherwise wait until the first has returned.
   * `fn` runs on the caller's thread and may be async (it is awaited). As in Go, a `fn` that
   * throws still counts as done; its error goes to that caller.
   */
  async do(fn: () => unknown): Promise<void> {
    if (typeof fn !== 'function') throw new TypeError(`sync: Once.do needs a function, got ${describe(fn)}`); // before it counts as done
    const a = this.t.heap.i32;
    if (Atomics.load(a, (this.h >> 2) + ONCE.DONE) === 1) return;
    await this.m.lock();
    try {
      if (Atomics.load(this.t.heap.i32, (this.h >> 2) + ONCE.DONE) === 0) {
        try {
          await fn();
        } finally {
          Atomics.store(this.t.heap.i32, (this.h >> 2) + ONCE.DONE, 1);
        }
      }
    } finally {
      this.m.unlock();
    }
  }

  /** True once the function has run. */
  get done(): boolean {
    return Atomics.load(this.t.heap.i32, (this.h >> 2) + ONCE.DONE) === 1;
  }
}

registerHandleKind(Kind.ONCE, (h, g) => new Once(h, g));
