/**
 * mem/parked, broken down: what one parked goroutine holds on its M, by the way it parked and,
 * with --objects, by V8 object. A measuring tool for docs/architecture.md ("Memory"), not
 * part of benchmarks/run.mjs; it reports and never asserts.
 *
 *   node benchmarks/mem/parked-breakdown.mjs [variant ...] [--n N] [--objects]
 *
 * Variants (benchmarks/lib/parkwork.mjs), each an async module goroutine:
 *   bare        awaits a promise that never settles, no arguments: an async goroutine's floor
 *   recv        `await ch.recv()` on a channel made by main, passed as its argument (mem/parked)
 *   recv-noarg  the same channel read from module state: no argument to decode
 *   recv-local  a channel made on the M, so still thread-local (chan/local.ts)
 *   range       `for await (const v of ch)` on a channel made by main
 *   mutex       `await mu.lock()` on a Mutex held by the goroutine that started it
 *   select      `await select([recv(a), recv(b)])` on two channels made by main
 *   sleep       `await sleep(600_000)`
 *
 * Each variant runs in a child process (node --expose-gc) with procs 1, so that all of its
 * parked goroutines' V8 objects are in one isolate. A goroutine there parks and releases
 * 1,000 goroutines of the variant (the code gets compiled), collects twice, reads the M's
 * V8 heap in use (v8.getHeapStatistics().used_heap_size), the process RSS and
 * stats().memory.heapInUse (the shared heap), parks N more (default 50,000), waits until all
 * have parked, collects twice and reads again. Figures are the deltas divided by N: live
 * objects only, so the V8 figure is below mem/parked's, which counts the spawning loop's
 * garbage too; RSS also counts the free space in the pages V8 grew by, and is noisier.
 *
 * --objects writes a heap snapshot of the M at both points (N defaults to 10,000 then; no
 * RSS figure, which the snapshot itself swamps), counts every node by type, name and self
 * size, and prints the difference per goroutine
 * (rows of at least 2 bytes): `closure` rows are JS functions (arrows, a promise's resolve
 * function, an await's two reactions; `native_bind` a bound function), `system / Context`
 * the variables closures share, `Generator` a suspended async function, and an unnamed
 * `array` its saved registers and arguments.
 *
 * GORT_DIST=<dir> measures another build's packages/gort/dist (both this script and the M
 * import it); by default the checkout's own `gort`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { envLine } from '../lib/common.mjs';

const ALL = ['bare', 'recv', 'recv-noarg', 'recv-local', 'range', 'mutex', 'select', 'sleep'];
const WARM = 1000;

/** Per-goroutine difference of two heap snapshots, by (type, name, self size), largest first. */
function snapshotDiff(beforeFile, afterFile, n) {
  const count = (file) => {
    const j = JSON.parse(readFileSync(file, 'utf8'));
    const f = j.snapshot.meta.node_fields;
    const types = j.snapshot.meta.node_types[0];
    const [iT, iN, iS] = ['type', 'name', 'self_size'].map((k) => f.indexOf(k));
    const by = new Map();
    for (let i = 0; i < j.nodes.length; i += f.length) {
      const type = types[j.nodes[i + iT]];
      const named = type !== 'string' && type !== 'concatenated string' && type !== 'sliced string' && type !== 'number';
      const key = `${type} | ${named ? j.strings[j.nodes[i + iN]].slice(0, 40) : ''} | ${j.nodes[i + iS]}`;
      const e = by.get(key) ?? { count: 0, bytes: 0 };
      e.count++;
      e.bytes += j.nodes[i + iS];
      by.set(key, e);
    }
    return by;
  };
  const a = count(beforeFile);
  const b = count(afterFile);
  const rows = [];
  for (const [key, e] of b) {
    const o = a.get(key) ?? { count: 0, bytes: 0 };
    const bytes = (e.bytes - o.bytes) / n;
    if (Math.abs(bytes) >= 2) rows.push({ key, count: (e.count - o.count) / n, bytes });
  }
  return rows.sort((x, y) => y.bytes - x.bytes);
}

async function main() {
  const argv = process.argv.slice(2);
  const objects = argv.includes('--objects');
  const nAt = argv.indexOf('--n');
  const n = nAt >= 0 ? Number(argv[nAt + 1]) : objects ? 10_000 : 50_000;
  const variants = argv.filter((a, i) => !a.startsWith('--') && argv[i - 1] !== '--n');
  for (const v of variants) if (!ALL.includes(v)) throw new Error(`no variant '${v}' (${ALL.join(', ')})`);
  console.log(`${envLine()}; ${n.toLocaleString('en-US')} parked goroutines per variant, procs 1; bytes per parked goroutine`);
  console.log(`${'variant'.padEnd(12)} ${'V8 heap'.padStart(8)} ${'shared'.padStart(7)} ${'RSS'.padStart(7)}`);
  for (const v of variants.length > 0 ? variants : ALL) {
    const out = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', v, String(n), objects ? '1' : '0'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    const line = out.stdout.split('\n').find((l) => l.startsWith('{'));
    if (out.status !== 0 || line === undefined) {
      const why = out.stderr.split('\n').filter((l) => /Error/.test(l)).slice(0, 2).join(' | ');
      console.log(`${v.padEnd(12)} failed (${out.error?.message ?? `exit ${out.status}`}): ${why}`);
      continue;
    }
    const r = JSON.parse(line);
    const per = (k) => ((r.after[k] - r.before[k]) / n).toFixed(0).padStart(k === 'v8' ? 8 : 7);
    // A heap snapshot grows the process by far more than what it measures: no RSS then.
    console.log(`${v.padEnd(12)} ${per('v8')} ${per('shared')} ${objects ? '–'.padStart(7) : per('rss')}`);
    if (r.objects) {
      for (const o of r.objects) console.log(`${' '.repeat(14)}${o.bytes.toFixed(1).padStart(7)} B  ${o.count.toFixed(2).padStart(5)}×  ${o.key}`);
      console.log(`${' '.repeat(14)}${r.objects.reduce((s, o) => s + o.bytes, 0).toFixed(1).padStart(7)} B  in these rows`);
    }
  }
}

if (process.argv[2] === '--child') {
  // In the child: run one variant, print its figures as one JSON line.
  const [variant, nArg, objArg] = process.argv.slice(3);
  const n = Number(nArg);
  const dist = process.env.GORT_DIST;
  const { start, chan, spawn, fromModule } = await import(dist ? pathToFileURL(`${dist}/index.js`).href : 'gort');
  const w = fromModule(new URL('../lib/parkwork.mjs', import.meta.url));
  const snap = objArg === '1' ? join(tmpdir(), `gort-parked-${process.pid}`) : '';
  const rt = await start({ procs: 1 });
  let r;
  try {
    const chans = [chan(), chan(), chan(), chan()];
    r = await Promise.race([rt.failure, spawn(w.probe, variant, n, WARM, snap, chans)]);
  } finally {
    await rt.shutdown();
  }
  if (snap) {
    r.objects = snapshotDiff(`${snap}-before.heapsnapshot`, `${snap}-after.heapsnapshot`, n);
    rmSync(`${snap}-before.heapsnapshot`);
    rmSync(`${snap}-after.heapsnapshot`);
  }
  console.log(JSON.stringify(r));
} else {
  await main();
}
