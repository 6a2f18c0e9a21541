/**
 * gort/sync: Go's sync package (and x/sync's weighted semaphore), across threads. Every name
 * is also exported by `gort`.
 *
 * @module gort/sync
 */
export { WaitGroup } from './waitgroup.js';
export { Mutex, type Locker } from './mutex.js';
export { RWMutex } from './rwmutex.js';
export { Once } from './once.js';
export { Cond } from './cond.js';
export { Semaphore } from './semaphore.js';
export { AtomicInt32, AtomicBigInt64 } from './atomic.js';
export { SyncError } from '../errors.js';
