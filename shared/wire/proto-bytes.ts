// Hand-written protobuf wire primitives for the copy-free codecs of the messages that carry
// entry data (entry-data-codec.ts, place-chunk-codec.ts). Errors are RangeErrors naming the
// message (`what`), so a peer's malformed bytes say which message was malformed.

export const varintSize = (n: number): number => {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
};

/** Writes `n` (a non-negative safe integer) as a varint at `at`; returns the offset after it. */
export function putVarint(buf: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    buf[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

export class ProtoReader {
  at: number;
  constructor(
    readonly buf: Buffer,
    readonly what: string,
    start = 0,
  ) {
    this.at = start;
  }

  /** A varint up to 2^53 (lengths). */
  varint(): number {
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.buf.length) throw new RangeError(`${this.what}: truncated varint`);
      const b = this.buf[this.at++] as number;
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (n > Number.MAX_SAFE_INTEGER) throw new RangeError(`${this.what}: varint past 2^53`);
        return n;
      }
      scale *= 128;
    }
    throw new RangeError(`${this.what}: varint longer than 10 bytes`);
  }

  /** A uint32 field or tag as protobuf reads it: the low 32 bits of a varint of up to 10 bytes. */
  uint32(): number {
    let n = 0;
    for (let i = 0; i < 10; i++) {
      if (this.at >= this.buf.length) throw new RangeError(`${this.what}: truncated varint`);
      const b = this.buf[this.at++] as number;
      if (i < 5) n |= (b & 0x7f) << (7 * i); // bits past 32 fall off, as in protobuf
      if (b < 0x80) return n >>> 0;
    }
    throw new RangeError(`${this.what}: varint longer than 10 bytes`);
  }

  /** Skips `len` bytes; returns [start, end) of them. */
  take(len: number): [number, number] {
    const start = this.at;
    if (len > this.buf.length - start) throw new RangeError(`${this.what}: ${len}-byte field runs past the message end`);
    this.at += len;
    return [start, this.at];
  }
}
