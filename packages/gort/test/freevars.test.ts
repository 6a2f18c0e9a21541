import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { analyzeFunctionSource } from '../src/shipping/freevars.js';

const free = (src: string): string[] => analyzeFunctionSource(src).free;

describe('analyzeFunctionSource: function kinds', () => {
  it('arrows with and without parens, async, expression and block bodies', () => {
    expect(analyzeFunctionSource('x => x + y')).toEqual({
      free: ['y'],
      importMembers: [],
      isMethod: false,
      kind: 'arrow',
    });
    expect(analyzeFunctionSource('(a, b) => { return a + b + c }').kind).toBe('arrow');
    expect(free('(a, b) => { return a + b + c }')).toEqual(['c']);
    expect(free('() => k')).toEqual(['k']);
    expect(analyzeFunctionSource('async x => await x.y(z)').kind).toBe('arrow');
    expect(free('async x => await x.y(z)')).toEqual(['z']);
    expect(analyzeFunctionSource('async (ch, n) => { await ch.send(n * m) }').kind).toBe('arrow');
    expect(free('async (ch, n) => { await ch.send(n * m) }')).toEqual(['m']);
    expect(free('async => async + 1')).toEqual([]); // a parameter named async
  });

  it('function, async function, generators, named and anonymous', () => {
    expect(analyzeFunctionSource('function (a) { return a + b }')).toMatchObject({
      free: ['b'],
      kind: 'function',
      isMethod: false,
    });
    expect(analyzeFunctionSource('function named(a) { return named(a - 1) + b }')).toMatchObject({
      free: ['b'],
      kind: 'function',
    });
    expect(analyzeFunctionSource('async function f() { await g() }')).toMatchObject({
      free: ['g'],
      kind: 'function',
    });
    expect(analyzeFunctionSource('function* gen(n) { const r = yield n; yield* other(r) }')).toMatchObject({
      free: ['other'],
      kind: 'function',
    });
    expect(analyzeFunctionSource('async function* () { for await (const v of src) yield v }')).toMatchObject({
      free: ['src'],
      kind: 'function',
    });
  });

  it('method shorthands are recognised and their name is not a binding', () => {
    const cases: [string, string[]][] = [
      ['foo(a) { return foo(a) + b }', ['foo', 'b']],
      ['async foo() { await bar }', ['bar']],
      ['*gen() { yield x }', ['x']],
      ['async *gen() { yield* y }', ['y']],
      ['get x() { return this._x + z }', ['z']],
      ['set x(v) { this._x = v + w }', ['w']],
      ['[k](v) { return v }', ['k']],
      ["'quoted'(a) { return a }", []],
      ['42() {}', []],
      ['#priv() { return this.#other }', []],
      ['get() { return q }', ['q']],
      ['async() { return r }', ['r']],
      ['class() { return s }', ['s']],
      ['static() {}', []],
    ];
    for (const [src, names] of cases) {
      const r = analyzeFunctionSource(src);
      expect(r.isMethod, src).toBe(true);
      expect(r.kind, src).toBe('method');
      expect(r.free, src).toEqual(names);
    }
  });

  it('classes report kind class', () => {
    expect(analyzeFunctionSource('class A extends B { m() { return c } }')).toMatchObject({
      kind: 'class',
      isMethod: false,
      free: ['B', 'c'],
    });
    expect(analyzeFunctionSource('class { }').kind).toBe('class');
  });

  it('works on the toString() of real functions defined here', () => {
    const limit = 3;
    const arrow = (ch: { send(v: number): void }, n: number): void => {
      for (let i = 0; i < n; i++) ch.send(i * limit);
    };
    expect(analyzeFunctionSource(arrow.toString())).toMatchObject({ free: ['limit'], kind: 'arrow' });

    const selfContained = async (xs: number[]): Promise<number> => {
      let sum = 0;
      for (const x of xs) sum += Math.max(x, 0);
      return JSON.stringify({ sum }).length;
    };
    expect(free(selfContained.toString())).toEqual(['Math', 'JSON']);

    function named(this: unknown, a: number): number {
      return a > 0 ? named(a - 1) : Number(limit);
    }
    expect(analyzeFunctionSource(named.toString())).toMatchObject({
      free: ['Number', 'limit'],
      kind: 'function',
    });

    const obj = {
      method(a: number): number {
        return a + limit;
      },
      async am(): Promise<void> {},
      *gen(): Generator<number> {
        yield limit;
      },
      get g(): number {
        return limit;
      },
    };
    for (const fn of [obj.method, obj.am, obj.gen]) {
      expect(analyzeFunctionSource(fn.toString()).isMethod, fn.toString()).toBe(true);
    }
    expect(free(obj.method.toString())).toEqual(['limit']);
    const getter = Object.getOwnPropertyDescriptor(obj, 'g')?.get;
    expect(getter).toBeDefined();
    expect(analyzeFunctionSource(String(getter))).toMatchObject({ isMethod: true, free: ['limit'] });

    class K {
      static s(x: number): number {
        return x * limit;
      }
      m(): number {
        return limit;
      }
    }
    // V8 drops `static` from the text: `s(x) { ... }`.
    expect(analyzeFunctionSource(K.s.toString())).toMatchObject({ isMethod: true, free: ['limit'] });
    expect(analyzeFunctionSource(K.toString())).toMatchObject({ kind: 'class' });
  });
});

describe('analyzeFunctionSource: lexical grammar', () => {
  it('regex literals containing / and } after ( = return : , and if (...)', () => {
    expect(free('x => x.replace(/a\\/}[/]+/g, y)')).toEqual(['y']);
    expect(free('x => { const r = /}{/; return r.test(x) }')).toEqual([]);
    expect(free('x => { return /[/}]+/.test(x) || z }')).toEqual(['z']);
    expect(free('x => ({ r: /a}b/g, s: [/c/, /d/] })')).toEqual([]);
    expect(free('x => x ? /}/ : /{/')).toEqual([]);
    expect(free('x => { if (x) /re/.test(x); return w }')).toEqual(['w']);
    expect(free('x => typeof /x/ === t')).toEqual(['t']);
  });

  it('division after ) ] identifiers numbers and postfix ++', () => {
    expect(free('x => (a) / b / c')).toEqual(['a', 'b', 'c']);
    expect(free('x => x / 2 / (3) / [4][0] / y')).toEqual(['y']);
    expect(free('x => a++ / b')).toEqual(['a', 'b']);
    expect(free('x => x.return / g')).toEqual(['g']); // a keyword used as property
    expect(free('x => 10 / i / j')).toEqual(['i', 'j']);
  });

  it('template literals with nested ${} holding braces, strings and templates', () => {
    expect(free('x => `a ${b} c`')).toEqual(['b']);
    expect(free('x => `a${b + `c${d}e`}f${ {g}.g }h`')).toEqual(['b', 'd', 'g']);
    expect(free('x => `${ `${ `${deep}` }` }` / n')).toEqual(['deep', 'n']);
    expect(free('x => `${ "}" + \'{\' + `}` }${ {a: k}[x] } notAName ${x}`')).toEqual(['k']);
    expect(free('x => `\\${notInterpolated} \\` still ${inside}`')).toEqual(['inside']);
    expect(free('x => tag`hello ${world}`')).toEqual(['tag', 'world']);
    expect(free('x => { const o = { t: `}` }; return o }')).toEqual([]);
  });

  it('comments containing identifiers, quotes and slashes', () => {
    expect(free("x => { // hidden ' \" ` /re/ {\n return y }")).toEqual(['y']);
    expect(free('x => { /* block } hidden \' " ` */ return z /* trailing */ }')).toEqual(['z']);
    expect(free('x => /* a */ x /* / */ / /* b */ q')).toEqual(['q']);
  });

  it('strings with escapes and line continuations', () => {
    expect(free('x => "a \\" notName" + \'it\\\'s\' + z')).toEqual(['z']);
    expect(free('x => "line \\\n continued" + w')).toEqual(['w']);
    expect(free('x => "line \\\r\n continued" + w')).toEqual(['w']);
    expect(free("x => '}' + '{' + \"`\" + v")).toEqual(['v']);
  });

  it('numeric literals: separators, hex, exponents, bigints, leading dot', () => {
    expect(free('x => 1_000 + 0xff + 0b1010n + 0o17 + 1e3 + 2.5e-3 + 10n + .5 + 5..toString() + u')).toEqual([
      'u',
    ]);
    expect(free('x => a?.5:b')).toEqual(['a', 'b']);
  });

  it('unicode and escaped identifiers', () => {
    expect(free('x => { const ñ = 1; return ñ + ü }')).toEqual(['ü']);
    expect(free('x => { const \\u0061bc = 1; return abc + \\u{64}ef }')).toEqual(['def']);
  });
});

describe('analyzeFunctionSource: references vs non-references', () => {
  it('object literal vs block ambiguity', () => {
    expect(free('x => ({a})')).toEqual(['a']);
    expect(free('x => { a }')).toEqual(['a']);
    expect(free('x => { a: 1 }')).toEqual([]); // a label in a block
    expect(free('x => ({ a: 1 })')).toEqual([]);
    expect(free('x => { return {a, b: c} }')).toEqual(['a', 'c']);
    expect(free('x => { const o = {a: 1}\n {b} }')).toEqual(['b']);
    expect(free('x => { if (x) { p } else { q } }')).toEqual(['p', 'q']);
  });

  it('object keys, shorthand, computed keys, methods and accessors', () => {
    expect(free('x => ({a: b})')).toEqual(['b']);
    expect(free('x => ({[k]: v, "s": t, 1: u, ...rest})')).toEqual(['k', 'v', 't', 'u', 'rest']);
    expect(
      free('x => ({ async, get, set, static: 1, get a() { return g1 }, set a(v) {}, async *b() {}, m() { return h } })'),
    ).toEqual(['async', 'get', 'set', 'g1', 'h']);
    expect(free('x => ({ if: 1, class: 2, new: 3, function() { return f }, default: d })')).toEqual(['f', 'd']);
  });

  it('labels vs ternaries vs object keys vs case', () => {
    expect(free('x => x ? y : z')).toEqual(['y', 'z']);
    expect(free('() => x ? y : z')).toEqual(['x', 'y', 'z']);
    expect(free('x => { outer: for (;;) { inner: while (x) { if (x) continue outer; break inner } } }')).toEqual([]);
    expect(free('x => { lbl: { break lbl } }')).toEqual([]);
    expect(free('x => { switch (x) { case k: l; break; case a ? b : c: { m } default: n } }')).toEqual([
      'k',
      'l',
      'a',
      'b',
      'c',
      'm',
      'n',
    ]);
    expect(free('x => ({ key: cond ? yes : no })')).toEqual(['cond', 'yes', 'no']);
  });

  it('member access and optional chaining are not references', () => {
    expect(free('x => x.a.b + x?.c + y.d')).toEqual(['y']);
    expect(free('x => x?.[k]?.(arg)')).toEqual(['k', 'arg']);
    expect(free('x => x.class + x.function + x.if + x.default + x.new')).toEqual([]);
    expect(free('x => new Foo.Bar(baz)')).toEqual(['Foo', 'baz']);
  });

  it('private names', () => {
    expect(free('x => x.#p + (#q in x)')).toEqual([]);
    expect(free('x => { class C { #p = 1; #m() { return this.#p } static #s; } return C }')).toEqual([]);
  });

  it('typeof still references; this/arguments/super/new.target/import.meta/import() do not', () => {
    expect(free('x => typeof maybe === "undefined"')).toEqual(['maybe']);
    expect(free('function () { return [this, arguments, new.target, import.meta, typeof undeclared] }')).toEqual([
      'undeclared',
    ]);
    expect(free('async () => { const m = await import("x"); return m }')).toEqual([]);
    expect(free('foo() { return super.foo() }')).toEqual([]);
  });

  it('keywords: true/false/null are not reported, undefined/NaN/globals are', () => {
    expect(free('x => [true, false, null, undefined, NaN, Infinity, globalThis, void 0]')).toEqual([
      'undefined',
      'NaN',
      'Infinity',
      'globalThis',
    ]);
    expect(free('x => { debugger; throw new Err(msg) }')).toEqual(['Err', 'msg']);
  });

  it('contextual keywords: async/await/yield/of/get/set/static', () => {
    expect(free('x => async(x)')).toEqual(['async']); // a call of something named async
    expect(free('x => { var async = 1; async(); return async }')).toEqual([]);
    expect(free('async x => { for (const v of await list) yield_(v) }')).toEqual(['list', 'yield_']);
    expect(free('x => { let of = [1]; for (const q of of) use(q) }')).toEqual(['use']);
    expect(free('x => get(x) + set(x) + of')).toEqual(['get', 'set', 'of']);
    expect(free('function* g() { yield x; yield* y }')).toEqual(['x', 'y']);
  });
});

describe('analyzeFunctionSource: bindings', () => {
  it('params, rest, defaults and destructuring', () => {
    expect(free('({a = b, c: [d]} = e) => a + d')).toEqual(['b', 'e']);
    expect(free('({a = b, c: [d], ...e} = f, [g, , h = i, ...j] = k) => a + d + e + g + h + j')).toEqual([
      'b',
      'f',
      'i',
      'k',
    ]);
    expect(free('function f(...args) { return args }')).toEqual([]);
    expect(free('(a, b = a) => b')).toEqual([]);
    expect(free('({ [key]: val }) => val')).toEqual(['key']);
    expect(free('([a, [b, {c}]]) => a + b + c + d')).toEqual(['d']);
  });

  it('var/let/const with patterns and several declarators', () => {
    expect(free('x => { let { a: { b: [c = d] } } = e; return c }')).toEqual(['d', 'e']);
    expect(free('x => { const [p, q] = x, r = p + q; return r + s }')).toEqual(['s']);
    expect(free('x => { var a = 1, b = a\n c }')).toEqual(['c']);
    expect(free('x => { let a = 1\n let b = 2\n a, b\n z = 3 }')).toEqual(['z']);
    expect(free('x => { const f = () => 1, g = y => y + w; return f() + g(1) }')).toEqual(['w']);
  });

  it('destructuring assignment (no declaration) references its targets', () => {
    expect(free('x => { ({ a, b: c } = obj); [d, e] = arr }')).toEqual(['a', 'c', 'obj', 'd', 'e', 'arr']);
  });

  it('for heads: in, of, for-await, classic', () => {
    expect(free('x => { for (const [k, v] of Object.entries(o)) use(k, v) }')).toEqual(['Object', 'o', 'use']);
    expect(free('x => { for (var i in obj) i }')).toEqual(['obj']);
    expect(free('x => { for (let j = 0, n = arr.length; j < n; j++) arr[j] }')).toEqual(['arr']);
    expect(free('async x => { for await (const chunk of stream) chunk }')).toEqual(['stream']);
    expect(free('x => { for (ext of list) {} }')).toEqual(['ext', 'list']);
  });

  it('catch params, function and class declarations, named function expressions', () => {
    expect(free('x => { try { t() } catch ({ message }) { return message } finally { fin() } }')).toEqual([
      't',
      'fin',
    ]);
    expect(free('x => { try {} catch (e) {} return e }')).toEqual(['e']);
    expect(free('x => { return helper(); function helper() { return 1 } }')).toEqual([]);
    expect(free('x => { class A {} return new A() }')).toEqual([]);
    expect(free('x => { const fn = function named() { return named }; return named }')).toEqual(['named']);
    expect(free('x => { const C = class Named { m() { return Named } }; return Named }')).toEqual(['Named']);
  });

  it('class bodies: method and field names are not references; extends, computed keys and initializers are', () => {
    const src =
      'x => { class A extends B { static s = t; #p = q; f; m(n) { return this.#p + n + o } get g() { return u } ' +
      'set g(v) { w = v } static { var sb = 1 } [ck]() {} "str"() {} 42() {} static async *gen() {} } return A }';
    expect(free(src)).toEqual(['B', 't', 'q', 'o', 'u', 'w', 'ck']);
    expect(free('x => { class K { a = 1\n b = c\n static\n f = g\n get; set; static; async; } }')).toEqual([
      'c',
      'g',
    ]);
    expect(free('x => class extends mixin(Base, { k: v }) { constructor() { super(); this.z = z } }')).toEqual([
      'mixin',
      'Base',
      'v',
      'z',
    ]);
    expect(free('x => class extends class extends Deep {} {}')).toEqual(['Deep']);
    expect(
      free('x => [class extends (B1) {}, class extends B2.C {}, class extends f()() {}, class extends B4[k] {}, class extends t`x` {}]'),
    ).toEqual(['B1', 'B2', 'f', 'B4', 'k', 't']);
    expect(free('x => foo(class Named extends B { m(a) { return a + Named } })')).toEqual(['foo', 'B']);
  });

  it('scope precision: shadowed names used outside their scope are reported', () => {
    expect(free('() => { const f = (data) => data.length; return f(data) }')).toEqual(['data']);
    expect(free('x => { { let y = 1 } return y }')).toEqual(['y']);
    expect(free('x => { const f = y => y\n return y }')).toEqual(['y']);
    expect(free('x => [1].map(v => v * 2).filter(w => w > v)')).toEqual(['v']);
    expect(free('function f() { function g(a) {} return a + g }')).toEqual(['a']);
    // hoisting: var, function declarations and later let are visible to earlier code
    expect(free('x => { use = () => later; let later = 1; return v; var v }')).toEqual(['use']);
  });

  it('documented approximations are lenient', () => {
    // a `for (let` binding with a non-block body stays visible to the end of the enclosing block
    expect(free('x => { for (let i = 0; i < 3; i++) x += i; return i }')).toEqual([]);
    // function declarations in blocks are function-scoped (Annex B)
    expect(free('x => { if (x) { function g() {} } return g }')).toEqual([]);
    // await, yield, let, static and arguments are never reported
    expect(free('function () { return [await, yield, let, static, arguments] }')).toEqual([]);
  });

  it('reports names once, in first-appearance order', () => {
    expect(free('x => c + a + b + a + c + x')).toEqual(['c', 'a', 'b']);
  });
});

describe('analyzeFunctionSource: vitest/vite import rewrites', () => {
  it('collects member names and excludes the import identifiers from free', () => {
    expect(
      analyzeFunctionSource('(n) => { const c = __vi_import_0__.chan(n); (0, __vi_import_0__.go)(w, c); return c }'),
    ).toMatchObject({ free: ['w'], importMembers: ['chan', 'go'] });
    expect(
      analyzeFunctionSource('() => (0,__vite_ssr_import_1__.select)([__vite_ssr_import_1__["recv"], __vite_ssr_import_2__?.x])'),
    ).toMatchObject({ free: [], importMembers: ['select', 'recv', 'x'] });
    expect(analyzeFunctionSource('() => use(__vi_import_3__)')).toMatchObject({
      free: ['use'],
      importMembers: ['*'],
    });
    expect(analyzeFunctionSource('() => ({ __vi_import_3__ })').importMembers).toEqual(['*']);
    expect(analyzeFunctionSource('() => __vi_import_x__.y').free).toEqual(['__vi_import_x__']);
  });

  it('handles the rewritten text of functions in this file', () => {
    const fn = (): void => {
      expect(analyzeFunctionSource('x => x').free).toEqual([]);
      describe('never', () => {}); // source text for the analyzer: fn is never called
    };
    const text = fn.toString();
    const r = analyzeFunctionSource(text);
    if (/__vi(?:te_ssr)?_import_\d+__/.test(text)) {
      expect(r.importMembers).toEqual(expect.arrayContaining(['expect', 'analyzeFunctionSource', 'describe']));
      expect(r.free).toEqual([]);
    } else {
      expect(r.free).toEqual(expect.arrayContaining(['expect', 'analyzeFunctionSource', 'describe']));
    }
  });
});

describe('analyzeFunctionSource: robustness', () => {
  const vitestDir = dirname(createRequire(import.meta.url).resolve('vitest/package.json'));
  const files: string[] = [];
  for (const dir of [join(vitestDir, 'dist'), join(vitestDir, 'dist', 'chunks')]) {
    let names: string[] = [];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const p = join(dir, name);
      if (!/\.(?:c|m)?js$/.test(name)) continue;
      const size = statSync(p).size;
      if (size > 10_000 && size < 200_000) files.push(p);
    }
  }
  const sample = files.slice(0, 15);

  it('finds real JS files to chew on', () => {
    expect(sample.length).toBeGreaterThan(3);
  });

  it('returns a report for large real files wrapped in a function', () => {
    for (const p of sample) {
      const r = analyzeFunctionSource(`function(){\n${readFileSync(p, 'utf8')}\n}`);
      expect(Array.isArray(r.free), p).toBe(true);
      expect(Array.isArray(r.importMembers), p).toBe(true);
      expect(r.kind).toBe('function');
    }
  });

  it('never throws on truncated or mangled input', () => {
    let seed = 42;
    const rnd = (k: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % k;
    };
    const junk = ['{', '}', '(', ')', '[', ']', '`', '"', "'", '/', '${', '=>', '\n', '?', ':', 'class ', '/*'];
    for (const p of sample.slice(0, 5)) {
      const text = readFileSync(p, 'utf8');
      for (let k = 0; k < 40; k++) {
        const start = rnd(text.length);
        let s = text.slice(start, start + rnd(3000));
        for (let m = 0; m < 4; m++) {
          const at = rnd(s.length + 1);
          s = s.slice(0, at) + (junk[rnd(junk.length)] ?? '') + s.slice(at + 1);
        }
        for (const src of [s, `x => {${s}}`, `function(){${s}`, `foo(${s}`]) {
          expect(Array.isArray(analyzeFunctionSource(src).free)).toBe(true);
        }
      }
    }
    for (const src of ['', '(', ')', '}', '`${', '/', '/*', '"', 'x =>', 'class extends', 'function', '#', '\\u', '@']) {
      expect(Array.isArray(analyzeFunctionSource(src).free), JSON.stringify(src)).toBe(true);
    }
  });

  it('copes with deep nesting and long chains', () => {
    const n = 5000;
    expect(free('x => ' + '('.repeat(n) + 'y' + ')'.repeat(n))).toEqual(['y']);
    expect(free('x => ' + '`${'.repeat(n) + 'y' + '}`'.repeat(n))).toEqual(['y']);
    expect(free('x => ' + '{a: ['.repeat(n) + 'y' + ']}'.repeat(n))).toEqual(['y']);
    expect(free('x => ' + Array.from({ length: n }, (_, i) => `a${i} =>`).join(' ') + ' a0 + z')).toEqual(['z']);
    expect(free('x => { const ' + '{a:['.repeat(n) + 'q' + ']}'.repeat(n) + ' = o }')).toContain('o');
    expect(free('x => ' + 'class extends '.repeat(n) + 'B {}' + ' {}'.repeat(n - 1))).toEqual(['B']);
  });
});
