// Argument checks for the TypeScript side of both codecs, with the same error types and wording
// as the native addon: TypeError for wrong kinds of values, RangeError for out-of-range ones.
import type { IndexedChunk } from './codec.js';

export const MAX_STRIPES = 255;

function int(fn: string, name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number') throw new TypeError(`${fn}: ${name} must be a number`);
  if (!Number.isInteger(v)) throw new TypeError(`${fn}: ${name} must be an integer, got ${v}`);
  if (v < min || v > max) throw new RangeError(`${fn}: ${name} must be in [${min}, ${max}], got ${v}`);
  return v;
}

export function checkProfile(fn: string, k: unknown, m: unknown): void {
  int(fn, 'k', k, 1, MAX_STRIPES - 1);
  int(fn, 'm', m, 1, MAX_STRIPES - 1);
  if ((k as number) + (m as number) > MAX_STRIPES) {
    throw new RangeError(`${fn}: k + m must be at most ${MAX_STRIPES}, got ${(k as number) + (m as number)}`);
  }
}

export function checkLen(fn: string, len: unknown): void {
  int(fn, 'len', len, 0, 0x7fffffff);
}

export function checkBytes(fn: string, name: string, v: unknown): asserts v is Uint8Array {
  if (!(v instanceof Uint8Array)) throw new TypeError(`${fn}: ${name} must be a Buffer or Uint8Array`);
}

export function checkChunks(fn: string, name: string, arr: unknown, count: number, len: number): void {
  if (!Array.isArray(arr)) throw new TypeError(`${fn}: ${name} must be an array of Buffers`);
  if (arr.length !== count) throw new RangeError(`${fn}: ${name} must hold ${count} buffers, got ${arr.length}`);
  arr.forEach((b: unknown, j) => {
    checkBytes(fn, `${name}[${j}]`, b);
    if (b.length < len) throw new RangeError(`${fn}: ${name}[${j}] holds ${b.length} bytes, fewer than len ${len}`);
  });
}

export function checkIndices(fn: string, name: string, arr: unknown, n: number): void {
  if (!Array.isArray(arr)) throw new TypeError(`${fn}: ${name} must be an array of stripe indices`);
  arr.forEach((v: unknown, j) => checkIndex(fn, `${name}[${j}]`, v, n));
}

function checkIndex(fn: string, label: string, v: unknown, n: number): asserts v is number {
  if (typeof v !== 'number') throw new TypeError(`${fn}: ${label} must be a number`);
  if (!Number.isInteger(v) || v < 0 || v >= n) {
    throw new RangeError(`${fn}: ${label} must be an integer stripe index in [0, ${n - 1}], got ${v}`);
  }
}

export function checkCrcArgs(fn: string, data: unknown, prev: unknown): void {
  checkBytes(fn, 'buf', data);
  int(fn, 'prev', prev, 0, 0xffffffff);
}

/** The k lowest distinct available stripes (data first: the cheapest inversion). */
export interface Sources {
  readonly idx: number[];
  readonly chunks: Uint8Array[];
}

export function pickSources(fn: string, k: number, m: number, available: unknown, len: number): Sources {
  if (!Array.isArray(available)) throw new TypeError(`${fn}: available must be an array of { index, data }`);
  const byIndex = new Map<number, Uint8Array>();
  available.forEach((c: unknown, j) => {
    if (typeof c !== 'object' || c === null) throw new TypeError(`${fn}: available[${j}] must be { index, data }`);
    const { index, data } = c as Partial<IndexedChunk>;
    checkIndex(fn, `available[${j}].index`, index, k + m);
    checkBytes(fn, `available[${j}].data`, data);
    if (data.length < len) throw new RangeError(`${fn}: available[${j}].data holds ${data.length} bytes, fewer than len ${len}`);
    if (!byIndex.has(index)) byIndex.set(index, data);
  });
  if (byIndex.size < k) {
    throw new RangeError(`${fn}: needs k = ${k} distinct available stripes, got ${byIndex.size}`);
  }
  const idx = [...byIndex.keys()].sort((a, b) => a - b).slice(0, k);
  return { idx, chunks: idx.map((i) => byIndex.get(i)!) };
}
