/**
 * sync.RWMutex in the shared heap: Go's algorithm (src/sync/rwmutex.go).
 *
 * | word  | name        | note                                                          |
 * |-------|-------------|---------------------------------------------------------------|
 * | 0-4   | W           | a Mutex (mutex.ts layout) serialising writers                  |
 * | 5-8   | WRITER_SEMA | where a writer waits for the readers it let in to leave        |
 * | 9-12  | READER_SEMA | where readers wait for a writer to finish                      |
 * | 13    | READERS     | Atomics: active readers; minus MAX_READERS while a writer waits |
 * | 14    | DEPARTING   | Atomics: readers the waiting writer still waits for            |
 *
 * A writer first takes W, then announces itself by subtracting MAX_READERS from READERS:
 * from then on new readers park, so a stream of readers cannot starve a writer.
 */
import { SyncError } from '../errors.js';
import { RuntimeObject, shareAnchor } from '../runtime/object.js';
import { waitCode } from '../sched/g.js';
import { registerHandleKind } from '../value/codec.js';
import { Kind } from '../value/kinds.js';
import { Mutex, type Locker } from './mutex.js';
import { semacquire, semacquireSync, semrelease } from './sema.js';

const MAX_READERS = 1 << 30;
/** Word offsets of an RWMutex (the table above). */
export const RW = { W: 0, WRITER_SEMA: 5, READER_SEMA: 9, READERS: 13, DEPARTING: 14 } as const;
export const RW_BYTES = 16 * 4;
const RESOLVED = Promise.resolve();
const WAIT_R = waitCode('sync.RWMutex.RLock');
const WAIT_W = waitCode('sync.RWMutex.Lock');

/**
 * Go's `sync.RWMutex`: many readers or one writer, across threads. A writer that waits
 * keeps new readers out, so a stream of readers cannot starve it.
 */
export class RWMutex extends RuntimeObject {
  private readonly w: Mutex;

  /** An unlocked RWMutex. */
  constructor();
  /** @internal revival of a handle */
  constructor(handle?: number, g?: number);
  constructor(handle?: number, g?: number) {
    super('new RWMutex()', Kind.RWMUTEX, RW_BYTES, handle, g);
    this.w = new Mutex(this.h + RW.W * 4, this.g, true); // the embedded writer mutex shares the record
    shareAnchor(this.w, this);
  }

  private get at(): number {
    return this.h >> 2;
  }

  /** Lock for reading; the promise resolves once held. */
  rlock(): Promise<void> {
    const a = this.t.heap.i32;
    if (Atomics.add(a, this.at + RW.READERS, 1) + 1 < 0) {
      // a writer is pending: wait for it
      return semacquire(this.t, this.at + RW.READER_SEMA, WAIT_R, this.g, this) ?? RESOLVED;
    }
    return this.t.yieldDue() ? this.t.yieldTurn(undefined) : RESOLVED;
  }

  /** `rlock()` that blocks the thread instead (for synchronous code; see `Mutex.lockSync`). */
  rlockSync(): void {
    const a = this.t.heap.i32;
    if (Atomics.add(a, this.at + RW.READERS, 1) + 1 < 0) semacquireSync(this.t, this.at + RW.READER_SEMA, WAIT_R, this.g);
  }

  /** Lock for reading only if that can happen now: true if it did. */
  tryRLock(): boolean {
    const a = this.t.heap.i32;
    for (;;) {
      const c = Atomics.load(a, this.at + RW.READERS);
      if (c < 0) return false;
      if (Atomics.compareExchange(a, this.at + RW.READERS, c, c + 1) === c) return true;
    }
  }

  /** Undo one `rlock()`. Without a read lock held, throws `SyncError`. */
  runlock(): void {
    const a = this.t.heap.i32;
    const r = Atomics.sub(a, this.at + RW.READERS, 1) - 1;
    if (r < 0) {
      if (r + 1 === 0 || r + 1 === -MAX_READERS) {
        Atomics.add(a, this.at + RW.READERS, 1);
        throw new SyncError('sync: RUnlock of unlocked RWMutex');
      }
      // a writer is pending: the last departing reader lets it in
      if (Atomics.sub(a, this.at + RW.DEPARTING, 1) - 1 === 0) semrelease(this.t, this.at + RW.WRITER_SEMA);
    }
  }

  /** Lock for writing; the promise resolves once every reader has left. */
  async lock(): Promise<void> {
    await this.w.lock();
    const p = this.announceWriter();
    if (p !== undefined) await p;
  }

  /** `lock()` that blocks the thread instead (for synchronous code; see `Mutex.lockSync`). */
  lockSync(): void {
    this.w.lockSync();
    const a = this.t.heap.i32;
    const r = Atomics.sub(a, this.at + RW.READERS, MAX_READERS);
    if (r !== 0 && Atomics.add(a, this.at + RW.DEPARTING, r) + r !== 0) {
      semacquireSync(this.t, this.at + RW.WRITER_SEMA, WAIT_W, this.g);
    }
  }

  /** Announce a writer; a promise if active readers must leave first. */
  private announceWriter(): Promise<void> | undefined {
    const a = this.t.heap.i32;
    const r = Atomics.sub(a, this.at + RW.READERS, MAX_READERS); // the readers active now
    if (r !== 0 && Atomics.add(a, this.at + RW.DEPARTING, r) + r !== 0) {
      return semacquire(this.t, this.at + RW.WRITER_SEMA, WAIT_W, this.g, this);
    }
    return undefined;
  }

  /** Lock for writing only if that can happen now (no reader, no writer): true if it did. */
  tryLock(): boolean {
    if (!this.w.tryLock()) return false;
    if (Atomics.compareExchange(this.t.heap.i32, this.at + RW.READERS, 0, -MAX_READERS) !== 0) {
      this.w.unlock();
      return false;
    }
    return true;
  }

  /** @internal whether it is write-locked (or a writer is on its way in): unlock() would not throw */
  locked(): boolean {
    return Atomics.load(this.t.heap.i32, this.at + RW.READERS) < 0;
  }

  /** Unlock for writing, letting waiting readers in. Without the write lock held, throws `SyncError`. */
  unlock(): void {
    const a = this.t.heap.i32;
    const r = Atomics.add(a, this.at + RW.READERS, MAX_READERS) + MAX_READERS;
    if (r >= MAX_READERS) {
      Atomics.sub(a, this.at + RW.READERS, MAX_READERS);
      throw new SyncError('sync: Unlock of unlocked RWMutex');
    }
    for (let k = 0; k < r; k++) semrelease(this.t, this.at + RW.READER_SEMA); // let the blocked readers in
    this.w.unlock();
  }

  /** A Locker whose lock/unlock are rlock/runlock (Go's RLocker). */
  rlocker(): Locker {
    return { lock: () => this.rlock(), unlock: () => this.runlock() };
  }
}

registerHandleKind(Kind.RWMUTEX, (h, g) => new RWMutex(h, g));
