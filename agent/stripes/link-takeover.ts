// Which namespace link a new archive may take over on its holder: the link dangling into a
// failed or missing disk, the one to an archive the scrub found corrupt, or the one to an
// archive a drain moves off a disk. Each is re-checked right before the swap.
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { EcguardError } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { plainDecimal, readEcXattrsSync } from '../../shared/xrdec/xattrs.js';
import type { PlaceTarget } from '../repair/archive-placer.js';
import type { PlacementHeader } from './placement-types.js';
import type { StripesContext } from './stripes-context.js';

const log = getLogger('stripes');

/** The link fields of a placement told to replace a link into `h.replaceLinkOfDisk`. */
export function linkTakeover(ctx: StripesContext, h: PlacementHeader, linkPath: string): Pick<PlaceTarget, 'replaceLinkInto' | 'replaceLinkOnlyIf'> {
  if (h.replaceLinkOfDisk === undefined) return {};
  return h.replaceLinkOfPath !== undefined ? drainedDiskLink(ctx, h, linkPath) : deadDiskLink(ctx, h.replaceLinkOfDisk, linkPath);
}

function deadDiskLink(ctx: StripesContext, diskId: string, linkPath: string): Pick<PlaceTarget, 'replaceLinkInto' | 'replaceLinkOnlyIf'> {
  const dead = ctx.disk(diskId);
  if (dead === undefined) throw new EcguardError('UNKNOWN_DISK', `server ${ctx.serverId} has no disk ${JSON.stringify(diskId.slice(0, 200))} (replace_link_of_disk)`);
  if (dead.state === 'failed' || dead.state === 'missing') return { replaceLinkInto: dead.path };
  const pointsAt = linkTargetIn(linkPath, dead.path);
  const stillCorrupt = (): boolean => pointsAt !== undefined && linkTargetIn(linkPath, dead.path) === pointsAt && ctx.corruptArchive?.(diskId, pointsAt) === true;
  // checked now, and again right before the swap: xrootd may delete and recreate the file meanwhile
  if (stillCorrupt()) return { replaceLinkInto: dead.path, replaceLinkOnlyIf: stillCorrupt };
  log.info(`disk ${diskId} is ${dead.state} again: its namespace links are not replaced`);
  return {};
}

/**
 * A drain moves a live archive off a disk of this server: the link moves to the new archive only
 * while it still points at exactly the drained file and that file keeps the task's strpver
 * (xrootd may rewrite or delete it meanwhile: then the link is left alone). Checked now and
 * again right before the swap.
 */
function drainedDiskLink(ctx: StripesContext, h: PlacementHeader, linkPath: string): Pick<PlaceTarget, 'replaceLinkInto' | 'replaceLinkOnlyIf'> {
  const diskId = h.replaceLinkOfDisk as string;
  const path = h.replaceLinkOfPath as string;
  const disk = ctx.disk(diskId);
  if (disk === undefined) throw new EcguardError('UNKNOWN_DISK', `server ${ctx.serverId} has no disk ${JSON.stringify(diskId.slice(0, 200))} (replace_link_of_disk)`);
  if (disk.state === 'failed' || disk.state === 'missing') return { replaceLinkInto: disk.path };
  const want = plainDecimal(Buffer.from(h.strpverText, 'latin1'));
  const still = (): boolean => {
    if (linkTargetIn(linkPath, disk.path) !== path) return false;
    try {
      return want !== undefined && readEcXattrsSync(join(disk.path, path)).strpver === want;
    } catch {
      return false;
    }
  };
  if (still()) return { replaceLinkInto: disk.path, replaceLinkOnlyIf: still };
  log.info(`the link ${linkPath} no longer points at ${diskId}/${path} of strpver ${h.strpverText}: left alone`);
  return {};
}

function linkTargetIn(linkPath: string, diskPath: string): string | undefined {
  try {
    const t = readlinkSync(linkPath);
    const root = diskPath.replace(/\/+$/, '') + '/';
    return t.startsWith(root) && !t.slice(root.length).split('/').includes('..') ? t.slice(root.length) : undefined;
  } catch {
    return undefined;
  }
}
