/**
 * What the examples tell a person running them (examples/*.mjs, each a real process): the
 * shutdown example says to press Ctrl-C before it waits for it, and stops cleanly on SIGINT;
 * the demo counts the goroutines it prints ("96 + the one that started them") and says what
 * other processes used during each run.
 */
import { describe, it, expect } from 'vitest';
import { spawn as spawnProcess, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const example = (name: string): string => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));

describe('examples', () => {
  it('shutdown.mjs says to press Ctrl-C, then stops cleanly on it', async () => {
    const env = { ...process.env };
    delete env.CI;
    const child = spawnProcess(process.execPath, [example('shutdown.mjs')], { env });
    let out = '';
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no prompt within 20 s; output: ${out}`)), 20_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/press Ctrl-C/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    child.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(out).toMatch(/press Ctrl-C to shut it down/);
    expect(out).toMatch(/pipeline stopped cleanly after \d+ events \(context canceled\)/);
  }, 30_000);

  it('demo.mjs counts the goroutines it prints and says what other processes used', () => {
    const out = execFileSync(process.execPath, [example('demo.mjs')], { env: { ...process.env, DEMO_LIMIT: '200000' }, encoding: 'utf8' });
    expect(out).toMatch(/one goroutine starts 96 more, one per chunk/);
    const rows = [...out.matchAll(/goroutines run per M \[([\d, ]+)\] \(96 \+ the one that started them\)/g)];
    expect(rows.length).toBe(2);
    for (const r of rows) expect(r[1]!.split(',').reduce((a, b) => a + Number(b), 0)).toBe(97);
    expect(out).toMatch(/other processes: \d+\.\d\d cores/);
  }, 60_000);
});
