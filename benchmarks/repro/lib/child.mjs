/**
 * Helpers shared by the repro scripts (benchmarks/repro/*.mjs).
 *
 * An old build can hang a repro for good — a goroutine that never wakes, or a thread spinning
 * in a synchronous call so that no timer of the process can fire — and a repro must still print
 * its figure and exit 0. So the measured program always runs in a child process that a
 * supervisor kills at a time limit:
 *
 *   runChild(script, args, { limitS })  runs `node script ...args` with GORT_REPRO_CHILD=1,
 *                                       stdout/stderr captured; resolves to
 *                                       { out, err, code, signal, killed, ms }.
 *   isChild()                           true inside such a child.
 *   lastLine(out)                       the child's last non-empty stdout line.
 *   describeExit(r)                     'HANG (killed after N s)', 'crashed: signal SIGTRAP
 *                                       (# Fatal ...)' or 'exit code N' for a run that did not
 *                                       print its result line; with the child's last progress()
 *                                       line, if any ("last step: ...").
 *   progress(msg)                       in a child: notes a step on stderr (synchronously, so
 *                                       that it is there even if the thread then spins).
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';

export const isChild = () => process.env.GORT_REPRO_CHILD === '1';

export function progress(msg) {
  writeSync(2, `progress: ${msg}\n`);
}

export function runChild(script, args, { limitS = 30, env = {} } = {}) {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const cp = spawn(process.execPath, [script, ...args.map(String)], {
      env: { ...process.env, ...env, GORT_REPRO_CHILD: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    let killed = false;
    cp.stdout.on('data', (d) => (out += d));
    cp.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      killed = true;
      cp.kill('SIGKILL');
    }, limitS * 1000);
    cp.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ out, err, code, signal, killed, limitS, ms: performance.now() - t0 });
    });
  });
}

export function lastLine(out) {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  return lines.length ? lines[lines.length - 1] : '';
}

export function describeExit(r) {
  const steps = r.err.split('\n').filter((l) => l.startsWith('progress: '));
  const last = steps.length ? `; last step: ${steps[steps.length - 1].slice(10)}` : '';
  if (r.killed) return `HANG (no result within ${r.limitS} s; killed)${last}`;
  const fatal = r.err.split('\n').find((l) => !l.startsWith('progress: ') && /Fatal|Error|error/.test(l));
  const why = fatal ? ` (${fatal.trim().slice(0, 120)})` : '';
  if (r.signal) return `crashed: signal ${r.signal}${why}${last}`;
  return `exit code ${r.code}${why}${last}`;
}
