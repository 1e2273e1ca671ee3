// `ecguard debris restore`: puts a quarantined archive back where it was, and its namespace
// symlink if the quarantine removed one — the undo of a quarantine while it is kept. Never over
// anything: if the old name or the link path is taken now (the file was written again), the
// archive stays in the quarantine and the reason is reported.
import { linkSync, lstatSync, rmdirSync, unlinkSync } from 'node:fs';
import { EcguardError, errnoCode, errorText } from '../../shared/errors.js';
import { createNamespaceLink } from '../repair/namespace-link.js';
import { DiskDir } from '../repair/disk-dir.js';
import { MANIFEST_NAME, QUARANTINED_FILE, openOrderIn, openQuarantineRoot, readManifest } from './quarantine-manifest.js';

export interface RestoreOutcome {
  readonly orderId: string;
  readonly diskPath: string;
  readonly lfn: string;
  readonly dataPath: string;
  readonly restored: boolean;
  readonly linkRestored: boolean;
  /** What happened, or why not. */
  readonly message: string;
}

const free = (p: string): boolean => {
  try {
    lstatSync(p);
    return false;
  } catch (err) {
    return errnoCode(err) === 'ENOENT';
  }
};

/** Restores one quarantine of the disk at `diskPath`; `namespaceRootOf` finds the link's root. */
export function restoreQuarantine(diskPath: string, orderId: string, namespaceRootOf: (p: string) => string | undefined, o: { dryRun: boolean }): RestoreOutcome {
  const root = openQuarantineRoot(diskPath);
  if (!root) throw new EcguardError('NOT_QUARANTINED', `${diskPath} holds no quarantine`);
  let dir: DiskDir | undefined;
  try {
    dir = openOrderIn(root, orderId, false);
    if (!dir) throw new EcguardError('NOT_QUARANTINED', `${diskPath} holds no quarantine ${orderId} (list them with ecguard debris quarantined)`);
    const m = readManifest(dir);
    if (!m || m.state !== 'done') throw new EcguardError('NOT_QUARANTINED', `${dir.path} is no finished quarantine (the agent's start-up recovery handles interrupted ones)`);
    const out = { orderId, diskPath, lfn: m.lfn, dataPath: m.dataPath };
    const parts = m.dataPath.split('/');
    if (parts.length !== 3) throw new EcguardError('BAD_MANIFEST', `${dir.path}: data path ${JSON.stringify(m.dataPath)} is not <space>/<bucket>/<name>`);
    const original = `${diskPath.replace(/\/+$/, '')}/${m.dataPath}`;
    if (!free(original)) return { ...out, restored: false, linkRestored: false, message: `${original} exists again (written anew?): the quarantined archive stays where it is` };
    const linkRoot = m.link && m.linkRemoved ? namespaceRootOf(m.link.path) : undefined;
    if (o.dryRun) return { ...out, restored: false, linkRestored: false, message: `would move back to ${original}${m.link && m.linkRemoved ? ` and link ${m.link.path}` : ''}` };
    // the bucket may be gone by now (xrootd removes empty ones): made again, owned like its parent
    const bucket = DiskDir.open(diskPath, [parts[0] as string, parts[1] as string], { existing: 1, durable: true });
    try {
      linkSync(dir.at(QUARANTINED_FILE), bucket.at(parts[2] as string));
      bucket.fsync();
    } catch (err) {
      throw new EcguardError('RESTORE_FAILED', `cannot put ${original} back: ${errorText(bucket.relabel(err))}; the quarantined archive is untouched`, { cause: err });
    } finally {
      bucket.close();
    }
    unlinkSync(dir.at(QUARANTINED_FILE));
    unlinkSync(dir.at(MANIFEST_NAME));
    dir.fsync();
    rmdirSync(root.at(orderId));
    root.fsync();
    let linkRestored = false;
    let note = '';
    if (m.link && m.linkRemoved) {
      if (linkRoot === undefined) note = `; its symlink ${m.link.path} is outside this server's namespace now: not recreated`;
      else {
        const r = createNamespaceLink(m.link.path, m.link.target, linkRoot);
        linkRestored = r.linked;
        note = r.linked ? `; symlink ${m.link.path} recreated` : `; symlink not recreated: ${r.problem ?? '?'}`;
      }
    }
    return { ...out, restored: true, linkRestored, message: `moved back to ${original}${note}` };
  } finally {
    dir?.close();
    root.close();
  }
}
