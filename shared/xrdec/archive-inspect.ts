// One archive (or `.mt` file) described for people and scripts: entries, blocks, stripes,
// CRC kind, xattrs in both namespaces, and every problem found, with `verify` checking all CRCs.
import { closeSync, fstatSync, openSync } from 'node:fs';
import type { CrcKind, ErasureCodec } from '../codec/codec.js';
import { errorText } from '../errors.js';
import { readEntrySync, readZipDirectorySync } from './archive-io.js';
import { detectCrcKind } from './archive-set.js';
import { crcMatches, summarizeEntries } from './archive-summary.js';
import { ArchiveError } from './errors.js';
import { readMetadataFile } from './mt-file.js';
import { readEcXattrsSync, type EcXattrs } from './xattrs.js';
import { parseDirectoryTail } from './directory-tail.js';

export interface InspectedEntry {
  readonly name: string;
  readonly block?: number;
  readonly stripe?: number;
  readonly size: number;
  readonly crc: string;
  readonly lfhOffset: number;
  /** Only with verify. */
  readonly crcOk?: boolean;
}

export interface InspectReport {
  readonly path: string;
  readonly kind: 'archive' | 'metadata';
  readonly size?: number;
  readonly xattrs: Pick<EcXattrs, 'namespace' | 'strpver' | 'filesize' | 'raw'>;
  readonly empty?: boolean;
  readonly zip64?: boolean;
  readonly crcKind?: CrcKind | 'unknown';
  readonly nblocks?: number;
  readonly regular?: boolean;
  readonly stripesByBlock?: Record<string, number[]>;
  readonly entries: InspectedEntry[];
  readonly error?: { code: string; message: string; offset?: number };
  readonly problems: string[];
  readonly verified: boolean;
}

const hex = (n: number): string => (n >>> 0).toString(16).padStart(8, '0');

export async function inspectArchive(path: string, codec: ErasureCodec, verify: boolean): Promise<InspectReport> {
  if (path.endsWith('.mt')) return inspectMetadata(path, codec);
  const problems: string[] = [];
  let xattrs: EcXattrs = { raw: {}, problems: [] };
  try {
    xattrs = readEcXattrsSync(path);
  } catch (err) {
    problems.push(`cannot read xattrs: ${errorText(err)}`);
  }
  problems.push(...xattrs.problems);
  if (xattrs.strpver === undefined && xattrs.filesize === undefined && xattrs.problems.length === 0) {
    problems.push('no xrdec.strpver / xrdec.filesize in either namespace (user.U. or user.)');
  }
  const base = { path, kind: 'archive' as const, xattrs: { ...xattrs, problems: undefined }, verified: verify };
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return { ...base, entries: [], problems: [...problems, errorText(err)], error: { code: 'OPEN_FAILED', message: errorText(err) } };
  }
  try {
    const size = fstatSync(fd).size;
    let dir;
    try {
      dir = readZipDirectorySync(fd);
    } catch (err) {
      const error = err instanceof ArchiveError ? { code: err.code, message: err.message, offset: err.offset } : { code: 'READ_FAILED', message: errorText(err) };
      return { ...base, size, entries: [], error, problems: [...problems, error.message] };
    }
    const summary = summarizeEntries(dir.entries);
    const loaded = [{ path, fd, dir, xattrs }];
    const kind = detectCrcKind(loaded, codec);
    const entries: InspectedEntry[] = dir.entries.map((e) => {
      let crcOk: boolean | undefined;
      if (verify) {
        try {
          const data = readEntrySync(fd, dir, e);
          crcOk = kind === undefined ? e.size === 0 && e.crc === 0 : crcMatches(codec, kind, data, e.crc);
        } catch (err) {
          crcOk = false;
          problems.push(`${e.name}: ${errorText(err)}`);
        }
        if (!crcOk && kind !== undefined) problems.push(`${e.name}: CRC mismatch (stored ${hex(e.crc)}, ${kind})`);
      }
      return { name: e.name, block: e.stripe?.block, stripe: e.stripe?.stripe, size: e.size, crc: hex(e.crc), lfhOffset: e.lfhOffset, ...(crcOk !== undefined ? { crcOk } : {}) };
    });
    if (verify && kind === undefined && dir.entries.some((e) => e.size > 0)) {
      problems.push('no entry matches either CRC-32C or CRC-32: the archive is corrupt or not XrdEc');
    }
    const stripesByBlock: Record<string, number[]> = {};
    for (const [b, s] of summary.stripesByBlock) stripesByBlock[String(b)] = [...s];
    if (xattrs.filesize !== undefined && xattrs.filesize > 0 && dir.empty) problems.push(`0-byte archive but xrdec.filesize is ${xattrs.filesize}`);
    return {
      ...base, size, empty: dir.empty, zip64: dir.zip64, crcKind: kind ?? 'unknown', nblocks: summary.nblocks,
      regular: summary.regular, stripesByBlock, entries, problems,
    };
  } finally {
    closeSync(fd);
  }
}

async function inspectMetadata(path: string, codec: ErasureCodec): Promise<InspectReport> {
  const problems: string[] = [];
  const base = { path, kind: 'metadata' as const, xattrs: { raw: {} }, verified: true };
  try {
    const { dir, members } = await readMetadataFile(path);
    const entries: InspectedEntry[] = [];
    for (const m of members) {
      const ok = codec.crc32c(m.bytes) === m.crc || codec.crc32(m.bytes) === m.crc;
      if (!ok) problems.push(`member ${m.index}: CRC mismatch`);
      try {
        parseDirectoryTail(m.bytes);
      } catch (err) {
        problems.push(`member ${m.index} is not an archive directory: ${errorText(err)}`);
      }
      entries.push({ name: String(m.index), size: m.bytes.length, crc: hex(m.crc), lfhOffset: dir.entries[entries.length]?.lfhOffset ?? 0, crcOk: ok });
    }
    return { ...base, size: dir.archiveSize, entries, problems };
  } catch (err) {
    const error = err instanceof ArchiveError ? { code: err.code, message: err.message, offset: err.offset } : { code: 'READ_FAILED', message: errorText(err) };
    return { ...base, entries: [], error, problems: [...problems, error.message] };
  }
}
