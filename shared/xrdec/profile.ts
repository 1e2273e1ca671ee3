// An erasure-coding profile and the geometry XrdEc derives from it (XRDEC-FORMAT.md §B):
// block b holds file bytes [b·N·C, (b+1)·N·C); data stripe s of a block holds C bytes of it,
// cut at end of file; parity stripes have the size of data stripe 0.
import { UsageError } from '../errors.js';

export interface EcProfile {
  readonly nbData: number;
  readonly nbParity: number;
  readonly chunkSize: number;
}

/** Sanity limits: ISA-L's GF(2^8) allows k+m ≤ 255; chunks above 1 GiB are a typo, not a profile. */
export const MAX_STRIPES = 255;
export const MAX_CHUNK_SIZE = 1 << 30;

export function validateProfile(p: EcProfile): EcProfile {
  const ints: [string, number][] = [['nbdata', p.nbData], ['nbparity', p.nbParity], ['chunksize', p.chunkSize]];
  for (const [name, v] of ints) {
    if (!Number.isSafeInteger(v) || v < 1) throw new UsageError(`${name} must be a positive integer, got ${v}`);
  }
  if (p.nbData + p.nbParity > MAX_STRIPES) {
    throw new UsageError(`nbdata + nbparity must be at most ${MAX_STRIPES}, got ${p.nbData + p.nbParity}`);
  }
  if (p.chunkSize > MAX_CHUNK_SIZE) throw new UsageError(`chunksize must be at most ${MAX_CHUNK_SIZE} bytes, got ${p.chunkSize}`);
  return p;
}

export function stripeCount(p: EcProfile): number {
  return p.nbData + p.nbParity;
}

export function blockBytes(p: EcProfile): number {
  return p.nbData * p.chunkSize;
}

/** Number of blocks of an object of `fileSize` bytes (0 for the empty object). */
export function blockCount(p: EcProfile, fileSize: number): number {
  return Math.ceil(fileSize / blockBytes(p));
}

/** Bytes of the file held by block `block` (r in XRDEC-FORMAT.md; N·C except for the last block). */
export function blockDataLength(p: EcProfile, fileSize: number, block: number): number {
  const start = block * blockBytes(p);
  return Math.max(0, Math.min(blockBytes(p), fileSize - start));
}

/** Stored size of entry obj.<block>.<stripe>. */
export function stripeSize(p: EcProfile, fileSize: number, block: number, stripe: number): number {
  const r = blockDataLength(p, fileSize, block);
  if (stripe >= p.nbData) return Math.min(r, p.chunkSize);
  return Math.max(0, Math.min(p.chunkSize, r - stripe * p.chunkSize));
}

/** Length the codec works with for a block: the size of data stripe 0 (shorter stripes are zero-padded). */
export function codingLength(p: EcProfile, fileSize: number, block: number): number {
  return Math.min(blockDataLength(p, fileSize, block), p.chunkSize);
}

/** Sizes of all N+M entries of one block. */
export function blockStripeSizes(p: EcProfile, fileSize: number, block: number): number[] {
  const sizes: number[] = [];
  for (let s = 0; s < stripeCount(p); s++) sizes.push(stripeSize(p, fileSize, block, s));
  return sizes;
}
