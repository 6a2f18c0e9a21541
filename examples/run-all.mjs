// Run every example once (CI): each must exit 0 within its time limit.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { natsServerPath } from '../scripts/nats-server.mjs';

const examples = [
  ['demo.mjs', { DEMO_LIMIT: '600000' }],
  ['nested.mjs', {}],
  ['parallel-fill.mjs', {}],
  ['sieve.mjs', {}],
  ['mandelbrot.mjs', {}], // writes mandelbrot.png in the temp directory
  ['pipeline.mjs', {}],
  ['timeout.mjs', {}],
  ['workerpool.mjs', {}],
  ['piscina.mjs', {}],
  ['worker-threads.mjs', {}],
  ['comlink.mjs', {}],
  ['fetchmany.mjs', {}],
  ['shutdown.mjs', { CI: '1' }],
  ['cluster/primes.mjs', {}], // starts its own nats-server
  ['debugging/leaky-service.mjs', {}],
];
/** Examples that need a program the machine may not have: the reason to skip them when it is missing. */
const needs = {
  'cluster/primes.mjs': natsServerPath() === null ? 'nats-server is not installed (Debian: apt-get install nats-server)' : null,
};
let failed = 0;
for (const [file, env] of examples) {
  if (needs[file]) {
    console.log(`skip ${file}: ${needs[file]}`);
    continue;
  }
  const path = fileURLToPath(new URL(file, import.meta.url));
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [path], { stdio: 'inherit', timeout: 120_000, env: { ...process.env, ...env } });
  const ok = r.status === 0;
  if (!ok) failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${file} (${Math.round(performance.now() - t0)} ms)${ok ? '' : ` status=${r.status} signal=${r.signal}`}`);
}
process.exit(failed === 0 ? 0 : 1);
