// A stripe entry of a repair source that the executor could not use, as the agent reports it
// (proto TaskProgress.bad_entries). Structured, so the coordinator never parses the
// human-readable source problems: data paths may hold spaces, and the CRCs matter.
import type { BadEntryKind } from '../xrdec/rebuild/stripe-index.js';

export type { BadEntryKind };

export interface BadSourceEntry {
  readonly serverId: string;
  readonly diskId: string;
  /** Relative to the disk: <space>/<XX>/<name>% */
  readonly dataPath: string;
  readonly block: number;
  readonly stripe: number;
  readonly kind: BadEntryKind;
  /** crc-mismatch: the central directory's CRC and the CRC of the bytes read (unsigned 32 bit). */
  readonly expectedCrc?: number;
  readonly foundCrc?: number;
}

/** At most this many bad entries travel per progress report; the rest are only counted. */
export const MAX_BAD_ENTRIES = 32;
