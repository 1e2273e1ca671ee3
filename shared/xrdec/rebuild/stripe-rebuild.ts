// Stripe-level rebuild: from the surviving archives of one object, recompute the stripes no
// survivor holds and hand them out to `targets` new archives (assignment: stripe-assign.ts).
//
// rebuildStripes() does all the checking that needs no entry data before anything is written:
// version agreement, geometry, and that every block has ≥ N stripes held by some source.
// stream() then works one block at a time (memory: one block, never the file): it reads N good
// stripes (CRC-checked; a bad one is an erasure), decodes the missing ones and yields them.
// Stripes no source holds are what gets rebuilt; a held stripe that turns out corrupt is only
// reported (badEntries): rebuilding it too would put a second copy of that stripe beside the
// survivor's, which the planner must decide about (e.g. replace that archive).
import type { CrcKind, ErasureCodec, IndexedChunk } from '../../codec/codec.js';
import { crcOf } from '../../codec/codec.js';
import { EcguardError, UsageError } from '../../errors.js';
import { entryName } from '../entry-name.js';
import { codingLength, stripeCount, stripeSize, validateProfile, type EcProfile } from '../profile.js';
import { firstPicks, readGoodStripes, type GoodStripes } from './block-reader.js';
import { probeCrcKind } from './crc-probe.js';
import { openSourceSet, type ExpectedVersion, type IgnoredSource, type SourceVersion } from './source-set.js';
import type { RebuiltEntry } from './rebuilt-entry.js';
import { KeptAssignment } from './kept-assign.js';
import type { KeptEntry } from './kept-directory.js';
import { assignMissing } from './stripe-assign.js';
import { SourceFeeds } from './source-feed.js';
import { StripeIndex, type BadEntry, type BlockCandidates, type Candidate } from './stripe-index.js';
import type { StripeSource } from './stripe-source.js';

export interface RebuildOptions {
  readonly profile: EcProfile;
  readonly sources: readonly StripeSource[];
  /** Number of new archives to spread the missing stripes over (≥ 1). */
  readonly targets: number;
  readonly codec: ErasureCodec;
  /** The object's CRC kind when the catalog knows it; default: probed from the sources. */
  readonly crcKind?: CrcKind;
  /** The version the task was planned for; a mismatch is refused (SOURCES_DISAGREE). */
  readonly expected?: ExpectedVersion;
  readonly onBlock?: (done: number, total: number) => void;
  /** Blocks whose stripes are read ahead of the one being decoded (default 4). */
  readonly readAhead?: number;
  /**
   * Per target, the directory the new archive must keep (kept-directory.ts): then it holds
   * exactly those entries, in that order, with those times, and `targets` must match.
   */
  readonly kept?: readonly (readonly KeptEntry[])[];
}

export type { RebuiltEntry } from './rebuilt-entry.js';

export interface RebuiltBlock {
  readonly block: number;
  /** targets[t] = entries for target archive t, in stripe order (often one, possibly none). */
  readonly targets: readonly (readonly RebuiltEntry[])[];
}

export interface ExpectedEntry {
  readonly name: string;
  readonly block: number;
  readonly size: number;
}

export interface StripeRebuild {
  /** strpver and filesize (with their raw texts) the new archives must carry. */
  readonly version: SourceVersion;
  /** undefined only for the empty object (no entry, so no CRC). */
  readonly crcKind?: CrcKind;
  readonly profile: EcProfile;
  readonly blockCount: number;
  readonly targets: number;
  readonly used: readonly string[];
  readonly ignored: readonly IgnoredSource[];
  /** Unusable source entries: wrong geometry (known up front), CRC or read failures (grows while streaming). */
  readonly badEntries: readonly BadEntry[];
  /** Stripes rebuilt in total (over all blocks and targets). */
  readonly missingStripes: number;
  /** Names and sizes target t will hold, in order (for verification). */
  expectedEntries(target: number): Generator<ExpectedEntry>;
  /**
   * The rebuilt stripes, block by block, from `fromBlock` on (earlier blocks are neither read
   * nor decoded: a resumed task). Throws TOO_FEW_SOURCES when a block cannot be decoded.
   */
  stream(fromBlock?: number): AsyncGenerator<RebuiltBlock>;
}

export async function rebuildStripes(o: RebuildOptions): Promise<StripeRebuild> {
  const p = validateProfile(o.profile);
  if (!Number.isSafeInteger(o.targets) || o.targets < 1) throw new UsageError(`targets must be a positive integer, got ${o.targets}`);
  const n = p.nbData;
  const kept = o.kept ? new KeptAssignment(o.kept) : undefined;
  if (kept && kept.targets !== o.targets) throw new UsageError(`${o.targets} targets but ${kept.targets} kept directories`);
  const set = await openSourceSet(o.sources, o.expected);
  const filesize = set.version.filesize;
  const index = new StripeIndex(p, filesize, set.used);
  const badEntries: BadEntry[] = [...index.misfits];
  const misfitNote = (): string =>
    (badEntries.length > 0 ? `; unusable entries: ${badEntries.slice(0, 8).map((b) => `${b.source} ${b.entry}: ${b.reason}`).join('; ')}${badEntries.length > 8 ? ` (+${badEntries.length - 8} more)` : ''}` : '') +
    (set.ignored.length > 0 ? `; sources not used: ${set.ignored.slice(0, 8).map((i) => `${i.id}: ${i.reason}`).join('; ')}` : '');

  let missingStripes = 0;
  let mostMissing = 0;
  let short: { block: number; held: number } | undefined;
  let shortBlocks = 0;
  for (const c of index.walk()) {
    if (c.byStripe.size < n) {
      short ??= { block: c.block, held: c.byStripe.size };
      shortBlocks++;
    }
    const missing = index.missing(c).length;
    missingStripes += missing;
    mostMissing = Math.max(mostMissing, missing);
  }
  if (short) {
    throw new EcguardError('TOO_FEW_SOURCES', `block ${short.block}: the sources hold only ${short.held} of the ${n} stripes needed (${shortBlocks} of ${index.blocks} blocks are short); nothing was written${misfitNote()}`);
  }
  if (index.blocks === 0 && set.used.length < n) {
    throw new EcguardError('TOO_FEW_SOURCES', `the empty object has only ${set.used.length} archives at strpver ${set.version.strpver}; ${n} are needed to trust its version`);
  }
  if (kept) missingStripes = kept.size;
  else if (index.blocks > 0 && missingStripes === 0) {
    throw new EcguardError('NOTHING_TO_REBUILD', `the ${set.used.length} sources hold every stripe of all ${index.blocks} blocks: no stripe is missing`);
  }
  if (!kept && index.blocks > 0 && o.targets > mostMissing) {
    throw new EcguardError('TOO_MANY_TARGETS', `no block misses more than ${mostMissing} stripes, so ${o.targets} target archives would leave some with no entry at all; use at most ${mostMissing}`);
  }
  const crcKind = o.crcKind ?? (await probeCrcKind(index, o.codec));
  const k = stripeCount(p);

  async function* stream(fromBlock = 0): AsyncGenerator<RebuiltBlock> {
    // Reads run `readAhead` blocks ahead of the decoding and writing (a remote source's latency,
    // not its bandwidth, would otherwise set the pace). Memory: (readAhead + 1) blocks.
    const ahead = Math.max(0, o.readAhead ?? 4);
    const walk = index.walk();
    const window: { c: BlockCandidates; missing: number[]; read?: Promise<GoodStripes> }[] = [];
    // Each streaming source sends the entries it is planned to give over one paced call.
    const feeds = new SourceFeeds(planned(fromBlock));
    const read = (cand: Candidate): Promise<Buffer> => feeds.read(cand);
    const fill = (): void => {
      while (window.length <= ahead) {
        const next = walk.next();
        if (next.done) return;
        const c = next.value;
        if (c.block < fromBlock) continue;
        const missing = wantedIn(c);
        const pending = missing.length > 0 ? readGoodStripes(c, n, crcKind, o.codec, read) : undefined;
        pending?.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
        window.push({ c, missing, ...(pending ? { read: pending } : {}) });
      }
    };
    try {
      fill();
      for (let w = window.shift(); w !== undefined; w = window.shift()) {
        fill();
        const { c, missing } = w;
        const perTarget: RebuiltEntry[][] = Array.from({ length: o.targets }, () => []);
        if (missing.length > 0) {
          const { good, bad } = await (w.read as Promise<GoodStripes>);
          badEntries.push(...bad);
          if (good.size < n) {
            throw new EcguardError('TOO_FEW_SOURCES', `block ${c.block}: only ${good.size} of the ${n} stripes needed are readable with a good CRC (${bad.map((b) => `${b.source} ${b.entry}: ${b.reason}`).join('; ') || 'no other source holds them'})`);
          }
          const len = codingLength(p, filesize, c.block);
          const avail: IndexedChunk[] = [...good].map(([index, data]) => ({ index, data: padTo(data, len) }));
          // A kept directory may list a stripe a survivor holds too: that one is copied, not decoded.
          const wanted = kept ? missing.filter((s) => !good.has(s)) : missing;
          const decoded = wanted.length > 0 ? await o.codec.decodeAsync(n, k - n, avail, wanted, len) : [];
          const byStripe = new Map(wanted.map((s, i) => [s, decoded[i] as Buffer]));
          if (kept) {
            const cut = (s: number): Buffer => (byStripe.get(s) ?? (good.get(s) as Buffer)).subarray(0, stripeSize(p, filesize, c.block, s));
            kept.place(c.block, cut, crcKind, o.codec).forEach((entries, t) => (perTarget[t] as RebuiltEntry[]).push(...entries));
          } else {
            assignMissing(missing, o.targets).forEach((stripes, t) => {
              for (const s of stripes) {
                // Data stripes are cut at end of file; parity keeps the size of data stripe 0.
                const data = (byStripe.get(s) as Buffer).subarray(0, stripeSize(p, filesize, c.block, s));
                const crc = data.length === 0 || crcKind === undefined ? 0 : crcOf(o.codec, crcKind, data);
                (perTarget[t] as RebuiltEntry[]).push({ name: entryName(c.block, s), block: c.block, stripe: s, data, crc });
              }
            });
          }
        }
        yield { block: c.block, targets: perTarget };
        o.onBlock?.(c.block + 1, index.blocks);
      }
    } finally {
      feeds.close();
    }
  }

  /** The stripes of a block the targets get: the kept directories', or those no source holds. */
  function wantedIn(c: BlockCandidates): number[] {
    return kept ? kept.stripesOf(c.block) : index.missing(c);
  }

  /** The entries stream() reads first, in the order it asks for them. */
  function* planned(fromBlock: number): Generator<Candidate> {
    for (const c of index.walk()) {
      if (c.block >= fromBlock && wantedIn(c).length > 0) yield* firstPicks(c, n);
    }
  }

  function* expectedEntries(target: number): Generator<ExpectedEntry> {
    if (kept) {
      for (const e of kept.entries(target)) yield { name: e.name, block: e.block, size: e.size };
      return;
    }
    for (const c of index.walk()) {
      for (const s of assignMissing(index.missing(c), o.targets)[target] ?? []) {
        yield { name: entryName(c.block, s), block: c.block, size: stripeSize(p, filesize, c.block, s) };
      }
    }
  }

  return {
    version: set.version,
    ...(crcKind !== undefined ? { crcKind } : {}),
    profile: p,
    blockCount: index.blocks,
    targets: o.targets,
    used: set.used.map((u) => u.source.id),
    ignored: set.ignored,
    badEntries,
    missingStripes,
    expectedEntries,
    stream,
  };
}

function padTo(data: Buffer, len: number): Buffer {
  if (data.length === len) return data;
  const b = Buffer.alloc(len);
  data.copy(b);
  return b;
}
