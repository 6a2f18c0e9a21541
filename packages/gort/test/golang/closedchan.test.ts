// Port of go/test/closedchan.go
//
// Test close(c), receive of closed channel, through direct operations, one-case selects and
// two-case selects (closedchan.mjs holds the Go program). It runs on the main thread and,
// unchanged, inside a goroutine on a worker thread.
import { describe, it, expect } from 'vitest';
import { run, spawn, chan, fromModule, ClosedChannelError } from 'gort';

const closedchan = fromModule<typeof import('./closedchan.mjs')>(new URL('./closedchan.mjs', import.meta.url));

describe('go/test/closedchan.go', () => {
  it('on the main thread: no failures', async () => {
    const failed = await run(() => closedchan.main(), { procs: 2 });
    expect(failed).toEqual([]);
  });

  it('inside a goroutine: no failures', async () => {
    const failed = await run(() => spawn(closedchan.main), { procs: 2 });
    expect(failed).toEqual([]);
  });

  it('close of a closed channel panics with "close of closed channel"', async () => {
    await run(async () => {
      const ch = chan<number>();
      ch.close();
      expect(() => ch.close()).toThrow(ClosedChannelError);
      expect(() => ch.close()).toThrow('close of closed channel');
    });
  });
});
