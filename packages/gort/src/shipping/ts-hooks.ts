/**
 * Module hooks that let a thread import TypeScript through esbuild: registered by
 * shipping/typescript.ts (module.register) on the Ms of a runtime started under vitest, and
 * on a thread that calls a module function directly there. They run on Node's hooks thread
 * and import nothing of gort.
 *
 * - load: a file: URL ending in .ts, .mts or .tsx is read and transformed by esbuild (types
 *   erased, an ES module out, with an inline source map), as vitest transforms a test file.
 *   Anything else goes to the next hook unchanged.
 * - resolve: TypeScript's convention that `./x.js` in a TypeScript file names `./x.ts`
 *   before it is compiled: when a relative .js/.mjs specifier of a TypeScript parent is not
 *   found, its .ts/.mts sibling is tried.
 *
 * The hook signatures are declared here rather than taken from Node's type declarations, so
 * that gort's published types need none.
 */
import { createRequire } from 'node:module';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface Esbuild {
  transform(src: string, opts: Record<string, unknown>): Promise<{ code: string }>;
}
interface ResolveContext {
  parentURL?: string;
}
interface Resolved {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
interface Loaded {
  format: string;
  source?: string | ArrayBuffer | Uint8Array | null;
  shortCircuit?: boolean;
}

let esbuild: Esbuild | null = null;

export function initialize(data: { esbuild: string }): void {
  esbuild = createRequire(import.meta.url)(data.esbuild) as Esbuild;
}

const TS_FILE = /\.(?:m?ts|tsx)$/;
const TS_PARENT = /\.(?:[cm]?ts|tsx)(?:[?#]|$)/;

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: (specifier: string, context: ResolveContext) => Promise<Resolved>,
): Promise<Resolved> {
  try {
    return await next(specifier, context);
  } catch (e) {
    const js = /^\.{1,2}\/.*\.(m?)js$/.exec(specifier);
    if (js === null || !TS_PARENT.test(context.parentURL ?? '') || (e as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    try {
      return await next(`${specifier.slice(0, -(js[1]!.length + 2))}${js[1]}ts`, context);
    } catch {
      throw e; // report the specifier as written
    }
  }
}

export async function load(url: string, context: object, next: (url: string, context: object) => Promise<Loaded>): Promise<Loaded> {
  if (!url.startsWith('file:')) return next(url, context);
  const path = fileURLToPath(url);
  if (!TS_FILE.test(path) || esbuild === null) return next(url, context);
  const source = await readFile(path, 'utf8');
  const out = await esbuild.transform(source, {
    loader: path.endsWith('.tsx') ? 'tsx' : 'ts',
    format: 'esm',
    sourcemap: 'inline',
    sourcefile: path,
    target: `node${process.versions.node.split('.')[0]}`,
  });
  return { format: 'module', source: out.code, shortCircuit: true };
}
