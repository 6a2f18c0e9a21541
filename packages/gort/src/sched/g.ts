/**
 * G records: one per goroutine, in the shared heap, readable by any thread (dump, stats).
 *
 * | word | name      | written by                                  | note                             |
 * |------|-----------|---------------------------------------------|----------------------------------|
 * | 0    | GOID      | creator, before the G is published          | from H.GOID_GEN                  |
 * | 1    | STATUS    | creator (Atomics), then the M: plain stores | Gstatus below; read racily by dump and the deadlock check |
 * | 2    | WAIT      | the M running it                            | WaitReason, while STATUS=WAITING |
 * | 3    | FN        | creator                                     | function-table index             |
 * | 4    | ARGS      | creator; freed by the M that starts it      | value block handle or 0          |
 * | 5    | SCHEDLINK | under SCHED_LOCK                            | global-queue link                |
 * | 6    | M         | the M that starts it                        | thread index, -1 until started   |
 * | 7    | CREATOR   | creator                                     | goid of the creator, 0 = main    |
 * | 8    | JOIN      | creator                                     | waiter to complete, 0 for go(),  |
 * |      |           |                                             | −(WaitGroup handle) for wg.go()  |
 * | 9    | CREATED_T | creator                                     | thread index of the creator      |
 * | 10-11| SINCE     | the M running it (f64)                      | ms (performance.timeOrigin based)|
 * | 12   | GROUP     | creator                                     | errgroup handle for Group.go()   |
 * |      |           |                                             | (its M records the outcome), or 0|
 * | 13   | (spare)   |                                             |                                  |
 *
 * A G record is published by the atomic store that puts its handle on a run queue; every
 * field above except STATUS, WAIT, SINCE, M and ARGS (taken and zeroed by the M that starts
 * it) is written before that and then read-only.
 */
export const G = {
  GOID: 0,
  STATUS: 1,
  WAIT: 2,
  FN: 3,
  ARGS: 4,
  SCHEDLINK: 5,
  M: 6,
  CREATOR: 7,
  JOIN: 8,
  CREATED_T: 9,
  SINCE_F64: 10,
  GROUP: 12,
} as const;
/** 56 bytes + the 8-byte chunk slot header = 64: one cache line per G. */
export const G_BYTES = 56;
export const G_STRIDE = 64;

/** Go's Gstatus values (runtime2.go), the ones that mean something here. */
export const Gstatus = {
  IDLE: 0,
  /** on a run queue, not started */
  RUNNABLE: 1,
  /** started on an M: executing, or awaiting a promise that is not a gort primitive */
  RUNNING: 2,
  /** holding its thread in a synchronous call (sendSync, lockSync, …) */
  SYSCALL: 3,
  /** parked on a gort primitive; WAIT says which */
  WAITING: 4,
  DEAD: 6,
} as const;

export const statusNames: Record<number, string> = {
  0: 'idle',
  1: 'runnable',
  2: 'running',
  3: 'syscall',
  4: 'waiting',
  6: 'dead',
};

/** Printable wait reasons, as Go's waitReasonStrings. Index = code stored in G.WAIT. */
export const waitReasons = [
  '',
  'chan receive',
  'chan send',
  'select',
  'select (no cases)',
  'sleep',
  'sync.WaitGroup.Wait',
  'sync.Mutex.Lock',
  'sync.RWMutex.RLock',
  'sync.RWMutex.Lock',
  'sync.Cond.Wait',
  'semacquire',
  'gosched',
  'chan receive (nil chan)',
  'chan send (nil chan)',
  'context done',
  'errgroup wait',
] as const;
export type WaitReason = (typeof waitReasons)[number];
const codes = new Map<string, number>(waitReasons.map((r, i) => [r, i]));
/** The code stored in G.WAIT for a reason (a Map lookup; hot paths keep the code in a const). */
export function waitCode(r: WaitReason): number {
  return codes.get(r)!;
}
