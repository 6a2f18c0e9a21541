#!/usr/bin/env node
// The programs the test suite uses as real tools, not mocks: Go (`go tool pprof` reads the
// goroutine profiles), Prometheus's `promtool` (parses /metrics), Chromium (opens the trace
// timeline headless), `nats-server` (gort-nats's tests, examples/cluster and the net/*
// benchmarks) and `redis-server` (BullMQ's side of the net/* benchmarks). `pnpm test` runs
// this first. When one is missing and apt-get can be used (root, or sudo without a
// password), it installs the Debian packages; otherwise it says what to install and fails:
// the tests never skip.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const TOOLS = [
  ['go', 'golang-go'],
  ['promtool', 'prometheus'],
  ['chromium', 'chromium'],
  ['nats-server', 'nats-server'],
  ['redis-server', 'redis-server'],
];
const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
const found = (cmd) => dirs.some((d) => d !== '' && existsSync(join(d, cmd)));
const missing = TOOLS.filter(([cmd]) => !found(cmd));
if (missing.length === 0) process.exit(0);

const pkgs = missing.map(([, pkg]) => pkg);
const run = (argv) => spawnSync(argv[0], argv.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }).status === 0;
const root = typeof process.getuid === 'function' && process.getuid() === 0;
const sudo = !root && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
if (found('apt-get') && (root || sudo)) {
  const pre = root ? [] : ['sudo', '-n', '--preserve-env=DEBIAN_FRONTEND'];
  console.log(`test-tools: installing ${pkgs.join(' ')} (apt-get) for the tests`);
  if (run([...pre, 'apt-get', 'update', '-qq']) && run([...pre, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...pkgs])) {
    const still = TOOLS.filter(([cmd]) => !found(cmd));
    if (still.length === 0) process.exit(0);
  }
}
console.error(
  `test-tools: the tests use ${missing.map(([cmd]) => cmd).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not installed. ` +
    `On Debian or Ubuntu: sudo apt-get install ${pkgs.join(' ')}; elsewhere, install ${missing.length === 1 ? 'it' : 'them'} from your package manager.`,
);
process.exit(1);
