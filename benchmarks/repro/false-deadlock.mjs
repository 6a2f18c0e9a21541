/**
 * Issue 16, finding 2: a correct program killed as deadlocked.
 *
 * What it measures: small programs (procs 2) whose main awaits a channel that a goroutine fills
 * later from a callback on its M — a timer, a fetch(), a callback registered before the
 * goroutine parks, a Promise.race between a channel and a fetch, a timer or interval local to
 * the goroutine — and, as controls, true deadlocks (a second recv nobody will ever answer; only
 * an unref()ed timer pending). For each: what run() gave (value or error name) and when, against
 * what it should give. A correct program must never get DeadlockError; a true deadlock must
 * (and the controls that first receive a value, only after it came).
 *
 * The fetch cases call a local HTTP server that answers after 1.5 s. It runs in its own process,
 * started by this script, so that it is no active handle of the program under test (a handle
 * on main's event loop would hide the bug); each case runs in its own child process, killed
 * after 15 s. No network access beyond 127.0.0.1.
 *
 * Run (from the repository root, after `npx -y pnpm@10 build`):
 *   node benchmarks/repro/false-deadlock.mjs            every case (~15 s)
 *   node benchmarks/repro/false-deadlock.mjs timer race one or more cases
 *
 * Results (2 cores, Node 20; see README.md): on f62cb12 every correct program was killed with
 * DeadlockError after 0.3-0.4 s (timer, fetch, callback, race, local, interval), and the two
 * controls that first receive a value were killed before it came; on main the six return their
 * value after 0.9-1.7 s, and the three true deadlocks get DeadlockError (after the first value).
 */
import { spawn as spawnProcess } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { isChild, runChild, describeExit, lastLine } from './lib/child.mjs';

const self = fileURLToPath(import.meta.url);
const CASES = {
  // name: [what it does, expected outcome]
  timer: ['go: setTimeout(() => c.send(1), 1500); main: c.recv()', 'ok 1'],
  fetch: ['go: fetch(url).then(text).then((t) => c.send(t)); main: c.recv()', 'ok "body"'],
  callback: ['go: setTimeout(() => c.send(..), 1500), then parks on d.recv(); main: c.recv()', 'ok "cb"'],
  race: ['go: Promise.race([quit.recv(), fetch(url)]) then out.send; main: out.recv()', 'ok "body"'],
  local: ['go: setTimeout(() => d.send(5), 800) on a local chan, then out.send(await d.recv())', 'ok 5'],
  interval: ['go: setInterval 5 × 200 ms, then a local chan, then out.send', 'ok 5'],
  after: ['control: timer case, then a second c.recv() nobody answers', 'DeadlockError'],
  fetchafter: ['control: fetch case, then a second c.recv() nobody answers', 'DeadlockError'],
  unref: ['control: only an unref()ed 60 s timer pending; main: c.recv()', 'DeadlockError'],
};

// The controls that first receive a value: their DeadlockError is right only after that value.
const FIRST_VALUE = new Set(['after', 'fetchafter']);

if (process.argv[2] === '--server') {
  const s = http.createServer((req, res) => setTimeout(() => res.end('body'), 1500));
  s.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${s.address().port}/`));
} else if (!isChild()) {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(CASES);
  for (const n of names) if (!CASES[n]) { console.log(`unknown case ${n}; cases: ${Object.keys(CASES).join(' ')}`); process.exit(0); }
  const server = spawnProcess(process.execPath, [self, '--server'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const stop = () => { try { server.kill(); } catch {} };
  process.on('exit', stop);
  const url = await new Promise((resolve) => {
    let buf = '';
    server.stdout.on('data', (d) => { buf += d; if (buf.includes('\n')) resolve(buf.trim()); });
  });
  server.stdout.destroy();
  server.unref();
  console.log('finding 2: case        expected        got                          verdict');
  for (const n of names) {
    const r = await runChild(self, [n, url], { limitS: 15 });
    let got;
    let early = false;
    try {
      const j = JSON.parse(lastLine(r.out));
      early = FIRST_VALUE.has(n) && !j.ok && j.first == null;
      got = j.ok ? `ok ${JSON.stringify(j.result)} after ${(j.ms / 1000).toFixed(1)} s` : `${j.name} after ${(j.ms / 1000).toFixed(1)} s`;
    } catch {
      got = describeExit(r);
    }
    const expected = CASES[n][1];
    const verdict = early ? 'WRONG (killed before its first value came)' : got.startsWith(expected + ' ') ? 'right' : expected === 'DeadlockError' ? 'WRONG (missed deadlock)' : 'WRONG (false deadlock)';
    console.log(`           ${n.padEnd(11)} ${expected.padEnd(15)} ${got.padEnd(28)} ${verdict}`);
  }
  stop();
  process.exit(0);
} else {
  const { run, go, chan } = await import('gort');
  const [mode, url] = process.argv.slice(2);
  let first = null; // the controls: when main got the first value
  const progs = {
    timer: async () => { const c = chan(); go((c) => { setTimeout(() => c.send(1), 1500); }, c); return c.recv(); },
    fetch: async () => { const c = chan(); go((c, url) => { fetch(url).then((r) => r.text()).then((t) => c.send(t)); }, c, url); return c.recv(); },
    callback: async () => { const c = chan(); const d = chan(); go(async (c, d) => { setTimeout(() => c.send('cb'), 1500); await d.recv(); }, c, d); return c.recv(); },
    race: async () => { const quit = chan(); const out = chan(); go(async (quit, out, url) => { const v = await Promise.race([quit.recv(), fetch(url).then((r) => r.text())]); await out.send(v); }, quit, out, url); return out.recv(); },
    local: async () => { const out = chan(); go(async (out) => { const d = chan(); setTimeout(() => d.send(5), 800); await out.send(await d.recv()); }, out); return out.recv(); },
    interval: async () => { const out = chan(); go(async (out) => { const d = chan(); let n = 0; const iv = setInterval(() => { if (++n === 5) { clearInterval(iv); d.send(n); } }, 200); await out.send(await d.recv()); }, out); return out.recv(); },
    after: async () => { const c = chan(); go((c) => { setTimeout(() => c.send(1), 500); }, c); await c.recv(); first = performance.now() - t0; return c.recv(); },
    fetchafter: async () => { const c = chan(); go((c, url) => { fetch(url).then((r) => r.text()).then((t) => c.send(t)); }, c, url); await c.recv(); first = performance.now() - t0; return c.recv(); },
    unref: async () => { const c = chan(); go(() => { setTimeout(() => {}, 60_000).unref(); }); return c.recv(); },
  };
  const t0 = performance.now();
  try {
    console.log(JSON.stringify({ ok: true, result: await run(progs[mode], { procs: 2 }), ms: performance.now() - t0 }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, name: e?.name, ms: performance.now() - t0, first }));
  }
  process.exit(0);
}
