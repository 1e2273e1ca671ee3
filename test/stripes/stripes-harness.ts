// Shared pieces of the Stripes tests: a StripesContext over a fake site (disk states settable),
// copying encoded archives (with their xattrs) onto a site's disks, certificates, and polling.
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAttributeSync, listAttributesSync, setAttributeSync } from 'fs-xattr';
import type { ErasureCodec } from '../../shared/codec/codec.js';
import { UsageError } from '../../shared/errors.js';
import type { TlsFiles } from '../../shared/tls/tls-identity.js';
import type { DiskStateName } from '../../shared/wire/enums.js';
import type { StripesContext } from '../../agent/stripes/stripes-context.js';
import { repoRoot } from '../helpers/cli.js';
import type { FakeSite } from '../helpers/fake-site.js';

export interface SiteContext extends StripesContext {
  /** diskId → state (default online). */
  readonly states: Map<string, DiskStateName>;
  /** `diskId\0dataPath` of archives a scrub found corrupt. */
  readonly corrupt: Set<string>;
}

export function siteContext(site: FakeSite, codec: ErasureCodec): SiteContext {
  const states = new Map<string, DiskStateName>();
  const corrupt = new Set<string>();
  return {
    serverId: site.serverId,
    codec,
    states,
    corrupt,
    corruptArchive: (diskId, dataPath) => corrupt.has(`${diskId}\0${dataPath}`),
    xrootdServer: { ipv4: [127, 0, 0, 1], port: 1094 },
    disk(diskId) {
      const d = site.disks.find((x) => x.diskId === diskId);
      return d ? { ...d, state: states.get(diskId) ?? 'online' } : undefined;
    },
    linkFor(lfn) {
      if (!lfn.startsWith(site.exportPath + '/')) throw new UsageError(`${lfn} is not below the export ${site.exportPath}`);
      return { linkPath: `${site.localroot ?? ''}${lfn}`, namespaceRoot: site.nsRoot };
    },
  };
}

/** Copies an encoded archive (bytes and every xattr) onto disk `disk` of `site` as `lfn`; returns its path relative to the disk. */
export function storeArchive(site: FakeSite, disk: number, lfn: string, archive: string, symlink = true): string {
  const path = site.store(lfn, disk, (p) => {
    copyFileSync(archive, p);
    for (const n of listAttributesSync(archive)) setAttributeSync(p, n, getAttributeSync(archive, n));
  }, { symlink });
  const d = site.disks[disk] as FakeSite['disks'][number];
  return path.slice(d.path.length + 1);
}

/** Runs deploy/make-certs.sh into `dir` for agents srv00, srv01 and admin ops. */
export function makeCerts(dir: string): void {
  const r = spawnSync('bash', [join(repoRoot, 'deploy', 'make-certs.sh'), dir, '--coordinator', 'localhost', '--agents', 'srv00,srv01', '--admin', 'ops'], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`make-certs.sh failed: ${r.stderr}`);
}

export function certFiles(dir: string, name: string): TlsFiles {
  return { ca: join(dir, 'ca.pem'), cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

/** Polls `cond` every 10 ms until it holds (or throws after `ms`). */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
