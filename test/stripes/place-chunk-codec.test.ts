// The copy-free PlaceChunk codec against the generated one: the same bytes out, the same
// messages in, and on hostile bytes exactly the generated decoder's answer (it falls back to it).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PlaceChunk } from '../../proto/gen/ecguard/v1/stripes.js';
import { decodePlaceChunk, encodePlaceChunk } from '../../shared/wire/place-chunk-codec.js';

function bytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, k = 0; i < n; k++) i += createHash('sha256').update(`${seed}:${k}`).digest().copy(out, i);
  return out;
}

const generated = (m: PlaceChunk): Buffer => Buffer.from(PlaceChunk.encode(m).finish());
const entry = (name: string, data: Buffer, crc: number, dosStamp: number): PlaceChunk => ({ msg: { $case: 'entry', value: { name, data, crc, dosStamp } } });

/** A comparable form: data as hex, so deepEqual compares contents, not Buffer identity. */
function plain(m: PlaceChunk | Error): unknown {
  if (m instanceof Error) return { error: true };
  if (m.msg?.$case !== 'entry') return m;
  const { name, data, crc, dosStamp } = m.msg.value;
  return { entry: { name, data: data.toString('hex'), crc, dosStamp } };
}

const attempt = (f: () => PlaceChunk): PlaceChunk | Error => {
  try {
    return f();
  } catch (e) {
    return e as Error;
  }
};

describe('PlaceChunk codec (copy-free)', () => {
  it('encodes entries exactly as the generated codec does, and both decode each other', () => {
    const made = new Map<number, Buffer>();
    const data = (size: number): Buffer => made.get(size) ?? (made.set(size, bytes(`d${size}`, size)).get(size) as Buffer);
    for (const name of ['', 'obj.0.0', 'obj.123.9', 'ü€😀', 'n'.repeat(200)]) {
      for (const size of [0, 1, 127, 128, 16_384, 1 << 20]) {
        for (const [crc, dos] of [[0, 0], [1, 0], [0xffffffff, 0x5a2b1c3d], [127, 128]] as const) {
          const m = entry(name, data(size), crc, dos);
          const ours = encodePlaceChunk(m);
          assert.ok(ours.equals(generated(m)), `${JSON.stringify(name.slice(0, 12))}/${size}/${crc}/${dos}`);
          assert.deepEqual(plain(decodePlaceChunk(ours)), plain(m));
          assert.deepEqual(plain(PlaceChunk.decode(ours)), plain(m));
        }
      }
    }
  });

  it('hands header, commit, abort and the empty chunk to the generated codec, both ways', () => {
    const header: PlaceChunk = { msg: { $case: 'header', value: { taskId: 't1', slot: 2, diskId: 'sdb', lfn: '/data/f', strpverText: '17', filesizeText: '5', xattrNamespace: 1, expectedEntries: 3, crcKind: 1, replaceLinkOfDisk: 'srv1:/d1', replaceLinkOfPath: 'public/0A/f%', resumeEntries: 0, directoryDigest: '' } } };
    for (const m of [header, { msg: { $case: 'commit', value: true } }, { msg: { $case: 'abort', value: true } }, {}] as PlaceChunk[]) {
      assert.ok(encodePlaceChunk(m).equals(generated(m)));
      assert.deepEqual(decodePlaceChunk(generated(m)), PlaceChunk.decode(generated(m)));
    }
  });

  it('a CRC outside uint32 is refused as the generated encoder refuses it', () => {
    const bad = entry('obj.0.0', Buffer.from('x'), -1, 0);
    assert.throws(() => generated(bad));
    assert.throws(() => encodePlaceChunk(bad));
  });

  it('gives the data as a view of the received message (no copy)', () => {
    const wire = encodePlaceChunk(entry('obj.1.1', bytes('v', 4096), 7, 0));
    const m = decodePlaceChunk(wire);
    assert.equal(m.msg?.$case, 'entry');
    if (m.msg?.$case === 'entry') assert.equal(m.msg.value.data.buffer, wire.buffer);
  });

  it('last value wins and unknown fields are skipped, as in the generated decoder', () => {
    const inner = Buffer.concat([
      Buffer.from([0x0a, 1, 0x61, 0x0a, 1, 0x62]), // name "a" then "b"
      Buffer.from([0x18, 0x05, 0x18, 0x96, 0x01]), // crc 5 then 150
      Buffer.from([0x28, 0x01]), // field 5 varint: unknown
      Buffer.from([0x12, 2, 9, 9]),
    ]);
    const wire = Buffer.concat([Buffer.from([0x12, inner.length]), inner]);
    assert.deepEqual(plain(decodePlaceChunk(wire)), plain(PlaceChunk.decode(wire)));
    assert.deepEqual(plain(decodePlaceChunk(wire)), { entry: { name: 'b', data: '0909', crc: 150, dosStamp: 0 } });
    // two entry fields (a merge in protobuf terms) and a trailing commit: the generated answer
    const two = Buffer.concat([wire, wire, Buffer.from([0x18, 0x01])]);
    assert.deepEqual(plain(decodePlaceChunk(two)), plain(PlaceChunk.decode(two)));
  });

  it('on random, truncated and bit-flipped bytes: exactly the generated decoder\'s answer', () => {
    const valid = generated(entry('obj.3.1', bytes('v', 300), 0xdeadbeef, 0x12345678));
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 6000; i++) {
      let input: Buffer;
      if (i % 3 === 0) input = Buffer.concat([Buffer.from([0x12]), bytes(`r${i}`, i % 64)]);
      else if (i % 3 === 1) input = valid.subarray(0, i % valid.length);
      else {
        input = Buffer.from(valid);
        const at = i % input.length;
        input[at] = (input[at] as number) ^ (1 << (i % 8));
      }
      const theirs = attempt(() => PlaceChunk.decode(input));
      const ours = attempt(() => decodePlaceChunk(input));
      assert.deepEqual(plain(ours), plain(theirs), input.toString('hex'));
      if (ours instanceof Error) refused++;
      else accepted++;
    }
    assert.ok(accepted > 100 && refused > 100, `exercised both ways (${accepted} accepted, ${refused} refused)`);
  });
});
