/**
 * TypeScript modules as goroutine functions: how a `fromModule()` of a .ts file loads on
 * every thread (docs/architecture.md, "TypeScript modules").
 *
 * The Ms are worker threads, and a worker does not get everything that lets the main thread
 * import .ts. So start() decides once, on the main thread, how the Ms will load TypeScript
 * (a `TsLoader`, from the execArgv they get and what this process runs under), and each M
 * acts on it in `prepareM` before it runs a goroutine:
 * - tsx (`tsx main.ts`, `node --import tsx`, `--import tsx` in the execArgv option): the Ms
 *   get the same flags. Node 20 does not apply a worker's `--import` module hooks, so there
 *   each M registers tsx itself, found from the flag's path (`npx tsx` keeps tsx in a
 *   cache folder, not beside gort) or, for a bare `tsx`, from the working directory.
 * - vitest: its module runner is not Node's loader and the Ms cannot use it, so they
 *   register gort's hooks (ts-hooks.ts), which transform .ts with the esbuild that vitest's
 *   vite brings, found from the working directory. Without esbuild: as below.
 * - Node's own type stripping (22.18+ and 23.6+ by default; 22.6+ with
 *   --experimental-strip-types): the Ms inherit it.
 * - another --import/--loader flag: trusted to load .ts; the import decides.
 * - none: naming a function of a .ts module is refused at the call (fromModule() inside a
 *   runtime, go(), spawn()) with a TypeScriptLoaderError that says what to add.
 *
 * A module URL naming a file that does not exist is taken as its sibling of the other kind
 * when that one exists (tasks.js ↔ tasks.ts, .mjs ↔ .mts, .cjs ↔ .cts): one URL works under
 * a loader, where only the .ts exists, and in compiled output, where only the .js does.
 *
 * Per thread: `threadLoader` is the decision this thread checks against (main: set by
 * start(), cleared at shutdown; M: set by prepareM); null when no runtime is running here.
 * A direct call of a module function (`await tasks.f()`) imports on the calling thread: there
 * the thread's own means count, and under vitest the same hooks are registered for it.
 */
import { createRequire, register } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TypeScriptLoaderError } from '../errors.js';

/** How the threads of a runtime load TypeScript modules. Plain data: sent to each M. */
export type TsLoader =
  /** api: file URL of tsx's `tsx/esm/api`, which Node 20's Ms register themselves. */
  | { readonly kind: 'tsx'; readonly api: string | null }
  /** esbuild: path of the esbuild package's entry, for ts-hooks.ts. */
  | { readonly kind: 'esbuild'; readonly esbuild: string }
  | { readonly kind: 'native' }
  | { readonly kind: 'loader'; readonly flag: string }
  /** why: what this process runs under, for the error. */
  | { readonly kind: 'none'; readonly why: string };

const TS_EXT = /\.(?:[cm]?ts|tsx)$/;
const LOADER_FLAGS = new Set(['--import', '--loader', '--experimental-loader', '--require', '-r']);
const TSX = /(?:^|[/\\])tsx(?:$|[/\\])/;

let threadLoader: TsLoader | null = null;
let ownLoader: TsLoader | null = null;
let hooked = false;
let onM = false;
const NO_M = 'the worker threads that run goroutines cannot load it';

/** Whether a module URL names a TypeScript file. */
export function isTypeScriptUrl(url: string): boolean {
  const path = url.replace(/[?#].*$/, '');
  return TS_EXT.test(path);
}

/** The (flag, value) pairs of module-loading flags in a list of Node options. */
function loaderFlags(args: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    const flag = eq > 0 ? a.slice(0, eq) : a;
    if (!LOADER_FLAGS.has(flag)) continue;
    const value = eq > 0 ? a.slice(eq + 1) : args[++i];
    if (value !== undefined) out.push([flag, value]);
  }
  return out;
}

function nodeVersion(): [number, number] {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return [major, minor];
}

/** Whether Node strips types for threads started with these options. */
function stripsTypes(args: readonly string[], inherited: boolean): boolean {
  if (args.includes('--no-experimental-strip-types')) return false;
  if (args.includes('--experimental-strip-types') || args.includes('--experimental-transform-types')) return true;
  if (inherited) return Boolean((process.features as { typescript?: unknown }).typescript);
  const [major, minor] = nodeVersion();
  return major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
}

function readPackage(path: string): { name?: unknown; exports?: Record<string, unknown> } | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { name?: unknown; exports?: Record<string, unknown> };
  } catch {
    return null;
  }
}

/** The file an `exports` entry gives to `import`. */
function importTarget(e: unknown): string | null {
  if (typeof e === 'string') return e;
  if (typeof e !== 'object' || e === null) return null;
  for (const c of ['import', 'node', 'default']) {
    const t = importTarget((e as Record<string, unknown>)[c]);
    if (t !== null) return t;
  }
  return null;
}

/**
 * tsx's `tsx/esm/api` for a flag value naming tsx: the tsx package that holds the file the
 * value names, or for a bare name the one Node finds from the working directory.
 */
function tsxApi(value: string): string | null {
  let from: string;
  if (value.startsWith('file:')) from = fileURLToPath(value);
  else if (isAbsolute(value) || value.startsWith('.')) from = resolve(value);
  else from = join(process.cwd(), 'x');
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    for (const pj of [join(dir, 'package.json'), join(dir, 'node_modules', 'tsx', 'package.json')]) {
      const pkg = readPackage(pj);
      if (pkg?.name !== 'tsx') continue;
      const target = importTarget(pkg.exports?.['./esm/api']);
      if (target !== null) return pathToFileURL(join(dirname(pj), target)).href;
    }
    if (dirname(dir) === dir) return null;
  }
}

/** The esbuild that vitest's vite uses, as Node resolves it from the working directory. */
function vitestEsbuild(): string | null {
  const base = join(process.cwd(), 'x');
  for (const chain of [['vitest', 'vite', 'esbuild'], ['vite', 'esbuild'], ['esbuild']]) {
    try {
      let at = base;
      for (const name of chain) at = createRequire(at).resolve(name);
      return at;
    } catch {
      // not installed along this chain: try the next
    }
  }
  return null;
}

/**
 * How threads started with `execArgv` (undefined: inherited from this thread) will load
 * TypeScript. Main thread, at start().
 */
export function detectTsLoader(execArgv?: readonly string[]): TsLoader {
  const inherited = execArgv === undefined;
  const nodeOptions = inherited ? (process.env['NODE_OPTIONS'] ?? '').split(/\s+/).filter(Boolean) : [];
  const args = execArgv ?? [...process.execArgv, ...nodeOptions];
  const flags = loaderFlags(args);
  const tsx = flags.find(([, v]) => TSX.test(v));
  if (tsx !== undefined) return { kind: 'tsx', api: tsxApi(tsx[1]) };
  const vitest = inherited && process.env['VITEST'] !== undefined;
  if (vitest) {
    const esbuild = vitestEsbuild();
    if (esbuild !== null) return { kind: 'esbuild', esbuild };
  }
  if (stripsTypes(args, inherited)) return { kind: 'native' };
  const other = flags.find(([f]) => f !== '--require' && f !== '-r');
  if (other !== undefined) return { kind: 'loader', flag: `${other[0]} ${other[1]}` };
  const node = `Node ${process.version} strips no types by default`;
  const given = inherited ? 'this process runs with' : 'the execArgv option gives';
  const why = vitest
    ? `${node}, and vitest's esbuild was not found from ${process.cwd()}`
    : `${node}, and ${given} no TypeScript loader${args.length > 0 ? ` (${args.join(' ')})` : ''}`;
  return { kind: 'none', why };
}

/** This thread's runtime loads TypeScript this way (null: no runtime here any more). */
export function setThreadLoader(l: TsLoader | null): void {
  threadLoader = l;
}

/** Throw at the call if the runtime's threads cannot import this module. */
export function checkModuleUrl(url: string): void {
  if (threadLoader?.kind === 'none' && isTypeScriptUrl(url)) throw new TypeScriptLoaderError(url, `${NO_M}: ${threadLoader.why}`);
}

const siblings = new Map<string, string>();
const SIBLING: Readonly<Record<string, string>> = { '.ts': '.js', '.mts': '.mjs', '.cts': '.cjs', '.js': '.ts', '.mjs': '.mts', '.cjs': '.cts' };

/** The module URL to import for `href`: itself, or its existing sibling if it does not exist. */
export function moduleHref(href: string): string {
  if (!href.startsWith('file:') || /[?#]/.test(href)) return href;
  let out = siblings.get(href);
  if (out !== undefined) return out;
  out = href;
  const path = fileURLToPath(href);
  const ext = extname(path);
  const other = SIBLING[ext];
  if (other !== undefined && !existsSync(path)) {
    const alt = path.slice(0, -ext.length) + other;
    if (existsSync(alt)) out = pathToFileURL(alt).href;
  }
  siblings.set(href, out);
  return out;
}

function registerEsbuildHooks(esbuild: string): void {
  if (hooked) return;
  hooked = true;
  register(new URL('./ts-hooks.js', import.meta.url), { data: { esbuild } });
}

/** On an M, before its first goroutine: give this thread what the runtime decided. */
export async function prepareM(l: TsLoader): Promise<void> {
  threadLoader = l;
  ownLoader = l;
  onM = true;
  if (l.kind === 'esbuild') registerEsbuildHooks(l.esbuild);
  else if (l.kind === 'tsx' && l.api !== null && nodeVersion()[0] < 22) {
    const api = (await import(l.api).catch(() => null)) as { register?: () => unknown } | null;
    api?.register?.();
  }
}

/**
 * Import a goroutine module on this thread. A TypeScript module that Node cannot load
 * here rejects with a TypeScriptLoaderError (its cause: Node's error).
 */
export function importModule(url: string): Promise<Record<string, unknown>> {
  const ts = isTypeScriptUrl(url);
  if (ts && !hooked) {
    ownLoader ??= detectTsLoader();
    if (ownLoader.kind === 'esbuild') registerEsbuildHooks(ownLoader.esbuild);
  }
  return (import(url) as Promise<Record<string, unknown>>).catch((e: unknown) => {
    if (!ts || (e as { code?: unknown } | null)?.code !== 'ERR_UNKNOWN_FILE_EXTENSION') throw e;
    // On an M, the runtime's decision; on another thread (a direct call), its own means.
    const l = (ownLoader ??= detectTsLoader());
    const why = l.kind === 'none' ? l.why : `Node ${process.version} did not load it (${l.kind === 'loader' ? l.flag : l.kind})`;
    throw new TypeScriptLoaderError(url, `${onM ? NO_M : 'this thread cannot load it'}: ${why}`, e);
  });
}
