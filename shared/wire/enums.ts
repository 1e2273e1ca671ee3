// Enum mappings between wire (ts-proto) and domain values. Unknown wire values map to
// undefined so callers reject them with a reason instead of guessing.
import type { CrcKind } from '../codec/codec.js';
import type { ParseStatus, } from '../domain/archive-record.js';
import type { BadEntryKind } from '../domain/bad-source-entry.js';
import type { QuarantineOutcome } from '../domain/debris-order.js';
import type { RemoveCause } from '../domain/delta.js';
import type { ScrubbedEntryProblem } from '../domain/scrub-finding.js';
import type { XattrNamespace } from '../xrdec/xattrs.js';
import { BadEntryKind as WBad } from '../../proto/gen/ecguard/v1/repair.js';
import { QuarantineOutcome as WQuar } from '../../proto/gen/ecguard/v1/debris.js';
import { ScrubProblem as WScrub } from '../../proto/gen/ecguard/v1/scrub.js';
import { CrcKind as WCrc, DiskState as WDisk, ParseStatus as WParse, RemoveCause as WCause, XattrNamespace as WNs } from '../../proto/gen/ecguard/v1/types.js';

export type DiskStateName = 'online' | 'missing' | 'failed' | 'downgraded';

function twoWay<D extends string>(pairs: readonly (readonly [D, number])[]): { toWire(d: D): number; fromWire(w: number): D | undefined } {
  const to = new Map(pairs);
  const from = new Map(pairs.map(([d, w]) => [w, d]));
  return { toWire: (d) => to.get(d) ?? 0, fromWire: (w) => from.get(w) };
}

export const parseStatusWire = twoWay<ParseStatus>([
  ['ok', WParse.PARSE_STATUS_OK], ['empty', WParse.PARSE_STATUS_EMPTY], ['truncated', WParse.PARSE_STATUS_TRUNCATED],
  ['bad-eocd', WParse.PARSE_STATUS_BAD_EOCD], ['bad-cd', WParse.PARSE_STATUS_BAD_CD], ['not-zip', WParse.PARSE_STATUS_NOT_ZIP],
  ['not-ec', WParse.PARSE_STATUS_NOT_EC], ['unreadable', WParse.PARSE_STATUS_UNREADABLE],
]);

export const crcKindWire = twoWay<CrcKind>([['crc32c', WCrc.CRC_KIND_CRC32C], ['crc32', WCrc.CRC_KIND_CRC32]]);

export const xattrNamespaceWire = twoWay<XattrNamespace>([['user.U.', WNs.XATTR_NAMESPACE_USER_U], ['user.', WNs.XATTR_NAMESPACE_USER]]);

export const diskStateWire = twoWay<DiskStateName>([
  ['online', WDisk.DISK_STATE_ONLINE], ['missing', WDisk.DISK_STATE_MISSING], ['failed', WDisk.DISK_STATE_FAILED], ['downgraded', WDisk.DISK_STATE_DOWNGRADED],
]);

export const removeCauseWire = twoWay<RemoveCause>([['unlink', WCause.REMOVE_CAUSE_UNLINK], ['disk-lost', WCause.REMOVE_CAUSE_DISK_LOST], ['rescan', WCause.REMOVE_CAUSE_RESCAN]]);

export const badEntryKindWire = twoWay<BadEntryKind>([
  ['crc-mismatch', WBad.BAD_ENTRY_KIND_CRC_MISMATCH], ['unreadable', WBad.BAD_ENTRY_KIND_UNREADABLE], ['short-read', WBad.BAD_ENTRY_KIND_SHORT_READ], ['misfit', WBad.BAD_ENTRY_KIND_MISFIT],
]);

export const quarantineOutcomeWire = twoWay<QuarantineOutcome>([
  ['quarantined', WQuar.QUARANTINE_OUTCOME_QUARANTINED], ['refused', WQuar.QUARANTINE_OUTCOME_REFUSED], ['failed', WQuar.QUARANTINE_OUTCOME_FAILED],
]);

export const scrubProblemWire = twoWay<ScrubbedEntryProblem['kind']>([['crc-mismatch', WScrub.SCRUB_PROBLEM_CRC_MISMATCH], ['unreadable', WScrub.SCRUB_PROBLEM_UNREADABLE]]);
