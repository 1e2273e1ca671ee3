// EntryData (name, data) on the wire without the generated codec's copies. Entries are up to a
// chunk (often 1 MiB) and make up nearly every byte a repair moves. The generated serializer
// copied each one four times (into the protobuf writer, its growth, finish(), Buffer.from)
// and the generated deserializer once more (Buffer.from of the parsed bytes). Here: one copy
// to encode, none to decode (data is a view of the received message, which nothing reuses).
// Same bytes as the generated encoder; the decoder takes whatever the generated one takes
// (unknown fields and wrong wire types skipped, last value wins), but rejects truncation and
// groups (never valid in proto3).
import type { EntryData } from '../../proto/gen/ecguard/v1/stripes.js';

const EMPTY = Buffer.alloc(0);

const varintSize = (n: number): number => {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
};

function putVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

export function encodeEntryData(m: EntryData): Buffer {
  const nameLen = Buffer.byteLength(m.name, 'utf8');
  const dataLen = m.data.length;
  const size = (nameLen > 0 ? 1 + varintSize(nameLen) + nameLen : 0) + (dataLen > 0 ? 1 + varintSize(dataLen) + dataLen : 0);
  const buf = Buffer.allocUnsafe(size);
  let at = 0;
  if (nameLen > 0) {
    buf[at++] = 0x0a; // field 1, length-delimited
    at = putVarint(buf, at, nameLen);
    at += buf.write(m.name, at, 'utf8');
  }
  if (dataLen > 0) {
    buf[at++] = 0x12; // field 2, length-delimited
    at = putVarint(buf, at, dataLen);
    Buffer.from(m.data.buffer, m.data.byteOffset, dataLen).copy(buf, at);
  }
  return buf;
}

class Reader {
  at = 0;
  constructor(readonly buf: Buffer) {}

  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.buf.length) throw new RangeError('EntryData: truncated varint');
      const b = this.buf[this.at++] as number;
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (n > Number.MAX_SAFE_INTEGER) throw new RangeError('EntryData: varint past 2^53');
        return n;
      }
      scale *= 128;
    }
    throw new RangeError('EntryData: varint longer than 10 bytes');
  }

  take(len: number): [number, number] {
    const start = this.at;
    if (len > this.buf.length - start) throw new RangeError(`EntryData: ${len}-byte field runs past the message end`);
    this.at += len;
    return [start, this.at];
  }
}

export function decodeEntryData(buf: Buffer): EntryData {
  const r = new Reader(buf);
  let name = '';
  let data: Buffer = EMPTY;
  while (r.at < buf.length) {
    const tag = r.varint();
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (tag === 0 || wire === 4) break; // what the generated decoder stops at (an end-group or zero tag)
    if (wire === 2) {
      const [start, end] = r.take(r.varint());
      if (field === 1) name = buf.toString('utf8', start, end);
      else if (field === 2) data = buf.subarray(start, end);
    } else if (wire === 0) r.varint();
    else if (wire === 1) r.take(8);
    else if (wire === 5) r.take(4);
    else throw new RangeError(`EntryData: wire type ${wire} is not supported`);
  }
  return { name, data };
}
