// At agent start: finishes placements a crash interrupted between publishing the data file and
// creating its namespace symlink (the last step). The ledger names every published archive; one
// whose link is missing, or dangles into a disk of this server that is failed or missing, is
// linked now. Anything else at the link path is left alone (the coordinator decides).
import { readlinkSync } from 'node:fs';
import { errorText } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { createNamespaceLink, dropLinkTemp } from './namespace-link.js';
import { findPlaced, LEDGER_DIR, ledgerNames } from './placement-ledger.js';
import { diskReadable } from '../../shared/domain/disk-readable.js';

const log = getLogger('repair');

export interface RecoveryDisk {
  readonly diskId: string;
  readonly path: string;
  readonly state: string;
}

/** Links interrupted placements; returns the link paths made. */
export function recoverPlacements(disks: readonly RecoveryDisk[], linkFor: (lfn: string) => { linkPath: string; namespaceRoot: string }, localroot: string): string[] {
  const dead = disks.filter((d) => d.state === 'failed' || d.state === 'missing').map((d) => d.path.replace(/\/+$/, '') + '/');
  const linked: string[] = [];
  for (const d of disks.filter((x) => diskReadable(x.state))) {
    let names: string[];
    try {
      names = ledgerNames(d.path);
    } catch (err) {
      log.warn(`placement records of ${d.path}: ${errorText(err)}`);
      continue;
    }
    for (const name of names) {
      const m = /^([A-Za-z0-9][A-Za-z0-9_-]{0,127})\.(\d{1,5})$/.exec(name);
      if (!m) continue;
      try {
        const rec = findPlaced(d.path, m[1] as string, Number(m[2]));
        if (!rec?.pfn || !rec.pfn.startsWith(localroot)) continue;
        const place = linkFor(rec.pfn.slice(localroot.length));
        if (place.linkPath !== rec.pfn) continue;
        dropLinkTemp(place.linkPath, rec.path);
        let target: string | undefined;
        try {
          target = readlinkSync(place.linkPath);
        } catch {
          target = undefined;
        }
        if (target === rec.path) continue;
        let replaceInto: string | undefined;
        if (target !== undefined) {
          // Only a link into a dead disk of this server gives way; anything else stays.
          replaceInto = dead.find((p) => target?.startsWith(p));
          if (!replaceInto) continue;
        }
        if (createNamespaceLink(place.linkPath, rec.path, place.namespaceRoot, replaceInto).linked) {
          linked.push(place.linkPath);
          log.warn(`linked ${place.linkPath} -> ${rec.path}: an interrupted repair (task ${m[1]}) had published it without its symlink`);
        }
      } catch (err) {
        log.warn(`placement record ${d.path}/${LEDGER_DIR}/${name}: ${errorText(err)}`);
      }
    }
  }
  return linked;
}
