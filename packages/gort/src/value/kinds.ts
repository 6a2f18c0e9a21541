/** Kinds of runtime objects that travel between threads as a handle (value/codec.ts HANDLE tag). */
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
} as const;
