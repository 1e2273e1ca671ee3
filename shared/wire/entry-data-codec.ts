// EntryData (name, data) on the wire without the generated codec's copies. Entries are up to a
// chunk (often 1 MiB) and make up nearly every byte a repair moves. The generated serializer
// copied each one four times (into the protobuf writer, its growth, finish(), Buffer.from)
// and the generated deserializer once more (Buffer.from of the parsed bytes). Here: one copy
// to encode, none to decode (data is a view of the received message, which nothing reuses).
// Same bytes as the generated encoder; the decoder takes whatever the generated one takes
// (unknown fields and wrong wire types skipped, last value wins), but rejects truncation and
// groups (never valid in proto3).
import type { EntryData } from '../../proto/gen/ecguard/v1/stripes.js';
import { ProtoReader, putVarint, varintSize } from './proto-bytes.js';

const EMPTY = Buffer.alloc(0);

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

export function decodeEntryData(buf: Buffer): EntryData {
  const r = new ProtoReader(buf, 'EntryData');
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
