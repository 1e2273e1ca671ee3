// Streams one XrdEc archive to a file: local header + data per entry as they come, then the
// central directory and end records. An archive with no entries stays a 0-byte file, as
// XrdEc leaves it for the empty object.
import { writeSync } from 'node:fs';
import { centralHeader, endRecords, localHeader, type DosTime, type LayoutEntry } from './zip-layout.js';

export class ArchiveFileWriter {
  private readonly entries: LayoutEntry[] = [];
  private readonly offsets: number[] = [];
  private offset = 0;

  constructor(private readonly fd: number, private readonly time: DosTime) {}

  /** Continues an archive whose first entries (local headers + data) are already in the file. */
  static resume(fd: number, time: DosTime, kept: { readonly entries: readonly LayoutEntry[]; readonly offsets: readonly number[]; readonly end: number }): ArchiveFileWriter {
    const w = new ArchiveFileWriter(fd, time);
    w.entries.push(...kept.entries);
    w.offsets.push(...kept.offsets);
    w.offset = kept.end;
    return w;
  }

  append(name: string, data: Uint8Array, crc: number, time?: DosTime): void {
    const entry = { name, size: data.length, crc, ...(time ? { time } : {}) };
    const header = localHeader(entry, this.time);
    this.writeAll(header, this.offset);
    this.writeAll(data, this.offset + header.length);
    this.entries.push(entry);
    this.offsets.push(this.offset);
    this.offset += header.length + data.length;
  }

  /** Writes the central directory and end records; returns them (the `.mt` member for this archive). */
  finish(): Buffer {
    const tail = centralDirectoryTail(this.entries, this.offsets, this.offset, this.time);
    if (this.entries.length > 0) this.writeAll(tail, this.offset);
    return tail;
  }

  get size(): number {
    return this.offset;
  }

  private writeAll(data: Uint8Array, position: number): void {
    let done = 0;
    while (done < data.length) done += writeSync(this.fd, data, done, data.length - done, position + done);
  }
}

/** CD + end records for entries at the given local-header offsets, CD starting at cdOffset. */
export function centralDirectoryTail(entries: readonly LayoutEntry[], offsets: readonly number[], cdOffset: number, t: DosTime): Buffer {
  const cd = Buffer.concat(entries.map((e, i) => centralHeader(e, offsets[i] ?? 0, t)));
  return Buffer.concat([cd, endRecords(entries.length, cdOffset, cd.length)]);
}
