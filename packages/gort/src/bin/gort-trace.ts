#!/usr/bin/env node
/**
 * gort-trace: turn an execution trace (GORT_TRACE=trace.json, or stopTrace({ path })) into one
 * self-contained HTML timeline (tools/trace-html.ts).
 *
 *   npx gort-trace trace.json [-o trace.html]
 *
 * Without -o the page is written beside the trace, its extension replaced by .html. Exit codes:
 * 0 written, 2 a usage error or a file that is not a trace.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isChromeTrace, traceToHtml } from '../tools/trace-html.js';

const USAGE = 'usage: gort-trace trace.json [-o trace.html]';

function fail(msg: string): never {
  process.stderr.write(`gort-trace: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let input: string | undefined;
let output: string | undefined;
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '-h' || a === '--help') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  } else if (a === '-o' || a === '--output') {
    output = args[++i];
    if (output === undefined) fail('-o needs a file name');
  } else if (a.startsWith('-')) fail(`unknown option ${a}`);
  else if (input === undefined) input = a;
  else fail(`one trace at a time (got ${input} and ${a})`);
}
if (input === undefined) fail('no trace file given');
let text: string;
try {
  text = readFileSync(input, 'utf8');
} catch (e) {
  fail(`cannot read ${input}: ${e instanceof Error ? e.message : String(e)}`);
}
let trace: unknown;
try {
  trace = JSON.parse(text);
} catch (e) {
  fail(`${input} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
}
if (!isChromeTrace(trace)) fail(`${input} is not a trace: it has no traceEvents array`);
const out = output ?? input.replace(/(\.json)?$/i, '.html');
writeFileSync(out, traceToHtml(trace, `gort trace: ${basename(input)}`));
process.stdout.write(`gort-trace: wrote ${out} (${trace.traceEvents.length} events)\n`);
