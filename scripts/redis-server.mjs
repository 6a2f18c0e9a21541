// A throwaway redis-server on a free loopback port, with no persistence (no RDB snapshots, no
// append-only file), for the benchmarks that compare gort-nats with BullMQ.
//
//   import { startRedisServer } from '../scripts/redis-server.mjs';
//   const redis = await startRedisServer();   // { host, port, url, pid, stop() }
//
// Run directly (`node scripts/redis-server.mjs`), it prints the URL and runs until Ctrl-C.
// Needs Debian's `redis-server` on PATH; without it, startRedisServer() rejects with an error
// that says so (`redisServerPath()` is null).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startServerProcess, toolPath } from './nats-server.mjs';

/** The redis-server executable, or null when none is installed. */
export function redisServerPath() {
  return toolPath('redis-server');
}

export async function startRedisServer() {
  const bin = redisServerPath();
  if (bin === null) throw new Error('redis-server is not installed (Debian: apt-get install redis-server)');
  const dir = mkdtempSync(join(tmpdir(), 'gort-redis-')); // its working folder: nothing is written there
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'];
  const { pid, stop } = await startServerProcess('redis-server', bin, args, 'Ready to accept connections', dir);
  return { host: '127.0.0.1', port, url: `redis://127.0.0.1:${port}`, pid, stop };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const srv = await startRedisServer();
  console.log(srv.url);
  const stop = () => void srv.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
