// Pure TypeScript Reed-Solomon + CRCs, bit-identical to the ISA-L addon: the fallback when the
// addon is missing and the oracle the tests compare it with. ~100x slower than ISA-L.
import type { ErasureCodec, IndexedChunk } from './codec.js';
import { checkChunks, checkIndices, checkLen, checkProfile, pickSources } from './codec-args.js';
import { cauchy1Generator, decodeRows, gfMulTable } from './gf256.js';
import { softCrc32, softCrc32c } from './soft-crc.js';

/** Bytes per inner pass: keeps the output block and a source block in L1 across k passes. */
const BLOCK = 16 * 1024;
const DECODE_CACHE_LIMIT = 64;

/**
 * outs[r][0..len) = Σ_j coefs[r·k + j] · srcs[j][0..len) over GF(2^8). Blocked so an output block
 * stays in cache across the k sources; sources are taken four at a time (one store per four
 * lookups), indexing the 64 KiB multiply table as (coef << 8) | byte.
 */
export function applyRows(coefs: Uint8Array, k: number, srcs: readonly Uint8Array[], outs: readonly Uint8Array[], len: number): void {
  const mul = gfMulTable();
  for (let start = 0; start < len; start += BLOCK) {
    const end = Math.min(len, start + BLOCK);
    for (let r = 0; r < outs.length; r++) {
      const out = outs[r]!;
      const c = coefs.subarray(r * k, r * k + k);
      let j = 0;
      for (; j + 4 <= k; j += 4) {
        mul4(out, mul, j === 0, c[j]! << 8, srcs[j]!, c[j + 1]! << 8, srcs[j + 1]!, c[j + 2]! << 8, srcs[j + 2]!, c[j + 3]! << 8, srcs[j + 3]!, start, end);
      }
      for (; j < k; j++) mul1(out, mul, j === 0, c[j]! << 8, srcs[j]!, start, end);
    }
  }
}

function mul4(
  out: Uint8Array, mul: Uint8Array, first: boolean,
  c0: number, s0: Uint8Array, c1: number, s1: Uint8Array, c2: number, s2: Uint8Array, c3: number, s3: Uint8Array,
  start: number, end: number,
): void {
  if (first) {
    for (let i = start; i < end; i++) out[i] = mul[c0 | s0[i]!]! ^ mul[c1 | s1[i]!]! ^ mul[c2 | s2[i]!]! ^ mul[c3 | s3[i]!]!;
  } else {
    for (let i = start; i < end; i++) out[i]! ^= mul[c0 | s0[i]!]! ^ mul[c1 | s1[i]!]! ^ mul[c2 | s2[i]!]! ^ mul[c3 | s3[i]!]!;
  }
}

function mul1(out: Uint8Array, mul: Uint8Array, first: boolean, c: number, s: Uint8Array, start: number, end: number): void {
  if (first) {
    for (let i = start; i < end; i++) out[i] = mul[c | s[i]!]!;
  } else {
    for (let i = start; i < end; i++) out[i]! ^= mul[c | s[i]!]!;
  }
}

export class TsCodec implements ErasureCodec {
  readonly name = 'typescript' as const;
  private readonly parityRows = new Map<string, Uint8Array>();
  private readonly decodeCache = new Map<string, Uint8Array>();

  encodeInto(k: number, m: number, data: readonly Uint8Array[], parity: readonly Uint8Array[], len: number): void {
    this.checkEncode('encodeInto', k, m, data, len);
    checkChunks('encodeInto', 'parity', parity, m, len);
    applyRows(this.parityCoefs(k, m), k, data, parity, len);
  }

  encode(k: number, m: number, data: readonly Uint8Array[], len: number): Buffer[] {
    this.checkEncode('encode', k, m, data, len);
    const parity = Array.from({ length: m }, () => Buffer.allocUnsafe(len));
    applyRows(this.parityCoefs(k, m), k, data, parity, len);
    return parity;
  }

  async encodeAsync(k: number, m: number, data: readonly Uint8Array[], len: number): Promise<Buffer[]> {
    return this.encode(k, m, data, len);
  }

  decode(k: number, m: number, available: readonly IndexedChunk[], want: readonly number[], len: number): Buffer[] {
    checkLen('decode', len);
    const out = Array.isArray(want) ? want.map(() => Buffer.allocUnsafe(len)) : [];
    this.decodeChecked('decode', k, m, available, want, out, len);
    return out;
  }

  /** decode() into caller buffers (each ≥ len bytes), one per `want` entry. */
  decodeInto(k: number, m: number, available: readonly IndexedChunk[], want: readonly number[], out: readonly Uint8Array[], len: number): void {
    this.decodeChecked('decodeInto', k, m, available, want, out, len);
  }

  async decodeAsync(k: number, m: number, available: readonly IndexedChunk[], want: readonly number[], len: number): Promise<Buffer[]> {
    return this.decode(k, m, available, want, len);
  }

  crc32c(data: Uint8Array, prev = 0): number {
    return softCrc32c(data, prev);
  }

  crc32(data: Uint8Array, prev = 0): number {
    return softCrc32(data, prev);
  }

  private decodeChecked(
    fn: string, k: number, m: number, available: readonly IndexedChunk[], want: readonly number[], out: readonly Uint8Array[], len: number,
  ): void {
    checkProfile(fn, k, m);
    checkLen(fn, len);
    checkIndices(fn, 'want', want, k + m);
    checkChunks(fn, 'out', out, want.length, len);
    const src = pickSources(fn, k, m, available, len);
    if (want.length > 0) applyRows(this.decodeCoefs(k, m, src.idx, want), k, src.chunks, out, len);
  }

  private checkEncode(fn: string, k: number, m: number, data: readonly Uint8Array[], len: number): void {
    checkProfile(fn, k, m);
    checkLen(fn, len);
    checkChunks(fn, 'data', data, k, len);
  }

  private parityCoefs(k: number, m: number): Uint8Array {
    const key = `${k}+${m}`;
    let rows = this.parityRows.get(key);
    if (rows === undefined) {
      rows = cauchy1Generator(k, m).slice(k * k);
      this.parityRows.set(key, rows);
    }
    return rows;
  }

  // Small LRU (Map keeps insertion order): repairs repeat the same few erasure patterns.
  private decodeCoefs(k: number, m: number, src: readonly number[], want: readonly number[]): Uint8Array {
    const key = `${k}+${m}:${src.join(',')}>${want.join(',')}`;
    let rows = this.decodeCache.get(key);
    if (rows !== undefined) {
      this.decodeCache.delete(key);
    } else {
      rows = decodeRows(k, m, src, want);
      if (this.decodeCache.size >= DECODE_CACHE_LIMIT) this.decodeCache.delete(this.decodeCache.keys().next().value!);
    }
    this.decodeCache.set(key, rows);
    return rows;
  }
}
