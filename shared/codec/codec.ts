// The codec interface: Reed-Solomon over GF(2^8) with XrdEc's generator (ISA-L
// gf_gen_cauchy1_matrix), plus the two CRCs XrdEc archives use. Two implementations give
// bit-identical results: the native ISA-L addon (fast) and a pure TypeScript one (fallback and
// test oracle).

export type CrcKind = 'crc32c' | 'crc32';

/** One available chunk for decoding: its stripe index (0..k+m-1) and its bytes (≥ len). */
export interface IndexedChunk {
  readonly index: number;
  readonly data: Uint8Array;
}

export interface ErasureCodec {
  readonly name: 'native' | 'typescript';

  /** Writes m parity chunks of `len` bytes into `parity` from k data chunks of ≥ len bytes each. */
  encodeInto(k: number, m: number, data: readonly Uint8Array[], parity: readonly Uint8Array[], len: number): void;
  /** Same as encodeInto, allocating the parity buffers. */
  encode(k: number, m: number, data: readonly Uint8Array[], len: number): Buffer[];
  /** Runs off the event loop where the implementation can (native: libuv thread pool). */
  encodeAsync(k: number, m: number, data: readonly Uint8Array[], len: number): Promise<Buffer[]>;

  /**
   * Rebuilds the chunks whose indices are in `want` (data or parity, each 0..k+m-1) from the
   * `available` chunks. At least k distinct available indices are needed; the k lowest are used
   * (data stripes first, the cheapest inversion). Returns one buffer of `len` bytes per `want`
   * entry, in order.
   */
  decode(k: number, m: number, available: readonly IndexedChunk[], want: readonly number[], len: number): Buffer[];
  decodeAsync(k: number, m: number, available: readonly IndexedChunk[], want: readonly number[], len: number): Promise<Buffer[]>;

  /** CRC-32C (Castagnoli); `prev` chains: crc32c(b, crc32c(a)) === crc32c(a ++ b). */
  crc32c(data: Uint8Array, prev?: number): number;
  /** zip/gzip CRC-32; `prev` chains the same way. */
  crc32(data: Uint8Array, prev?: number): number;
}

/** Check values of the two CRCs over ASCII "123456789". */
export const CRC_CHECK_VALUES: Readonly<Record<CrcKind, number>> = { crc32c: 0xe3069283, crc32: 0xcbf43926 };

export function crcOf(codec: ErasureCodec, kind: CrcKind, data: Uint8Array): number {
  return kind === 'crc32c' ? codec.crc32c(data) : codec.crc32(data);
}
