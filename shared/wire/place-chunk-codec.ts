// PlaceChunk (the PlaceArchive client stream: the rebuilt entries an executor sends a holder)
// without the generated codec's copies, as entry-data-codec.ts does for the read direction.
// The generated encoder copied each entry's data into its protobuf writer, again as the writer
// grew, in finish() and in Buffer.from; the decoder once more. Here: one copy to encode, none
// to decode (data is a view of the received message, which nothing reuses).
// Only entry chunks take the fast path; header, commit and abort (one each per placement) and
// any entry holding something unusual (an unknown field, a group, a zero tag, a CRC outside
// uint32) go through the generated codec, so what is accepted, refused and produced is the
// generated codec's.
import { PlaceChunk, type PlaceEntry } from '../../proto/gen/ecguard/v1/stripes.js';
import { ProtoReader, putVarint, varintSize } from './proto-bytes.js';

const EMPTY = Buffer.alloc(0);
const isUint32 = (v: number): boolean => Number.isInteger(v) && v >= 0 && v <= 0xffffffff;

const generatedEncode = (m: PlaceChunk): Buffer => Buffer.from(PlaceChunk.encode(m).finish());

export function encodePlaceChunk(m: PlaceChunk): Buffer {
  if (m.msg?.$case !== 'entry') return generatedEncode(m);
  const e = m.msg.value;
  if (!isUint32(e.crc) || !isUint32(e.dosStamp)) return generatedEncode(m); // the generated codec's error
  const nameLen = Buffer.byteLength(e.name, 'utf8');
  const dataLen = e.data.length;
  const inner =
    (nameLen > 0 ? 1 + varintSize(nameLen) + nameLen : 0) +
    (dataLen > 0 ? 1 + varintSize(dataLen) + dataLen : 0) +
    (e.crc !== 0 ? 1 + varintSize(e.crc) : 0) +
    (e.dosStamp !== 0 ? 1 + varintSize(e.dosStamp) : 0);
  const buf = Buffer.allocUnsafe(1 + varintSize(inner) + inner);
  buf[0] = 0x12; // PlaceChunk.entry: field 2, length-delimited
  let at = putVarint(buf, 1, inner);
  if (nameLen > 0) {
    buf[at++] = 0x0a;
    at = putVarint(buf, at, nameLen);
    at += buf.write(e.name, at, 'utf8');
  }
  if (dataLen > 0) {
    buf[at++] = 0x12;
    at = putVarint(buf, at, dataLen);
    at += Buffer.from(e.data.buffer, e.data.byteOffset, dataLen).copy(buf, at);
  }
  if (e.crc !== 0) {
    buf[at++] = 0x18;
    at = putVarint(buf, at, e.crc);
  }
  if (e.dosStamp !== 0) {
    buf[at++] = 0x20;
    putVarint(buf, at, e.dosStamp);
  }
  return buf;
}

export function decodePlaceChunk(buf: Buffer): PlaceChunk {
  const entry = entryOnly(buf);
  return entry ? { msg: { $case: 'entry', value: entry } } : PlaceChunk.decode(buf);
}

/** The entry, when `buf` is exactly one entry field made only of PlaceEntry's own four fields; else undefined. */
function entryOnly(buf: Buffer): PlaceEntry | undefined {
  if (buf.length < 2 || buf[0] !== 0x12) return undefined;
  try {
    const r = new ProtoReader(buf, 'PlaceChunk', 1);
    if (r.uint32() !== buf.length - r.at) return undefined;
    let name = '';
    let data: Buffer = EMPTY;
    let crc = 0;
    let dosStamp = 0;
    while (r.at < buf.length) {
      const tag = r.uint32();
      if (tag === 0x0a) {
        const [s, e] = r.take(r.uint32());
        name = buf.toString('utf8', s, e);
      } else if (tag === 0x12) {
        const [s, e] = r.take(r.uint32());
        data = buf.subarray(s, e);
      } else if (tag === 0x18) crc = r.uint32();
      else if (tag === 0x20) dosStamp = r.uint32();
      else return undefined;
    }
    return { name, data, crc, dosStamp };
  } catch {
    return undefined; // malformed: the generated decoder says how
  }
}
