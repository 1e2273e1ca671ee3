// Stripe placement: for every block XrdEc draws a fresh random permutation of the K archives
// and puts stripe s in the s-th (XRDEC-FORMAT.md §B). placement[block][stripe] = archive index.
import { randomInt } from 'node:crypto';
import { UsageError } from '../errors.js';

export type Placement = readonly (readonly number[])[];

/** Small seeded PRNG (mulberry32) for reproducible test placements. */
export function seededRandom(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(r * n);
  };
}

export function randomPlacement(archives: number, stripes: number, blocks: number, rand: (n: number) => number = (n) => randomInt(n)): Placement {
  if (archives < stripes) throw new UsageError(`${stripes} stripes need at least ${stripes} archives (output directories), got ${archives}`);
  const out: number[][] = [];
  for (let b = 0; b < blocks; b++) {
    const perm = Array.from({ length: archives }, (_, i) => i);
    for (let i = archives - 1; i > 0; i--) {
      const j = rand(i + 1);
      [perm[i], perm[j]] = [perm[j] as number, perm[i] as number];
    }
    out.push(perm.slice(0, stripes));
  }
  return out;
}

/** Checks an explicit placement: one row per block, N+M archive indices < K (retried writes can put two stripes in one archive). */
export function validatePlacement(p: Placement, archives: number, stripes: number, blocks: number): Placement {
  if (p.length !== blocks) throw new UsageError(`placement has ${p.length} blocks, the object has ${blocks}`);
  p.forEach((row, b) => {
    if (row.length !== stripes) throw new UsageError(`placement of block ${b} names ${row.length} archives, need ${stripes}`);
    for (const a of row) {
      if (!Number.isInteger(a) || a < 0 || a >= archives) throw new UsageError(`placement of block ${b} names archive ${a}, outside 0..${archives - 1}`);
    }
  });
  return p;
}
