// Classifies one file from all its archives (DESIGN.md §4), a pure function: same inputs, same
// answer, so it is exhaustively unit-tested. Every state carries a reason a person can read.
import type { ArchiveRole, FileState, ServerState } from '../../shared/domain/file-health.js';
import { isScrubCorrupt } from '../../shared/domain/scrub-finding.js';
import { blockCount, type EcProfile } from '../../shared/xrdec/profile.js';
import type { ClassifiableArchive, DiskState, Tombstone } from '../catalog/catalog-types.js';

export interface ClassifyInput<A extends ClassifiableArchive = ClassifiableArchive> {
  readonly lfn: string;
  readonly archives: readonly A[];
  readonly profile: EcProfile;
  readonly serverState: (serverId: string) => ServerState;
  readonly diskState: (diskId: string) => DiskState | undefined;
  readonly tombstones: readonly Tombstone[];
  /** The latest version was complete (≥ N archives) at some point: for lost vs incomplete. */
  readonly wasComplete: (strpver: number | undefined) => boolean;
  readonly nowMs: number;
  /** Archives a repair rebuilt elsewhere (archiveKey → task id): never counted again. */
  readonly replaced?: ReadonlyMap<string, string>;
}

/** Key of an archive in ClassifyInput.replaced. */
export function archiveKeyOf(a: { readonly serverId: string; readonly diskId: string; readonly dataPath: string; readonly strpver?: number }): string {
  // the strpver belongs to the key: an overwrite rewrites the same data file in place with a new
  // version, which is a real archive again, not the duplicate a repair replaced
  return `${a.serverId}\0${a.diskId}\0${a.dataPath}\0${a.strpver ?? ''}`;
}

export interface ArchiveVerdict<A extends ClassifiableArchive = ClassifiableArchive> {
  readonly archive: A;
  readonly role: ArchiveRole;
  readonly reason: string;
}

export interface FileVerdict<A extends ClassifiableArchive = ClassifiableArchive> {
  /** undefined: the file no longer exists (deleted; only debris remains). */
  readonly state?: FileState;
  readonly redundancy: number;
  readonly latestStrpver?: number;
  readonly filesize?: number;
  readonly available: number;
  readonly unavailable: number;
  readonly reason: string;
  readonly archives: ArchiveVerdict<A>[];
  /** Problems worth an operator's eye even when the state is fine. */
  readonly anomalies: string[];
}

const FUTURE_SLACK_S = 24 * 3600;

type Availability = 'available' | 'unavailable' | 'gone';

/** Where an archive's stripes stand; `gone` says why in `why`. */
function availability(a: ClassifiableArchive, i: ClassifyInput, why: string[]): Availability {
  const srv = i.serverState(a.serverId);
  if (srv === 'lost') return gone(why, `server ${a.serverId} declared lost`);
  const disk = i.diskState(a.diskId);
  if (disk === 'failed' || disk === 'missing') return gone(why, `disk ${a.diskId} ${disk}`);
  return srv === 'down' ? 'unavailable' : 'available';
}

function gone(why: string[], reason: string): Availability {
  if (!why.includes(reason)) why.push(reason);
  return 'gone';
}

function usable(a: ClassifiableArchive): boolean {
  return a.parseStatus === 'ok' || a.parseStatus === 'empty';
}

/** Distinct stripes per block covered by a set of archives, min over blocks. */
export function minCoverage(archives: readonly ClassifiableArchive[], blocks: number): number {
  // Archives with the same central directory hold the same stripes (a copy of one placement on
  // two servers or disks): they count once.
  const digests = new Set<string>();
  const distinct = archives.filter((a) => a.cdDigest === undefined || (!digests.has(a.cdDigest) && digests.add(a.cdDigest) !== undefined));
  if (blocks === 0) return distinct.length;
  const regular = distinct.filter((a) => a.regular || !a.stripeMap);
  // the common case: one stripe per block each, for every block of the file
  if (regular.length === distinct.length && regular.every((a) => a.nblocks >= blocks)) return regular.length;
  let min = Infinity;
  for (let b = 0; b < blocks; b++) {
    const extra = new Set<number>();
    for (const a of distinct) if (!a.regular && a.stripeMap) for (const s of a.stripeMap[b] ?? []) extra.add(s);
    min = Math.min(min, regular.filter((a) => b < a.nblocks).length + extra.size);
  }
  return min;
}

/** Distinct xrdec.filesize values of `archives`, in order of appearance (one pass, no set for the usual single value). */
function sizesOf(archives: readonly ClassifiableArchive[]): number[] {
  const out: number[] = [];
  for (const a of archives) if (a.filesize !== undefined && !out.includes(a.filesize)) out.push(a.filesize);
  return out;
}

// Classification runs for every file on every change, so this is written for few passes and few
// allocations (it was a tenth of a reclassification); the verdicts are the same as ever.
export function classifyFile<A extends ClassifiableArchive>(i: ClassifyInput<A>): FileVerdict<A> {
  const n = i.profile.nbData;
  const k = n + i.profile.nbParity;
  const verdicts: ArchiveVerdict<A>[] = [];
  const anomalies: string[] = [];
  const good: A[] = [];
  let latest: number | undefined;
  for (const a of i.archives) {
    if (!usable(a)) verdicts.push({ archive: a, role: 'corrupt', reason: `archive unreadable as XrdEc (${a.parseStatus}${a.parseError ? `: ${a.parseError}` : ''})` });
    else if (a.strpver === undefined) verdicts.push({ archive: a, role: 'corrupt', reason: 'no xrdec.strpver: its version cannot be told' });
    else if (a.parseStatus === 'empty' && (a.filesize ?? 0) > 0) verdicts.push({ archive: a, role: 'corrupt', reason: `0-byte archive but xrdec.filesize is ${a.filesize}: truncated to nothing` });
    else good.push(a);
    // latest = max strpver seen, damaged archives included: the XrdEc reader picks the version
    // from the xattrs alone (XRDEC-FORMAT.md §G), so a damaged newer archive hides every older one.
    if (a.strpver !== undefined && (latest === undefined || a.strpver > latest)) latest = a.strpver;
  }
  if (latest === undefined) {
    const some = i.archives.length > 0;
    return { archives: verdicts, anomalies, state: some ? 'lost' : undefined, redundancy: -1, available: 0, unavailable: 0, reason: some ? 'no usable archive: every archive is damaged or unversioned' : 'no archives' };
  }
  if (latest > i.nowMs / 1000 + FUTURE_SLACK_S) anomalies.push(`strpver ${latest} is in the future: XrdEc readers use only the newest version, so it hides the others`);
  const replaced = i.replaced !== undefined && i.replaced.size > 0 ? i.replaced : undefined;
  const replacedBy = (a: A): string | undefined => replaced?.get(archiveKeyOf(a));
  const duplicates: A[] = [];
  const current: A[] = [];
  const older: A[] = [];
  for (const a of good) {
    if (a.strpver !== latest) older.push(a);
    else if (replaced !== undefined && replacedBy(a) !== undefined) duplicates.push(a);
    else current.push(a);
  }
  if (current.length === 0 && duplicates.length === 0 && older.length > 0) anomalies.push(`strpver ${latest} is held only by damaged archives, and XrdEc readers use only the newest version: it hides the ${older.length} older archive(s)`);
  const sizes = sizesOf(current);
  if (sizes.length > 1) anomalies.push(`archives of strpver ${latest} disagree on xrdec.filesize (${sizes.join(', ')})`);
  const filesize = sizes.length === 1 ? sizes[0] : undefined;
  // A tombstone explains only archives older than itself: strpver is time(NULL) at close, so a
  // file deleted and written again within one second has the deleted version's strpver (review).
  const deletedAt = i.tombstones.length === 0 ? undefined : i.tombstones.find((t) => (t.strpver === undefined || t.strpver === latest) && current.every((a) => a.mtimeMs <= t.at));
  if (deletedAt) {
    // The latest version was deleted while these archives' servers or disks were away.
    for (const a of good) verdicts.push({ archive: a, role: 'debris', reason: `${i.lfn} was deleted (${deletedAt.reason}); this archive of strpver ${a.strpver} was left behind` });
    return { archives: verdicts, anomalies, redundancy: -1, latestStrpver: latest, available: 0, unavailable: 0, reason: 'deleted: only debris remains' };
  }
  let blocks: number;
  if (filesize !== undefined) blocks = blockCount(i.profile, filesize);
  else {
    blocks = 0;
    for (const a of current) if (a.nblocks > blocks) blocks = a.nblocks;
  }
  const avail: A[] = [];
  const unavail: A[] = [];
  const goneWhy: string[] = [];
  let goneCount = 0;
  for (const a of current) {
    const av = availability(a, i, goneWhy);
    if (av === 'available') avail.push(a);
    else if (av === 'unavailable') unavail.push(a);
    else goneCount++;
  }
  const covA = minCoverage(avail, blocks);
  const covAU = unavail.length === 0 ? covA : minCoverage([...avail, ...unavail], blocks);
  let state: FileState;
  let reason: string;
  const parts = covA >= k ? '' : `${avail.length} of ${k} archives available${unavail.length ? `, ${unavail.length} on down servers` : ''}${goneCount ? `; lost: ${goneWhy.join(', ')}` : ''}`;
  if (covA >= k) {
    state = 'healthy';
    reason = `all ${k} stripes of every block available`;
  } else if (covA > n) {
    state = 'degraded';
    reason = `${parts}; can lose ${covA - n} more`;
  } else if (covA === n) {
    state = 'critical';
    reason = `${parts}; one more loss is data loss`;
  } else if (covAU >= n) {
    state = 'unavailable';
    reason = `${parts}; readable again when the down servers return`;
  } else if (i.wasComplete(latest)) {
    state = 'lost';
    reason = `${parts}; fewer than ${n} stripes of some block exist`;
  } else {
    state = 'incomplete';
    reason = `strpver ${latest} never reached ${n} archives (a failed write, or a leftover): ${parts}`;
  }
  // debris only when the latest is healthy and consistent: with disagreeing xrdec.filesize the
  // reader takes the size of whichever archive opens first
  const latestSound = state === 'healthy' && sizes.length <= 1;
  const notSound = state === 'healthy' ? 'healthy but its archives disagree on xrdec.filesize' : state;
  const loneLeftover = state === 'incomplete' && !i.wasComplete(latest);
  const currentReason = loneLeftover ? `no live version of ${i.lfn} and no record of its deletion` : `strpver ${latest}`;
  if (latestSound) {
    // A damaged archive the scrub found, once the file is whole without it (rebuilt, usually):
    // debris, so it is listed and quarantined like any leftover. Only scrub findings: a zip that
    // does not parse may be one xrootd is writing right now.
    for (let v = 0; v < verdicts.length; v++) {
      const d = verdicts[v] as ArchiveVerdict<A>;
      if (d.role === 'corrupt' && isScrubCorrupt(d.archive)) {
        verdicts[v] = { archive: d.archive, role: 'debris', reason: `damaged (${d.archive.parseError ?? 'scrub'}), and not needed: all ${k} stripes of every block are available without it` };
      }
    }
  }
  for (const a of current) verdicts.push({ archive: a, role: loneLeftover ? 'orphan' : 'current', reason: currentReason });
  for (const a of duplicates) {
    verdicts.push({ archive: a, role: latestSound ? 'debris' : 'superseded', reason: `repair ${replacedBy(a) ?? '?'} rebuilt its stripes elsewhere (it was away, or its place is drained): a duplicate, not counted` });
  }
  for (const a of older) {
    verdicts.push(latestSound
      ? { archive: a, role: 'debris', reason: `strpver ${a.strpver} superseded by ${latest}, which is healthy` }
      : { archive: a, role: 'superseded', reason: `strpver ${a.strpver} superseded by ${latest}, which is ${notSound}: kept until the latest is healthy` });
  }
  return { archives: verdicts, anomalies, state, redundancy: covA - n, latestStrpver: latest, ...(filesize !== undefined ? { filesize } : {}), available: avail.length, unavailable: unavail.length, reason };
}
