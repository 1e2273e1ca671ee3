// Shared fixtures for the codec tests: a seeded PRNG (failures reproduce), the profiles under
// test, erasure-pattern enumeration, and the native codec loaded loudly (no silent skip).
import { NativeCodec } from '../../shared/codec/native-codec.js';
import { TsCodec } from '../../shared/codec/ts-codec.js';

export const PROFILES: ReadonlyArray<readonly [number, number]> = [
  [2, 1],
  [4, 2],
  [8, 2],
  [1, 1],
  [3, 3],
  [10, 4],
];

/** mulberry32: tiny deterministic PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomBuffer(next: () => number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = Math.floor(next() * 256);
  return b;
}

export function randomChunks(next: () => number, count: number, len: number): Buffer[] {
  return Array.from({ length: count }, () => randomBuffer(next, len));
}

/** Lengths around ISA-L's vector-width boundaries plus random odd ones. */
export function testLengths(next: () => number): number[] {
  const fixed = [0, 1, 15, 31, 32, 33, 63, 64, 65, 127, 1000, 4097];
  const random = Array.from({ length: 3 }, () => 1 + 2 * Math.floor(next() * 5000));
  return [...fixed, ...random];
}

/** Every subset of {0..n-1} with 1..maxSize elements, in lexicographic order. */
export function* subsets(n: number, maxSize: number): Generator<number[]> {
  for (let size = 1; size <= maxSize; size++) yield* combinations(n, size, 0);
}

function* combinations(n: number, size: number, from: number): Generator<number[]> {
  if (size === 0) {
    yield [];
    return;
  }
  for (let i = from; i <= n - size; i++) {
    for (const rest of combinations(n, size - 1, i + 1)) yield [i, ...rest];
  }
}

let native: NativeCodec | undefined;

/** The native codec; throws (failing the test) when the addon cannot load. */
export function nativeCodec(): NativeCodec {
  if (native === undefined) {
    try {
      native = new NativeCodec();
    } catch (err) {
      throw new Error(`native addon required by this test did not load (run npm run build:native): ${String(err)}`, { cause: err });
    }
  }
  return native;
}

export const tsCodec = new TsCodec();
