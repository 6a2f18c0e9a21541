// Goroutine-side helpers for the gosync tests, in module form (each thread imports this
// module on first use; see fromModule). Plain JS so that worker threads load it natively.
import { threadId } from 'node:worker_threads';

/** The worker thread this goroutine runs on (0: the main thread). */
export function where() {
  return threadId;
}
