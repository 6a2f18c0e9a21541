/**
 * Shared heap header: the fixed words at the start of the SharedArrayBuffer.
 *
 * Every runtime object lives in one growable SharedArrayBuffer and is named by a handle:
 * the byte offset of its first word (always a multiple of 8, never 0). This file is the
 * table of the header's word offsets (Int32 word index = byte offset / 4). Hot words sit
 * on their own 64-byte line (16 words) so that threads updating different words do not
 * bounce one cache line.
 *
 * | word | name          | written by                  | read by        | note                                  |
 * |------|---------------|-----------------------------|----------------|---------------------------------------|
 * | 0    | MAGIC         | creator, once               | attach         | 0x676f7274 ('gort')                   |
 * | 1    | PROCS         | creator, once               | any            | number of Ps                          |
 * | 2    | LIMIT_KB      | creator, once               | any            | heap limit in KiB (for error text)     |
 * | 3    | DEBUG         | creator, once               | every Heap     | bit 0: checkfree (heap.ts)            |
 * | 16   | ALLOC_LOCK    | any (futex lock)            | any            | guards BUMP, FREE_HEAD[], LARGE_HEAD  |
 * | 17   | BUMP          | under ALLOC_LOCK            | under lock     | first never-used byte                 |
 * | 18   | LARGE_HEAD    | under ALLOC_LOCK            | under lock     | free list of large blocks             |
 * | 20.. | FREE_HEAD[c]  | under ALLOC_LOCK            | under lock     | central free batches per size class (heap.ts giveBack) |
 * | 48   | GOID_GEN      | Atomics.add, any            | any            | last goroutine id handed out (threads take 64 at a time) |
 * | 50   | SHUTDOWN      | main                        | every M        | 1 once the runtime is stopping        |
 * | 51   | TIMERS        | Atomics.add/sub, any        | deadlock check | runtime timers pending                |
 * | 52   | ATTACHED      | Atomics.add, attach()       | attach()       | spare thread records claimed          |
 * | 53   | EXPORTED      | Atomics.store, exportRef()  | deadlock check | 1 once a ref left for an outside thread |
 * | 54   | GC_SEQ        | Atomics.add, an ask         | every thread   | bumped when the heap asks threads to collect (heap.ts askCollect, debug collect(); runtime/pressure.ts) |
 * | 55   | GC_NEXT       | CAS, any                    | any            | COUNTED bytes at which the next ask is made |
 * | 56   | GC_AT         | any                         | under ALLOC_LOCK | Date.now() of the last ask, low 30 bits  |
 * | 57   | COUNTED       | Atomics.add, any (batched)  | any            | bytes of live counted records (value/refs.ts), give or take 16 KiB a thread |
 * | 58   | SHARED_ID     | creator, once               | every thread   | random id of this runtime: its shared-buffer channel's name (value/shared.ts) |
 * | 59   | SHARED_SEQ    | Atomics.add, any            | any            | last shared-buffer serial handed out  |
 * | 61   | SYSMON        | Atomics: sysmon, an M waking it, main | Ms (on leaving park) | SysmonState: 0 off, 1 running, 2 parked until an M wakes (runtime/sysmon.ts) |
 * | 62   | SYSMON_WARNED | Atomics.add, sysmon         | stats          | stuck-goroutine warnings printed      |
 * | 63   | SYSMON_RETAKEN | Atomics.add, sysmon        | stats          | Gs sysmon moved from a stuck P to the global queue |
 * | 60   | TRACE         | CAS, startTrace/stopTrace   | every thread   | execution trace: 0 off, else session number (bits 0-23) and log2 of the per-thread event cap (bits 24-28) (runtime/tracebuf.ts) |
 * | 64   | SCHED_LOCK    | any (futex lock)            | any            | guards the global run queue           |
 * | 65   | GQ_HEAD       | under SCHED_LOCK            | under lock     | first G of the global queue (0: none) |
 * | 66   | GQ_TAIL       | under SCHED_LOCK            | under lock     | last G                                |
 * | 67   | GQ_SIZE       | under SCHED_LOCK (Atomics)  | any, lock-free | length; a lock-free emptiness hint    |
 * | 80   | NMSPINNING    | Atomics, any M              | any            | Ms currently spinning for work        |
 * | 81   | NPIDLE        | Atomics, any M              | any            | Ps parked idle                        |
 * | 96.. | IDLE_MASK[8]  | Atomics.or/and, any         | any            | bit p set: P p is idle (≤ 256 Ps)     |
 * | 112  | FN_COUNT      | Atomics.add, any            | any            | function-table entries reserved       |
 * | 113  | FN_TABLE      | creator, once               | any            | handle of the function table          |
 * | 114  | THREADS       | creator, once               | any            | handle of the thread-record array     |
 * | 115  | PS            | creator, once               | any            | handle of the P array                 |
 * | 116  | GCHUNK_COUNT  | under ALLOC_LOCK (Atomics)  | any            | G chunks in the directory             |
 * | 117  | G_FREE_HEAD   | under ALLOC_LOCK            | under lock     | central free batches of G records     |
 * | 118  | NTHREADS      | creator, once               | any            | thread records (main + Ms + spare)    |
 * | 119  | CRASHED       | main (Atomics.store, once)  | lock()         | index of the first M that died (0: none): every lock() refuses |
 * | 128..| GCHUNK_DIR[]  | under ALLOC_LOCK            | any (dump)     | (base, count) pairs of G chunks       |
 */
export const H = {
  MAGIC: 0,
  PROCS: 1,
  LIMIT_KB: 2,
  DEBUG: 3,
  ALLOC_LOCK: 16,
  BUMP: 17,
  LARGE_HEAD: 18,
  FREE_HEAD: 20,
  GOID_GEN: 48,
  SHUTDOWN: 50,
  TIMERS: 51,
  ATTACHED: 52,
  EXPORTED: 53,
  GC_SEQ: 54,
  GC_NEXT: 55,
  GC_AT: 56,
  COUNTED: 57,
  SHARED_ID: 58,
  SHARED_SEQ: 59,
  SYSMON: 61,
  SYSMON_WARNED: 62,
  SYSMON_RETAKEN: 63,
  TRACE: 60,
  SCHED_LOCK: 64,
  GQ_HEAD: 65,
  GQ_TAIL: 66,
  GQ_SIZE: 67,
  NMSPINNING: 80,
  NPIDLE: 81,
  IDLE_MASK: 96,
  FN_COUNT: 112,
  FN_TABLE: 113,
  THREADS: 114,
  PS: 115,
  GCHUNK_COUNT: 116,
  G_FREE_HEAD: 117,
  NTHREADS: 118,
  /** On a read-mostly line: lock() loads it on every call. */
  CRASHED: 119,
  GCHUNK_DIR: 128,
} as const;

export const MAGIC = 0x676f7274;
/** Size classes: class c holds blocks of 16 << c bytes (16 B … 1 MiB). */
export const NCLASS = 17;
export const MAX_PROCS = 256;
export const MAX_GCHUNKS = 1024;
/** Header bytes: everything below is reserved; the first allocation starts here. */
export const HEADER_BYTES = (H.GCHUNK_DIR + 2 * MAX_GCHUNKS) * 4;

// Checked once at load: the tables above must not overlap.
if (H.FREE_HEAD + NCLASS > H.GOID_GEN) throw new Error('gort: heap layout: size classes overlap');
if (H.IDLE_MASK + MAX_PROCS / 32 > H.FN_COUNT) throw new Error('gort: heap layout: idle mask overlaps');
