/**
 * Issue 16, finding 6: freed heap space is not reused after exhaustion.
 *
 * What it measures (procs 2, heapLimit 24 MiB): a buffered channel is filled with distinct
 * 64K-character strings until a send throws HeapExhaustedError (correct), then drained; then
 * 20 spawn()s of a goroutine given a 32K-character string, and a second fill of the channel.
 * Printed: how many sends fitted the first time, how many of the 20 spawns succeeded (and
 * the error of a failed one), and how many sends fitted the second time. Freed space must be
 * reusable: 20 of 20 spawns, and about as many sends the second time as the first. The child
 * process is killed after 60 s.
 *
 * Run (from the repository root, after `npx -y pnpm@10 build`):
 *   node benchmarks/repro/heap-reuse.mjs      (~2 s)
 *
 * Results (2 cores, Node 20; see README.md): on f62cb12, 93 sends, then after the drain 0 of
 * 20 spawns (HeapExhaustedError ... 65536 bytes; the same size class was reused: 93 sends
 * again); on main, 20 of 20 spawns, and 92 sends the second time.
 */
import { fileURLToPath } from 'node:url';
import { isChild, runChild, describeExit, lastLine } from './lib/child.mjs';

if (!isChild()) {
  const r = await runChild(fileURLToPath(import.meta.url), [], { limitS: 60 });
  const line = lastLine(r.out);
  console.log(line.startsWith('finding 6') ? line : `finding 6: ${describeExit(r)}`);
  process.exit(0);
}

const { run, chan, spawn } = await import('gort');
const r = await run(async () => {
  const c = chan(1000);
  const s = 'x'.repeat(65536);
  let first = 0;
  let firstErr = null;
  try { for (;;) { await c.send(s + first); first++; } } catch (e) { firstErr = e?.name; }
  for (let i = 0; i < first; i++) await c.recv();
  let ok = 0;
  let err = null;
  for (let i = 0; i < 20; i++) {
    try { await spawn((x) => x.length, 'y'.repeat(32760)); ok++; } catch (e) { err = `${e?.name}: ${String(e?.message).slice(0, 100)}`; }
  }
  let again = 0;
  try { for (;;) { await c.send(s + again); again++; } } catch {}
  return { first, firstErr, ok, err, again };
}, { procs: 2, heapLimit: 24 << 20 });
console.log(`finding 6: first fill ${r.first} sends of 64K chars, then ${r.firstErr}; after draining: ${r.ok} of 20 spawns succeeded${r.err ? ` (${r.err})` : ''}; second fill ${r.again} sends`);
process.exit(0);
