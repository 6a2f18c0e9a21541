/**
 * The tokenizer behind freevars.ts: one linear pass over a function's source text.
 *
 * Regex versus division is decided from the previous significant token; templates are split
 * into chunks around `${ }` (the `${` is an opener closed by `}`); identifiers have their
 * escapes decoded; comments and whitespace are dropped but line breaks are remembered on the
 * next token (for ASI decisions in the scope pass). Never throws: an unterminated literal
 * ends at the end of the input. No dependencies; runs on any thread.
 */
// ---------------------------------------------------------------------------------------------
// Tokens

export const NAME = 0; // identifier or keyword (escapes decoded)
export const PUNCT = 1; // operator or bracket; `${` is an opener closed by `}`
export const NUM = 2;
export const STR = 3;
export const TPL = 4; // a template chunk: `...`  `...${  }...${  }...`
export const REGEX = 5;
export const PRIV = 6; // #name

export interface Tok {
  t: number;
  v: string;
  /** A line terminator precedes this token. */
  nl: boolean;
}

export const PUNCT3 = new Set(['...', '===', '!==', '**=', '<<=', '>>=', '>>>', '&&=', '||=', '??=']);
export const PUNCT2 = new Set([
  '=>', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '++', '--', '+=', '-=', '*=', '/=', '%=',
  '&=', '|=', '^=', '**', '<<', '>>',
]);

/** Reserved words: never references. */
export const RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do',
  'else', 'enum', 'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in',
  'instanceof', 'new', 'null', 'return', 'super', 'switch', 'this', 'throw', 'true', 'try',
  'typeof', 'var', 'void', 'while', 'with', 'yield', 'await', 'let', 'static', 'arguments',
]);
/** Reserved words that end an expression (a following `/` divides, a following line break may end the statement). */
export const VALUE_KW = new Set(['this', 'super', 'null', 'true', 'false', 'arguments']);
/** Words after which an expression is expected: `/` starts a regex, `{` starts an object literal. */
export const EXPR_KW = new Set([
  'return', 'typeof', 'void', 'delete', 'throw', 'yield', 'await', 'in', 'of', 'case', 'new',
  'instanceof', 'extends', 'var', 'let', 'const', 'do', 'else',
]);
export const CONTROL = new Set(['if', 'while', 'switch', 'with']);
export const CONTROL_HEAD = new Set(['if', 'while', 'for', 'with']);
export const IMPORT_RE = /^(?:__vi_import_\d+__|__vite_ssr_import_\d+__)$/;
export const ID_START_RE = /[\p{ID_Start}$_]/u;
export const ID_PART_RE = /[\p{ID_Continue}$\u200c\u200d]/u;
export const SPACE_RE = /\s/;

export function isAsciiIdPart(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 36 || c === 95
  );
}
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
export function isLineTerm(c: number): boolean {
  return c === 10 || c === 13 || c === 0x2028 || c === 0x2029;
}

/** Scans an identifier at `i` (whose first char is already known to be an identifier start or `\`). */
export function scanIdent(src: string, i: number): { end: number; name: string } {
  const n = src.length;
  let j = i;
  let name = '';
  let from = i;
  while (j < n) {
    const c = src.charCodeAt(j);
    if (c < 128) {
      if (isAsciiIdPart(c)) {
        j++;
        continue;
      }
      if (c === 92 && src.charCodeAt(j + 1) === 117) {
        // \uXXXX or \u{X...}
        name += src.slice(from, j);
        let k = j + 2;
        let hex: string;
        if (src.charCodeAt(k) === 123) {
          const close = src.indexOf('}', k);
          if (close < 0) break;
          hex = src.slice(k + 1, close);
          k = close + 1;
        } else {
          hex = src.slice(k, k + 4);
          k += 4;
        }
        const cp = parseInt(hex, 16);
        name += Number.isFinite(cp) && cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : '_';
        j = k;
        from = j;
        continue;
      }
      break;
    }
    const cp = src.codePointAt(j) ?? c;
    const ch = String.fromCodePoint(cp);
    if (j === i ? ID_START_RE.test(ch) : ID_PART_RE.test(ch)) {
      j += ch.length;
      continue;
    }
    break;
  }
  if (j === i) j = i + 1; // never stall
  name += src.slice(from, j);
  return { end: j, name };
}

/** Whether a `/` after the tokens so far starts a regex; `ctrlClose` is the index of the last `)` closing an if/while/for/with head. */
export function regexAllowed(toks: Tok[], ctrlClose: number): boolean {
  const p = toks[toks.length - 1];
  if (p === undefined) return true;
  if (ctrlClose === toks.length - 1) return true; // `if (x) /re/.test(s)`
  if (p.t === NAME) {
    const pp = toks[toks.length - 2];
    if (pp !== undefined && pp.t === PUNCT && (pp.v === '.' || pp.v === '?.')) return false;
    return EXPR_KW.has(p.v);
  }
  if (p.t === PUNCT) return !(p.v === ')' || p.v === ']' || p.v === '++' || p.v === '--');
  return false;
}

/** End of a regex literal starting at `i` (a `/`), or -1 if it is not one (line break / EOF). */
export function scanRegex(src: string, i: number): number {
  const n = src.length;
  let j = i + 1;
  let inClass = false;
  for (;;) {
    if (j >= n) return -1;
    const c = src.charCodeAt(j);
    if (isLineTerm(c)) return -1;
    if (c === 92) {
      j += 2;
      if (j > n || isLineTerm(src.charCodeAt(j - 1))) return -1;
      continue;
    }
    j++;
    if (c === 91) inClass = true;
    else if (c === 93) inClass = false;
    else if (c === 47 && !inClass) break;
  }
  while (j < n && isAsciiIdPart(src.charCodeAt(j))) j++;
  return j;
}

export function scanNumber(src: string, i: number): number {
  const n = src.length;
  let j = i;
  const c1 = src.charCodeAt(i + 1) | 32;
  if (src.charCodeAt(i) === 48 && (c1 === 120 || c1 === 111 || c1 === 98)) {
    j += 2;
  } else {
    let dot = false;
    while (j < n) {
      const c = src.charCodeAt(j);
      if (isDigit(c) || c === 95) j++;
      else if (c === 46 && !dot) {
        dot = true;
        j++;
      } else break;
    }
    if ((src.charCodeAt(j) | 32) === 101) {
      const d = src.charCodeAt(j + 1);
      if (isDigit(d)) j += 1;
      else if ((d === 43 || d === 45) && isDigit(src.charCodeAt(j + 2))) j += 2;
    }
  }
  // digits, hex digits, exponent digits, `n` suffix (and, robustly, any glued identifier chars)
  while (j < n && isAsciiIdPart(src.charCodeAt(j))) j++;
  return j;
}

export function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  const braces: boolean[] = []; // true = the `{` is a template `${`
  const parens: boolean[] = []; // true = the `(` opens an if/while/for/with head
  let ctrlClose = -1;
  const n = src.length;
  let nl = false;
  let i = 0;
  const push = (t: number, v: string): void => {
    toks.push({ t, v, nl });
    nl = false;
  };
  /** Scans template characters from `j` (just after '`' or the `}` closing a substitution). */
  const template = (start: number, j: number): number => {
    while (j < n) {
      const c = src.charCodeAt(j);
      if (c === 92) j += 2;
      else if (c === 96) {
        push(TPL, src.slice(start, j + 1));
        return j + 1;
      } else if (c === 36 && src.charCodeAt(j + 1) === 123) {
        push(TPL, src.slice(start, j + 2));
        push(PUNCT, '${');
        braces.push(true);
        return j + 2;
      } else j++;
    }
    push(TPL, src.slice(start));
    return n;
  };
  while (i < n) {
    const c = src.charCodeAt(i);
    if (c === 10 || c === 13) {
      nl = true;
      i++;
      continue;
    }
    if (c === 32 || c === 9 || c === 11 || c === 12) {
      i++;
      continue;
    }
    if (c === 47) {
      const d = src.charCodeAt(i + 1);
      if (d === 47) {
        i += 2;
        while (i < n && !isLineTerm(src.charCodeAt(i))) i++;
        continue;
      }
      if (d === 42) {
        const close = src.indexOf('*/', i + 2);
        const end = close < 0 ? n : close + 2;
        for (let k = i + 2; k < end; k++) {
          if (isLineTerm(src.charCodeAt(k))) {
            nl = true;
            break;
          }
        }
        i = end;
        continue;
      }
      if (regexAllowed(toks, ctrlClose)) {
        const end = scanRegex(src, i);
        if (end > 0) {
          push(REGEX, src.slice(i, end));
          i = end;
          continue;
        }
      }
    } else if (isAsciiIdPart(c) && !isDigit(c)) {
      const { end, name } = scanIdent(src, i);
      push(NAME, name);
      i = end;
      continue;
    } else if (isDigit(c) || (c === 46 && isDigit(src.charCodeAt(i + 1)))) {
      const end = scanNumber(src, i);
      push(NUM, src.slice(i, end));
      i = end;
      continue;
    } else if (c === 39 || c === 34) {
      let j = i + 1;
      while (j < n) {
        const e = src.charCodeAt(j);
        if (e === c) {
          j++;
          break;
        }
        if (e === 92) j += src.charCodeAt(j + 1) === 13 && src.charCodeAt(j + 2) === 10 ? 3 : 2;
        else if (e === 10 || e === 13) break; // unterminated: best effort
        else j++;
      }
      if (j > n) j = n;
      push(STR, src.slice(i, j));
      i = j;
      continue;
    } else if (c === 96) {
      i = template(i, i + 1);
      continue;
    } else if (c === 35) {
      const d = src.charCodeAt(i + 1);
      if (i + 1 < n && (isAsciiIdPart(d) || d === 92 || d > 127) && !isDigit(d)) {
        const { end, name } = scanIdent(src, i + 1);
        push(PRIV, '#' + name);
        i = end;
        continue;
      }
    } else if (c === 92) {
      const { end, name } = scanIdent(src, i);
      push(NAME, name);
      i = end;
      continue;
    } else if (c === 123) {
      braces.push(false);
      push(PUNCT, '{');
      i++;
      continue;
    } else if (c === 125) {
      const tpl = braces.pop() === true;
      push(PUNCT, '}');
      i = tpl ? template(i, i + 1) : i + 1;
      continue;
    } else if (c > 127) {
      if (c === 0x2028 || c === 0x2029) {
        nl = true;
        i++;
        continue;
      }
      const cp = src.codePointAt(i) ?? c;
      const ch = String.fromCodePoint(cp);
      if (SPACE_RE.test(ch)) {
        i += ch.length;
        continue;
      }
      if (ID_START_RE.test(ch)) {
        const { end, name } = scanIdent(src, i);
        push(NAME, name);
        i = end;
        continue;
      }
      push(PUNCT, ch); // unknown character: keep going
      i += ch.length;
      continue;
    }
    // operators
    if (
      c === 40 || c === 41 || c === 91 || c === 93 || c === 59 || c === 44 || c === 58 || c === 126 ||
      (c === 46 && src.charCodeAt(i + 1) !== 46)
    ) {
      if (c === 40) {
        const p = toks[toks.length - 1];
        const pp = toks[toks.length - 2];
        parens.push(
          p !== undefined && p.t === NAME && CONTROL_HEAD.has(p.v) && !(pp !== undefined && pp.t === PUNCT && (pp.v === '.' || pp.v === '?.')),
        );
      } else if (c === 41 && parens.pop() === true) ctrlClose = toks.length;
      push(PUNCT, src[i] as string); // ( ) [ ] ; , : ~ .
      i++;
      continue;
    }
    if (c === 62 && src.startsWith('>>>=', i)) {
      push(PUNCT, '>>>=');
      i += 4;
      continue;
    }
    const s3 = src.slice(i, i + 3);
    if (PUNCT3.has(s3)) {
      push(PUNCT, s3);
      i += 3;
      continue;
    }
    const s2 = src.slice(i, i + 2);
    if (PUNCT2.has(s2) && !(s2 === '?.' && isDigit(src.charCodeAt(i + 2)))) {
      push(PUNCT, s2);
      i += 2;
      continue;
    }
    push(PUNCT, src[i] ?? '');
    i++;
  }
  return toks;
}
