// Turns zod issues on a parsed YAML document into operator messages
// `FILE:LINE: key.path: what is wrong, got VALUE`, the line taken from the YAML node.
import { isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import type { z } from 'zod';

export interface YamlSource {
  readonly file: string;
  readonly doc: Document;
  readonly lineCounter: LineCounter;
}

type Path = readonly PropertyKey[];

/** The minimal view of a zod schema's definition this file walks. */
interface SchemaLike {
  readonly def: object;
}
interface Def {
  readonly type: string;
  readonly shape?: Record<string, SchemaLike>;
  readonly innerType?: SchemaLike;
  readonly in?: SchemaLike;
  readonly element?: SchemaLike;
}

const TYPE_TEXT: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

export function formatIssues(issues: readonly z.core.$ZodIssue[], src: YamlSource, schema: SchemaLike): string[] {
  const out: { line: number; text: string }[] = [];
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      const known = keysAt(schema, iss.path);
      for (const k of iss.keys) {
        const p = [...iss.path, k];
        const hint = suggestion(k, known);
        const list = known.length > 0 ? ` (known keys here: ${known.join(', ')})` : '';
        out.push({ line: lineOf(src, p), text: `${keyPath(p)}: unknown key${hint ? `; did you mean ${hint}?` : list}` });
      }
      continue;
    }
    out.push({ line: lineOf(src, iss.path), text: `${keyPath(iss.path) || '(top level)'}: ${describe(iss)}` });
  }
  return out.sort((a, b) => a.line - b.line).map((o) => `${src.file}:${o.line}: ${o.text}`);
}

/** `scan.fullScanInterval`, `spaces[1].path`. */
export function keyPath(path: Path): string {
  let s = '';
  for (const seg of path) s += typeof seg === 'number' ? `[${seg}]` : s === '' ? String(seg) : `.${String(seg)}`;
  return s;
}

/** Line of the deepest node of `path` that exists (the key's line for mapping entries). */
export function lineOf(src: YamlSource, path: Path): number {
  let node: unknown = src.doc.contents;
  let offset = (node as Node | null)?.range?.[0] ?? 0;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) break;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (item === undefined) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return src.lineCounter.linePos(offset).line;
}

function describe(iss: z.core.$ZodIssue): string {
  const got = iss.input === undefined ? '' : `, got ${show(iss.input)}`;
  // Our own messages say what was expected; zod's defaults ("Invalid input: …") are replaced.
  const withGot = (m: string): string => (/^(expected|must) /.test(m) ? `${m}${got}` : m);
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'required key is missing';
      if (iss.message.startsWith('expected ')) return withGot(iss.message);
      // YAML reads `serverId: 07` as the number 7: say how to keep it text.
      if (iss.expected === 'string' && (typeof iss.input === 'number' || typeof iss.input === 'boolean')) {
        return `expected a string${got} (quote the value to keep it as written)`;
      }
      return `expected ${TYPE_TEXT[iss.expected] ?? iss.expected}${got}`;
    case 'too_small':
      if (iss.origin === 'string') return 'must not be empty';
      if (iss.origin === 'array') return `must list at least ${iss.minimum} entr${Number(iss.minimum) === 1 ? 'y' : 'ies'}`;
      return `must be ${iss.inclusive ? 'at least' : 'greater than'} ${iss.minimum}${got}`;
    case 'too_big':
      return `must be ${iss.inclusive ? 'at most' : 'less than'} ${iss.maximum}${got}`;
    case 'invalid_value':
      return `expected ${iss.values.map(show).join(' or ')}${got}`;
    default:
      return withGot(iss.message);
  }
}

function show(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

function unwrap(s: SchemaLike): SchemaLike {
  let cur = s;
  for (;;) {
    const d = cur.def as Def;
    const next = ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch'].includes(d.type) ? d.innerType : d.type === 'pipe' ? d.in : undefined;
    if (next === undefined) return cur;
    cur = next;
  }
}

function schemaAt(schema: SchemaLike, path: Path): SchemaLike | undefined {
  let cur: SchemaLike | undefined = schema;
  for (const seg of path) {
    if (cur === undefined) return undefined;
    const d = unwrap(cur).def as Def;
    cur = d.type === 'object' ? d.shape?.[String(seg)] : d.type === 'array' ? d.element : undefined;
  }
  return cur === undefined ? undefined : unwrap(cur);
}

/** Keys a mapping at `path` may have (empty when the schema there is not a mapping). */
export function keysAt(schema: SchemaLike, path: Path): string[] {
  const s = schemaAt(schema, path);
  const d = s?.def as Def | undefined;
  return d?.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}

/** Every key path the schema allows, lists as `name[]` (`scan.workers`, `spaces[].path`). */
export function schemaKeyPaths(schema: SchemaLike, prefix = ''): string[] {
  const d = unwrap(schema).def as Def;
  if (d.type === 'array' && d.element) return schemaKeyPaths(d.element, `${prefix}[]`);
  if (d.type !== 'object' || !d.shape) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(d.shape)) {
    const p = prefix === '' ? k : `${prefix}.${k}`;
    out.push(p, ...schemaKeyPaths(v, p));
  }
  return out;
}

/** A known key close to a misspelt one (case or a two-letter slip), if any. */
function suggestion(key: string, known: readonly string[]): string | undefined {
  return known.find((k) => k.toLowerCase() === key.toLowerCase()) ?? known.find((k) => distance(k.toLowerCase(), key.toLowerCase()) <= 2);
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[b.length] as number;
}
