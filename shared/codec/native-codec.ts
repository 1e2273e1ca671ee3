// ErasureCodec over the ISA-L addon (native/build/Release/ecguard_native.node). The addon checks
// its own arguments; this wrapper only picks decode sources and allocates output buffers.
import { createRequire } from 'node:module';
import path from 'node:path';
import { markAsUntransferable } from 'node:worker_threads';
import type { ErasureCodec, IndexedChunk } from './codec.js';
import { checkIndices, checkLen, checkProfile, pickSources } from './codec-args.js';
import { packageRoot } from './package-root.js';

export interface DecodeCacheStats {
  hits: number;
  misses: number;
  size: number;
}

export interface IsalInfo {
  headerVersion: string;
  library: string;
  binding: string;
  cpu: Record<string, boolean>;
}

/**
 * The addon's exports (native/src/*.cc). Buffers are written in place. The *Async variants use
 * the buffers on a pool thread until the promise settles: meanwhile the caller must not write,
 * transfer (postMessage/structuredClone) or resize them; a transfer frees memory the pool thread
 * still uses (resizable ArrayBuffers are rejected).
 */
export interface NativeAddon {
  ecEncode(k: number, m: number, data: readonly Uint8Array[], parity: readonly Uint8Array[], len: number): void;
  ecDecode(k: number, m: number, srcIdx: readonly number[], src: readonly Uint8Array[], wantIdx: readonly number[], out: readonly Uint8Array[], len: number): void;
  ecEncodeAsync(k: number, m: number, data: readonly Uint8Array[], parity: readonly Uint8Array[], len: number): Promise<void>;
  ecDecodeAsync(k: number, m: number, srcIdx: readonly number[], src: readonly Uint8Array[], wantIdx: readonly number[], out: readonly Uint8Array[], len: number): Promise<void>;
  /** Bytes to skip from buf's start to a 64-byte boundary (0..63). */
  alignOffset(buf: Uint8Array): number;
  crc32c(buf: Uint8Array, prev?: number): number;
  crc32(buf: Uint8Array, prev?: number): number;
  decodeCacheStats(): DecodeCacheStats;
  isalInfo(): IsalInfo;
}

/** ECGUARD_NATIVE_ADDON overrides the path (another build; tests of the fallback). */
export function nativeAddonPath(): string {
  const override = process.env.ECGUARD_NATIVE_ADDON;
  if (override !== undefined && override !== '') return path.resolve(override);
  return path.join(packageRoot(), 'native', 'build', 'Release', 'ecguard_native.node');
}

/** Loads the addon; throws the loader's error (missing file, missing libisal, ABI mismatch). */
export function loadNativeAddon(): NativeAddon {
  const require = createRequire(import.meta.url);
  return require(nativeAddonPath()) as NativeAddon;
}

/** Below this, alignment does not pay for the extra call; Buffer.allocUnsafe uses its pool. */
const ALIGNED_MIN_BYTES = 4096;
const ALIGN = 64;

/**
 * Async inputs stay in use on a pool thread after the call returns; a transfer of their
 * ArrayBuffer meanwhile would free that memory under it. Marking makes a later transfer copy
 * instead (Node 20) or throw (newer Node). Outputs need nothing: no one else holds them yet.
 */
function pin(chunks: readonly unknown[]): void {
  if (!Array.isArray(chunks)) return; // the addon rejects it
  for (const c of chunks) if (c instanceof Uint8Array) markAsUntransferable(c.buffer);
}

export class NativeCodec implements ErasureCodec {
  readonly name = 'native' as const;

  constructor(private readonly addon: NativeAddon = loadNativeAddon()) {}

  encodeInto(k: number, m: number, data: readonly Uint8Array[], parity: readonly Uint8Array[], len: number): void {
    this.addon.ecEncode(k, m, data, parity, len);
  }

  encode(k: number, m: number, data: readonly Uint8Array[], len: number): Buffer[] {
    const parity = this.allocate('encode', k, m, len);
    this.addon.ecEncode(k, m, data, parity, len);
    return parity;
  }

  async encodeAsync(k: number, m: number, data: readonly Uint8Array[], len: number): Promise<Buffer[]> {
    const parity = this.allocate('encodeAsync', k, m, len);
    pin(data);
    await this.addon.ecEncodeAsync(k, m, data, parity, len);
    return parity;
  }

  decode(k: number, m: number, available: readonly IndexedChunk[], want: readonly number[], len: number): Buffer[] {
    const out = this.allocateFor('decode', k, m, want, len);
    const src = pickSources('decode', k, m, available, len);
    this.addon.ecDecode(k, m, src.idx, src.chunks, want, out, len);
    return out;
  }

  /** decode() into caller buffers (each ≥ len bytes), one per `want` entry. */
  decodeInto(k: number, m: number, available: readonly IndexedChunk[], want: readonly number[], out: readonly Uint8Array[], len: number): void {
    checkProfile('decodeInto', k, m);
    checkLen('decodeInto', len);
    const src = pickSources('decodeInto', k, m, available, len);
    this.addon.ecDecode(k, m, src.idx, src.chunks, want, out, len);
  }

  async decodeAsync(k: number, m: number, available: readonly IndexedChunk[], want: readonly number[], len: number): Promise<Buffer[]> {
    const out = this.allocateFor('decodeAsync', k, m, want, len);
    const src = pickSources('decodeAsync', k, m, available, len);
    pin(src.chunks);
    await this.addon.ecDecodeAsync(k, m, src.idx, src.chunks, want, out, len);
    return out;
  }

  crc32c(data: Uint8Array, prev = 0): number {
    return this.addon.crc32c(data, prev);
  }

  crc32(data: Uint8Array, prev = 0): number {
    return this.addon.crc32(data, prev);
  }

  /**
   * An uninitialised buffer for chunk data, 64-byte aligned when large: Node's own large
   * Buffers start 16 bytes past a page boundary, which costs ISA-L ~10-20% on 1 MiB chunks.
   */
  allocChunk(len: number): Buffer {
    if (len < ALIGNED_MIN_BYTES) return Buffer.allocUnsafe(len);
    const raw = Buffer.allocUnsafe(len + ALIGN - 1);
    const skip = this.addon.alignOffset(raw);
    return raw.subarray(skip, skip + len);
  }

  decodeCacheStats(): DecodeCacheStats {
    return this.addon.decodeCacheStats();
  }

  isalInfo(): IsalInfo {
    return this.addon.isalInfo();
  }

  // Checked here as far as needed to size the allocation; the addon checks the rest.
  private allocate(fn: string, k: number, m: number, len: number): Buffer[] {
    checkProfile(fn, k, m);
    checkLen(fn, len);
    return Array.from({ length: m }, () => this.allocChunk(len));
  }

  private allocateFor(fn: string, k: number, m: number, want: readonly number[], len: number): Buffer[] {
    checkProfile(fn, k, m);
    checkLen(fn, len);
    checkIndices(fn, 'want', want, k + m);
    return want.map(() => this.allocChunk(len));
  }
}
