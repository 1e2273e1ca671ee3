// A tiny parser for the Prometheus text exposition format (version 0.0.4), enough to check what
// a /metrics endpoint really serves: HELP and TYPE lines, samples with escaped label values.
// Strict on purpose: a line it cannot read throws, so a malformed exposition fails the test.
import http from 'node:http';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly help: ReadonlyMap<string, string>;
  readonly types: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;

function parseValue(s: string, line: string): number {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  const v = Number(s);
  if (s === '' || Number.isNaN(v)) throw new Error(`bad sample value in: ${line}`);
  return v;
}

/** Reads `{a="x",b="y\"z"}` at the start of `s`; returns the labels and the rest. */
function parseLabels(s: string, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  while (true) {
    if (s[i] === '}') return { labels, rest: s.slice(i + 1) };
    const m = LABEL.exec(s.slice(i));
    if (!m || s[i + m[0].length] !== '=' || s[i + m[0].length + 1] !== '"') throw new Error(`bad label in: ${line}`);
    i += m[0].length + 2;
    let v = '';
    while (s[i] !== '"') {
      if (i >= s.length) throw new Error(`unterminated label value in: ${line}`);
      if (s[i] === '\\') {
        const e = s[i + 1];
        v += e === 'n' ? '\n' : e === '\\' ? '\\' : e === '"' ? '"' : `\\${e ?? ''}`;
        i += 2;
      } else {
        v += s[i];
        i++;
      }
    }
    if (m[0] in labels) throw new Error(`duplicate label ${m[0]} in: ${line}`);
    labels[m[0]] = v;
    i++;
    if (s[i] === ',') i++;
    else if (s[i] !== '}') throw new Error(`expected , or } in: ${line}`);
  }
}

export function parseExposition(text: string): Exposition {
  const help = new Map<string, string>();
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line);
      if (!m) continue; // other comments are allowed
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (kind === 'HELP') help.set(name, rest);
      else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) throw new Error(`bad TYPE in: ${line}`);
        if (types.has(name)) throw new Error(`second TYPE for ${name}`);
        types.set(name, rest);
      }
      continue;
    }
    const nm = NAME.exec(line);
    if (!nm) throw new Error(`bad sample line: ${line}`);
    let rest = line.slice(nm[0].length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, line));
    const parts = rest.trim().split(/\s+/);
    if (parts.length < 1 || parts.length > 2 || !/^\s/.test(rest)) throw new Error(`bad sample line: ${line}`);
    samples.push({ name: nm[0], labels, value: parseValue(parts[0] ?? '', line) });
  }
  return { help, types, samples };
}

/** Samples of `name` whose labels include `labels`. */
export function samplesOf(e: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
  return e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** The one value of `name` with exactly these labels; throws when there is none or several. */
export function valueOf(e: Exposition, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const found = e.samples.filter((s) => s.name === name && Object.keys(s.labels).length === Object.keys(labels).length && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name}${JSON.stringify(labels)}`);
  return (found[0] as Sample).value;
}

export interface HttpReply {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
}

/** One plain HTTP request (a real socket, as Prometheus would scrape). */
export function httpGet(url: string, method = 'GET'): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Scrapes `url` and parses it; fails unless it answers 200. */
export async function scrape(url: string): Promise<Exposition> {
  const r = await httpGet(url);
  if (r.status !== 200) throw new Error(`GET ${url}: ${r.status} ${r.body}`);
  return parseExposition(r.body);
}
