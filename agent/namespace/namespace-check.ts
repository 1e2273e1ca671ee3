// Cross-checks one server's data files against its namespace (XRDEC-FORMAT.md §A). The symlink
// is the authority, the Pfn a hint: a directory mv leaves Pfns stale, an rm while a disk was away
// leaves a data file with a valid-looking Pfn, a create over a dangling link makes a second data
// file for one LFN. Reports; changes nothing.
import { lstatSync } from 'node:fs';
import type { ArchiveRecord, Finding } from '../../shared/domain/archive-record.js';
import type { DiskSpec } from '../scan/disk-layout.js';
import type { NamespaceLink } from './namespace-walk.js';

export interface NamespaceCheckInput {
  readonly records: readonly ArchiveRecord[];
  readonly links: readonly NamespaceLink[];
  readonly disks: readonly DiskSpec[];
  readonly localroot?: string;
}

export interface NamespaceCheckResult {
  readonly findings: Finding[];
  /** Records with nsPath/lfn filled in from the symlinks that point at them. */
  readonly records: ArchiveRecord[];
  /** Data files no symlink points at, with the LFN their Pfn claims. */
  readonly unlinked: ArchiveRecord[];
}

export function absDataPath(r: ArchiveRecord, disks: readonly DiskSpec[]): string {
  const d = disks.find((x) => x.diskId === r.diskId);
  return `${d?.path ?? ''}/${r.dataPath}`;
}

export function checkNamespace(input: NamespaceCheckInput): NamespaceCheckResult {
  const findings: Finding[] = [];
  const byPath = new Map<string, ArchiveRecord>();
  for (const r of input.records) byPath.set(absDataPath(r, input.disks), r);
  const linksByTarget = new Map<string, NamespaceLink[]>();
  const linkByPath = new Map<string, NamespaceLink>();
  for (const l of input.links) {
    linkByPath.set(l.path, l);
    const list = linksByTarget.get(l.target) ?? [];
    list.push(l);
    linksByTarget.set(l.target, list);
  }
  const diskOf = (target: string): DiskSpec | undefined => input.disks.find((d) => target.startsWith(`${d.path}/${d.space}/`));

  for (const l of input.links) {
    if (byPath.has(l.target)) continue;
    const disk = diskOf(l.target);
    if (!disk) {
      findings.push({ kind: 'foreign-symlink', severity: 'warning', path: l.path, lfn: l.lfn, reason: `points outside every oss.space disk: ${l.target}` });
      continue;
    }
    let exists = false;
    try {
      lstatSync(l.target);
      exists = true;
    } catch {
      /* dangling */
    }
    if (!exists) {
      findings.push({ kind: 'dangling-symlink', severity: 'error', path: l.path, lfn: l.lfn, diskId: disk.diskId, reason: `its data file ${l.target} does not exist (disk ${disk.path} lost it, or it was never there)`, evidence: { target: l.target } });
    }
  }

  const records: ArchiveRecord[] = [];
  const unlinked: ArchiveRecord[] = [];
  for (const r of input.records) {
    const path = absDataPath(r, input.disks);
    const links = linksByTarget.get(path) ?? [];
    if (links.length === 0) {
      const atPfn = r.pfn !== undefined ? linkByPath.get(r.pfn) : undefined;
      findings.push({
        kind: 'data-without-symlink', severity: 'warning', path, diskId: r.diskId, ...(r.lfn !== undefined ? { lfn: r.lfn } : {}),
        reason: atPfn ? `no symlink points at it; its Pfn's path is a symlink to ${atPfn.target}` : `no symlink points at it${r.lfn !== undefined ? `; its Pfn claims ${r.lfn}` : ''} (deleted while its disk was away, or namespace lost)`,
        ...(atPfn ? { evidence: { symlinkTarget: atPfn.target } } : {}),
      });
      records.push(r);
      unlinked.push(r);
      continue;
    }
    const link = links[0] as NamespaceLink;
    if (links.length > 1) {
      findings.push({ kind: 'duplicate-lfn', severity: 'error', path, diskId: r.diskId, lfn: link.lfn, reason: `${links.length} symlinks point at this data file: ${links.map((x) => x.path).join(', ')}` });
    }
    if (r.pfn !== undefined && r.pfn !== link.path) {
      findings.push({ kind: 'stale-pfn', severity: 'warning', path, diskId: r.diskId, lfn: link.lfn, reason: `symlink ${link.path} points here but the Pfn says ${r.pfn} (a directory was moved): the symlink wins`, evidence: { pfn: r.pfn, symlink: link.path } });
    }
    records.push({ ...r, nsPath: link.path, lfn: link.lfn });
  }

  // Two data files claiming one LFN: the one its symlink points at is the live one.
  const byLfn = new Map<string, ArchiveRecord[]>();
  for (const r of records) {
    if (r.lfn === undefined) continue;
    const list = byLfn.get(r.lfn) ?? [];
    list.push(r);
    byLfn.set(r.lfn, list);
  }
  for (const [lfn, list] of byLfn) {
    if (list.length < 2) continue;
    const live = list.find((r) => r.nsPath !== undefined);
    for (const r of list) {
      const others = list.filter((o) => o !== r).map((o) => absDataPath(o, input.disks));
      findings.push({
        kind: 'duplicate-lfn', severity: 'error', path: absDataPath(r, input.disks), diskId: r.diskId, lfn,
        reason: `${list.length} data files claim ${lfn}; ${r === live ? 'the symlink points at this one (live)' : live ? 'the symlink points at another: this one is a leftover' : 'no symlink decides between them'}`,
        evidence: { others: others.join(', '), live: r === live },
      });
    }
  }
  return { findings, records, unlinked };
}
