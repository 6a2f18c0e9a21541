/**
 * The goroutine profile, in the formats Go's tools read: `goroutineProfile({ debug })`.
 *
 * - debug 2: Go's per-goroutine text (`goroutine 18 [chan receive, 1204 ms]:`, the stack where
 *   it is parked, `created by goroutine 1 on M1` and the stack of its go()/spawn() call).
 * - debug 1: Go's grouped text (`goroutine profile: total N`, then `count @ key` and `#` frame
 *   lines per distinct stack, most common first).
 * - debug 0: a gzipped pprof protobuf (sample type goroutine/count, one sample per distinct
 *   stack, labels `state` and `reason`), written with the pprof-format package (an optional
 *   peer dependency: loaded only here), which `go tool pprof` reads.
 *
 * A goroutine's stack is where it last parked (its park capture) while it waits, else its
 * function alone; with stacks off (runtime/stacks.ts), its function alone. Frames are V8's
 * (`at async handler (file:///srv.mjs:12:5)`), the runtime's own frames left out.
 *
 * Contract: reads the G records without locks (a moment's view, as dump()), then gathers the
 * stacks from every thread (StackRecorder.collect: at most ~1 s when a thread is held by a
 * goroutine; such threads are named in the output). Any thread with a runtime.
 */
import { gzipSync } from 'node:zlib';
import { RuntimeStateError } from '../errors.js';
import { need, type Thread } from '../runtime/thread.js';
import { G, Gstatus, statusNames, waitReasons } from '../sched/g.js';
import { forEachG } from '../sched/galloc.js';
import { mainWaitCode } from '../sched/threads.js';
import type { GoroutineStacks } from '../runtime/stacks.js';

/** One live goroutine, as `goroutines()` reports it. */
export interface GoroutineInfo {
  /** Its goroutine id (goid; 1 is main). */
  id: number;
  /** `runnable` (queued, not started), `running` (started and not parked on a gort primitive: executing, or awaiting something else), or `waiting`. */
  state: string;
  /** While waiting: on what, as Go prints it (`chan receive`, `sync.Mutex.Lock`, `select`, …); else empty. */
  waitReason: string;
  /** While waiting: for how long, in ms; else 0. */
  waitingMs: number;
  /** Its function's name (`main` for goroutine 1). */
  function: string;
  /** The goid of the goroutine that created it (0: main's own record, or unknown; printed as 1). */
  creator: number;
  /** Thread index it runs on (1..procs; 0 for main), or -1 before it starts. */
  m: number;
}

/** One goroutine as the profile and the leak checker see it: with stacks when they are on. */
export interface GoroutineRecord extends GoroutineInfo {
  /** With stacks on: where it was created (frames, innermost first); else undefined. */
  createdAt?: string[];
  /** With stacks on and while it waits: where it parked (frames, innermost first); else undefined. */
  parkedAt?: string[];
}

/** What goroutineRecords returns: the goroutines, whether stacks are on, and threads that could not answer for their stacks. */
export interface GoroutineSnapshot {
  /** Every live goroutine, main (id 1) first, by id. */
  goroutines: GoroutineRecord[];
  /** Whether stacks are on (start()'s `stacks: true` or GORT_DEBUG=stacks=1): then `createdAt` and `parkedAt` are filled. */
  stacks: boolean;
  /** Threads (0 main, 1..procs the Ms) that did not hand over their stacks in time: a goroutine holds them. */
  missing: number[];
}

/** Every live goroutine, main first (a record without locks: a moment's view, possibly a little stale). */
export function readRecords(t: Thread): GoroutineRecord[] {
  const heap = t.heap;
  const a = heap.i32;
  const now = performance.timeOrigin + performance.now();
  const mw = mainWaitCode(heap);
  const out: GoroutineRecord[] = [
    {
      id: 1,
      state: mw !== 0 ? 'waiting' : 'running',
      waitReason: mw !== 0 ? (waitReasons[mw] ?? '') : '',
      waitingMs: 0,
      function: 'main',
      creator: 0,
      m: 0,
    },
  ];
  forEachG(heap, (g) => {
    const i = g >> 2;
    const st = Atomics.load(a, i + G.STATUS);
    const since = heap.f64[(g >> 3) + G.SINCE_F64 / 2]!;
    out.push({
      id: a[i + G.GOID]!,
      state: statusNames[st] ?? String(st),
      waitReason: st === Gstatus.WAITING ? (waitReasons[a[i + G.WAIT]!] ?? '?') : '',
      waitingMs: st === Gstatus.WAITING && since > 0 ? Math.max(0, now - since) : 0,
      function: t.fns.nameOf(a[i + G.FN]!),
      creator: a[i + G.CREATOR]!,
      m: a[i + G.M]!,
    });
  });
  out.sort((x, y) => x.id - y.id);
  return out;
}

/**
 * Every live goroutine, main first, with where it was created and parked when stacks are on
 * (start()'s `stacks: true` or GORT_DEBUG=stacks=1).
 */
export async function goroutineRecords(): Promise<GoroutineSnapshot> {
  const t = need('goroutineRecords()');
  const recs = readRecords(t);
  if (t.stacks === null) return { goroutines: recs, stacks: false, missing: [] };
  const { stacks, missing } = await t.stacks.collect((k) => t.idle.ringIfParked(k));
  // Read the records again after the wait: what ended meanwhile is gone, and states are fresher.
  const now = readRecords(t);
  for (const r of now) attach(r, stacks.get(r.id));
  return { goroutines: now, stacks: true, missing };
}

function attach(r: GoroutineRecord, s: GoroutineStacks | undefined): void {
  if (s === undefined) return;
  if (s.created !== undefined) r.createdAt = s.created;
  if (s.parked !== undefined && r.state === 'waiting') r.parkedAt = s.parked;
}

/** Go's wait-time note: ms below a minute, then whole minutes as Go prints them. */
function waitNote(ms: number): string {
  if (ms >= 60_000) {
    const min = Math.floor(ms / 60_000);
    return `${min} minute${min === 1 ? '' : 's'}`;
  }
  return `${Math.round(ms)} ms`;
}

/** The bracketed status of a goroutine's header line. */
function status(r: GoroutineRecord): string {
  return r.waitReason !== '' ? (r.id === 1 ? r.waitReason : `${r.waitReason}, ${waitNote(r.waitingMs)}`) : r.state;
}

const STACKS_OFF = 'stacks are off: start({ stacks: true }) or GORT_DEBUG=stacks=1 records where goroutines are created and parked';

/** One goroutine in Go's debug=2 form. */
export function formatGoroutine(r: GoroutineRecord, stacksOn: boolean): string {
  const lines = [`goroutine ${r.id} [${status(r)}]:`, `${r.function}(...)`];
  for (const f of r.parkedAt ?? []) lines.push(`\tat ${f}`);
  if (r.id !== 1) {
    lines.push(`created by goroutine ${r.creator === 0 ? 1 : r.creator}${r.m > 0 ? ` on M${r.m}` : r.m === -1 ? ', not started' : ''}`);
    for (const f of r.createdAt ?? []) lines.push(`\tat ${f}`);
  }
  if (!stacksOn && r.id !== 1) lines.push(`\t(${STACKS_OFF})`);
  return lines.join('\n');
}

function missingNote(missing: number[]): string {
  return missing.length === 0
    ? ''
    : `# no stacks from ${missing.map((k) => (k === 0 ? 'main' : `M${k}`)).join(', ')}: a goroutine holds ${missing.length === 1 ? 'it' : 'them'} (a synchronous loop?)\n`;
}

/** The frames that make a goroutine's stack in the profile: where it parked, else its function. */
function stackOf(r: GoroutineRecord): string[] {
  return r.parkedAt !== undefined && r.parkedAt.length > 0 ? r.parkedAt : [r.function];
}

/** Goroutines grouped by (function, state or reason, stack), most common first. */
function groups(recs: GoroutineRecord[]): Array<{ n: number; r: GoroutineRecord; stack: string[] }> {
  const by = new Map<string, { n: number; r: GoroutineRecord; stack: string[] }>();
  for (const r of recs) {
    const stack = stackOf(r);
    const key = `${r.function}\u0000${r.waitReason || r.state}\u0000${stack.join('\u0000')}`;
    const e = by.get(key);
    if (e === undefined) by.set(key, { n: 1, r, stack });
    else e.n++;
  }
  return [...by.values()].sort((x, y) => y.n - x.n || x.r.id - y.r.id);
}

function text1(s: GoroutineSnapshot): string {
  let out = `goroutine profile: total ${s.goroutines.length}\n${missingNote(s.missing)}`;
  for (const { n, r, stack } of groups(s.goroutines)) {
    out += `${n} @ ${r.function} [${r.waitReason || r.state}]\n`;
    for (const f of stack) out += `#\t${f}\n`;
    out += '\n';
  }
  return out;
}

function text2(s: GoroutineSnapshot): string {
  return missingNote(s.missing) + s.goroutines.map((r) => formatGoroutine(r, s.stacks)).join('\n\n') + '\n';
}

/** A V8 frame (`async handler (file:///srv.mjs:12:5)`, `file:///srv.mjs:3:1`) as function, file, line. */
export function parseFrame(f: string): { name: string; file: string; line: number } {
  const m = /^(.*?) \((.*)\)$/.exec(f);
  const loc = m !== null ? m[2]! : f;
  const lm = /^(.*):(\d+):(\d+)$/.exec(loc);
  if (m === null && lm === null) return { name: f, file: '', line: 0 }; // a function name alone (stacks off)
  const name = m !== null ? m[1]!.replace(/^async /, '') : '<anonymous>';
  return lm !== null ? { name, file: lm[1]!, line: Number(lm[2]) } : { name, file: loc, line: 0 };
}

type PprofFormat = typeof import('pprof-format');

async function loadPprof(): Promise<PprofFormat> {
  try {
    return await import('pprof-format');
  } catch (e) {
    throw new RuntimeStateError(
      `gort: goroutineProfile({ debug: 0 }) writes pprof with the pprof-format package, which is not installed: npm install pprof-format (${e instanceof Error ? e.message : String(e)})`,
    );
  }
}

async function proto(s: GoroutineSnapshot): Promise<Uint8Array> {
  const pf = await loadPprof();
  const strings = new pf.StringTable();
  const fnIds = new Map<string, number>();
  const locIds = new Map<string, number>();
  const functions: InstanceType<PprofFormat['Function']>[] = [];
  const locations: InstanceType<PprofFormat['Location']>[] = [];
  const locationOf = (frame: string): number => {
    let id = locIds.get(frame);
    if (id !== undefined) return id;
    const { name, file, line } = parseFrame(frame);
    const fkey = `${name}\u0000${file}`;
    let fid = fnIds.get(fkey);
    if (fid === undefined) {
      fid = functions.length + 1;
      fnIds.set(fkey, fid);
      functions.push(new pf.Function({ id: fid, name: strings.dedup(name), systemName: strings.dedup(name), filename: strings.dedup(file) }));
    }
    id = locations.length + 1;
    locIds.set(frame, id);
    locations.push(new pf.Location({ id, address: id, line: [new pf.Line({ functionId: fid, line })] }));
    return id;
  };
  const kState = strings.dedup('state');
  const kReason = strings.dedup('reason');
  const samples = groups(s.goroutines).map(({ n, r, stack }) => {
    const label = [new pf.Label({ key: kState, str: strings.dedup(r.state) })];
    if (r.waitReason !== '') label.push(new pf.Label({ key: kReason, str: strings.dedup(r.waitReason) }));
    return new pf.Sample({ locationId: stack.map(locationOf), value: [n], label });
  });
  const type = new pf.ValueType({ type: strings.dedup('goroutine'), unit: strings.dedup('count') });
  const profile = new pf.Profile({
    sampleType: [type],
    sample: samples,
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: BigInt(Date.now()) * 1_000_000n,
    periodType: type,
    period: 1,
    comment: s.stacks ? [] : [strings.dedup(STACKS_OFF)],
  });
  return gzipSync(profile.encode());
}

/** Options of goroutineProfile. */
export interface ProfileOptions {
  /** 0: gzipped pprof protobuf (default); 1: Go's grouped text; 2: Go's per-goroutine text. */
  debug?: 0 | 1 | 2;
}

/**
 * Go's goroutine profile (`pprof.Lookup("goroutine").WriteTo(w, debug)`): every live
 * goroutine, main included. `debug: 0` (the default) resolves to a gzipped pprof protobuf
 * that `go tool pprof` reads (it needs the `pprof-format` package installed); `debug: 1` to
 * Go's grouped text; `debug: 2` to Go's per-goroutine text, with where each goroutine was
 * created and where it is parked when stacks are on (start()'s `stacks: true` or
 * GORT_DEBUG=stacks=1).
 */
export function goroutineProfile(opts: { debug: 1 | 2 }): Promise<string>;
export function goroutineProfile(opts?: { debug?: 0 }): Promise<Uint8Array>;
export function goroutineProfile(opts?: ProfileOptions): Promise<string | Uint8Array>;
export async function goroutineProfile(opts: ProfileOptions = {}): Promise<string | Uint8Array> {
  if (typeof opts !== 'object' || opts === null) throw new TypeError(`gort: goroutineProfile() takes an options object, got ${String(opts)}`);
  const debug = opts.debug ?? 0;
  if (debug !== 0 && debug !== 1 && debug !== 2) throw new RangeError(`gort: goroutineProfile()'s debug must be 0, 1 or 2, got ${String(debug)}`);
  const s = await goroutineRecords();
  if (debug === 1) return text1(s);
  if (debug === 2) return text2(s);
  return proto(s);
}
