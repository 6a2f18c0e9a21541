// Port of go/src/runtime/proc_test.go
//
// TestPingPongHog: hog goroutines must not starve light ones. Two pairs of goroutines on one
// P hand a token back and forth over a channel; a hog does 1e6 units of work per hand-off, a
// light one 1e3. Go's sysmon preempts whoever runs past its time slice, so both pairs get
// turns, and the test bounds the ratio of work done at 20 either way. JS has no asynchronous
// preemption: a loop that wants to be preemptible awaits checkpoint(), here every 10,000
// units, and checkpoint() must then yield to anything else waiting on its M — the light
// pair's wake-ups included, which resolve in microtasks or wait for the event loop's next
// turn. A work ratio is a count, not a duration: asserting it is not a timing assertion. (It
// was 300–1,000 when checkpoint() looked only at run queues and READY; the same loop with
// gosched() in place of checkpoint() gives ~1.)
//
// Not ported: the rest of proc_test.go. Most of it tests Go's own machinery (LockOSThread,
// GC preemption of tight loops, timer internals, netpoll) that has no counterpart here, or
// is covered elsewhere (goroutine creation and gosched in sched.test.ts).
import { describe, it, expect } from 'vitest';
import { run, spawn, go, chan, select, recv, sleep, checkpoint, AtomicInt32, type Chan } from 'gort';

describe('go/src/runtime/proc_test.go', () => {
  it('TestPingPongHog: a hog pair yielding at checkpoint() does at most 20x the work of a light pair beside it (procs 1)', async () => {
    const [hogCount, lightCount] = await run(
      () =>
        spawn(async () => {
          // Made on the M: thread-local channels, so every hand-off is a local wake-up.
          const done = chan<void>();
          const hogChan = chan<boolean>();
          const lightChan = chan<boolean>();
          const hogCount = new AtomicInt32();
          const lightCount = new AtomicInt32();
          const pair = async (limit: number, counter: AtomicInt32, wake: Chan<boolean>, done: Chan<void>) => {
            for (;;) {
              const stop = await select([recv(done, () => true), recv(wake, () => false)]);
              if (stop) return;
              let n = 0;
              for (let i = 0; i < limit; i++) {
                if (++n === 10000) {
                  counter.add(n);
                  n = 0;
                  await checkpoint();
                }
              }
              counter.add(n);
              await wake.send(true);
            }
          };
          // Two co-scheduled hog goroutines, two co-scheduled light ones.
          for (let i = 0; i < 2; i++) go(pair, 1e6, hogCount, hogChan, done);
          for (let i = 0; i < 2; i++) go(pair, 1e3, lightCount, lightChan, done);
          // Start the pairs and let them run a few slices.
          await hogChan.send(true);
          await lightChan.send(true);
          await sleep(100);
          done.close();
          await hogChan.recv();
          await lightChan.recv();
          return [hogCount.load(), lightCount.load()];
        }),
      { procs: 1 },
    );
    const factor = 20;
    const msg = `want hogCount/lightCount in [1/${factor}, ${factor}]; got ${hogCount}/${lightCount} = ${hogCount / lightCount}`;
    expect(hogCount, msg).toBeGreaterThan(0);
    expect(lightCount, msg).toBeGreaterThan(0);
    expect(Math.floor(hogCount / factor) <= lightCount && Math.floor(lightCount / factor) <= hogCount, msg).toBe(true);
  });
});
