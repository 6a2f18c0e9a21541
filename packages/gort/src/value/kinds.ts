/** Kinds of runtime objects that travel between threads as a handle (value/codec.ts HANDLE tag). */
export const Kind = {
  WAITGROUP: 1,
  CHAN: 2,
} as const;
