// What a placement is told (the header) and what it answers (the placed archive), shared by
// the sinks, the Stripes service and the wire conversion.
import type { CrcKind } from '../../shared/codec/codec.js';
import type { PlacedRef } from '../../shared/domain/repair-task.js';
import type { XattrNamespace } from '../../shared/xrdec/xattrs.js';

export interface PlacementHeader {
  readonly taskId: string;
  readonly slot: number;
  readonly diskId: string;
  readonly lfn: string;
  /** The survivors' raw attribute texts, written byte for byte. */
  readonly strpverText: string;
  readonly filesizeText: string;
  readonly xattrNamespace: XattrNamespace;
  /** Exactly how many entries will be appended (checked before anything is published). */
  readonly expectedEntries: number;
  /** undefined only for an archive without non-empty entries. */
  readonly crcKind?: CrcKind;
  /** A failed or missing disk of the holder: a namespace symlink into it may be replaced. */
  readonly replaceLinkOfDisk?: string;
  /** That disk is drained, not dead: the link moves only while it points at this data path (relative to it). */
  readonly replaceLinkOfPath?: string;
  /** Keep this many entries of the (task, slot)'s partial archive and append after them. */
  readonly resumeEntries?: number;
  /** The central directory digest the archive must end with (objects with .mt files). */
  readonly directoryDigest?: string;
}

/** A placed archive as the holder reports it (dataPath relative to the disk: <space>/<XX>/<name>%). */
export interface PlacedInfo extends PlacedRef {
  /** The (task, slot) had been placed before: nothing new was written. */
  readonly alreadyPlaced: boolean;
}
