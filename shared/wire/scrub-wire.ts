// Scrub findings: wire (ts-proto) ↔ domain, in one place. Block and stripe are not on the wire:
// they are read again from the entry name, so a peer cannot claim one the name does not say.
import type { ScrubFinding as WireFinding } from '../../proto/gen/ecguard/v1/scrub.js';
import type { ScrubbedEntryProblem, ScrubFinding } from '../domain/scrub-finding.js';
import { EcguardError } from '../errors.js';
import { parseEntryName } from '../xrdec/entry-name.js';
import { scrubProblemWire } from './enums.js';

/** Entries a finding carries at most; the rest are summed up in the archive's other reports. */
export const MAX_SCRUB_ENTRIES = 1000;

export function scrubFindingToWire(f: ScrubFinding): WireFinding {
  return {
    diskId: f.diskId, dataPath: f.dataPath, lfn: f.lfn ?? '', atMs: f.at,
    entries: f.problems.slice(0, MAX_SCRUB_ENTRIES).map((p) => ({
      name: p.name, problem: scrubProblemWire.toWire(p.kind), reason: p.reason,
      ...(p.expectedCrc !== undefined ? { expectedCrc: p.expectedCrc >>> 0 } : {}), ...(p.foundCrc !== undefined ? { foundCrc: p.foundCrc >>> 0 } : {}),
    })),
  };
}

export function scrubFindingFromWire(w: WireFinding): ScrubFinding {
  const what = `scrub finding for ${JSON.stringify(w.dataPath.slice(0, 200))}`;
  if (w.diskId === '' || w.dataPath === '') throw new EcguardError('BAD_MESSAGE', `${what} names no archive (disk id and data path are required)`);
  if (w.entries.length === 0) throw new EcguardError('BAD_MESSAGE', `${what} lists no entry`);
  if (w.entries.length > MAX_SCRUB_ENTRIES) throw new EcguardError('BAD_MESSAGE', `${what} lists ${w.entries.length} entries, more than ${MAX_SCRUB_ENTRIES}`);
  if (!Number.isFinite(w.atMs) || w.atMs < 0) throw new EcguardError('BAD_MESSAGE', `${what} has an impossible time ${w.atMs}`);
  if (w.dataPath.length > 4096 || w.diskId.length > 4096 || w.lfn.length > 4096) throw new EcguardError('BAD_MESSAGE', `${what}: a path or id longer than 4096 characters`);
  if (w.entries.some((e) => e.name.length > 1024 || e.reason.length > 2000)) throw new EcguardError('BAD_MESSAGE', `${what}: an entry name or reason is too long`);
  const problems: ScrubbedEntryProblem[] = w.entries.map((e) => {
    const kind = scrubProblemWire.fromWire(e.problem);
    if (kind === undefined) throw new EcguardError('BAD_MESSAGE', `${what}: entry ${JSON.stringify(e.name.slice(0, 100))} has an unknown problem ${e.problem}`);
    const id = parseEntryName(e.name);
    return {
      name: e.name, kind, reason: e.reason, ...(id ? { block: id.block, stripe: id.stripe } : {}),
      ...(e.expectedCrc !== undefined ? { expectedCrc: e.expectedCrc } : {}), ...(e.foundCrc !== undefined ? { foundCrc: e.foundCrc } : {}),
    };
  });
  return { diskId: w.diskId, dataPath: w.dataPath, ...(w.lfn ? { lfn: w.lfn } : {}), problems, at: w.atMs };
}
