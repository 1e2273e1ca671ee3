// Which source holds which stripe of which block, found by entry name (never by archive
// position: XRDEC-FORMAT.md §B). Each source's entries are sorted once by (block, stripe) and
// walked with a cursor, so a walk keeps only one block's candidates in memory.
import { blockCount, stripeCount, stripeSize, type EcProfile } from '../profile.js';
import type { ZipEntry } from '../zip-directory.js';
import type { OpenedSource } from './source-set.js';

export interface Candidate {
  readonly source: OpenedSource;
  readonly entry: ZipEntry;
}

export interface BlockCandidates {
  readonly block: number;
  /** stripe → sources holding an entry of the right size for it, in source order. */
  readonly byStripe: ReadonlyMap<number, readonly Candidate[]>;
}

/** Why an entry was not used: a CRC mismatch is evidence of rot, the others need not be. */
export type BadEntryKind = 'crc-mismatch' | 'unreadable' | 'short-read' | 'misfit';

/** An entry that was not used (its source's id, its name, and why). */
export interface BadEntry {
  readonly source: string;
  readonly entry: string;
  readonly reason: string;
  readonly kind: BadEntryKind;
  readonly block: number;
  readonly stripe: number;
  /** crc-mismatch: the central directory's CRC and the one the bytes read have (unsigned). */
  readonly expectedCrc?: number;
  readonly foundCrc?: number;
}

export class StripeIndex {
  readonly blocks: number;
  /** Entries that contradict the geometry (wrong size, outside the object): erasures. */
  readonly misfits: BadEntry[] = [];
  private readonly sorted: (readonly ZipEntry[])[];

  constructor(private readonly profile: EcProfile, readonly filesize: number, private readonly sources: readonly OpenedSource[]) {
    this.blocks = blockCount(profile, filesize);
    const k = stripeCount(profile);
    this.sorted = sources.map((s) => {
      const fit: ZipEntry[] = [];
      for (const e of s.dir.entries) {
        const id = e.stripe;
        if (!id) continue;
        const expected = id.block < this.blocks && id.stripe < k ? stripeSize(profile, filesize, id.block, id.stripe) : -1;
        if (e.size === expected) fit.push(e);
        else this.misfits.push({ source: s.source.id, entry: e.name, kind: 'misfit', block: id.block, stripe: id.stripe, reason: expected < 0 ? 'outside the object for this profile and size' : `size ${e.size}, expected ${expected} for this profile and size` });
      }
      // Already in order for XrdEc's own archives; sorting makes hostile orders harmless.
      return fit.sort((a, b) => (a.stripe?.block ?? 0) - (b.stripe?.block ?? 0) || (a.stripe?.stripe ?? 0) - (b.stripe?.stripe ?? 0));
    });
  }

  /** Every block 0..blocks-1 in order, with its candidates (an empty map when none). */
  *walk(): Generator<BlockCandidates> {
    const cursors = this.sorted.map(() => 0);
    for (let block = 0; block < this.blocks; block++) {
      const byStripe = new Map<number, Candidate[]>();
      this.sorted.forEach((entries, i) => {
        let c = cursors[i] as number;
        for (; c < entries.length && (entries[c] as ZipEntry).stripe?.block === block; c++) {
          const entry = entries[c] as ZipEntry;
          const stripe = entry.stripe?.stripe as number;
          const list = byStripe.get(stripe) ?? [];
          list.push({ source: this.sources[i] as OpenedSource, entry });
          byStripe.set(stripe, list);
        }
        cursors[i] = c;
      });
      yield { block, byStripe };
    }
  }

  /** Stripe indices of a block no source holds, ascending. */
  missing(c: BlockCandidates): number[] {
    const out: number[] = [];
    for (let s = 0; s < stripeCount(this.profile); s++) if (!c.byStripe.has(s)) out.push(s);
    return out;
  }
}
