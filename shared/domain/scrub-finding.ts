// What a scrub found wrong in one archive (DESIGN.md §3 Scrub): the agent's report, as the
// coordinator gets it (shared/wire/scrub-wire.ts converts).

export interface ScrubbedEntryProblem {
  readonly name: string;
  /** From the entry name (obj.<block>.<stripe>); absent for other names. */
  readonly block?: number;
  readonly stripe?: number;
  /** crc-mismatch: the bytes read do not have the recorded CRC; unreadable: the read failed. */
  readonly kind: 'crc-mismatch' | 'unreadable';
  /** Unsigned. */
  readonly expectedCrc?: number;
  /** The CRC the bytes had, in the archive's kind (CRC-32C when undecided). */
  readonly foundCrc?: number;
  readonly reason: string;
}

/** An archive with corrupt or unreadable entries. */
export interface ScrubFinding {
  readonly diskId: string;
  /** Relative to the disk: <space>/<XX>/<name>. */
  readonly dataPath: string;
  /** From the data file's own Pfn, when it is safe to use. */
  readonly lfn?: string;
  readonly problems: readonly ScrubbedEntryProblem[];
  /** When it was read (ms since the epoch). */
  readonly at: number;
}

/**
 * How the agent's record of an archive its scrub found corrupt begins its parseError (parse
 * status 'unreadable'): the planner rebuilds only those on the same server (the holder takes
 * over the link only from an archive it knows corrupt), not archives a scan could not read.
 */
export const SCRUB_PARSE_ERROR_PREFIX = 'scrub: ';

export function isScrubCorrupt(a: { readonly parseStatus: string; readonly parseError?: string | undefined }): boolean {
  return a.parseStatus === 'unreadable' && a.parseError?.startsWith(SCRUB_PARSE_ERROR_PREFIX) === true;
}
