/**
 * Base of every runtime object a program holds (WaitGroup, Chan, …): a handle into the heap,
 * the thread it was made on, and the goroutine it belongs to.
 *
 * Each thread makes its own JS object for a handle (the heap record is what is shared). `g`
 * is the G record of the goroutine that created or received this object (0: main, or not
 * known); a park through the object is recorded against it in dump(). Objects are
 * per-goroutine in inline goroutines (each G decodes its own arguments); module code that
 * shares one object between goroutines through module state gets the first goroutine's id.
 */
import { need, type Thread } from './thread.js';
import { parkCurrent } from './park.js';
import type { WaitReason } from '../sched/g.js';
import { GORT_HANDLE, type HandleObject } from '../value/codec.js';

export abstract class RuntimeObject implements HandleObject {
  /** @internal the heap record */
  readonly h: number;
  /** @internal */
  protected readonly t: Thread;
  /** @internal the owning goroutine's G record, or 0 */
  protected readonly g: number;

  protected constructor(what: string, bytes: number, handle: number | undefined, g: number | undefined) {
    const t = need(what);
    this.t = t;
    this.g = g ?? t.curG;
    if (handle !== undefined) {
      this.h = handle;
    } else {
      this.h = t.heap.alloc(bytes);
      t.heap.i32.fill(0, this.h >> 2, (this.h + bytes) >> 2);
    }
  }

  protected abstract readonly kind: number;

  [GORT_HANDLE](): readonly [number, number] {
    return [this.kind, this.h];
  }

  /** A waiter owned by this thread for this object's goroutine, recorded as parked (in t.lastWaiter). */
  protected park<R>(reason: WaitReason | number): Promise<R> {
    const p = this.t.waiter<R>(0);
    parkCurrent(this.t, this.t.lastWaiter, reason, this.g);
    return p;
  }
}
