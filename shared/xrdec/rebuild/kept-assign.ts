// Which stripes go to which rebuilt archive when each must keep a known directory
// (kept-directory.ts): the directory decides, not stripe-assign.ts. Every stripe is checked
// against the CRC the directory records before it is handed out.
import type { CrcKind, ErasureCodec } from '../../codec/codec.js';
import { crcOf } from '../../codec/codec.js';
import { DirectoryMismatch, type KeptEntry } from './kept-directory.js';
import type { RebuiltEntry } from './rebuilt-entry.js';

export class KeptAssignment {
  private readonly byBlock = new Map<number, { target: number; entry: KeptEntry }[]>();

  constructor(readonly layouts: readonly (readonly KeptEntry[])[]) {
    layouts.forEach((entries, target) => {
      for (const entry of entries) {
        const list = this.byBlock.get(entry.block) ?? [];
        list.push({ target, entry });
        this.byBlock.set(entry.block, list);
      }
    });
  }

  get targets(): number {
    return this.layouts.length;
  }

  /** Entries over all targets. */
  get size(): number {
    return this.layouts.reduce((n, l) => n + l.length, 0);
  }

  /** The distinct stripes of this block some target holds, ascending. */
  stripesOf(block: number): number[] {
    return [...new Set((this.byBlock.get(block) ?? []).map((x) => x.entry.stripe))].sort((a, b) => a - b);
  }

  /** Target t's entries in directory order. */
  entries(target: number): readonly KeptEntry[] {
    return this.layouts[target] ?? [];
  }

  /** The block's entries per target; `stripe(s)` is the stripe's bytes cut to its stored size. */
  place(block: number, stripe: (s: number) => Buffer, crcKind: CrcKind | undefined, codec: ErasureCodec): RebuiltEntry[][] {
    const out: RebuiltEntry[][] = this.layouts.map(() => []);
    for (const { target, entry } of this.byBlock.get(block) ?? []) {
      const data = stripe(entry.stripe);
      const crc = data.length === 0 || crcKind === undefined ? 0 : crcOf(codec, crcKind, data);
      if (crc >>> 0 !== entry.crc >>> 0) {
        throw new DirectoryMismatch(`rebuilt ${entry.name} has CRC ${(crc >>> 0).toString(16)} but the kept directory says ${(entry.crc >>> 0).toString(16)}: the survivors do not rebuild the archive the .mt file describes; nothing was written`);
      }
      (out[target] as RebuiltEntry[]).push({ name: entry.name, block, stripe: entry.stripe, data, crc, time: entry.time });
    }
    return out;
  }
}
