// Verification before a repair is reported done (DESIGN.md §7.4): re-read the written archive
// (directory, exact entry names and sizes, every CRC, xattrs), and, with the whole stripe set of
// the object at hand (survivors + rebuilt), recompute parity and compare it byte for byte.
import { getAttribute } from 'fs-xattr';
import type { CrcKind, ErasureCodec } from '../../shared/codec/codec.js';
import { errnoCode, errorText } from '../../shared/errors.js';
import { crcMatches } from '../../shared/xrdec/archive-summary.js';
import { codingLength, stripeCount, type EcProfile } from '../../shared/xrdec/profile.js';
import { entryCrcOk } from '../../shared/xrdec/rebuild/block-reader.js';
import { openSourceSet } from '../../shared/xrdec/rebuild/source-set.js';
import { StripeIndex } from '../../shared/xrdec/rebuild/stripe-index.js';
import { localArchiveSource, type StripeSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import { FILESIZE, STRPVER, type XattrNamespace } from '../../shared/xrdec/xattrs.js';

export interface ArchiveExpectation {
  /** Every entry the archive must hold, in order. */
  readonly entries: Iterable<{ readonly name: string; readonly size: number }>;
  /** undefined only for an archive without non-empty entries. */
  readonly crcKind?: CrcKind;
  /** Raw attribute texts, compared byte for byte. */
  readonly version: { readonly strpverText: string; readonly filesizeText: string };
  readonly xattrNamespace?: XattrNamespace;
  /** The Pfn it must carry (without the NUL xrootd appends). */
  readonly pfn?: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly entries: number;
  readonly problems: string[];
}

const MAX_PROBLEMS = 50;

export async function verifyArchive(path: string, exp: ArchiveExpectation, codec: ErasureCodec): Promise<VerifyReport> {
  const problems: string[] = [];
  const note = (p: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const ns = exp.xattrNamespace ?? 'user.U.';
  const wantAttrs: [string, Buffer][] = [
    [ns + STRPVER, Buffer.from(exp.version.strpverText, 'latin1')],
    [ns + FILESIZE, Buffer.from(exp.version.filesizeText, 'latin1')],
  ];
  if (exp.pfn !== undefined) wantAttrs.push(['user.XrdFrm.Pfn', Buffer.concat([Buffer.from(exp.pfn, 'utf8'), Buffer.from([0])])]);
  for (const [name, want] of wantAttrs) {
    const got = await getAttribute(path, name).catch((err: unknown) => errnoCode(err) ?? errorText(err));
    if (typeof got === 'string') note(`${name}: cannot be read (${got})`);
    else if (!got.equals(want)) note(`${name} is ${JSON.stringify(got.toString('latin1'))}, expected ${JSON.stringify(want.toString('latin1'))}`);
  }
  const src = localArchiveSource(path);
  let count = 0;
  try {
    const dir = await src.directory();
    const expected = exp.entries[Symbol.iterator]();
    for (const e of dir.entries) {
      const want = expected.next();
      count++;
      if (want.done) {
        note(`unexpected entry ${e.name}`);
        continue;
      }
      if (e.name !== want.value.name || e.size !== want.value.size) {
        note(`entry ${count - 1} is ${e.name} (${e.size} bytes), expected ${want.value.name} (${want.value.size} bytes)`);
      }
      const data = await src.readEntry(e);
      const ok = exp.crcKind === undefined ? e.size === 0 && e.crc === 0 : crcMatches(codec, exp.crcKind, data, e.crc);
      if (!ok) note(`${e.name}: CRC mismatch (stored ${(e.crc >>> 0).toString(16)}, ${exp.crcKind ?? 'no CRC kind for non-empty entries'})`);
    }
    let rest = 0;
    for (let w = expected.next(); !w.done; w = expected.next()) if (rest++ === 0) note(`entry ${w.value.name} is missing`);
    if (rest > 1) note(`${rest} expected entries are missing in all`);
  } catch (err) {
    note(`cannot read the archive: ${errorText(err)}`);
  } finally {
    await src.close();
  }
  return { ok: problems.length === 0, entries: count, problems };
}

export interface StripeSetReport {
  readonly ok: boolean;
  /** Blocks whose N+M stripes were all present and checked. */
  readonly checkedBlocks: number;
  /** Blocks skipped because a stripe is missing everywhere (no full set to compare). */
  readonly incompleteBlocks: number;
  readonly problems: string[];
}

/**
 * Reads every copy of every stripe of the chosen blocks from all archives of the object and
 * recomputes parity from the data stripes: any CRC failure, disagreeing copies or parity
 * mismatch is a problem. Use it with the survivors plus the rebuilt archives.
 */
export async function verifyStripeSet(o: {
  readonly profile: EcProfile;
  readonly sources: readonly StripeSource[];
  readonly codec: ErasureCodec;
  readonly crcKind?: CrcKind;
  /** Which blocks to check (default: all). */
  readonly blockFilter?: (block: number) => boolean;
}): Promise<StripeSetReport> {
  const problems: string[] = [];
  const note = (p: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  const set = await openSourceSet(o.sources);
  const index = new StripeIndex(o.profile, set.version.filesize, set.used);
  for (const m of index.misfits) note(`${m.source} ${m.entry}: ${m.reason}`);
  const n = o.profile.nbData;
  const k = stripeCount(o.profile);
  let checkedBlocks = 0;
  let incompleteBlocks = 0;
  for (const c of index.walk()) {
    if (o.blockFilter && !o.blockFilter(c.block)) continue;
    const stripes = new Map<number, Buffer>();
    for (const [s, list] of c.byStripe) {
      for (const { source, entry } of list) {
        let data: Buffer;
        try {
          data = await source.source.readEntry(entry);
        } catch (err) {
          note(`${source.source.id} ${entry.name}: unreadable (${errorText(err)})`);
          continue;
        }
        if (!entryCrcOk(o.codec, o.crcKind, data, entry.crc)) note(`${source.source.id} ${entry.name}: CRC mismatch`);
        else if (!stripes.has(s)) stripes.set(s, data);
        else if (!(stripes.get(s) as Buffer).equals(data)) note(`${source.source.id} ${entry.name}: differs from another copy of the same stripe`);
      }
    }
    if (stripes.size < k) {
      incompleteBlocks++;
      continue;
    }
    checkedBlocks++;
    const len = codingLength(o.profile, set.version.filesize, c.block);
    const data = Array.from({ length: n }, (_, s) => {
      const b = Buffer.alloc(len);
      (stripes.get(s) as Buffer).copy(b);
      return b;
    });
    const parity = o.codec.encode(n, k - n, data, len);
    parity.forEach((p, i) => {
      if (!p.equals(stripes.get(n + i) as Buffer)) note(`block ${c.block}: parity stripe ${n + i} does not match the data stripes`);
    });
  }
  return { ok: problems.length === 0, checkedBlocks, incompleteBlocks, problems };
}
