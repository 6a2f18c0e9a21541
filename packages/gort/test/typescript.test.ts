// Goroutine functions from TypeScript modules (shipping/typescript.ts): the Ms load them as the
// main thread does (vitest, tsx), a runtime that cannot is refused at the call with what to
// add, and a module URL whose file is missing runs its compiled or TypeScript sibling. tsx
// from the command line, Node's own type stripping and an installed package are checked by
// scripts/consumer-smoke.mjs.
import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { realpathSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
import { join } from 'node:path';
import { run, spawn, fromModule, TypeScriptLoaderError } from 'gort';

const fixtures = new URL('./fixtures/', import.meta.url);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const tasksTs = new URL('tasks-ts.ts', fixtures);

/** Run fixtures/ts-plain.mjs on plain Node: no vitest in its environment, no type stripping. */
function plain(execArgv?: string[]): Record<string, unknown> {
  const flags = (process.features as { typescript?: unknown }).typescript ? ['--no-experimental-strip-types'] : [];
  const env = { ...process.env };
  delete env['VITEST'];
  delete env['NODE_OPTIONS'];
  const args = [...flags, fileURLToPath(new URL('ts-plain.mjs', fixtures)), ...(execArgv ? [JSON.stringify(execArgv)] : [])];
  const r = spawnSync(process.execPath, args, { cwd: root, env, timeout: 30_000, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('TypeScript module goroutines', () => {
  it('under vitest: a .ts module function runs on the Ms, and directly on this thread', async () => {
    const tasks = fromModule<typeof import('./fixtures/tasks-ts.ts')>(tasksTs);
    const [onM, mainId] = await run(async () => [await spawn(tasks.norm, { x: 3, y: 4 }), await tasks.where()]);
    expect(onM).toBe(5);
    expect(mainId).toBe(threadId); // the direct call ran here
    const ids = await run(() => Promise.all([spawn(tasks.where), spawn(tasks.where)]), { procs: 2 });
    for (const id of ids) expect(id).toBeGreaterThan(0);
  });

  it('plain Node with no TypeScript loader: fromModule() in a runtime, go() and spawn() throw TypeScriptLoaderError saying what to add, and so does a direct call', () => {
    const out = plain();
    for (const call of ['fromModule', 'go', 'spawn']) {
      const e = out[call] as { name: string; message: string };
      expect(e.name, call).toBe('TypeScriptLoaderError');
      expect(e.message).toContain(`${tasksTs.href} is a TypeScript module`);
      expect(e.message).toContain("run(main, { execArgv: ['--import', 'tsx'] })");
      expect(e.message).toContain('the worker threads that run goroutines cannot load it');
      expect(e.message).toContain('no TypeScript loader');
    }
    const direct = out['direct'] as { name: string; message: string };
    expect(direct.name).toBe('TypeScriptLoaderError');
    expect(direct.message).toContain('this thread cannot load it');
    expect(new TypeScriptLoaderError('file:///x.ts', 'why')).toBeInstanceOf(TypeError);
  });

  it("the fix the error gives, execArgv: ['--import', 'tsx'], works on this Node (Node 20 applies no --import hooks in workers)", () => {
    const out = plain(['--import', 'tsx']);
    expect(out).toMatchObject({ fromModule: 'made', go: 'queued', spawn: 5 });
    expect((out['direct'] as { name: string }).name).toBe('TypeScriptLoaderError'); // main itself has no tsx
  });

  it('a module URL whose file does not exist runs its sibling: .mts names the .mjs, .js names the .ts', async () => {
    const compiled = fromModule<typeof import('./fixtures/tasks.mjs')>(new URL('tasks.mts', fixtures));
    const source = fromModule<typeof import('./fixtures/tasks-ts.ts')>(new URL('tasks-ts.js', fixtures));
    const out = await run(async () => [await spawn(compiled.where) > 0, await spawn(source.norm, { x: 6, y: 8 })]);
    expect(out).toEqual([true, 10]);
  });
});

describe('how the Ms will load TypeScript (detectTsLoader)', async () => {
  const { detectTsLoader } = await import('../dist/shipping/typescript.js');
  const tsxDir = realpathSync(join(root, 'node_modules', 'tsx')); // where tsx really is, outside gort

  it('tsx named by path or URL, anywhere: its own esm api, found beside that file', () => {
    const loader = pathToFileURL(join(tsxDir, 'dist', 'loader.mjs')).href;
    for (const args of [['--import', loader], [`--import=${fileURLToPath(loader)}`], ['--require', fileURLToPath(loader)]]) {
      const l = detectTsLoader(args);
      expect(l.kind, args.join(' ')).toBe('tsx');
      expect(l.kind === 'tsx' && l.api).toMatch(/\/tsx\/dist\/esm\/api\/index\.mjs$/);
    }
    expect(tsxDir).not.toContain('/packages/gort/');
  });

  it('a bare tsx is found from the working directory, as Node finds it', () => {
    const l = detectTsLoader(['--import', 'tsx']);
    expect(l.kind === 'tsx' && l.api).toMatch(/\/tsx\/dist\/esm\/api\/index\.mjs$/);
  });

  it("Node's type stripping, another loader, and none", () => {
    expect(detectTsLoader(['--experimental-strip-types']).kind).toBe('native');
    expect(detectTsLoader(['--no-experimental-strip-types', '--import', './my-hooks.mjs']).kind).toBe('loader');
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    const byDefault = major > 23 || (major === 23 && minor >= 6) || (major === 22 && minor >= 18);
    expect(detectTsLoader([]).kind).toBe(byDefault ? 'native' : 'none');
    const none = detectTsLoader(['--no-experimental-strip-types', '--require', './env.cjs']);
    expect(none.kind).toBe('none');
    expect(none.kind === 'none' && none.why).toContain('the execArgv option gives no TypeScript loader (--no-experimental-strip-types --require ./env.cjs)');
  });

  it("under vitest, with flags inherited: vitest's esbuild", () => {
    const l = detectTsLoader();
    expect(l.kind).toBe('esbuild');
    expect(l.kind === 'esbuild' && l.esbuild).toMatch(/\/esbuild\/lib\/main\.js$/);
  });
});
