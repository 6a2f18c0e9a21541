// gort as a user gets it: pack packages/gort (its prepack builds it), install the tarball into a
// fresh project in a temporary folder, and use it there the ways users run JavaScript and
// TypeScript. Each check prints `ok` or `FAIL` with what went wrong; the run exits 1 if any
// failed.
//
//   node scripts/consumer-smoke.mjs [--node /path/to/another/node ...] [--keep]
//
// The runtime checks run on this Node and on each --node binary: plain ESM (inline and module
// goroutines, a channel), CommonJS require() of every entry point, tsx run from outside the
// project (as `npx tsx` runs it) and `node --import tsx` with tsx in the project, Node's own
// type stripping (where that Node has it), compiled output (tsc's .js), and vitest; each
// TypeScript check has an inline and a .ts-module goroutine. `tsc --strict` with
// `"types": []` (no @types/node) checks the published types once. The project's tools
// (typescript, tsx, vitest) are linked from this workspace's node_modules, not installed.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const nodes = [process.execPath];
for (let i = 0; i < args.length; i++) if (args[i] === '--node') nodes.push(args[++i]);
const keep = args.includes('--keep');

const dir = mkdtempSync(join(tmpdir(), 'gort-consumer-'));
let passed = 0;
let failed = 0;

/** Run a command in the project; {status, out} with stdout and stderr together. */
function sh(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: dir, encoding: 'utf8', timeout: 120_000, ...opts, env: { ...cleanEnv, ...opts.env } });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}` };
}
// The project's own environment: nothing of this workspace's test runner or CI shell.
const cleanEnv = { ...process.env };
for (const k of Object.keys(cleanEnv)) if (/^(VITEST|NODE_OPTIONS|npm_)/i.test(k)) delete cleanEnv[k];

/** One check: `fn` returns null when it passed, else what went wrong. */
function check(name, fn) {
  let problem;
  try {
    problem = fn();
  } catch (e) {
    problem = e instanceof Error ? e.stack : String(e);
  }
  if (problem == null) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}\n${String(problem).replace(/^/gm, '     ')}`);
  }
}

/** The last line of a run's output must be `expected` (JSON compared as text) and it must exit 0. */
function expectOutput(r, expected) {
  const last = r.out.trim().split('\n').at(-1);
  if (r.status === 0 && last === expected) return null;
  return `exit status ${r.status}; expected the last line to be ${expected}; output:\n${r.out}`;
}

function write(files) {
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
}

// --- the package and the project ---------------------------------------------------------
let tarball = null;
check('npm pack packages/gort: builds, and the tarball has README.md, LICENSE and dist', () => {
  const r = spawnSync('npm', ['pack', '--pack-destination', dir], { cwd: join(root, 'packages/gort'), encoding: 'utf8', env: cleanEnv });
  if (r.status !== 0) return `npm pack failed:\n${r.stdout}${r.stderr}`;
  tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  const list = sh('tar', ['tzf', tarball]).out.split('\n');
  const missing = ['package/README.md', 'package/LICENSE', 'package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/runtime/worker-entry.js'].filter(
    (f) => !list.includes(f),
  );
  return missing.length === 0 ? null : `missing from ${tarball}: ${missing.join(', ')}`;
});
if (tarball === null) finish();

write({
  'package.json': JSON.stringify({ name: 'gort-consumer', private: true, type: 'module' }, null, 2),
});
check('npm install of the tarball into an empty project', () => {
  const r = sh('npm', ['install', '--no-audit', '--no-fund', `./${tarball}`]);
  return r.status === 0 ? null : r.out;
});
mkdirSync(join(dir, 'node_modules'), { recursive: true });
for (const tool of ['typescript', 'tsx', 'vitest']) symlinkSync(realpathSync(join(root, 'node_modules', tool)), join(dir, 'node_modules', tool));
// tsx as `npx tsx` runs it: a copy outside the project, not beside gort.
const tsxCli = join(realpathSync(join(root, 'node_modules', 'tsx')), 'dist', 'cli.mjs');

write({
  // Module goroutines in JavaScript.
  'tasks.mjs': `export function square(n) { return n * n; }\nexport async function sum(c) { let s = 0; for await (const v of c) s += v; return s; }\n`,
  // Plain ESM: an inline goroutine, module goroutines, a channel between goroutines.
  'main.mjs': `import { run, spawn, go, chan, fromModule } from 'gort';
const tasks = fromModule(new URL('./tasks.mjs', import.meta.url));
const out = await run(async () => {
  const inline = await spawn((a, b) => a * b, 6, 7);
  const squares = await Promise.all([1, 2, 3].map((n) => spawn(tasks.square, n)));
  const c = chan(4);
  go(async (c) => { for (let i = 1; i <= 10; i++) await c.send(i); c.close(); }, c);
  const sum = await spawn(tasks.sum, c);
  return { inline, squares, sum };
});
console.log(JSON.stringify(out));
`,
  // CommonJS: require() of every entry point.
  'main.cjs': `const { run, spawn, go, chan, fromModule } = require('gort');
const { WaitGroup } = require('gort/sync');
const { background, withCancel } = require('gort/context');
const { Group } = require('gort/errgroup');
const { stats } = require('gort/debug');
const tasks = fromModule(require('node:path').join(__dirname, 'tasks.mjs'));
run(async () => {
  const wg = new WaitGroup();
  const c = chan(10);
  for (let i = 1; i <= 3; i++) wg.go((c, i) => c.send(i * 10), c, i);
  await wg.wait();
  c.close();
  let got = 0;
  for await (const v of c) got += v;
  const [ctx, cancel] = withCancel(background());
  cancel();
  const g = new Group();
  g.go(tasks.square, 9);
  await g.wait();
  return { got, canceled: ctx.err() !== null, square: await spawn(tasks.square, 5), procs: stats().procs > 0, go: typeof go };
}).then((out) => console.log(JSON.stringify(out)));
`,
  // TypeScript: a module of goroutine functions, and a main with an inline goroutine and a
  // .ts-module goroutine. The URL names the .ts file; compiled, it runs the .js beside main.js.
  'tasks.ts': `export interface Point { x: number; y: number }
export function norm(p: Point): number { return Math.hypot(p.x, p.y); }
`,
  'main.ts': `import { run, spawn, fromModule } from 'gort';
const tasks = fromModule<typeof import('./tasks.js')>(new URL('./tasks.ts', import.meta.url));
interface Job { id: number; weight: number }
const out = await run(async () => ({
  inline: await spawn((j: Job): number => j.id * j.weight, { id: 6, weight: 7 }),
  module: await spawn(tasks.norm, { x: 3, y: 4 }),
}));
console.log(JSON.stringify(out));
`,
  // vitest: the same two forms from a test file.
  'gort.test.ts': `import { test, expect } from 'vitest';
import { run, spawn, fromModule } from 'gort';
const tasks = fromModule<typeof import('./tasks.js')>(new URL('./tasks.ts', import.meta.url));
test('an inline goroutine', async () => {
  expect(await run(() => spawn((a: number, b: number): number => a * b, 6, 7))).toBe(42);
});
test('a goroutine from a .ts module', async () => {
  expect(await run(() => spawn(tasks.norm, { x: 3, y: 4 }))).toBe(5);
});
`,
  // The public API, every entry point, for tsc.
  'api.ts': `import { run, start, spawn, go, chan, select, recv, send, after, fromModule, WaitGroup, Mutex, GoroutinePanic, TypeScriptLoaderError, type Chan, type RuntimeOptions } from 'gort';
import { Once, Semaphore } from 'gort/sync';
import { background, withCancel, withTimeout, type Context } from 'gort/context';
import { Group, withContext } from 'gort/errgroup';
import { dump, stats, collect } from 'gort/debug';
const opts: RuntimeOptions = { procs: 2, resourceLimits: { maxOldGenerationSizeMb: 256 }, execArgv: [] };
const tasks = fromModule<typeof import('./tasks.js')>(new URL('./tasks.ts', import.meta.url));
export async function main(): Promise<number> {
  const rt = await start(opts);
  await rt.shutdown();
  return run(async () => {
    const c: Chan<number> = chan<number>(1);
    go((c: Chan<number>) => c.send(1), c);
    const v = await select([recv(c), send(chan<number>(1), 2), recv(after(10))]);
    const m = new Mutex();
    await m.lock();
    m.unlock();
    m[Symbol.dispose]();
    const wg = new WaitGroup();
    wg.go(() => {});
    await wg.wait();
    const ctx: Context = withTimeout(background(), 100)[0];
    const [cctx, cancel] = withCancel(ctx);
    cancel();
    const [g, gctx] = withContext(cctx);
    g.go(async () => gctx.err());
    await g.wait().catch(() => undefined);
    new Group().setLimit(1);
    await new Once().do(() => {});
    await new Semaphore(2).acquire(1);
    const n: number = await spawn(tasks.norm, { x: 3, y: 4 });
    collect();
    console.log(dump().length, stats().procs, v, GoroutinePanic.name, TypeScriptLoaderError.name);
    return n;
  }, opts);
}
`,
  'tsconfig.json': JSON.stringify(
    {
      compilerOptions: {
        strict: true,
        types: [],
        module: 'nodenext',
        target: 'es2022',
        skipLibCheck: false,
        outDir: 'out',
        rootDir: '.',
      },
      files: ['main.ts', 'tasks.ts', 'api.ts'],
    },
    null,
    2,
  ),
});

// --- published types ----------------------------------------------------------------------
check('tsc --strict with "types": [] (no @types/node) over the public API, every entry point, and the build', () => {
  const r = sh(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json']);
  return r.status === 0 ? null : r.out;
});

// --- the gort-trace command ------------------------------------------------------------------
check('GORT_TRACE writes a trace, and the installed gort-trace bin turns it into an HTML page', () => {
  const rec = sh(process.execPath, ['main.mjs'], { env: { GORT_TRACE: join(dir, 'trace.json') } });
  if (rec.status !== 0) return `GORT_TRACE run: exit ${rec.status}\n${rec.out}`;
  const r = sh(join(dir, 'node_modules', '.bin', 'gort-trace'), ['trace.json', '-o', 'trace.html']);
  if (r.status !== 0) return `gort-trace: exit ${r.status}\n${r.out}`;
  const html = readFileSync(join(dir, 'trace.html'), 'utf8');
  return html.includes('<canvas') && html.includes('"threads"') ? null : 'trace.html is not the timeline page';
});

// --- runtime checks, on each Node -----------------------------------------------------------
const esm = JSON.stringify({ inline: 42, squares: [1, 4, 9], sum: 55 });
const cjs = JSON.stringify({ got: 60, canceled: true, square: 25, procs: true, go: 'function' });
const ts = JSON.stringify({ inline: 42, module: 5 });
for (const node of nodes) {
  const version = sh(node, ['--version']).out.trim();
  const on = `(Node ${version})`;
  const [major, minor] = version.slice(1).split('.').map(Number);
  check(`plain ESM: inline and module goroutines, a channel ${on}`, () => expectOutput(sh(node, ['main.mjs']), esm));
  check(`CommonJS require() of gort, gort/sync, gort/context, gort/errgroup, gort/debug ${on}`, () => expectOutput(sh(node, ['main.cjs']), cjs));
  check(`tsx run from outside the project, none in it (as npx tsx): inline and .ts module goroutines ${on}`, () => {
    renameSync(join(dir, 'node_modules', 'tsx'), join(dir, 'tsx-aside'));
    try {
      return expectOutput(sh(node, [tsxCli, 'main.ts']), ts);
    } finally {
      renameSync(join(dir, 'tsx-aside'), join(dir, 'node_modules', 'tsx'));
    }
  });
  check(`node --import tsx, tsx in the project: inline and .ts module goroutines ${on}`, () => expectOutput(sh(node, ['--import', 'tsx', 'main.ts']), ts));
  if (major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18)) {
    check(`Node's own type stripping (node main.ts): inline and .ts module goroutines ${on}`, () => expectOutput(sh(node, ['main.ts']), ts));
  }
  check(`compiled output (tsc's out/main.js, whose URL names tasks.ts) ${on}`, () => expectOutput(sh(node, ['out/main.js']), ts));
  check(`plain Node and no TypeScript loader: a .ts module goroutine throws TypeScriptLoaderError saying what to add ${on}`, () => {
    const flags = major > 22 || (major === 22 && minor >= 6) ? ['--no-experimental-strip-types'] : [];
    write({ 'no-loader.mjs': `import { run, spawn, fromModule } from 'gort';\nconst t = fromModule(new URL('./tasks.ts', import.meta.url));\nawait run(() => spawn(t.norm, { x: 3, y: 4 })).then(() => console.log('ran'), (e) => console.log(e.name, e.message));\n` });
    const r = sh(node, [...flags, 'no-loader.mjs']);
    return r.out.startsWith('TypeScriptLoaderError') && r.out.includes("run(main, { execArgv: ['--import', 'tsx'] })") ? null : r.out;
  });
  check(`vitest: inline and .ts module goroutines in a test file ${on}`, () => {
    const r = sh(node, ['node_modules/vitest/vitest.mjs', 'run', '--root', '.', 'gort.test.ts']);
    return r.status === 0 && /Tests\s+2 passed/.test(r.out.replace(/\x1b\[[0-9;]*m/g, '')) ? null : r.out;
  });
}
finish();

function finish() {
  if (!keep) rmSync(dir, { recursive: true, force: true });
  else console.log(`project kept in ${dir}`);
  console.log(`consumer: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}
