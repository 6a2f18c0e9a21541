/**
 * Reference counts of runtime objects: who holds one, and what happens when the last goes.
 *
 * Every runtime object (value/kinds.ts Kind: channels, contexts, sync objects, groups) is a
 * counted heap record (heap.ts allocCounted): word 0 of its block header counts the holders
 * that name it. A holder is one of
 * - a JS object that wraps the record (runtime/anchors.ts): one count per object, kept in its
 *   epoch, released once every object of the epoch is collected, or at its [Symbol.dispose];
 * - a value slot whose tag is HANDLE, or a handle inside a cloned value (value/codec.ts):
 *   taken when the value is encoded, handed over when the slot is moved, dropped when the
 *   slot is dropped or consumed;
 * - a link from another record that counts: a context's parent, a channel's context (a done
 *   channel keeps its context), a group's context and semaphore, a Cond's locker, a G record
 *   running for a group (G.GROUP) or for WaitGroup.go (G.JOIN < 0), a pending afterFunc;
 * - an exported ref (runtime/attach.ts): pinned for the runtime's life.
 * Links that do not count are read under a lock and upgraded with heap.tryRetain: a
 * context's child list, a context's DONE word.
 *
 * release(): the holder that takes a count to 0 owns the record alone. It runs the kind's
 * destructor (registered with onLastRelease), which releases what the record holds and frees
 * it; releases it triggers are queued, not recursed (a chain of 100,000 value contexts is
 * freed in a loop). A kind without a destructor is freed as it is.
 *
 * Any thread.
 */
import type { Heap } from '../heap/heap.js';

/** Release what record h holds (push handles to release onto `more`) and free h. Any thread. */
export type Destructor = (heap: Heap, h: number, more: number[]) => void;
const destructors: Array<Destructor | undefined> = [];

export function onLastRelease(kind: number, d: Destructor): void {
  destructors[kind] = d;
}

/** Drop one reference to counted record h; free it (and what only it held) if that was the last. */
export function release(heap: Heap, h: number): void {
  if (!heap.release(h)) return;
  destroy(heap, h);
}

/** Record h's count reached 0: run its destructor, and the destructors of what that frees. */
export function destroy(heap: Heap, h: number): void {
  const more: number[] = [];
  for (let x = h; ; ) {
    const d = destructors[heap.kindOf(x)];
    if (d === undefined) heap.freeCounted(x);
    else d(heap, x, more);
    let next = 0;
    while (more.length > 0) {
      const y = more.pop()!;
      if (heap.release(y)) {
        next = y;
        break;
      }
    }
    if (next === 0) return;
    x = next;
  }
}
