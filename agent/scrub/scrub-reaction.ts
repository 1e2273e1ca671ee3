// What the agent does with a damaged archive its scrub found (DESIGN.md §3): tell the coordinator
// (a corruption.found event), report the archive unreadable from now on (the coordinator stops
// counting it and plans its rebuild on another server), and downgrade its disk (no new
// placements there). The order matters: the finding first, the disk's downgrade last.
import type { LocalScrubFinding } from './scrub-pass.js';
import type { ArchiveIdentity } from '../state/corrupt-store.js';

export interface ScrubReactionTargets {
  sendScrubFinding(f: LocalScrubFinding): void;
  archiveCorrupt(diskId: string, dataPath: string, id: ArchiveIdentity, detail: string): unknown;
  downgradeDisk(diskId: string, evidence: readonly string[]): unknown;
}

export function reactToScrubFinding(t: ScrubReactionTargets, f: LocalScrubFinding): void {
  t.sendScrubFinding(f);
  const n = f.problems.length;
  const what = `${n} corrupt or unreadable stripe entr${n === 1 ? 'y' : 'ies'}`;
  // Only an XrdEc archive (obj.<block>.<stripe> entries) is reported unreadable for a rebuild; an
  // object's .mt file is no archive of it: the event and the downgrade say what happened.
  if (f.identity && f.problems.some((p) => p.block !== undefined)) t.archiveCorrupt(f.diskId, f.dataPath, f.identity, `${what} (${f.problems.slice(0, 3).map((p) => `${p.name}: ${p.reason}`).join('; ')})`);
  t.downgradeDisk(f.diskId, [`scrub: ${what} in ${f.dataPath}${f.lfn ? ` (${f.lfn})` : ''}`]);
}
