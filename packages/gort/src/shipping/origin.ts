/**
 * Where an inline goroutine function was written, so that its stack frames on the thread that
 * runs it name the user's file and line instead of gort's `new Function` (shipping/registry.ts).
 *
 * At registration (once per distinct source on a thread) the stack of the go()/spawn() call is
 * captured and its first frame outside gort is taken: the file and the line of the call. If the
 * file can be read and contains the function's source text verbatim (plain JS, not transformed
 * by a loader), the line where that text starts is used instead, so a function defined above
 * its go() is found too. Transformed code (tsx, vitest) keeps the call's line, which its
 * loader's source maps already give.
 *
 * The compiled body is then padded with newlines so that the function's first line falls on
 * that line of a script named by `//# sourceURL`: V8 puts a `new Function` body two lines
 * below the script's start. Columns on the function's first line are off by the prologue.
 *
 * Never throws: anything unexpected gives no origin, and the body compiles as before.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Origin {
  /** A file URL or path, as the stack named it. */
  readonly url: string;
  /** 1-based line where the function's source starts (or of the call that registered it). */
  readonly line: number;
}

/** gort's own code, to skip its frames: the built files and, under a loader that maps them back (vitest), the sources. */
const gortRoots = [new URL('../', import.meta.url), new URL('../../src/', import.meta.url)].flatMap((u) => [u.href, fileURLToPath(u)]);

const FRAME = /\(?((?:file:\/\/|\/)[^()\s]+?):(\d+):(\d+)\)?\s*$/;
const fileText = new Map<string, string | null>();

function readText(url: string): string | null {
  let t = fileText.get(url);
  if (t === undefined) {
    try {
      t = readFileSync(url.startsWith('file:') ? fileURLToPath(url) : url, 'utf8');
    } catch {
      t = null;
    }
    if (fileText.size > 256) fileText.clear();
    fileText.set(url, t);
  }
  return t;
}

/** The origin of a function with source `src` being registered now, or null. */
export function originOf(src: string): Origin | null {
  try {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 30;
    const stack = new Error().stack ?? '';
    Error.stackTraceLimit = limit;
    for (const line of stack.split('\n').slice(1)) {
      const m = FRAME.exec(line);
      if (m === null) continue;
      const url = m[1]!;
      if (gortRoots.some((r) => url.startsWith(r))) continue;
      let at = Number(m[2]);
      const text = readText(url);
      const i = text === null ? -1 : text.indexOf(src);
      if (i >= 0) at = text!.slice(0, i).split('\n').length;
      return { url, line: at };
    }
  } catch {
    // no origin
  }
  return null;
}

/** The body for `new Function`, laid out so that `return`'s line is o.line of o.url. */
export function placeBody(prologue: string, ret: string, o: Origin | null): string {
  if (o === null) return `${prologue}\n${ret}`;
  // A new Function body starts on the script's third line; prologue and return share a line.
  return `${'\n'.repeat(Math.max(0, o.line - 3))}${prologue} ${ret}\n//# sourceURL=${o.url}`;
}
