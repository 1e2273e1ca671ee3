// PostgreSQL text cannot hold U+0000, and agents report strings read from disk (a Pfn xattr,
// a parse error quoting a zip entry name) that can. SQLite stores them as they are, so every
// string the PG store binds is encoded on the way in and decoded on the way out:
//   U+0000 → U+0001 U+0001,  U+0001 → U+0001 U+0002,  everything else unchanged.
// The codes form a prefix code in the order of the characters they stand for, so the encoding
// keeps code point order (= byte order under COLLATE "C", = SQLite's BINARY order) and prefixes:
// ORDER BY, ranges and prefix queries work on the encoded values exactly as on the originals.
// Strings without U+0000 or U+0001 (nearly all) pass through untouched.

const NUL = '\u0000';
const ONE = '\u0001';

export function encodeText(s: string): string {
  if (!s.includes(NUL) && !s.includes(ONE)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    out += c === NUL ? ONE + ONE : c === ONE ? ONE + '\u0002' : c;
  }
  return out;
}

export function decodeText(s: string): string {
  if (!s.includes(ONE)) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c !== ONE) out += c;
    else out += s[++i] === ONE ? NUL : ONE; // the code's second unit: U+0001 or U+0002
  }
  return out;
}

/** A query parameter with its strings encoded (arrays element by element, for unnest). */
export function encodeParam(v: unknown): unknown {
  if (typeof v === 'string') return encodeText(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? encodeText(x) : x));
  return v;
}
