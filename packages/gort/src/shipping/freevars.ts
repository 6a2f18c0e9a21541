/**
 * Free-variable analysis for "inline" goroutine functions. gort ships such a function to a
 * worker by source (`fn.toString()`, compiled there with `new Function`), so it may only use its
 * own params and locals, JS globals and gort's public names. `go()`/`spawn()` (on any thread,
 * once per distinct source; the caller caches) call `analyzeFunctionSource` before shipping,
 * drop globals and gort's names from `free`, and reject the function if anything is left.
 *
 * How: one linear tokenizer pass (regex vs division decided by the previous token; templates
 * split into chunks around `${ }`), then one forward pass over the tokens that tracks bracket
 * contexts (block / object literal / class body / parens), binds params, var/let/const,
 * function/class names, catch params, destructuring and for heads, and records each reference
 * with its scope. References are resolved at the end, so hoisting just works.
 *
 * Approximations (lenient: they can hide a free variable, not invent one): var and function
 * declarations are function-scoped, let/const/class block-scoped; a `for (let` binding with a
 * non-block loop body stays visible to the end of the enclosing block; an expression-bodied
 * arrow's params stay in scope up to the next `,`/`;`/closing bracket/ASI line break at its
 * level; `await`, `yield`, `let`, `static`, `arguments` are never reported. A hidden name makes
 * the worker throw a ReferenceError, which gort turns into a panic. Heuristic corner: a `/`
 * right after `}` is read as a regex (`({}) / 2` is fine, `x = {} / 2` is not).
 *
 * Size: ~700 lines, past the ~600 guideline, on purpose: the scope pass is one forward walk
 * whose cases (bindings, patterns, class bodies, arrows, for heads) share its bracket and
 * scope stacks; split, one state machine would be spread over files. The tokenizer, which
 * stands alone, is in tokenize.ts.
 *
 * Invariants: no dependencies; never throws on syntactically valid input and returns a
 * best-effort report on invalid input; time and memory are linear in the source length.
 */
import {
  CONTROL,
  EXPR_KW,
  IMPORT_RE,
  NAME,
  NUM,
  PRIV,
  PUNCT,
  RESERVED,
  STR,
  type Tok,
  VALUE_KW,
  tokenize,
} from './tokenize.js';

export interface FreeVarReport {
  /** Identifiers referenced where no enclosing scope inside the function declares them (params, var/let/const, function/class declarations, catch params, destructuring patterns, for-in/of heads, named function expressions' own names, arrow params), in first-appearance order, deduplicated. `this`, `arguments`, `super`, `new.target`, `import.meta` are not reported. */
  free: string[];
  /** For identifiers matching /^__vi_import_\d+__$/ or /^__vite_ssr_import_\d+__$/ (vitest/vite-node rewrite `import { chan } from 'gort'` into `__vi_import_0__.chan`): the property names accessed on them, e.g. `__vi_import_0__.chan(...)` and `(0, __vi_import_0__.go)(...)` give ['chan','go']. A bare use of such an identifier that is not a member access (e.g. passing `__vi_import_0__` itself) puts '*' in this list. These identifiers are NOT listed in `free`. */
  importMembers: string[];
  /** True if the source text is a method shorthand (`foo(a) {}` / `async foo() {}` / `*gen(){}` / `get x(){}` as produced by Function.prototype.toString of an object-literal method), which is not a valid expression on its own. */
  isMethod: boolean;
  /** 'arrow' | 'function' | 'method' | 'class' */
  kind: 'arrow' | 'function' | 'method' | 'class';
}

// ---------------------------------------------------------------------------------------------
// Analysis

/** Bracket contexts. */
const C_ROOT = 0;
const C_PAREN = 1;
const C_BRACKET = 2;
const C_BLOCK = 3; // statement block, function body, switch body, static block
const C_OBJECT = 4; // object literal or object pattern
const C_CLASS = 5; // class body
const C_TPL = 6; // `${ ... }`
const C_FOR = 7; // for (...) head

/** Token roles decided ahead of the walk. */
const R_DECL = 1; // binding identifier
const R_KEY = 2; // property / method / field name
const R_LABEL = 3;

interface Ctx {
  kind: number;
  open: number;
  ternary: number;
  pendingCase: boolean;
}

interface Scope {
  parent: Scope | null;
  names: Set<string> | null;
  fn: boolean;
  end: number;
}

interface Ref {
  name: string;
  scope: Scope;
  /** For vitest/vite import bindings: the member accessed, or '*'. */
  member: string | null;
}

function isOpener(t: Tok): boolean {
  return t.t === PUNCT && (t.v === '(' || t.v === '[' || t.v === '{' || t.v === '${');
}
function isCloser(t: Tok): boolean {
  return t.t === PUNCT && (t.v === ')' || t.v === ']' || t.v === '}');
}
function isP(t: Tok | undefined, v: string): boolean {
  return t !== undefined && t.t === PUNCT && t.v === v;
}
function isKeyStart(t: Tok | undefined): boolean {
  if (t === undefined) return false;
  if (t.t === NAME || t.t === STR || t.t === NUM || t.t === PRIV) return true;
  return t.t === PUNCT && (t.v === '[' || t.v === '*');
}

/** One analysis over a token list; see the module header. */
class Analyzer {
  private readonly n: number;
  private readonly match: Int32Array;
  private readonly nextStop: Int32Array;
  private readonly role: Uint8Array;
  private readonly colonStmt: Uint8Array;
  private readonly braceKind: Uint8Array;
  /** `{` index -> class expression name ('' if none or a declaration) for class bodies. */
  private readonly classBodies = new Map<number, string>();
  /** Classes with an `extends` clause whose body `{` has not been seen yet (innermost last). */
  private readonly pendingClasses: { depth: number; name: string }[] = [];
  /** `(` index of a named function expression's params -> its name (bound inside it). */
  private readonly fnNames = new Map<number, string>();
  private readonly ctxs: Ctx[] = [];
  private readonly scopes: Scope[] = [];
  private readonly refs: Ref[] = [];
  private modIdx = -2;

  constructor(private readonly toks: Tok[]) {
    const n = toks.length;
    this.n = n;
    this.role = new Uint8Array(n);
    this.colonStmt = new Uint8Array(n);
    this.braceKind = new Uint8Array(n);
    // Bracket matching (tolerant: unmatched openers match n, unmatched closers -1).
    const match = new Int32Array(n).fill(n);
    const stack: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = toks[i] as Tok;
      if (isOpener(t)) stack.push(i);
      else if (isCloser(t)) {
        const o = stack.pop();
        if (o === undefined) match[i] = -1;
        else {
          match[o] = i;
          match[i] = o;
        }
      }
    }
    this.match = match;
    // nextStop[i]: the next `,` / `;` / ASI line break at i's bracket level, or the closer of
    // the enclosing group, or n. Computed backwards in one pass.
    const nextStop = new Int32Array(n);
    const outer: number[] = [];
    let cur = n;
    for (let i = n - 1; i >= 0; i--) {
      const t = toks[i] as Tok;
      if (isCloser(t)) {
        nextStop[i] = cur;
        outer.push(cur);
        cur = i;
      } else if (isOpener(t)) {
        cur = outer.pop() ?? n;
        nextStop[i] = cur;
      } else {
        nextStop[i] = cur;
        if (isP(t, ',') || isP(t, ';') || this.isAsiBoundary(i)) cur = i;
      }
    }
    this.nextStop = nextStop;
  }

  private m(i: number): number {
    return this.match[i] ?? this.n;
  }
  private stop(i: number): number {
    return Math.max(this.nextStop[i] ?? this.n, i + 1);
  }
  private afterDot(i: number): boolean {
    const p = this.toks[i - 1];
    return p !== undefined && p.t === PUNCT && (p.v === '.' || p.v === '?.');
  }
  private isName(i: number, v: string): boolean {
    const t = this.toks[i];
    return t !== undefined && t.t === NAME && t.v === v && !this.afterDot(i);
  }

  private isExprEnd(i: number): boolean {
    const t = this.toks[i];
    if (t === undefined) return false;
    if (t.t === NAME) {
      if (this.afterDot(i) || !RESERVED.has(t.v)) return true;
      return VALUE_KW.has(t.v);
    }
    if (t.t === PUNCT) {
      return t.v === ')' || t.v === ']' || t.v === '}' || t.v === '++' || t.v === '--';
    }
    return true;
  }

  /** A line break before token i ends the statement (ASI) because i cannot continue it. */
  private isAsiBoundary(i: number): boolean {
    const t = this.toks[i];
    if (t === undefined || !t.nl) return false;
    if (t.t === NAME) {
      if (t.v === 'in' || t.v === 'instanceof' || t.v === 'of') return false;
    } else if (!(t.t === NUM || t.t === STR || t.t === PRIV || isP(t, '++') || isP(t, '--'))) {
      return false;
    }
    return this.isExprEnd(i - 1);
  }

  private topCtx(): Ctx {
    return this.ctxs[this.ctxs.length - 1] as Ctx;
  }
  private topScope(): Scope {
    return this.scopes[this.scopes.length - 1] as Scope;
  }
  private fnScope(): Scope {
    for (let k = this.scopes.length - 1; k >= 0; k--) {
      const s = this.scopes[k] as Scope;
      if (s.fn) return s;
    }
    return this.scopes[0] as Scope;
  }
  private pushScope(fn: boolean, end: number): Scope {
    const s: Scope = { parent: this.topScope(), names: null, fn, end };
    this.scopes.push(s);
    return s;
  }
  private declare(s: Scope, name: string): void {
    (s.names ??= new Set()).add(name);
  }
  private pushCtx(kind: number, open: number): void {
    this.ctxs.push({ kind, open, ternary: 0, pendingCase: false });
  }

  /** Last token index still inside an arrow function whose body starts at token b. */
  private arrowEnd(b: number): number {
    if (isP(this.toks[b], '{')) return this.m(b);
    return (this.nextStop[b] ?? this.n) - 1;
  }

  run(): FreeVarReport {
    const toks = this.toks;
    this.scopes.push({ parent: null, names: null, fn: true, end: Infinity });
    this.pushCtx(C_ROOT, -1);
    const kind = this.rootKind();
    if (kind === 'method') this.pushCtx(C_OBJECT, -1); // a virtual `{` before the method
    for (let i = 0; i < this.n; i++) {
      while (this.scopes.length > 1 && this.topScope().end < i) this.scopes.pop();
      const t = toks[i] as Tok;
      if (t.t === NAME) this.onName(i, t.v);
      else if (t.t === PUNCT) this.onPunct(i, t.v);
    }
    const free: string[] = [];
    const importMembers: string[] = [];
    const seen = new Set<string>();
    const seenMembers = new Set<string>();
    for (const r of this.refs) {
      let declared = false;
      for (let s: Scope | null = r.scope; s !== null; s = s.parent) {
        if (s.names !== null && s.names.has(r.name)) {
          declared = true;
          break;
        }
      }
      if (declared) continue;
      if (r.member !== null) {
        if (!seenMembers.has(r.member)) {
          seenMembers.add(r.member);
          importMembers.push(r.member);
        }
      } else if (!seen.has(r.name)) {
        seen.add(r.name);
        free.push(r.name);
      }
    }
    return { free, importMembers, isMethod: kind === 'method', kind };
  }

  private rootKind(): FreeVarReport['kind'] {
    const t0 = this.toks[0];
    const t1 = this.toks[1];
    if (t0 === undefined) return 'function';
    if (t0.t === NAME) {
      if (t0.v === 'class') return isP(t1, '(') ? 'method' : 'class';
      if (t0.v === 'function') return 'function';
      if (isP(t1, '=>')) return 'arrow';
      if (t0.v === 'async') {
        if (t1 !== undefined && !t1.nl && t1.t === NAME && t1.v === 'function') return 'function';
        return this.asyncIsKeyword(0) ? 'arrow' : 'method';
      }
      return 'method';
    }
    if (isP(t0, '(')) return isP(this.toks[this.m(0) + 1], '=>') ? 'arrow' : 'function';
    return isKeyStart(t0) ? 'method' : 'function';
  }

  /** `async` at i starts an async function or arrow (rather than being an identifier). */
  private asyncIsKeyword(i: number): boolean {
    const nx = this.toks[i + 1];
    if (nx === undefined || nx.nl) return false;
    if (nx.t === NAME) return nx.v === 'function' || isP(this.toks[i + 2], '=>');
    return isP(nx, '(') && isP(this.toks[this.m(i + 1) + 1], '=>');
  }

  private isStatementPos(i: number): boolean {
    const p = this.toks[i - 1];
    if (p === undefined) return false;
    if (p.t === PUNCT) {
      switch (p.v) {
        case ';':
        case '}':
        case ')':
          return true;
        case '{':
          return this.braceKind[i - 1] !== C_OBJECT;
        case ':':
          return this.colonStmt[i - 1] === 1;
        default:
          return false;
      }
    }
    if (this.isName(i - 1, 'else') || this.isName(i - 1, 'do')) return true;
    return (this.toks[i] as Tok).nl && this.isExprEnd(i - 1);
  }

  private objKeyPos(i: number, c: Ctx): boolean {
    const p = this.toks[i - 1];
    if (p === undefined) return c.open === -1;
    return i - 1 === c.open || isP(p, ',') || this.modIdx === i - 1;
  }
  private classKeyPos(i: number, c: Ctx, allowNl: boolean): boolean {
    const p = this.toks[i - 1];
    if (p === undefined) return false;
    if (i - 1 === c.open || this.modIdx === i - 1 || isP(p, ';') || isP(p, '}')) return true;
    return allowNl && (this.toks[i] as Tok).nl && this.isExprEnd(i - 1);
  }

  private onName(i: number, v: string): void {
    if (this.role[i] !== 0 || this.afterDot(i)) return;
    const toks = this.toks;
    const c = this.topCtx();
    const nx = toks[i + 1];
    if (c.kind === C_OBJECT && this.objKeyPos(i, c)) {
      if (isP(nx, ':') || isP(nx, '(')) {
        this.role[i] = R_KEY;
      } else if (
        (v === 'get' || v === 'set' || v === 'async') &&
        isKeyStart(nx) &&
        !(v === 'async' && nx?.nl === true)
      ) {
        this.role[i] = R_KEY;
        this.modIdx = i;
      } else if (!RESERVED.has(v)) {
        this.ref(i, v); // shorthand `{ a }`
      }
      return;
    }
    if (c.kind === C_CLASS && this.classKeyPos(i, c, true)) {
      this.role[i] = R_KEY;
      if (
        nx !== undefined &&
        (v === 'static' || v === 'get' || v === 'set' || v === 'async') &&
        !(v === 'async' && nx.nl) &&
        (isKeyStart(nx) || (v === 'static' && isP(nx, '{')))
      ) {
        this.modIdx = i;
      }
      return;
    }
    if (isP(nx, '=>')) {
      // single-parameter arrow: `x => ...`
      const s = this.pushScope(true, this.arrowEnd(i + 2));
      this.declare(s, v);
      this.role[i] = R_DECL;
      return;
    }
    switch (v) {
      case 'var':
        this.declarations(i, this.fnScope());
        return;
      case 'const':
        this.declarations(i, this.topScope());
        return;
      case 'let':
        if (
          nx !== undefined &&
          ((nx.t === NAME && nx.v !== 'in' && nx.v !== 'instanceof') || isP(nx, '[') || isP(nx, '{'))
        ) {
          this.declarations(i, this.topScope());
        }
        return;
      case 'function':
        this.onFunction(i);
        return;
      case 'class':
        this.onClass(i);
        return;
      case 'break':
      case 'continue':
        if (nx !== undefined && nx.t === NAME && !nx.nl) this.role[i + 1] = R_LABEL;
        return;
      case 'case':
        c.pendingCase = true;
        return;
      case 'async':
        if (this.asyncIsKeyword(i)) return;
        break;
      case 'of':
        if (c.kind === C_FOR) return;
        break;
      default:
        break;
    }
    if (RESERVED.has(v)) return;
    if (isP(nx, ':') && c.kind === C_BLOCK && c.ternary === 0 && !c.pendingCase) {
      this.role[i] = R_LABEL;
      return;
    }
    this.ref(i, v);
  }

  private ref(i: number, name: string): void {
    let member: string | null = null;
    if (IMPORT_RE.test(name)) {
      const nx = this.toks[i + 1];
      const nn = this.toks[i + 2];
      member = '*';
      if ((isP(nx, '.') || isP(nx, '?.')) && nn !== undefined && nn.t === NAME) member = nn.v;
      else if (isP(nx, '[') && nn !== undefined && nn.t === STR && isP(this.toks[i + 3], ']')) {
        member = nn.v.slice(1, -1);
      }
    }
    this.refs.push({ name, scope: this.topScope(), member });
  }

  private onPunct(i: number, v: string): void {
    const c = this.topCtx();
    switch (v) {
      case '(':
        this.onParen(i);
        return;
      case '[':
        this.pushCtx(C_BRACKET, i);
        return;
      case '${':
        this.pushCtx(C_TPL, i);
        return;
      case '{':
        this.onBrace(i);
        return;
      case ')':
      case ']':
      case '}': {
        const o = this.match[i] ?? -1;
        if (o < 0) return;
        for (let k = this.ctxs.length - 1; k > 0; k--) {
          if ((this.ctxs[k] as Ctx).open === o) {
            this.ctxs.length = k;
            return;
          }
        }
        return;
      }
      case '?':
        c.ternary++;
        return;
      case ':':
        if (c.ternary > 0) c.ternary--;
        else if (c.kind === C_BLOCK) {
          this.colonStmt[i] = 1; // label, case or default
          c.pendingCase = false;
        }
        return;
      case '*':
        if (
          (c.kind === C_OBJECT && this.objKeyPos(i, c)) ||
          (c.kind === C_CLASS && this.classKeyPos(i, c, false))
        ) {
          this.modIdx = i; // generator method
        }
        return;
      default:
        return;
    }
  }

  private onParen(i: number): void {
    const toks = this.toks;
    const close = this.m(i);
    const after = toks[close + 1];
    const p = toks[i - 1];
    const pWord = p !== undefined && p.t === NAME && this.role[i - 1] !== R_KEY && !this.afterDot(i - 1)
      ? p.v
      : '';
    let kind = C_PAREN;
    if (isP(after, '=>')) {
      const s = this.pushScope(true, this.arrowEnd(close + 2));
      this.bindList(i + 1, close, s, 0);
    } else if (pWord === 'for' || (pWord === 'await' && this.isName(i - 2, 'for'))) {
      kind = C_FOR;
      let end: number;
      if (isP(after, '{')) end = this.m(close + 1);
      else {
        const o = this.topCtx().open;
        end = o < 0 ? this.n : this.m(o);
      }
      this.pushScope(false, end);
    } else if (isP(after, '{') && !CONTROL.has(pWord) && !this.heritageCallAt()) {
      // function / method params, or a catch clause
      const s = this.pushScope(pWord !== 'catch', this.m(close + 1));
      this.bindList(i + 1, close, s, 0);
      const name = this.fnNames.get(i);
      if (name !== undefined) this.declare(s, name);
    }
    this.pushCtx(kind, i);
  }

  /** A `(` here is a call in a class heritage, `class extends f(x) {`, not a parameter list. */
  private heritageCallAt(): boolean {
    return this.pendingClassAtDepth() !== undefined;
  }

  /** The innermost class still waiting for its body at the current bracket level (drops stale ones). */
  private pendingClassAtDepth(): { depth: number; name: string } | undefined {
    const pc = this.pendingClasses;
    let top = pc[pc.length - 1];
    while (top !== undefined && top.depth > this.ctxs.length) {
      pc.pop();
      top = pc[pc.length - 1];
    }
    return top !== undefined && top.depth === this.ctxs.length ? top : undefined;
  }

  private onBrace(i: number): void {
    let className = this.classBodies.get(i);
    if (className === undefined && this.isExprEnd(i - 1)) {
      const pending = this.pendingClassAtDepth();
      if (pending !== undefined) {
        className = pending.name;
        this.pendingClasses.pop();
      }
    }
    const kind = className !== undefined ? C_CLASS : this.braceIsBlock(i) ? C_BLOCK : C_OBJECT;
    this.braceKind[i] = kind;
    this.pushCtx(kind, i);
    if (kind !== C_OBJECT) {
      const s = this.pushScope(false, this.m(i));
      if (className) this.declare(s, className);
    }
  }

  private braceIsBlock(i: number): boolean {
    const p = this.toks[i - 1];
    if (p === undefined) return true;
    if (p.t === PUNCT) {
      switch (p.v) {
        case ')':
        case ';':
        case '}':
        case ']':
        case '=>':
        case '++':
        case '--':
          return true;
        case '{':
          return this.braceKind[i - 1] !== C_OBJECT;
        case ':':
          return this.colonStmt[i - 1] === 1;
        default:
          return false;
      }
    }
    if (p.t === NAME && !this.afterDot(i - 1) && EXPR_KW.has(p.v) && p.v !== 'do' && p.v !== 'else') {
      return p.v === 'return' && (this.toks[i] as Tok).nl;
    }
    return true;
  }

  private onFunction(i: number): void {
    const start = this.isName(i - 1, 'async') ? i - 1 : i;
    const stmt = this.isStatementPos(start);
    let k = i + 1;
    if (isP(this.toks[k], '*')) k++;
    const t = this.toks[k];
    if (t !== undefined && t.t === NAME) {
      this.role[k] = R_DECL;
      if (stmt) this.declare(this.fnScope(), t.v);
      else if (isP(this.toks[k + 1], '(')) this.fnNames.set(k + 1, t.v);
    }
  }

  private onClass(i: number): void {
    const toks = this.toks;
    const stmt = this.isStatementPos(i);
    let k = i + 1;
    let name = '';
    const t = toks[k];
    if (t !== undefined && t.t === NAME && t.v !== 'extends') {
      name = t.v;
      this.role[k] = R_DECL;
      if (stmt) this.declare(this.topScope(), name);
      k++;
    }
    if (isP(toks[k], '{')) this.classBodies.set(k, stmt ? '' : name);
    else if (this.isName(k, 'extends')) {
      // The body is the next `{` at this bracket level after the heritage expression.
      this.pendingClasses.push({ depth: this.ctxs.length, name: stmt ? '' : name });
    }
  }

  /** var/let/const at i: binds each declarator's pattern in `scope`. */
  private declarations(i: number, scope: Scope): void {
    let k = i + 1;
    for (;;) {
      const k2 = this.bind(k, scope, 0);
      if (k2 === k) return;
      k = k2;
      if (isP(this.toks[k], '=')) k = this.stop(k);
      if (!isP(this.toks[k], ',')) return;
      k++;
    }
  }

  /** Binds the pattern starting at k; returns the index after it (k if there is none). */
  private bind(k: number, scope: Scope, depth: number): number {
    const t = this.toks[k];
    if (t === undefined || depth > 256) return k;
    if (t.t === NAME) {
      if (RESERVED.has(t.v) && t.v !== 'let' && t.v !== 'static' && t.v !== 'yield' && t.v !== 'await') {
        return k;
      }
      this.declare(scope, t.v);
      this.role[k] = R_DECL;
      return k + 1;
    }
    if (isP(t, '[')) {
      const end = this.m(k);
      this.bindList(k + 1, end, scope, depth + 1);
      return end + 1;
    }
    if (isP(t, '{')) {
      const end = this.m(k);
      this.bindObject(k + 1, end, scope, depth + 1);
      return end + 1;
    }
    return k;
  }

  /** Parameter list or array pattern elements in [k, end). */
  private bindList(k: number, end: number, scope: Scope, depth: number): void {
    while (k < end) {
      if (isP(this.toks[k], ',')) {
        k++;
        continue;
      }
      if (isP(this.toks[k], '...')) k++;
      k = this.bind(k, scope, depth);
      if (k < end && !isP(this.toks[k], ',')) k = this.stop(k); // `= default`, or junk
    }
  }

  /** Object pattern properties in [k, end). */
  private bindObject(k: number, end: number, scope: Scope, depth: number): void {
    const toks = this.toks;
    while (k < end) {
      const t = toks[k] as Tok;
      if (isP(t, ',')) {
        k++;
        continue;
      }
      if (isP(t, '...')) {
        k = Math.max(this.bind(k + 1, scope, depth), k + 1);
      } else if (isP(t, '[')) {
        k = this.m(k) + 1;
        if (isP(toks[k], ':')) k = Math.max(this.bind(k + 1, scope, depth), k + 1);
      } else if (isP(toks[k + 1], ':')) {
        k = Math.max(this.bind(k + 2, scope, depth), k + 2);
      } else if (t.t === NAME) {
        this.declare(scope, t.v); // shorthand
        this.role[k] = R_DECL;
        k++;
      } else {
        k++;
      }
      if (k < end && !isP(toks[k], ',')) k = this.stop(k);
    }
  }
}

/**
 * Lists the free identifiers of a function given its `Function.prototype.toString()` text.
 * Never throws on valid input; see the module header for the scope approximations.
 */
export function analyzeFunctionSource(source: string): FreeVarReport {
  return new Analyzer(tokenize(source)).run();
}
