// Restores this server's copy of an object's `.mt` file when it died with a disk (XRDEC-FORMAT.md
// §E: every server holds the same bytes). Written like a rebuilt archive (temp name, fsync,
// ledger, link, namespace symlink last; placement ledger slot = the archive's slot + 0x8000),
// entry by entry from the copy another server holds, with its timestamps, so the result is that
// copy byte for byte (checked before it is published). An existing `.mt` at the LFN is never
// touched; only a symlink into the dead disk is replaced.
import { readFileSync, statSync } from 'node:fs';
import { EcguardError } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { parseEntryData, runOnBytes } from '../../shared/xrdec/archive-io.js';
import { metadataMembersOf, METADATA_SUFFIX } from '../../shared/xrdec/mt-file.js';
import { parseZipDirectory } from '../../shared/xrdec/zip-directory.js';
import { MAX_TAIL_BYTES, usableDisk } from '../stripes/archive-ref.js';
import type { StripesContext } from '../stripes/stripes-context.js';
import { AlreadyPlaced, ArchivePlacement } from './archive-placer.js';

/** Ledger slots of `.mt` copies: apart from the archives' slots of the same task. */
export const METADATA_SLOT_BASE = 0x8000;

export interface MetadataCopyOrder {
  readonly taskId: string;
  /** The slot of the archive rebuilt on this server in the same task. */
  readonly slot: number;
  readonly diskId: string;
  /** The object's LFN (the copy goes to `<LFN>.mt`). */
  readonly lfn: string;
  /** The `.mt` file as another server holds it. */
  readonly bytes: Buffer;
  /** The dead disk the old copy sat on: a namespace symlink into it is replaced. */
  readonly lostOnDisk: string;
  readonly version: { readonly strpverText: string; readonly filesizeText: string };
}

export interface MetadataCopyResult {
  readonly path: string;
  readonly linked: boolean;
  /** A copy was there already (another run, or a live `.mt` at the LFN): nothing written. */
  readonly already: boolean;
}

const log = getLogger('repair');

export function placeMetadataCopy(ctx: StripesContext, o: MetadataCopyOrder): MetadataCopyResult {
  if (o.bytes.length > MAX_TAIL_BYTES) throw new EcguardError('NOT_METADATA', `a .mt file of ${o.bytes.length} bytes is more than any XrdEc writes`);
  let dir;
  try {
    metadataMembersOf(o.bytes);
    dir = runOnBytes(parseZipDirectory(o.bytes.length, { names: 'any', initialTail: o.bytes.length }), o.bytes);
  } catch (err) {
    throw new EcguardError('NOT_METADATA', `the .mt copy to restore does not parse: ${(err as Error).message}`, { cause: err });
  }
  const disk = usableDisk(ctx, o.diskId, true);
  const ns = ctx.linkFor(o.lfn + METADATA_SUFFIX);
  try {
    if (statSync(ns.linkPath).isFile()) return { path: ns.linkPath, linked: true, already: true };
  } catch {
    /* no live copy: restore it */
  }
  const dead = ctx.disk(o.lostOnDisk);
  let placement: ArchivePlacement;
  try {
    placement = ArchivePlacement.open({
      diskPath: disk.path, space: disk.space, linkPath: ns.linkPath, namespaceRoot: ns.namespaceRoot, taskId: o.taskId, slot: METADATA_SLOT_BASE + o.slot,
      version: o.version, metadataFile: true, ...(ctx.xrootdServer ? { server: ctx.xrootdServer } : {}),
      ...(dead && (dead.state === 'failed' || dead.state === 'missing') ? { replaceLinkInto: dead.path } : {}),
    });
  } catch (err) {
    if (err instanceof AlreadyPlaced) return { path: err.placed.path, linked: true, already: true };
    throw err;
  }
  try {
    for (const e of dir.entries) {
      const data = runOnBytes(parseEntryData(e, dir.cdOffset), o.bytes);
      const at = e.lfhOffset; // each member keeps its own stamp
      placement.append({ name: e.name, data, crc: e.crc, time: { time: o.bytes.readUInt16LE(at + 10), date: o.bytes.readUInt16LE(at + 12) } });
    }
    const temp = placement.seal();
    if (!readFileSync(temp).equals(o.bytes)) throw new EcguardError('DIRECTORY_MISMATCH', 'the restored .mt copy would differ from the one the other servers hold: not publishing it');
    const p = placement.publishSealed();
    log.info(`restored ${o.lfn}${METADATA_SUFFIX} on ${disk.diskId} (${p.path}${p.linked ? '' : `, NOT linked: ${p.linkProblem ?? ''}`})`);
    return { path: p.path, linked: p.linked, already: false };
  } finally {
    placement.abort(); // no-op once published
  }
}
