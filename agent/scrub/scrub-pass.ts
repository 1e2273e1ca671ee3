// One scrub pass over a data server's disks: every data file's entries read and CRC-checked
// (archive-scrub.ts), in cursor order (scrub-walk.ts), at the pace `take` allows. Used by the
// standalone `ecguard scrub` and by the agent's background ScrubLoop, which saves the cursor so
// a restarted agent goes on where it stopped.
import { getAttribute } from 'fs-xattr';
import type { CrcKind, ErasureCodec } from '../../shared/codec/codec.js';
import { checkPfn } from '../scan/pfn.js';
import type { DiskSpec } from '../scan/disk-layout.js';
import type { ScrubFinding } from '../../shared/domain/scrub-finding.js';
import type { ArchiveIdentity } from '../state/corrupt-store.js';
import { scrubArchive } from './archive-scrub.js';
import { scrubTargets, type ScrubCursor, type WalkProblem } from './scrub-walk.js';

/** An archive with corrupt or unreadable entries, with where it is on this server. */
export interface LocalScrubFinding extends ScrubFinding {
  readonly path: string;
  readonly crcKind?: CrcKind;
  /** The file that was read (inode, size, mtime). */
  readonly identity?: ArchiveIdentity;
}

export interface ScrubPassProgress {
  readonly diskId: string;
  readonly archives: number;
  readonly bytes: number;
  readonly corruptArchives: number;
}

export interface ScrubPassSummary {
  readonly archives: number;
  readonly entries: number;
  readonly bytes: number;
  /** Archives with a corrupt or unreadable entry. */
  readonly corruptArchives: number;
  /** Files that are not readable XrdEc archives at all (the scan reports why). */
  readonly notArchives: number;
  readonly mixedCrcKinds: number;
  /** Archives already known corrupt (known() said so): not read again. */
  readonly skippedKnown: number;
  readonly walkProblems: readonly WalkProblem[];
  /** False when stopped (signal) before the last disk was done. */
  readonly complete: boolean;
  readonly cursor?: ScrubCursor;
}

export interface ScrubPassOptions {
  /** The disks to scrub, asked again before each disk (a disk that failed meanwhile is left out). */
  readonly disks: () => readonly DiskSpec[];
  readonly localroot?: string;
  readonly exports: readonly string[];
  readonly codec: ErasureCodec;
  /** Start after this data file (a saved cursor). */
  readonly after?: ScrubCursor;
  /**
   * Disks this pass finished already (saved beside the cursor). Undefined (a cursor saved before
   * this was kept): the disks configured before the cursor's disk.
   */
  readonly doneDisks?: readonly string[];
  /** A disk is done (walked to its end) in this pass; `done`: every disk done in the pass so far. */
  readonly onDiskDone?: (diskId: string, done: readonly string[]) => void;
  readonly take?: (bytes: number) => Promise<void>;
  readonly signal?: AbortSignal;
  readonly onFinding: (f: LocalScrubFinding) => void;
  /** An archive already found corrupt and still the same file: skipped, not reported again. */
  readonly known?: (diskId: string, dataPath: string, id: ArchiveIdentity) => boolean;
  /** After every archive (cheap: the caller throttles what it does with it). */
  readonly onArchive?: (cursor: ScrubCursor, p: ScrubPassProgress) => void;
}

const MAX_WALK_PROBLEMS = 100;

export async function runScrubPass(o: ScrubPassOptions): Promise<ScrubPassSummary> {
  let archives = 0;
  let entries = 0;
  let bytes = 0;
  let corruptArchives = 0;
  let notArchives = 0;
  let mixedCrcKinds = 0;
  let skippedKnown = 0;
  const walkProblems: WalkProblem[] = [];
  let cursor: ScrubCursor | undefined = o.after;
  const order = o.disks().map((d) => d.diskId);
  // Resume on the cursor's disk, then every disk not done in this pass: by id, not position, so
  // a disk added, removed or moved in the config meanwhile is neither skipped nor done twice.
  const resumeOn = o.after !== undefined && order.includes(o.after.diskId) ? o.after.diskId : undefined;
  const done = new Set(o.doneDisks ?? (resumeOn !== undefined ? order.slice(0, order.indexOf(resumeOn)) : []));
  const todo = [...(resumeOn !== undefined ? [resumeOn] : []), ...order.filter((id) => id !== resumeOn && !done.has(id))];
  for (const diskId of todo) {
    if (o.signal?.aborted) return summary(false);
    const disk = o.disks().find((d) => d.diskId === diskId);
    if (!disk) continue;
    for await (const t of scrubTargets(disk, cursor, (p) => void (walkProblems.length < MAX_WALK_PROBLEMS && walkProblems.push(p)))) {
      if (o.signal?.aborted) return summary(false);
      const known = o.known;
      const r = await scrubArchive(t.path, o.codec, {
        ...(o.take ? { take: o.take } : {}), ...(o.signal ? { signal: o.signal } : {}), ...(known ? { skip: (id: ArchiveIdentity) => known(diskId, t.dataPath, id) } : {}),
      });
      if (o.signal?.aborted) return summary(false); // stopped mid-archive: do it again next time
      cursor = { diskId, bucket: t.bucket, name: t.name };
      if (r.skipped) {
        skippedKnown++;
      } else if (r.error) {
        // Vanished or rewritten meanwhile is no finding; a non-archive is the scan's to report.
        if (r.error.code !== 'ENOENT' && r.error.code !== 'CHANGED') notArchives++;
      } else {
        archives++;
        entries += r.entries;
        bytes += r.bytes;
        if (r.mixedCrcKinds) mixedCrcKinds++;
        if (r.problems.length > 0) {
          corruptArchives++;
          const lfn = await lfnOf(t.path, o.localroot, o.exports);
          o.onFinding({ diskId, dataPath: t.dataPath, path: t.path, ...(lfn ? { lfn } : {}), ...(r.crcKind ? { crcKind: r.crcKind } : {}), ...(r.identity ? { identity: r.identity } : {}), problems: r.problems, at: Date.now() });
        }
      }
      o.onArchive?.(cursor, { diskId, archives, bytes, corruptArchives });
    }
    if (o.signal?.aborted) return summary(false);
    done.add(diskId);
    o.onDiskDone?.(diskId, [...done]);
  }
  return summary(true);

  function summary(complete: boolean): ScrubPassSummary {
    return { archives, entries, bytes, corruptArchives, notArchives, mixedCrcKinds, skippedKnown, walkProblems, complete, ...(cursor ? { cursor } : {}) };
  }
}

async function lfnOf(path: string, localroot: string | undefined, exports: readonly string[]): Promise<string | undefined> {
  try {
    return checkPfn(await getAttribute(path, 'user.XrdFrm.Pfn'), localroot, exports).lfn;
  } catch {
    return undefined;
  }
}
