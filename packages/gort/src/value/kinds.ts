/**
 * Kinds of heap records. A block's header carries the kind it was allocated with
 * (heap/heap.ts, `alloc(bytes, kind)`; `kindOf(h)` reads it back, -1 for no live block).
 *
 * `Kind` lists the runtime objects that travel between threads as a handle (value/codec.ts
 * HANDLE tag; a slot's f64 holds the kind). A handle that enters from user code (decoded
 * from a slot, revived by attach(), handed to a constructor) is checked against its
 * record's kind before anything reads or writes through it: a mismatch is a TypeError,
 * never a write into the wrong record (RuntimeObject and Context constructors).
 * `RecordKind` adds records that never travel as handles but are still worth telling apart.
 * Kind 0 is untyped data (argument blocks, strings, buffers).
 */
export const Kind = {
  WAITGROUP: 1,
  CHAN: 2,
  MUTEX: 3,
  RWMUTEX: 4,
  ONCE: 5,
  COND: 6,
  SEMAPHORE: 7,
  ATOMIC32: 8,
  ATOMIC64: 9,
  CONTEXT: 10,
  GROUP: 11,
  /** A SharedArrayBuffer shared by reference (value/shared.ts): travels as a handle, revived as the same memory. */
  SHARED_BUFFER: 15,
} as const;

export const RecordKind = {
  ...Kind,
  /** A context.afterFunc registration (context/context.ts). */
  AFTER_FUNC: 12,
  /** A chunk of G records (sched/galloc.ts). */
  G_CHUNK: 13,
  /** A waiter record, Go's sudog (sched/waiter.ts). */
  WAITER: 14,
} as const;

/**
 * Set by the codec while a reviver makes the object for a handle it has just checked (kind
 * and generation, value/codec.ts checkLive): the constructor then skips its own kind check.
 */
export const decoding = {
  checked: false,
  /** The handle whose slot is being consumed: the object made for it takes the slot's count (runtime/anchors.ts); 0 once taken. */
  consume: 0,
};

/** The user-facing name of a handle kind, for error messages. */
export const kindName: Readonly<Record<number, string>> = {
  1: 'WaitGroup',
  2: 'Chan',
  3: 'Mutex',
  4: 'RWMutex',
  5: 'Once',
  6: 'Cond',
  7: 'Semaphore',
  8: 'AtomicInt32',
  9: 'AtomicBigInt64',
  10: 'Context',
  11: 'Group',
  12: 'afterFunc registration',
  13: 'goroutine records',
  14: 'waiter',
  15: 'SharedArrayBuffer',
};
