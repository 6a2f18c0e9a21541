/**
 * Issue 16, findings 3 and 4: a wrong object corrupts data; bad arguments spin forever or give
 * raw errors.
 *
 * What it measures: one honest mistake per case — a runtime object of the wrong kind
 * (withCancel(channel), recv(ctx, fn), recv(waitGroup, fn)), a value of the wrong type
 * (withCancel({}), withTimeout(1000), withTimeout(bg, '100'), NaN/null/undefined timeouts,
 * select defaults and hand-made cases), out-of-range WaitGroup counts, uncloneable values, a
 * cancel() after run() returned — and prints what each did: its value ("ok: ..."), the error
 * it threw (name: message), or HANG. Wanted: a TypeError/RangeError prefixed "gort:" naming the
 * call, what it expected and what it got, or a correct result; never a hang, a raw message, a
 * wrong value or a corrupted channel.
 *
 * Each case runs in its own child process, killed after 8 s: on an old build some cases spin
 * on the main thread forever, where no timer can fire. A case that does not settle within
 * 1 s without spinning reports TIMEOUT.
 *
 * Run (from the repository root, after `npx -y pnpm@10 build`):
 *   node benchmarks/repro/misuse.mjs                  every case (~8 s; ~40 s on f62cb12)
 *   node benchmarks/repro/misuse.mjs 'wg.add(2**32)'  one case (its name as printed)
 *
 * Results (2 cores, Node 20; see README.md): on f62cb12, 4 cases hung spinning (withCancel({}),
 * withTimeout({}, 100), select([recv({}, fn)]), withTimeout(1000)), the channel given to
 * withCancel() returned null for the values sent on it, recv(ctx, fn) failed with a
 * RuntimeFatalError, recv(waitGroup, fn) fired at once, a hand-made case was silently ignored,
 * select([recv(c)]) lost the value, and the others gave raw or wrong results; on main every
 * case throws a "gort:" TypeError/RangeError naming what it got, or does the right thing.
 */
import { fileURLToPath } from 'node:url';
import { isChild, runChild, describeExit } from './lib/child.mjs';

const self = fileURLToPath(import.meta.url);
// Cases run in their own processes; a group shares one (the second case reads the first's channel).
const GROUPS = [
  ['withCancel(channel)', 'values after'],
  ['select([recv(ctx, fn)])'],
  ['select([recv(wg, fn)])'],
  ['withCancel({})'],
  ['withTimeout({},100)'],
  ['select([recv({}, fn)])'],
  ['hand-made case'],
  ["withTimeout(bg,'100')"],
  ['select default not fn'],
  ['withTimeout(bg, NaN)'],
  ['withTimeout(bg, null)'],
  ['withTimeout(bg, undefined)'],
  ['wg.add(2**31)'],
  ['wg.add(2**32)'],
  ['wg.add(2**31-1)+1'],
  ['select([recv(c)]) no fn'],
  ['WeakMap'],
  ['Promise'],
  ['withTimeout(1000)'],
  ['cancel after run'],
];

if (!isChild()) {
  const wanted = process.argv.slice(2);
  const groups = wanted.length ? GROUPS.filter((g) => g.some((n) => wanted.includes(n))) : GROUPS;
  if (!groups.length) {
    console.log(`no such case; cases: ${GROUPS.flat().join(', ')}`);
    process.exit(0);
  }
  console.log('findings 3, 4: case                what it did');
  for (const g of groups) {
    const r = await runChild(self, g, { limitS: 8 });
    const lines = r.out.split('\n').filter((l) => l.startsWith('case\t'));
    for (const name of g) {
      const line = lines.find((l) => l.split('\t')[1] === name);
      const what = line ? line.split('\t')[2] : describeExit(r);
      console.log(`               ${name.padEnd(26)} ${what}`);
    }
  }
  process.exit(0);
}

const { run, chan, select, recv, WaitGroup } = await import('gort');
const { background, withCancel, withTimeout } = await import('gort/context');
const only = new Set(process.argv.slice(2));
const report = (name, what) => console.log(`case\t${name}\t${what.replace(/[\t\n]/g, ' ')}`);

async function tryIt(name, f) {
  if (!only.has(name)) return;
  try {
    const v = await Promise.race([
      Promise.resolve().then(f),
      new Promise((_, rej) => setTimeout(() => rej(new Error('TIMEOUT (did not settle within 1 s)')), 1000).unref()),
    ]);
    report(name, `ok: ${JSON.stringify(v)}`);
  } catch (e) {
    report(name, `${e?.name}: ${String(e?.message).split('\n')[0].slice(0, 140)}`);
  }
}

let leaked;
await run(async () => {
  const bg = background();
  const c = chan(4);
  await tryIt('withCancel(channel)', () => { withCancel(c); });
  if (only.has('values after')) {
    await c.send(7);
    await c.send('x');
  }
  await tryIt('values after', async () => [await c.recv(), await c.recv()]);
  const [ctx] = withCancel(bg);
  await tryIt('select([recv(ctx, fn)])', () => select([recv(ctx, () => 1)], { default: () => 0 }));
  const wg = new WaitGroup();
  wg.add(1);
  await tryIt('select([recv(wg, fn)])', () => select([recv(wg, () => 'fired')], { default: () => 'default' }));
  await tryIt('withCancel({})', () => { withCancel({}); });
  await tryIt('withTimeout({},100)', () => { withTimeout({}, 100); });
  await tryIt('select([recv({}, fn)])', () => select([recv({}, () => 1)], { default: () => 0 }));
  await tryIt('hand-made case', () => select([{ dir: 'recv', ch: c, fn: () => 1 }], { default: () => 0 }));
  await tryIt("withTimeout(bg,'100')", () => { withTimeout(bg, '100'); });
  await tryIt('select default not fn', () => select([recv(c, () => 1)], { default: 5 }));
  for (const x of [NaN, null, undefined]) await tryIt(`withTimeout(bg, ${x})`, () => withTimeout(bg, x)[0].err()?.message ?? null);
  await tryIt('wg.add(2**31)', () => { const w = new WaitGroup(); w.add(2 ** 31); });
  await tryIt('wg.add(2**32)', () => { const w = new WaitGroup(); w.add(2 ** 32); return 'no-op'; });
  await tryIt('wg.add(2**31-1)+1', () => { const w = new WaitGroup(); w.add(2 ** 31 - 1); w.add(1); });
  if (only.has('select([recv(c)]) no fn')) await c.send(42);
  await tryIt('select([recv(c)]) no fn', async () => {
    let first;
    try {
      first = `select returned ${JSON.stringify(await select([recv(c)]))}`;
    } catch (e) {
      // It threw: the value sent (42) must still be in the channel.
      const left = await select([recv(c, (v) => v)], { default: () => undefined });
      first = `threw ${e?.name}: ${e?.message}; the value 42 ${left === 42 ? 'is still in the channel' : 'was lost'}`;
    }
    return first;
  });
  await tryIt('WeakMap', () => c.send(new WeakMap()));
  await tryIt('Promise', () => c.send(Promise.resolve(1)));
  const [, lcancel] = withCancel(bg);
  leaked = lcancel;
  await tryIt('withTimeout(1000)', () => { withTimeout(1000); });
});
if (only.has('cancel after run')) {
  try {
    leaked();
    report('cancel after run', 'ok (no-op)');
  } catch (e) {
    report('cancel after run', `${e.name}: ${e.message}`);
  }
}
process.exit(0);
