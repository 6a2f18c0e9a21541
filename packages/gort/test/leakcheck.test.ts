// The leak checker (gort/leakcheck) on a real runtime (procs 2), with stacks on and off: the
// three leaks of Go's lesson (fixtures/leaks.mjs), each reported in its leaky version (the
// function, the wait, and with stacks on the file:line where it parked and where it was
// created) and passing in its fixed one; a goroutine that ends soon after the call is not a
// leak (the retries); ignoreCurrent, ignoreTopFunction and ignoreAnyFunction; misuse. Then
// the vitest helper (gort/leakcheck/vitest) in one child vitest run over fixture files that
// leak and that do not, under run() per test and under a start()ed runtime shared by a file.
import { describe, test, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run, start, go, spawn, chan, sleep, fromModule, RuntimeStateError, type Runtime } from 'gort';
import { verifyNone, ignoreCurrent, ignoreTopFunction, ignoreAnyFunction, GoroutineLeakError, LeakFilter, type LeakOption } from 'gort/leakcheck';
import * as leaks from './fixtures/leaks.mjs';

const fixtureUrl = new URL('./fixtures/leaks.mjs', import.meta.url);
const fixture = readFileSync(fixtureUrl, 'utf8').split('\n');
/** The 1-based line of the fixture that contains `text` (once). */
function lineOf(text: string): number {
  const at = fixture.findIndex((l) => l.includes(text));
  if (at < 0 || fixture.findIndex((l, i) => i > at && l.includes(text)) >= 0) throw new Error(`not once in leaks.mjs: ${text}`);
  return at + 1;
}
const lx = fromModule<typeof leaks>(fixtureUrl);

/** What verifyNone rejects with (fails the test if it resolves). */
async function leakOf(...options: LeakOption[]): Promise<GoroutineLeakError> {
  const e: unknown = await verifyNone(...options).then(
    () => null,
    (x: unknown) => x,
  );
  expect(e, 'verifyNone() resolved, expected a GoroutineLeakError').toBeInstanceOf(GoroutineLeakError);
  return e as GoroutineLeakError;
}

/** The checks every leaky case makes of the one goroutine reported. */
function expectReport(e: GoroutineLeakError, stacks: boolean, fn: string, reason: string, parkedLine: number, createdLine: number): void {
  expect(e.name).toBe('GoroutineLeakError');
  expect(e.goroutines).toHaveLength(1);
  const g = e.goroutines[0]!;
  expect(g.function).toBe(`${fn} (leaks.mjs)`);
  expect(g.state).toBe('waiting');
  expect(g.waitReason).toBe(reason);
  expect(e.message.startsWith('gort: found unexpected goroutines:\n')).toBe(true);
  expect(e.message).toMatch(new RegExp(`^goroutine ${g.id} \\[${reason}, \\d+ ms\\]:\n${fn} \\(leaks\\.mjs\\)\\(\\.\\.\\.\\)$`, 'm'));
  expect(e.message).toMatch(/^created by goroutine 1 on M[12]$/m);
  if (stacks) {
    expect(g.parkedAt?.[0]).toMatch(new RegExp(`^${fn} \\(file://.*/fixtures/leaks\\.mjs:${parkedLine}:\\d+\\)$`));
    expect(e.message).toContain(`\tat ${g.parkedAt![0]}`);
    // (under vitest, frames of the modules it loads name the file by its path)
    expect(g.createdAt?.[0]).toMatch(new RegExp(`\\((file://)?/.*/fixtures/leaks\\.mjs:${createdLine}:\\d+\\)$`));
    expect(e.message).toContain(`\tat ${g.createdAt![0]}`);
    expect(e.message).not.toContain('stacks are off');
  } else {
    expect(g.parkedAt).toBeUndefined();
    expect(g.createdAt).toBeUndefined();
    expect(e.message).toContain('stacks are off: start({ stacks: true }) or GORT_DEBUG=stacks=1');
  }
}

describe.each([true, false])('stacks %s', (stacks) => {
  let rt: Runtime;
  beforeAll(async () => {
    rt = await start({ procs: 2, stacks });
  });
  afterAll(async () => {
    await rt.shutdown();
  });

  test('a sender blocked on a channel nobody reads is reported; a buffer of one lets it finish', async () => {
    const before = ignoreCurrent();
    expect(await leaks.squareWithTimeout(3, 0)).toBe('timeout');
    const e = await leakOf(before, { timeoutMs: 300 });
    expectReport(e, stacks, 'slowSquare', 'chan send', lineOf('await out.send('), lineOf('go(self.slowSquare'));

    const fixed = ignoreCurrent();
    expect(await leaks.squareWithTimeout(3, 1)).toBe('timeout');
    await verifyNone(fixed);
  });

  test('a for await over a channel never closed is reported; closing it fixes it', async () => {
    const before = ignoreCurrent();
    await leaks.feed(false);
    const e = await leakOf(before, { timeoutMs: 300 });
    expectReport(e, stacks, 'sumAll', 'chan receive', lineOf('for await (const v of values)'), lineOf('go(self.sumAll'));

    const fixed = ignoreCurrent();
    await leaks.feed(true);
    await verifyNone(fixed);
  });

  test('a goroutine waiting on a context never canceled is reported; canceling it fixes it', async () => {
    const before = ignoreCurrent();
    const cancel = leaks.watch(false);
    const e = await leakOf(before, { timeoutMs: 300 });
    expectReport(e, stacks, 'watchUntilDone', 'chan receive', lineOf('await ctx.done().recv()'), lineOf('go(self.watchUntilDone'));
    cancel(); // the late fix: the watcher ends
    await verifyNone(before);

    leaks.watch(true);
    await verifyNone(before);
  });

  test('a goroutine that ends a few ms after the call is not a leak: the check is retried', async () => {
    const before = ignoreCurrent();
    go(async function finishing() {
      await sleep(20);
    });
    await verifyNone(before);
    // Without retries, the same goroutine is reported (it has 1 s to go).
    go(async function finishing() {
      await sleep(1000);
    });
    const e = await leakOf(before, { maxRetries: 0 });
    expect(e.goroutines.map((g) => g.function)).toEqual(['finishing']);
  });

  test('ignoreCurrent() leaves out what was live at its call, and only that', async () => {
    const before = ignoreCurrent();
    const hang = chan<number>();
    go(async function waitsForever(c) {
      await c.recv();
    }, hang);
    await sleep(5);
    const now = ignoreCurrent();
    await verifyNone(now);
    go(async function waitsToo(c) {
      await c.recv();
    }, hang);
    const e = await leakOf(now, { timeoutMs: 200 });
    expect(e.goroutines.map((g) => g.function)).toEqual(['waitsToo']);
    hang.close();
    await verifyNone(before);
  });

  test('ignoreTopFunction() and ignoreAnyFunction() by the goroutine function, and with stacks on by the frames it parked in', async () => {
    const before = ignoreCurrent();
    await leaks.feed(false); // sumAll (leaks.mjs), parked in sumAll
    await verifyNone(before, ignoreTopFunction('sumAll'));
    await verifyNone(before, ignoreTopFunction('sumAll (leaks.mjs)'));
    await verifyNone(before, ignoreAnyFunction('sumAll'));
    await leakOf(before, ignoreTopFunction('sum'), { timeoutMs: 100 });

    const more = ignoreCurrent();
    const work = chan<number>();
    go(async function poller(work) {
      async function waitForWork(): Promise<number | undefined> {
        return work.recv();
      }
      while ((await waitForWork()) !== undefined);
    }, work);
    await verifyNone(more, ignoreTopFunction('poller'));
    await verifyNone(more, ignoreAnyFunction('poller'));
    if (stacks) {
      await verifyNone(more, ignoreTopFunction('waitForWork'));
      await verifyNone(more, ignoreAnyFunction('waitForWork'));
    } else {
      // Stacks off: only the goroutine's function is known.
      expect((await leakOf(more, ignoreTopFunction('waitForWork'), { timeoutMs: 100 })).goroutines.map((g) => g.function)).toEqual(['poller']);
    }
    work.close(); // the poller ends
    await verifyNone(before, ignoreTopFunction('sumAll'));
  });

});

test('verifyNone() in a goroutine leaves the caller out', async () => {
  await run(() => spawn(lx.verifyFromGoroutine), { procs: 2 });
});

describe('misuse', () => {
  test('without a runtime: RuntimeStateError at the call', () => {
    expect(() => verifyNone()).toThrow(RuntimeStateError);
    expect(() => verifyNone()).toThrow(/gort: verifyNone\(\) (needs a running runtime|was called after the runtime ended)/);
    expect(() => ignoreCurrent()).toThrow(RuntimeStateError);
  });

  test('wrong option values: TypeError (RangeError for numbers out of range) at the call', async () => {
    expect(() => ignoreTopFunction(3 as unknown as string)).toThrow(TypeError);
    expect(() => ignoreTopFunction('')).toThrow(/gort: ignoreTopFunction\(\) needs a function name/);
    expect(() => ignoreAnyFunction(undefined as unknown as string)).toThrow(TypeError);
    expect(() => new (LeakFilter as unknown as new () => LeakFilter)()).toThrow(/gort: a LeakFilter is made by ignoreTopFunction\(\)/);
    const rt = await start({ procs: 2 });
    try {
      for (const bad of ['sumAll', null, 5, () => {}, new Map(), { maxRetry: 3 }, { maxRetries: '3' }, { timeoutMs: NaN }, [['x']]]) {
        expect(() => verifyNone(bad as LeakOption), `verifyNone(${String(bad)})`).toThrow(TypeError);
      }
      expect(() => verifyNone({ maxRetries: 'x' } as unknown as LeakOption)).toThrow(/gort: verifyNone\(\)'s maxRetries must be a number/);
      expect(() => verifyNone({ maxRetry: 3 } as unknown as LeakOption)).toThrow(/has no setting "maxRetry"/);
      for (const bad of [{ maxRetries: -1 }, { maxRetries: 1.5 }, { timeoutMs: -5 }, { maxSleepMs: Infinity }]) {
        expect(() => verifyNone(bad), JSON.stringify(bad)).toThrow(RangeError);
      }
      await verifyNone([[ignoreCurrent()], { maxRetries: 1 }]); // nested arrays are options too
    } finally {
      await rt.shutdown();
    }
  });
});

describe('the vitest helper (gort/leakcheck/vitest), in a child vitest run', () => {
  test('fails the tests that leak, with the report, under run() per test and under a shared start(); passes the fixed ones', () => {
    const dir = fileURLToPath(new URL('./fixtures/leakcheck/', import.meta.url));
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const out = mkdtempSync(join(tmpdir(), 'gort-leakcheck-'));
    const report = join(out, 'report.json');
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^VITEST/.test(k)) delete env[k];
    try {
      const r = spawnSync(
        process.execPath,
        [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', join(dir, 'vitest.config.ts'), '--reporter=json', `--outputFile=${report}`],
        { cwd: dir, encoding: 'utf8', env, timeout: 120_000 },
      );
      expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(1);
      const json = JSON.parse(readFileSync(report, 'utf8')) as {
        testResults: Array<{ name: string; assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>;
      };
      const results = new Map<string, { status: string; message: string }>();
      for (const f of json.testResults) {
        for (const a of f.assertionResults) results.set(`${f.name.slice(f.name.lastIndexOf('/') + 1)} > ${a.title}`, { status: a.status, message: a.failureMessages.join('\n') });
      }
      expect([...results.keys()].sort()).toEqual([
        'run-per-test.spec.ts > fixed: a for await over a channel that is closed',
        'run-per-test.spec.ts > leaks: a for await over a channel never closed',
        'shared-start.spec.ts > fixed: a context canceled, after a test that leaked',
        'shared-start.spec.ts > leaks: a context never canceled',
      ]);
      for (const [name, { status, message }] of results) {
        const leaky = name.includes('> leaks: ');
        expect(status, `${name}: ${message}`).toBe(leaky ? 'failed' : 'passed');
        if (!leaky) continue;
        expect(message).toContain('GoroutineLeakError: gort: found unexpected goroutines:');
        const fn = name.includes('for await') ? 'sumAll' : 'watchUntilDone';
        expect(message).toMatch(new RegExp(`goroutine \\d+ \\[chan receive, \\d+ ms\\]:\\n${fn} \\(leaks\\.mjs\\)`));
        expect(message).toMatch(new RegExp(`at ${fn} \\(file://.*/fixtures/leaks\\.mjs:\\d+:\\d+\\)`)); // the fixtures turn stacks on
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
