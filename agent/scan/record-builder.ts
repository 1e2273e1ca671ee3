// Turns what the scan read about one data file into an ArchiveRecord plus findings. Pure apart
// from one extra read for archives whose central directory is larger than the tail read.
// The usual clean archive takes a fast path (tail-directory.ts, usualEcXattrs, one object
// literal); everything else the general one. Both give the same record: same keys, same order.
import type { ErasureCodec } from '../../shared/codec/codec.js';
import type { ArchiveRecord, Finding, ParseStatus } from '../../shared/domain/archive-record.js';
import { errorText } from '../../shared/errors.js';
import { preadFileSync, runOnBytes } from '../../shared/xrdec/archive-io.js';
import { matchCrc, summarizeEntries } from '../../shared/xrdec/archive-summary.js';
import { ArchiveError } from '../../shared/xrdec/errors.js';
import { directoryDigest } from '../../shared/xrdec/directory-digest.js';
import { isMetadataFile, METADATA_NOTE } from '../../shared/xrdec/mt-file.js';
import { interpretEcXattrs, usualEcXattrs, type EcXattrs } from '../../shared/xrdec/xattrs.js';
import { LFH_SIZE } from '../../shared/xrdec/zip-constants.js';
import { parseZipDirectory, type ZipDirectory } from '../../shared/xrdec/zip-directory.js';
import { checkPfn } from './pfn.js';
import { SCAN_XATTRS, type RawDataFile } from './raw-data-file.js';
import { tailDirectory, type TailDirectory } from './tail-directory.js';

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

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type FindingFields = Omit<Finding, 'path' | 'diskId'>;

const XATTR_INDEX = new Map<string, number>(SCAN_XATTRS.map((name, i) => [name, i]));
// Scratch for the fast path (a worker builds one record at a time).
const fast: TailDirectory = { count: 0, cdStart: 0, lastSize: 0, lastCrc: 0, lastLfhOffset: 0, lastNameLen: 0 };

/** `bucketRel` is `<space>/<XX>` relative to the disk. */
export function buildRecord(raw: RawDataFile, bucketRel: string, ctx: RecordContext): BuiltRecord {
  const dataPath = `${bucketRel}/${raw.name}`;
  const findings: Finding[] = [];
  const finding = (f: FindingFields): void => {
    findings.push({ ...f, path: `${ctx.spacePath}/${dataPath}`, diskId: ctx.diskId });
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

  const xa = ecXattrs(raw.xattrs);
  if (xa.problems.length > 0) finding({ kind: 'bad-xattrs', severity: 'warning', reason: xa.problems.join('; ') });
  else if (xa.strpver === undefined) finding({ kind: 'bad-xattrs', severity: 'warning', reason: 'no xrdec.strpver / xrdec.filesize: not written by XrdEc, or attributes lost' });

  if (pfn !== undefined && lfn !== undefined && xa.strpver !== undefined && xa.filesize !== undefined && xa.namespace !== undefined && tailDirectory(raw.size, raw.tail, fast)) {
    // The usual clean archive: one literal in the general path's key order.
    const crcKind = fastCrcKind(raw, ctx.codec);
    const cdDigest = directoryDigest(ctx.codec, raw.tail.subarray(fast.cdStart));
    const { serverId, diskId, space } = ctx;
    const { size, mtimeMs, ino: inode } = raw;
    const { strpver, filesize, namespace: xattrNamespace } = xa;
    const n = fast.count;
    const record: ArchiveRecord = crcKind !== undefined
      ? { serverId, diskId, space, dataPath, pfn, lfn, size, mtimeMs, inode, strpver, filesize, xattrNamespace, nblocks: n, nentries: n, crcKind, regular: true, parseStatus: 'ok', cdDigest }
      : { serverId, diskId, space, dataPath, pfn, lfn, size, mtimeMs, inode, strpver, filesize, xattrNamespace, nblocks: n, nentries: n, regular: true, parseStatus: 'ok', cdDigest };
    return { record, findings };
  }
  return { record: generalRecord(raw, dataPath, ctx, pfn, lfn, xa, finding), findings };
}

/** The xrdec.* attributes; the usual ones without building interpretEcXattrs' raw texts. */
function ecXattrs(x: RawDataFile['xattrs']): Pick<EcXattrs, 'namespace' | 'strpver' | 'filesize' | 'problems'> {
  const a = x[1];
  const b = x[2];
  const c = x[3];
  const d = x[4];
  if (a !== 'oversized' && b !== 'oversized' && c !== 'oversized' && d !== 'oversized') {
    const usual = usualEcXattrs(a, b, c, d);
    if (usual) return usual;
  }
  return interpretEcXattrs((name) => {
    const v = x[XATTR_INDEX.get(name) ?? -1];
    return v === 'oversized' ? Buffer.from('oversized') : v;
  });
}

/** Everything but the usual clean archive: the full directory parser and optional keys. */
function generalRecord(
  raw: RawDataFile, dataPath: string, ctx: RecordContext, pfn: string | undefined, lfn: string | undefined,
  xa: Pick<EcXattrs, 'namespace' | 'strpver' | 'filesize'>, finding: (f: FindingFields) => void,
): ArchiveRecord {
  let parseStatus: ParseStatus = 'ok';
  let parseError: string | undefined;
  let dir: ZipDirectory | undefined;
  const tailBase = raw.size - raw.tail.length;
  const absPath = `${ctx.spacePath}/${dataPath}`;
  try {
    dir = runOnBytes(parseZipDirectory(raw.size, { initialTail: raw.tail.length }), raw.tail, tailBase, (req) => preadFileSync(absPath, req));
    if (dir.empty) parseStatus = 'empty';
  } catch (err) {
    parseStatus = err instanceof ArchiveError ? STATUS_BY_CODE[err.code] ?? 'bad-cd' : 'unreadable';
    parseError = err instanceof ArchiveError ? `${err.code}: ${err.message}` : errorText(err);
    // An object's .mt file is a zip of directories, not a damaged archive: reported, not flagged.
    const mt = parseStatus === 'not-ec' ? isMetadataFile(lfn, xa.strpver, () => runOnBytes(parseZipDirectory(raw.size, { initialTail: raw.tail.length, names: 'any' }), raw.tail, tailBase, (req) => preadFileSync(absPath, req))) : undefined;
    if (mt) parseError = `${METADATA_NOTE} of ${mt.object}: ${mt.members} members`;
    else finding({ kind: parseStatus === 'unreadable' ? 'unreadable' : 'bad-archive', severity: 'error', reason: parseError });
  }
  if (parseStatus === 'empty' && xa.filesize !== undefined && xa.filesize > 0) {
    finding({ kind: 'bad-archive', severity: 'error', reason: `0-byte archive but xrdec.filesize is ${xa.filesize}: truncated to nothing` });
  }

  const summary = dir ? summarizeEntries(dir.entries) : undefined;
  const crcKind = dir ? crcKindFromTail(dir, raw.tail, tailBase, ctx.codec) : undefined;
  // Keys in a fixed order, optional ones only when set (records are compared with deepEqual).
  const r: Partial<Mutable<ArchiveRecord>> = { serverId: ctx.serverId, diskId: ctx.diskId, space: ctx.space, dataPath };
  if (pfn !== undefined) r.pfn = pfn;
  if (lfn !== undefined) r.lfn = lfn;
  r.size = raw.size;
  r.mtimeMs = raw.mtimeMs;
  r.inode = raw.ino;
  if (xa.strpver !== undefined) r.strpver = xa.strpver;
  if (xa.filesize !== undefined) r.filesize = xa.filesize;
  if (xa.namespace !== undefined) r.xattrNamespace = xa.namespace;
  r.nblocks = summary?.nblocks ?? 0;
  r.nentries = summary?.nentries ?? 0;
  if (crcKind !== undefined) r.crcKind = crcKind;
  r.regular = summary?.regular ?? false;
  if (summary && !summary.regular) {
    const stripeMap: Record<number, number[]> = {};
    for (const [b, s] of summary.stripesByBlock) stripeMap[b] = [...s];
    r.stripeMap = stripeMap;
  }
  r.parseStatus = parseStatus;
  if (parseError !== undefined) r.parseError = parseError;
  if (dir && !dir.empty) r.cdDigest = directoryDigest(ctx.codec, dir.tail);
  return r as ArchiveRecord;
}

/** crcKindFromTail for the fast path, from the last non-empty entry tailDirectory() noted. */
function fastCrcKind(raw: RawDataFile, codec: ErasureCodec): ArchiveRecord['crcKind'] {
  if (fast.lastSize === 0) return undefined;
  const tailBase = raw.size - raw.tail.length;
  const k = kindAt(raw.tail, tailBase, fast.lastLfhOffset, fast.lastNameLen, fast.lastSize, fast.lastCrc, codec);
  if (k !== 'ambiguous') return k;
  // Rare (e.g. a 1-byte entry 0xFF, whose CRC-32C and CRC-32 coincide): look at earlier entries.
  try {
    return crcKindFromTail(runOnBytes(parseZipDirectory(raw.size, { initialTail: raw.tail.length }), raw.tail, tailBase), raw.tail, tailBase, codec);
  } catch {
    return undefined;
  }
}

/** CRC kind from the last non-empty entry when its bytes happen to lie inside the tail read. */
function crcKindFromTail(dir: ZipDirectory, tail: Buffer, tailBase: number, codec: ErasureCodec): ArchiveRecord['crcKind'] {
  for (let i = dir.entries.length - 1; i >= 0; i--) {
    const e = dir.entries[i];
    if (!e || e.size === 0) continue;
    const k = kindAt(tail, tailBase, e.lfhOffset, e.name.length, e.size, e.crc, codec);
    if (k !== 'ambiguous') return k;
  }
  return undefined;
}

/** The kind one entry proves; 'ambiguous' when its bytes match both CRCs (try another entry). */
function kindAt(tail: Buffer, tailBase: number, lfhOffset: number, nameLen: number, size: number, crc: number, codec: ErasureCodec): ArchiveRecord['crcKind'] | 'ambiguous' {
  const start = lfhOffset + LFH_SIZE + nameLen - tailBase;
  if (lfhOffset < tailBase || start + size > tail.length) return undefined;
  if (tail.readUInt16LE(lfhOffset - tailBase + 28) !== 0) return undefined; // extra field: not our fast case
  const m = matchCrc(codec, tail.subarray(start, start + size), crc);
  return m === 'crc32c' || m === 'crc32' ? m : m === 'both' ? 'ambiguous' : undefined;
}
