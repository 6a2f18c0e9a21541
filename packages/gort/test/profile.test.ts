/**
 * The goroutine profile (src/debug/profile.ts) and goroutine stacks (src/runtime/stacks.ts),
 * on a real runtime with two Ms: Go's debug=2 and debug=1 text, and the pprof protobuf read
 * back by the real `go tool pprof` (Debian's golang-go; .ci/run installs it). With stacks on,
 * a goroutine shows the file and line of the await that parked it and of the go() that made
 * it; with stacks off, its function alone and how to turn them on.
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, go, chan, sleep, background, withCancel, type Chan, type Context } from 'gort';
import { goroutineProfile, goroutineRecords } from 'gort/debug';

const here = new URL(import.meta.url).pathname.split('/').pop()!;

/** Three senders blocked on a channel nobody reads and one goroutine waiting on a context never cancelled; then `body`. */
async function withLeaks<T>(stacks: boolean, body: () => Promise<T>): Promise<T> {
  return run(
    async () => {
      const ch = chan<number>();
      const [ctx, cancel] = withCancel(background());
      for (let i = 0; i < 3; i++) {
        go(async function blockedSender(ch: Chan<number>, v: number) {
          await ch.send(v);
        }, ch, i);
      }
      go(async function waitsForCancel(ctx: Context) {
        await ctx.done().recv();
      }, ctx);
      await sleep(30);
      const out = await body();
      cancel();
      for (let i = 0; i < 3; i++) await ch.recv();
      return out;
    },
    { procs: 2, stacks },
  );
}

function goTool(args: string[], profile: Uint8Array): string {
  const dir = mkdtempSync(join(tmpdir(), 'gort-pprof-'));
  const file = join(dir, 'goroutine.pb.gz');
  writeFileSync(file, profile);
  return execFileSync('go', ['tool', 'pprof', ...args, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir } });
}

describe('goroutine profile', () => {
  it('debug=2 with stacks: each goroutine with its wait reason, where it parked and where it was created', async () => {
    const text = await withLeaks(true, () => goroutineProfile({ debug: 2 }));
    const blocks = text.trim().split('\n\n');
    expect(blocks[0]).toMatch(/^goroutine 1 \[/);
    const senders = blocks.filter((b) => b.includes('blockedSender(...)'));
    expect(senders).toHaveLength(3);
    for (const b of senders) {
      expect(b).toMatch(/^goroutine \d+ \[chan send, \d+ ms\]:\nblockedSender\(\.\.\.\)\n/);
      // Parked at the `await ch.send(v)` line of this file, created at the go() call of this file.
      const [parked, created] = b.split(/\ncreated by goroutine 1 on M[12]\n/);
      expect(parked).toMatch(new RegExp(`\\tat (async )?blockedSender \\(.*${here}:\\d+:\\d+\\)`));
      expect(created).toMatch(new RegExp(`\\tat .*${here}:\\d+:\\d+`));
    }
    const waiter = blocks.find((b) => b.includes('waitsForCancel(...)'))!;
    expect(waiter).toMatch(/\[chan receive, \d+ ms\]/);
    expect(waiter).toMatch(new RegExp(`waitsForCancel \\(.*${here}:\\d+:\\d+\\)`));
    expect(text).not.toContain('stacks are off');
    expect(text).not.toMatch(/gort\/dist|node:internal/); // the runtime's own frames are left out
  }, 30_000);

  it('debug=2 with stacks off: functions and states, and how to turn stacks on', async () => {
    const text = await withLeaks(false, () => goroutineProfile({ debug: 2 }));
    expect(text.match(/blockedSender\(\.\.\.\)/g)).toHaveLength(3);
    expect(text).toContain('stacks are off');
    expect(text).not.toContain(here);
  }, 30_000);

  it('debug=1 groups goroutines by stack, most common first', async () => {
    const text = await withLeaks(true, () => goroutineProfile({ debug: 1 }));
    const lines = text.split('\n');
    expect(lines[0]).toBe('goroutine profile: total 5');
    expect(lines[1]).toBe('3 @ blockedSender [chan send]');
    expect(lines[2]).toMatch(new RegExp(`^#\\tblockedSender \\(.*${here}:\\d+:\\d+\\)$`));
    expect(text).toMatch(/\n1 @ waitsForCancel \[chan receive\]\n#\twaitsForCancel \(/);
  }, 30_000);

  it('debug=0 is a pprof profile that go tool pprof reads: -top, -traces, -tagfocus on the wait reason', async () => {
    const pb = await withLeaks(true, () => goroutineProfile());
    expect(pb[0]).toBe(0x1f); // gzip
    expect(pb[1]).toBe(0x8b);
    const top = goTool(['-top'], pb);
    expect(top).toContain('Type: goroutine');
    expect(top).toMatch(/of 5 total/);
    expect(top).toMatch(/^\s+3\s+60(\.00)?%.*blockedSender$/m);
    const traces = goTool(['-traces'], pb);
    expect(traces).toMatch(/reason:\s+chan send\n\s+3\s+blockedSender\n/);
    expect(goTool(['-top', '-lines'], pb)).toMatch(new RegExp(`blockedSender .*${here}:\\d+`));
    const focused = goTool(['-top', '-tagfocus=reason=chan receive'], pb);
    expect(focused).toMatch(/^\s+1\s+.*waitsForCancel$/m);
    expect(focused).not.toMatch(/blockedSender$/m);
  }, 60_000);

  it('debug=0 with stacks off is still a valid profile, one frame per goroutine function', async () => {
    const pb = await withLeaks(false, () => goroutineProfile({ debug: 0 }));
    const top = goTool(['-top'], pb);
    expect(top).toMatch(/^\s+3\s+.*blockedSender$/m);
    expect(top).toMatch(/^\s+1\s+.*waitsForCancel$/m);
  }, 60_000);

  it('a goroutine holding its M does not hang the profile: that M is named as missing', async () => {
    const got = await run(
      async () => {
        const started = chan<number>(1);
        go(async function hog(started: Chan<number>) {
          await started.send(1);
          const end = Date.now() + 2500;
          while (Date.now() < end); // holds its M, never returns to its event loop meanwhile
        }, started);
        await started.recv();
        return goroutineRecords();
      },
      { procs: 2, stacks: true },
    );
    expect(got.stacks).toBe(true);
    expect(got.missing.length).toBe(1);
    expect(got.goroutines.some((g) => g.function === 'hog')).toBe(true);
  }, 30_000);

  it('with stacks on, a deadlock report shows where each goroutine parked, main included', () => {
    // In a child process: the deadlock check holds off while vitest's timers are pending here.
    const fixture = new URL('./fixtures/deadlock-stacks.mjs', import.meta.url);
    const out = JSON.parse(execFileSync(process.execPath, [fixture.pathname], { encoding: 'utf8', timeout: 20_000 })) as { ok: boolean; name: string; message: string };
    expect(out).toMatchObject({ ok: false, name: 'DeadlockError' });
    const f = 'deadlock-stacks.mjs';
    expect(out.message).toMatch(new RegExp(String.raw`^all goroutines are asleep - deadlock!\n\ngoroutine 1 \[chan receive\]:\nmain\(\.\.\.\)\n\tat .*${f}:\d+:\d+`));
    expect(out.message).toMatch(new RegExp(String.raw`goroutine \d+ \[chan receive, \d+ ms\]:\nstuckReceiver\(\.\.\.\)\n\tat (async )?stuckReceiver \(.*${f}:\d+:\d+\)\ncreated by goroutine 1 on M[12]\n\tat .*${f}:\d+:\d+`));
  }, 30_000);

  it('bad options are a TypeError or RangeError at the call', async () => {
    await run(async () => {
      await expect(goroutineProfile({ debug: 3 as 0 })).rejects.toThrow(RangeError);
      await expect(goroutineProfile(null as never)).rejects.toThrow(TypeError);
    }, { procs: 1 });
  });
});
