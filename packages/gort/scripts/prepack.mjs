// Runs before `npm pack` / `pnpm pack` / publish, in packages/gort: builds dist/ from a clean
// slate (no file of a removed source ships), and copies the repository's README.md and LICENSE
// beside package.json, where the packer takes them. The copies are not kept in git.
import { copyFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const pkg = new URL('../', import.meta.url);
rmSync(new URL('dist/', pkg), { recursive: true, force: true });
const tsc = createRequire(pkg).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: pkg, stdio: 'inherit' });
for (const f of ['README.md', 'LICENSE']) copyFileSync(new URL(`../../${f}`, pkg), new URL(f, pkg));
