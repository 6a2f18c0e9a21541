/**
 * gort/leakcheck/vitest: the leak checker after each test of a vitest file. The only module
 * of gort that imports vitest (an optional peer dependency): import it from test files only.
 *
 * ```ts
 * import { verifyNoLeaks } from 'gort/leakcheck/vitest';
 * verifyNoLeaks();            // at the top of the file, with any verifyNone() options
 * ```
 *
 * Contract: verifyNoLeaks(...options) checks its options at once (TypeError / RangeError) and
 * registers, for the file:
 * - while the file runs, a check in run() after main returns and before the runtime shuts
 *   down (runtime/host.ts's setMainReturnCheck): a test that calls run() per test fails with
 *   run()'s GoroutineLeakError, since after run() the goroutines are gone with the runtime;
 * - beforeEach: when a runtime is running on this thread (a start()ed one shared by the file),
 *   a snapshot of the goroutines live then (ignoreCurrent()), so that what beforeAll started
 *   and what an earlier test leaked (and was reported for) are not this test's leaks;
 * - afterEach: when a runtime is running, verifyNone(snapshot, ...options); when none is, no
 *   check (run() made it).
 * vitest runs after-hooks in reverse order of registration: with a runtime started and shut
 * down per test in beforeEach/afterEach, call verifyNoLeaks() after registering those hooks,
 * so that its check runs before the shutdown.
 *
 * @module gort/leakcheck/vitest
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { current } from '../runtime/thread.js';
import { setMainReturnCheck } from '../runtime/host.js';
import { ignoreCurrent, planOf, verifyNone, type LeakFilter, type LeakOption } from './index.js';

function running(): boolean {
  return current !== null && current.crash === null;
}

/**
 * Check for leaked goroutines after each test of this file (Go's `goleak.VerifyNone(t)` in
 * every test). Call it at the top of a test file, with any options of
 * {@link gort/leakcheck!verifyNone | verifyNone()}:
 *
 * - tests that call `run(main)` fail with run()'s `GoroutineLeakError` when main leaves
 *   goroutines behind (the check runs when main returns, before the runtime shuts down);
 * - with one runtime `start()`ed in `beforeAll` and shut down in `afterAll`, each test fails
 *   (in its afterEach) when goroutines it started are still live after it; goroutines live
 *   before the test (started by `beforeAll`, or leaked by an earlier test) do not count.
 *
 * @param options as verifyNone()'s: filters, settings objects, or arrays of them (checked now;
 *   ignoreCurrent() here needs a runtime already running when the file is collected)
 */
export function verifyNoLeaks(...options: LeakOption[]): void {
  planOf('verifyNoLeaks()', options);
  let before: LeakFilter | null = null;
  beforeAll(() => setMainReturnCheck(() => verifyNone(...options)));
  afterAll(() => setMainReturnCheck(null));
  beforeEach(() => {
    before = running() ? ignoreCurrent() : null;
  });
  afterEach(async () => {
    if (!running()) return;
    await verifyNone(...options, before ?? []);
  });
}
