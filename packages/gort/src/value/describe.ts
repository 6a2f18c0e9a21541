/**
 * describe(v): a short, safe description of a value for a misuse error ("got …"): never
 * throws, never calls user code beyond reading a constructor's name, and never prints a
 * large value whole. Any thread.
 */
export function describe(v: unknown): string {
  switch (typeof v) {
    case 'undefined':
      return 'undefined';
    case 'number':
    case 'boolean':
    case 'bigint':
      return `${typeof v} ${String(v)}${typeof v === 'bigint' ? 'n' : ''}`;
    case 'string':
      return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    case 'symbol':
      return 'a symbol';
    case 'function':
      return `function ${(v as { name?: string }).name || '(anonymous)'}`;
    default:
      break;
  }
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  let name = 'unknown';
  try {
    const proto = Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null;
    if (proto === null) return 'an object with a null prototype';
    const n = proto.constructor?.name;
    if (typeof n === 'string' && n !== '') name = n;
  } catch {
    return 'an object';
  }
  return name === 'Object' ? 'a plain object' : `a ${name}`;
}
