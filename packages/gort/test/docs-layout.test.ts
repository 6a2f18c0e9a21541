/**
 * The documentation's tables, checked against the code, so that they cannot drift.
 *
 * - Every layout table of docs/design/memory-model.md ("Every shared word") and every word
 *   table in a source file's header comment, against the `as const` layout object it
 *   describes, loaded from the built code (dist/): each row's word index and name match the
 *   object, each key of the object has a row, a row spanning words (`8–11`) hides no other
 *   field, and the record size in a section's heading equals the code's size constant
 *   (`<NAME>_BYTES` or `<NAME>_WORDS` beside the object). A field added to a layout and not
 *   documented fails here.
 * - HACKING.md's test table names every test file, and names no file that is gone.
 *
 * Reads files only: no runtime is started.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';

const repo = new URL('../../../', import.meta.url);
const src = new URL('../src/', import.meta.url);
const dist = new URL('../dist/', import.meta.url);
const MODEL = 'docs/design/memory-model.md';

/** memory-model.md sections whose table has no layout object in the code, and why. */
const NO_OBJECT: Record<string, string> = {
  'Heap blocks': 'the block header is the two words before a handle, addressed by offset in heap.ts',
  'Function table entry': 'entries are addressed by offset in shipping/registry.ts',
  'Value slot': 'a slot is addressed by byte offset in value/codec.ts',
  'Shared-buffer record': 'one word, addressed by offset in value/shared.ts',
  'AtomicInt32, AtomicBigInt64': 'one value word',
};
/** Source files whose header table has no layout object, and why. */
const NO_OBJECT_SRC: Record<string, string> = {
  'shipping/registry.ts': 'the function table entry, as above',
};
/** Size constants that are not named after their layout object. */
const SIZE_OF: Record<string, [file: string, name: string]> = {
  RQ: ['sched/threads.ts', 'P_WORDS'],
};

type Layout = Record<string, number>;
interface Row {
  line: string;
  start: number;
  end: number;
  name: string;
}
interface Table {
  title: string;
  file: string | undefined;
  object: string | undefined;
  size: { n: number; unit: 'bytes' | 'words' } | undefined;
  /** The table's lines below its header and separator. */
  body: string[];
}

const read = (u: URL): string => readFileSync(u, 'utf8');
const modules = new Map<string, Promise<Record<string, unknown>>>();
function load(file: string): Promise<Record<string, unknown>> {
  let m = modules.get(file);
  if (m === undefined) {
    m = import(new URL(file.replace(/\.ts$/, '.js'), dist).href) as Promise<Record<string, unknown>>;
    modules.set(file, m);
  }
  return m;
}

function cells(line: string): string[] {
  const inner = line.trim().replace(/^\*\s*/, '').replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.trim());
}

/**
 * The rows of a table whose first two columns are word(s) and name(s). A row whose word cell
 * is not a word index (`BUF[k]`, a continuation line) or describes another use of a word
 * (`0 (free record)`) is not a field and is skipped.
 */
function parseRows(lines: string[], where: string): Row[] {
  const rows: Row[] = [];
  for (const line of lines) {
    const [w = '', n = ''] = cells(line).map((c) => c.replace(/`/g, ''));
    if (!/^[+−-]?\d/.test(w) || /\(/.test(w)) continue;
    const words = w.split(/,\s*/);
    const names = n.split(/,\s*/);
    if (words.length !== names.length) throw new Error(`${where}: a row must name one field per word entry: ${line.trim()}`);
    words.forEach((word, k) => {
      const m = /^\+?(\d+)(?:\s*[–-]\s*(\d+)|\.\..*)?$/.exec(word);
      if (m === null) throw new Error(`${where}: cannot read word "${word}" in: ${line.trim()}`);
      if (/^(\(|—)/.test(names[k]!)) return; // a spare word: "(spare)", "—"
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(names[k]!)?.[0] ?? '';
      const start = Number(m[1]);
      rows.push({ line: line.trim(), start, end: m[2] === undefined ? start : Number(m[2]), name });
    });
  }
  return rows;
}

/** The layout tables of the doc's "Every shared word" section, each under its heading. */
function modelTables(): Table[] {
  const text = read(new URL(MODEL, repo));
  const from = text.indexOf('\n## Every shared word');
  expect(from, `${MODEL} has a section "Every shared word"`).toBeGreaterThan(0);
  const end = text.indexOf('\n## ', from + 1);
  const lines = text.slice(from, end < 0 ? undefined : end).split('\n');
  const tables: Table[] = [];
  let heading: Omit<Table, 'body'> | undefined;
  let body: string[] | undefined;
  const flush = (): void => {
    if (heading !== undefined && body !== undefined && body.length > 2) {
      tables.push({ ...heading, body: body.slice(2) });
    }
    body = undefined;
  };
  for (const line of lines) {
    const h = /^#{3,4} (.+)$/.exec(line);
    if (h !== null) {
      flush();
      const t = h[1]!;
      const paren = /^(.*?) \((.*)\)$/.exec(t);
      const inside = paren?.[2] ?? '';
      const ticks = [...inside.split(';')[0]!.matchAll(/`([^`]+)`/g)].map((x) => x[1]!);
      const size = /;\s*(\d+) (bytes|words)/.exec(inside);
      heading = {
        title: paren?.[1] ?? t,
        file: ticks.find((x) => x.endsWith('.ts')),
        object: ticks.find((x) => /^[A-Z][A-Z0-9_]*$/.test(x)),
        size: size === null ? undefined : { n: Number(size[1]), unit: size[2] as 'bytes' | 'words' },
      };
    } else if (line.startsWith('|')) {
      if (body === undefined) body = [];
      body.push(line);
    } else flush();
  }
  flush();
  return tables;
}

/** The word table in a source file's header comment, if it has one. */
function headerTable(file: string): Row[] | undefined {
  const text = read(new URL(file, src));
  const header = text.slice(0, text.indexOf('*/'));
  const lines = header.split('\n');
  const at = lines.findIndex((l) => /^\s*\*\s*\|\s*word\s*\|\s*name\s*\|/.test(l));
  if (at < 0) return undefined;
  const body: string[] = [];
  for (const l of lines.slice(at + 2)) {
    if (!/^\s*\*\s*\|/.test(l)) break;
    body.push(l);
  }
  return parseRows(body, `src/${file}'s header`);
}

function sourceFiles(dir = ''): string[] {
  return readdirSync(new URL(dir, src), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(`${dir}${e.name}/`) : e.name.endsWith('.ts') ? [`${dir}${e.name}`] : [],
  );
}

/** Layout objects of a module: its exported objects whose values are all numbers. */
function layoutsOf(mod: Record<string, unknown>): Map<string, Layout> {
  const out = new Map<string, Layout>();
  for (const [k, v] of Object.entries(mod)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).length > 0 && Object.values(v).every((x) => typeof x === 'number')) {
      out.set(k, v as Layout);
    }
  }
  return out;
}

const key = (k: string): string => k.replace(/_F64$/, '');

/** What is wrong between a table's rows and a layout object, one message per fault. */
function compare(rows: Row[], layout: Layout, what: string, where: string): string[] {
  const faults: string[] = [];
  const byName = new Map(Object.entries(layout).map(([k, v]) => [key(k), v]));
  for (const r of rows) {
    const v = byName.get(r.name);
    if (v === undefined) faults.push(`${where}: "${r.name}" (word ${r.start}) is not a field of ${what}`);
    else if (v !== r.start) faults.push(`${where}: ${r.name} is word ${r.start} in the table, ${v} in ${what}`);
  }
  const named = new Set(rows.map((r) => r.name));
  for (const [k, v] of Object.entries(layout)) {
    if (!named.has(key(k))) faults.push(`${where}: ${what}.${k} (word ${v}) has no row`);
  }
  for (const r of rows) {
    for (const [k, v] of Object.entries(layout)) {
      if (key(k) !== r.name && v > r.start && v <= r.end) faults.push(`${where}: the row ${r.name} (${r.start}–${r.end}) covers ${what}.${k} (word ${v})`);
    }
  }
  return faults;
}

describe('memory-model.md layout tables match the code', () => {
  const tables = modelTables();

  it('finds the tables', () => {
    expect(tables.length).toBeGreaterThan(15);
    for (const t of tables) {
      if (t.object === undefined) {
        expect(NO_OBJECT[t.title], `"${t.title}" in ${MODEL} names no layout object (\`NAME\` in its heading) and is not listed as having none`).toBeDefined();
      }
    }
    for (const title of Object.keys(NO_OBJECT)) expect(tables.map((t) => t.title), `${MODEL} still has "${title}"`).toContain(title);
  });

  for (const t of tables.filter((x) => x.object !== undefined)) {
    it(`${t.title} (${t.file}, ${t.object})`, async () => {
      expect(t.file, `"${t.title}" names its source file`).toBeDefined();
      const mod = await load(t.file!);
      const layout = mod[t.object!] as Layout | undefined;
      expect(layout, `${t.file} exports ${t.object}`).toBeTypeOf('object');
      const where = `${MODEL}, "${t.title}"`;
      expect(compare(parseRows(t.body, where), layout!, t.object!, where)).toEqual([]);
      const [sf, sn] = SIZE_OF[t.object!] ?? [t.file!, undefined];
      const sm = await load(sf);
      const names = sn !== undefined ? [sn] : [`${t.object}_BYTES`, `${t.object}_WORDS`];
      const found = names.find((n) => typeof sm[n] === 'number');
      if (t.size === undefined) {
        expect(found, `"${t.title}" states no size, but ${sf} has ${found}`).toBeUndefined();
        return;
      }
      expect(found, `"${t.title}" states ${t.size.n} ${t.size.unit}: ${sf} must export ${names.join(' or ')}`).toBeDefined();
      const code = sm[found!] as number;
      const unit = found!.endsWith('_BYTES') ? 'bytes' : 'words';
      const words = (n: number, u: string): number => (u === 'bytes' ? n / 4 : n);
      expect(words(t.size.n, t.size.unit), `"${t.title}": ${t.size.n} ${t.size.unit} in ${MODEL}, ${found} = ${code} ${unit}`).toBe(words(code, unit));
    });
  }
});

describe('source header tables match the code', () => {
  const documented = new Set(modelTables().map((t) => t.object));
  const files = sourceFiles().filter((f) => headerTable(f) !== undefined);

  it('finds the header tables', () => {
    expect(files).toContain('heap/layout.ts');
    expect(files.length).toBeGreaterThan(12);
  });

  for (const file of files) {
    it(file, async () => {
      const rows = headerTable(file)!;
      if (NO_OBJECT_SRC[file] !== undefined) return;
      const layouts = layoutsOf(await load(file));
      const first = rows[0]!;
      const hit = [...layouts].find(([, l]) => Object.entries(l).some(([k, v]) => key(k) === first.name && v === first.start));
      expect(hit, `src/${file}: no exported layout object has ${first.name} = ${first.start} (export the \`as const\` object the table describes)`).toBeDefined();
      const [name, layout] = hit!;
      expect(compare(rows, layout, name, `src/${file}'s header`)).toEqual([]);
      expect(documented.has(name), `${name} (src/${file}) has no section in ${MODEL}, "Every shared word"`).toBe(true);
    });
  }
});

describe("HACKING.md's test table", () => {
  it('names every test file, and only files that exist', () => {
    const hacking = read(new URL('HACKING.md', repo));
    const section = hacking.slice(hacking.indexOf('## Where tests live'), hacking.indexOf('\n## ', hacking.indexOf('## Where tests live') + 1));
    const named = new Set([...section.matchAll(/`([^`\s]+\.(?:test\.ts|mjs|ts|mts))`/g)].map((m) => m[1]!));
    const tests = new URL('../test/', import.meta.url);
    const list = (dir: string): string[] =>
      readdirSync(new URL(dir, tests), { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? list(`${dir}${e.name}/`) : e.name.endsWith('.test.ts') ? [`${dir}${e.name}`] : [],
      );
    // Another package's tests are named by their path from the repository root.
    const others = readdirSync(new URL('packages/', repo), { withFileTypes: true }).flatMap((p) => {
      if (!p.isDirectory() || p.name === 'gort') return [];
      const dir = new URL(`packages/${p.name}/test/`, repo);
      const walk = (sub: string): string[] =>
        readdirSync(new URL(sub, dir), { withFileTypes: true }).flatMap((e) =>
          e.isDirectory() ? walk(`${sub}${e.name}/`) : e.name.endsWith('.test.ts') ? [`packages/${p.name}/test/${sub}${e.name}`] : [],
        );
      try {
        return walk('');
      } catch {
        return []; // no test folder
      }
    });
    const files = [...list(''), ...others];
    const missing = files.filter((f) => !named.has(f));
    expect(missing, 'test files HACKING.md does not name (give each a row in "Where tests live")').toEqual([]);
    const present = new Set(files);
    const gone = [...named].filter((n) => n.endsWith('.test.ts') && !present.has(n));
    expect(gone, 'HACKING.md names test files that do not exist').toEqual([]);
  });
});
