// A throwaway nats-server with JetStream on a free loopback port, for tests and examples.
//
//   import { startNatsServer } from '../scripts/nats-server.mjs';
//   const srv = await startNatsServer();   // { url, monitor, dir, pid, stop() }
//
// `monitor` is the server's HTTP monitoring URL (e.g. `${srv.monitor}/subsz?subs=1` lists
// the subscriptions).
//
// Run directly (`node scripts/nats-server.mjs`), it prints the URL and runs until Ctrl-C.
// Needs Debian's `nats-server` (2.9+) on PATH or at /usr/sbin/nats-server; without it,
// startNatsServer() rejects with an error that says so (`natsServerPath()` is null).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The path of the executable `cmd` on PATH or in the sbin folders, or null. */
export function toolPath(cmd) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const d of dirs) if (d && existsSync(join(d, cmd))) return join(d, cmd);
  return null;
}

/** The nats-server executable, or null when none is installed. */
export function natsServerPath() {
  return toolPath('nats-server');
}

/** A TCP port free on 127.0.0.1 now (the kernel's pick; a server started soon after gets it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Start `bin args` and wait (up to 20 s) until its output contains `readyText`. Resolves with
 * its `pid` and `stop()`, which ends it with SIGTERM, waits for its exit and removes `dir`
 * (if given); rejects with the output so far if it exits or stays silent. Also used by
 * redis-server.mjs.
 */
export async function startServerProcess(name, bin, args, readyText, dir) {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${name} did not start within 20 s:\n${log}`)), 20_000);
    const onData = (b) => {
      log += b;
      if (log.includes(readyText)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`${name} exited with ${code}:\n${log}`));
    });
  });
  child.stdout.removeAllListeners('data');
  child.stderr.removeAllListeners('data');
  child.stdout.resume();
  child.stderr.resume();
  return {
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startNatsServer() {
  const bin = natsServerPath();
  if (bin === null) throw new Error('nats-server is not installed (Debian: apt-get install nats-server)');
  const dir = mkdtempSync(join(tmpdir(), 'gort-nats-'));
  const port = await freePort();
  const mport = await freePort();
  const args = ['-js', '-sd', dir, '-a', '127.0.0.1', '-p', String(port), '-m', String(mport)];
  const { pid, stop } = await startServerProcess('nats-server', bin, args, 'Server is ready', dir);
  return { url: `nats://127.0.0.1:${port}`, monitor: `http://127.0.0.1:${mport}`, dir, pid, stop };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const srv = await startNatsServer();
  console.log(srv.url);
  const stop = () => void srv.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
