// Words and logical lines of an xrootd config file, the way XRootD's XrdOucStream reads them:
// blank-separated words; a line whose first word starts with `#` is a comment (a `#` later on a
// line is an ordinary word); a line whose last non-blank character is `\` continues on the next
// line that is neither blank nor a comment. Tabs count as blanks.

export interface LogicalLine {
  /** First physical line, 1-based. */
  readonly line: number;
  /** Raw words (no substitution yet), the continuation backslashes removed. */
  readonly words: readonly string[];
  /** Physical line of each word (1-based, parallel to `words`): problems name the word's own line. */
  readonly wordLines: readonly number[];
  /** How many of `words` are on the first physical line (`set` reads no further). */
  readonly firstLineWords: number;
  /** Physical line numbers of blank lines a continuation skipped over (XRootD joins across them). */
  readonly joinedAcrossBlank: readonly number[];
}

function wordsOf(physical: string): string[] {
  return physical.split(/[ \t]+/).filter((w) => w.length > 0);
}

/** Splits file text into logical lines, skipping blanks and comments. */
export function logicalLines(text: string): LogicalLine[] {
  // A CRLF file would otherwise leave `\r` on every last word and break continuations.
  const phys = text.split(/\r?\n/);
  const out: LogicalLine[] = [];
  let i = 0;
  while (i < phys.length) {
    let words = wordsOf(phys[i] as string);
    if (words.length === 0 || (words[0] as string).startsWith('#')) {
      i++;
      continue;
    }
    const start = i + 1;
    const all: string[] = [];
    const allLines: number[] = [];
    const blanks: number[] = [];
    let firstLineWords = -1;
    while (true) {
      const cont = takeContinuation(words);
      all.push(...words);
      for (const _ of words) allLines.push(i + 1);
      if (firstLineWords < 0) firstLineWords = all.length;
      if (!cont) break;
      let j = i + 1;
      const skipped: number[] = [];
      while (j < phys.length) {
        const w = wordsOf(phys[j] as string);
        if (w.length > 0 && !(w[0] as string).startsWith('#')) break;
        if (w.length === 0) skipped.push(j + 1);
        j++;
      }
      if (j >= phys.length) break;
      blanks.push(...skipped);
      words = wordsOf(phys[j] as string);
      i = j;
    }
    out.push({ line: start, words: all, wordLines: allLines, firstLineWords, joinedAcrossBlank: blanks });
    i++;
  }
  return out;
}

/** Strips a trailing `\` from the last word (in place); true when the line continues. */
function takeContinuation(words: string[]): boolean {
  const last = words[words.length - 1];
  if (last === undefined || !last.endsWith('\\')) return false;
  const rest = last.slice(0, -1);
  if (rest.length > 0) words[words.length - 1] = rest;
  else words.pop();
  return true;
}

export interface Substituted {
  readonly text: string;
  readonly problems: readonly string[];
}

const ALNUM = /[A-Za-z0-9]/;
const CLOSERS: Record<string, string> = { '(': ')', '{': '}', '[': ']' };

/**
 * Substitutes `$name`, `$(name)`, `${name}` and `$[name]` in one word as XRootD does: names are
 * letters and digits only; `\c` stands for c; an undefined name becomes empty (a config error,
 * except with `$[name]`, XRootD's "empty if undefined" form); a malformed reference empties
 * the whole word.
 */
export function substitute(word: string, lookup: (name: string) => string | undefined): Substituted {
  const problems: string[] = [];
  let out = '';
  let i = 0;
  while (i < word.length) {
    const c = word[i] as string;
    if (c === '\\') {
      out += word[i + 1] ?? '';
      i += 2;
      continue;
    }
    const next = word[i + 1] ?? '';
    if (c !== '$' || !(ALNUM.test(next) || Object.hasOwn(CLOSERS, next))) {
      out += c;
      i++;
      continue;
    }
    i++;
    const closer = CLOSERS[next];
    if (closer !== undefined) i++;
    const nameStart = i;
    while (i < word.length && ALNUM.test(word[i] as string)) i++;
    const name = word.slice(nameStart, i);
    if (closer !== undefined) {
      if (word[i] !== closer) {
        problems.push(`malformed variable reference in '${word}' (names are letters and digits; XRootD drops the word)`);
        return { text: '', problems };
      }
      i++;
    }
    const value = lookup(name);
    if (value === undefined && closer !== ']') {
      problems.push(`variable '${name}' is undefined (XRootD substitutes nothing and reports a config error)`);
    }
    out += value ?? '';
  }
  return { text: out, problems };
}
