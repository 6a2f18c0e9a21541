/**
 * The harness of the data-parallel benchmarks (par/*.mjs): one workload over SharedArrayBuffers,
 * run side by side in each repetition as
 *   - the sequential JS version on the main thread,
 *   - gort with procs 1 and procs 2 (two run()s; the views go to the goroutines by reference),
 *   - piscina with 2 threads (the same views in each task: postMessage shares the buffers),
 *   - and the same program in Go with goroutines (par/go/main.go), when `go` is on PATH,
 * then checked: every JS variant's output must equal the sequential one byte for byte, and Go's
 * checksum must equal the checksum of the sequential output (Go avoids fused multiply-adds with
 * explicit conversions, so its floating-point results are the same bits). A mismatch throws:
 * the benchmark is reported as failed, never a figure from a wrong result.
 *
 * A spec (one per par/*.mjs) gives:
 *   { name, goName, size, quickSize, warmSize, what(size), how, share?, target, module (URL of a module whose exports
 *     the goroutines and the piscina tasks call; for piscina it must export `noop`),
 *     setup(size) -> state, prepare(state) (reset the output before a variant, untimed),
 *     output(state) -> Uint8Array (the bytes compared), checksum(state) -> number (as Go's),
 *     seq(state), gort(state, procs, k) -> Promise (k = fromModule(module); runs inside run();
 *     resolves with a % of the work done by the least busy goroutine when `share` names it),
 *     piscina(pool, state) -> Promise }
 * Each variant first runs once untimed on a small state (warmSize): workers up, modules
 * imported, code optimized. Rows carry a `chart` tag read by charts.mjs.
 */
import { run, fromModule } from 'gort';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { piscinaPool } from './pools.mjs';
import { Rows, timed } from './common.mjs';

/** The checksum Go prints too: sum of v[i] * (i mod 1021 + 1), in index order. */
export function weightedSum(v) {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * ((i % 1021) + 1);
  return s;
}

/** n float64 in [0, 1) from xorshift32 with the given seed (par/go/main.go makes the same). */
export function fillRandom(f64, seed) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  for (let i = 0; i < f64.length; i++) {
    const hi = next() >>> 5; // 27 bits
    const lo = next() >>> 6; // 26 bits
    f64[i] = (hi * 67108864 + lo) / 9007199254740992;
  }
}

// ---------------------------------------------------------------- Go

let goBuilt;

/** Build par/go once per process (cached in the temp directory by source hash): { bin, version } or { missing }. */
function goBinary() {
  if (goBuilt !== undefined) return goBuilt;
  const dir = fileURLToPath(new URL('../par/go/', import.meta.url));
  const env = { ...process.env };
  if (env.GOCACHE === undefined && env.HOME === undefined) env.GOCACHE = join(os.tmpdir(), 'gort-go-cache');
  let version;
  try {
    version = execFileSync('go', ['env', 'GOVERSION'], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return (goBuilt = { missing: 'go is not on PATH (Debian: apt-get install golang-go)' });
  }
  const hash = createHash('sha1');
  for (const f of ['go.mod', 'main.go']) hash.update(readFileSync(join(dir, f)));
  const bin = join(os.tmpdir(), `gort-par-go-${version}-${hash.digest('hex').slice(0, 12)}`);
  if (!existsSync(bin)) {
    const r = spawnSync('go', ['build', '-o', bin, '.'], { cwd: dir, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`go build in benchmarks/par/go failed:\n${r.stderr}`);
  }
  return (goBuilt = { bin, version });
}

/** One run of the Go program: { seqMs, parMs: { 1, 2 }, checksum, version } or { missing }. */
export function runGo(name, size) {
  const b = goBinary();
  if (b.missing) return b;
  const r = spawnSync(b.bin, [name, String(size)], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`Go ${name} ${size} failed (status ${r.status}, signal ${r.signal}):\n${r.stderr}`);
  return { ...JSON.parse(r.stdout), version: b.version };
}

// ---------------------------------------------------------------- the harness

const sameBytes = (a, b) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));

export async function parBench({ reps, quick, log, quiet }, spec) {
  const size = quick ? spec.quickSize : spec.size;
  const k = fromModule(spec.module);
  const state = spec.setup(size);
  const warm = spec.setup(spec.warmSize);
  const expect = new Uint8Array(spec.output(state).length);
  let expectSum = NaN;

  const check = (who) => {
    if (!sameBytes(spec.output(state), expect)) throw new Error(`${spec.name}: ${who} computed a different result from the sequential version`);
  };
  const gortTimed = (procs) =>
    run(
      async () => {
        spec.prepare(warm);
        await spec.gort(warm, procs, k);
        spec.prepare(state);
        const [ms, share] = await timed(() => spec.gort(state, procs, k));
        return [ms, share];
      },
      { procs },
    );
  const piscinaTimed = async (threads) => {
    const pool = await piscinaPool(threads, spec.module, 'noop');
    try {
      spec.prepare(warm);
      await spec.piscina(pool, warm);
      spec.prepare(state);
      const [ms] = await timed(() => spec.piscina(pool, state));
      return ms;
    } finally {
      await pool.destroy();
    }
  };

  const rows = new Rows();
  const R = {
    seq: rows.def(`sequential JS on the main thread: ${spec.what(size)}`, 'ms', { better: 'lower', chart: { time: 'JS sequential' } }),
    g1: rows.def(`gort procs 1: ${spec.how}`, 'ms', { better: 'lower', chart: { time: 'gort', procs: 1 } }),
    g2: rows.def('gort procs 2: same', 'ms', { better: 'lower', chart: { time: 'gort', procs: 2 } }),
    p2: rows.def('piscina 2 threads: the same chunks as tasks, the views in each task', 'ms', { better: 'lower', chart: { time: 'piscina', procs: 2 } }),
    s1: rows.def('gort speedup over sequential, procs 1', 'x', { note: 'the cost of the split and of running on a worker', chart: { speedup: 'gort', procs: 1 } }),
    share: spec.share === undefined ? undefined : rows.def(`gort procs 2: ${spec.share}`, '%', { note: '50% is an even split' }),
    s2: rows.def('gort speedup over sequential, procs 2', 'x', { target: { op: '>=', value: spec.target }, chart: { speedup: 'gort', procs: 2 } }),
    sp: rows.def('piscina speedup over sequential, 2 threads', 'x', { chart: { speedup: 'piscina', procs: 2 } }),
    vp: rows.def('gort procs 2 throughput / piscina 2 threads', 'x', { target: { op: '>=', value: 1 }, note: 'piscina time / gort time' }),
    goSeq: rows.def('Go sequential (as the JS sequential version)', 'ms', { better: 'lower', chart: { time: 'Go sequential' } }),
    go1: rows.def('Go goroutines, GOMAXPROCS=1', 'ms', { better: 'lower', chart: { time: 'Go', procs: 1 } }),
    go2: rows.def('Go goroutines, GOMAXPROCS=2', 'ms', { better: 'lower', chart: { time: 'Go', procs: 2 } }),
    gs1: rows.def('Go speedup over Go sequential, GOMAXPROCS=1', 'x', { chart: { speedup: 'Go', procs: 1 } }),
    gs2: rows.def('Go speedup over Go sequential, GOMAXPROCS=2', 'x', { chart: { speedup: 'Go', procs: 2 } }),
    vg: rows.def('gort procs 2 / Go GOMAXPROCS=2, wall time', 'x', { better: 'lower', note: '> 1 means Go finished first' }),
  };
  const add = (row, v) => row.values.push(v);

  // Warm-up of the sequential version (the other variants warm up inside their own timing).
  spec.prepare(warm);
  spec.seq(warm);
  for (let r = 0; r < reps; r++) {
    await quiet();
    spec.prepare(state);
    const [seq] = await timed(async () => spec.seq(state));
    if (r === 0) {
      expect.set(spec.output(state));
      expectSum = spec.checksum(state);
    } else check('the sequential version');
    const [g1] = await gortTimed(1);
    check('gort procs 1');
    const [g2, share] = await gortTimed(2);
    check('gort procs 2');
    const p2 = await piscinaTimed(2);
    check('piscina');
    add(R.seq, seq);
    add(R.g1, g1);
    add(R.g2, g2);
    add(R.p2, p2);
    if (R.share) add(R.share, share);
    add(R.s1, seq / g1);
    add(R.s2, seq / g2);
    add(R.sp, seq / p2);
    add(R.vp, p2 / g2);
    const go = runGo(spec.goName, size);
    if (go.missing) {
      if (r === 0) log(`Go rows not run: ${go.missing}`);
      for (const row of [R.goSeq, R.go1, R.go2, R.gs1, R.gs2, R.vg]) row.note = `not run: ${go.missing}`;
    } else {
      if (go.checksum !== expectSum) throw new Error(`${spec.name}: Go's checksum ${go.checksum} differs from the sequential JS one ${expectSum}`);
      R.goSeq.note = `${go.version}, ${os.availableParallelism()} cores`;
      add(R.goSeq, go.seqMs);
      add(R.go1, go.parMs[1]);
      add(R.go2, go.parMs[2]);
      add(R.gs1, go.seqMs / go.parMs[1]);
      add(R.gs2, go.seqMs / go.parMs[2]);
      add(R.vg, g2 / go.parMs[2]);
    }
    const goText = go.missing ? 'Go not run' : `Go ${go.seqMs.toFixed(0)} / ${go.parMs[1].toFixed(0)} / ${go.parMs[2].toFixed(0)} ms`;
    log(`rep ${r + 1}/${reps}: sequential ${seq.toFixed(0)} ms, gort ${g1.toFixed(0)} / ${g2.toFixed(0)} ms, piscina ${p2.toFixed(0)} ms, ${goText}`);
  }
  return rows.toJSON();
}
