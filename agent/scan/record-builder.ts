// Turns what the scan read about one data file into an ArchiveRecord plus findings. Pure apart
// from one extra read for archives whose central directory is larger than the tail read.
import type { ErasureCodec } from '../../shared/codec/codec.js';
import type { ArchiveRecord, Finding, ParseStatus } from '../../shared/domain/archive-record.js';
import { errorText } from '../../shared/errors.js';
import { preadFileSync, runOnBytes } from '../../shared/xrdec/archive-io.js';
import { matchCrc, summarizeEntries } from '../../shared/xrdec/archive-summary.js';
import { ArchiveError } from '../../shared/xrdec/errors.js';
import { interpretEcXattrs } from '../../shared/xrdec/xattrs.js';
import { LFH_SIZE } from '../../shared/xrdec/zip-constants.js';
import { parseZipDirectory, type ZipDirectory } from '../../shared/xrdec/zip-directory.js';
import { checkPfn } from './pfn.js';
import { SCAN_XATTRS, type RawDataFile } from './raw-data-file.js';

export interface RecordContext {
  readonly serverId: string;
  readonly diskId: string;
  readonly space: string;
  /** The disk directory (oss.space PATH). */
  readonly spacePath: string;
  readonly localroot?: string;
  readonly exports: readonly string[];
  readonly codec: ErasureCodec;
}

const STATUS_BY_CODE: Record<string, ParseStatus> = {
  TRUNCATED_ARCHIVE: 'truncated',
  NOT_A_ZIP: 'not-zip',
  BAD_EOCD: 'bad-eocd',
  BAD_CENTRAL_DIRECTORY: 'bad-cd',
  BAD_LOCAL_HEADER: 'bad-cd',
  NOT_XRDEC_ENTRY: 'not-ec',
};

export interface BuiltRecord {
  readonly record: ArchiveRecord;
  readonly findings: Finding[];
}

/** `bucketRel` is `<space>/<XX>` relative to the disk. */
export function buildRecord(raw: RawDataFile, bucketRel: string, ctx: RecordContext): BuiltRecord {
  const dataPath = `${bucketRel}/${raw.name}`;
  const absPath = `${ctx.spacePath}/${dataPath}`;
  const findings: Finding[] = [];
  const finding = (f: Omit<Finding, 'path' | 'diskId'>): void => {
    findings.push({ ...f, path: absPath, diskId: ctx.diskId });
  };

  // Pfn: validated, never followed when hostile.
  const pfnRaw = raw.xattrs[0];
  let pfn: string | undefined;
  let lfn: string | undefined;
  if (pfnRaw === 'oversized') {
    finding({ kind: 'hostile-pfn', severity: 'error', reason: 'user.XrdFrm.Pfn is larger than any path: ignored' });
  } else if (pfnRaw === undefined) {
    finding({ kind: 'missing-pfn', severity: 'warning', reason: 'data file has no user.XrdFrm.Pfn: its LFN is known only from a symlink' });
  } else {
    const c = checkPfn(pfnRaw, ctx.localroot, ctx.exports);
    if (c.hostile) finding({ kind: 'hostile-pfn', severity: 'error', reason: `${c.problem}: ignored, never followed`, evidence: { pfnHex: pfnRaw.subarray(0, 256).toString('hex') } });
    else {
      pfn = c.pfn;
      lfn = c.lfn;
    }
  }

  const xa = interpretEcXattrs((name) => {
    const v = raw.xattrs[SCAN_XATTRS.indexOf(name as (typeof SCAN_XATTRS)[number])];
    return v === 'oversized' ? Buffer.from('oversized') : v;
  });
  if (xa.problems.length > 0) finding({ kind: 'bad-xattrs', severity: 'warning', reason: xa.problems.join('; ') });
  else if (xa.strpver === undefined) finding({ kind: 'bad-xattrs', severity: 'warning', reason: 'no xrdec.strpver / xrdec.filesize: not written by XrdEc, or attributes lost' });

  let parseStatus: ParseStatus = 'ok';
  let parseError: string | undefined;
  let dir: ZipDirectory | undefined;
  const tailBase = raw.size - raw.tail.length;
  try {
    dir = runOnBytes(parseZipDirectory(raw.size, { initialTail: raw.tail.length }), raw.tail, tailBase, (req) => preadFileSync(absPath, req));
    if (dir.empty) parseStatus = 'empty';
  } catch (err) {
    parseStatus = err instanceof ArchiveError ? STATUS_BY_CODE[err.code] ?? 'bad-cd' : 'unreadable';
    parseError = err instanceof ArchiveError ? `${err.code}: ${err.message}` : errorText(err);
    finding({ kind: parseStatus === 'unreadable' ? 'unreadable' : 'bad-archive', severity: 'error', reason: parseError });
  }
  if (parseStatus === 'empty' && xa.filesize !== undefined && xa.filesize > 0) {
    finding({ kind: 'bad-archive', severity: 'error', reason: `0-byte archive but xrdec.filesize is ${xa.filesize}: truncated to nothing` });
  }

  const summary = dir ? summarizeEntries(dir.entries) : undefined;
  let stripeMap: Record<number, number[]> | undefined;
  if (summary && !summary.regular) {
    stripeMap = {};
    for (const [b, s] of summary.stripesByBlock) stripeMap[b] = [...s];
  }
  const crcKind = dir ? crcKindFromTail(dir, raw.tail, tailBase, ctx.codec) : undefined;
  const record: ArchiveRecord = {
    serverId: ctx.serverId,
    diskId: ctx.diskId,
    space: ctx.space,
    dataPath,
    ...(pfn !== undefined ? { pfn } : {}),
    ...(lfn !== undefined ? { lfn } : {}),
    size: raw.size,
    mtimeMs: raw.mtimeMs,
    inode: raw.ino,
    ...(xa.strpver !== undefined ? { strpver: xa.strpver } : {}),
    ...(xa.filesize !== undefined ? { filesize: xa.filesize } : {}),
    ...(xa.namespace !== undefined ? { xattrNamespace: xa.namespace } : {}),
    nblocks: summary?.nblocks ?? 0,
    nentries: summary?.nentries ?? 0,
    ...(crcKind !== undefined ? { crcKind } : {}),
    regular: summary?.regular ?? false,
    ...(stripeMap ? { stripeMap } : {}),
    parseStatus,
    ...(parseError !== undefined ? { parseError } : {}),
    ...(dir && !dir.empty ? { cdDigest: digest(ctx.codec, dir.tail) } : {}),
  };
  return { record, findings };
}

/** 64-bit digest of the directory bytes from the two CRCs (fast, native). */
function digest(codec: ErasureCodec, bytes: Buffer): string {
  return codec.crc32c(bytes).toString(16).padStart(8, '0') + codec.crc32(bytes).toString(16).padStart(8, '0');
}

/** CRC kind from the last non-empty entry when its bytes happen to lie inside the tail read. */
function crcKindFromTail(dir: ZipDirectory, tail: Buffer, tailBase: number, codec: ErasureCodec): ArchiveRecord['crcKind'] {
  for (let i = dir.entries.length - 1; i >= 0; i--) {
    const e = dir.entries[i];
    if (!e || e.size === 0) continue;
    const start = e.lfhOffset + LFH_SIZE + e.name.length - tailBase;
    if (e.lfhOffset < tailBase || start + e.size > tail.length) return undefined;
    if (tail.readUInt16LE(e.lfhOffset - tailBase + 28) !== 0) return undefined; // extra field: not our fast case
    const m = matchCrc(codec, tail.subarray(start, start + e.size), e.crc);
    return m === 'crc32c' || m === 'crc32' ? m : undefined;
  }
  return undefined;
}
