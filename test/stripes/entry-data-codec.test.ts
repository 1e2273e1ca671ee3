// The copy-free EntryData codec against the generated one: the same bytes out, the same
// messages in, and on hostile bytes never more permissive than the generated decoder.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { EntryData } from '../../proto/gen/ecguard/v1/stripes.js';
import { decodeEntryData, encodeEntryData } from '../../shared/wire/entry-data-codec.js';

/** Deterministic bytes, so a failure reproduces. */
function bytes(seed: string, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0, k = 0; i < n; k++) {
    const h = createHash('sha256').update(`${seed}:${k}`).digest();
    i += h.copy(out, i);
  }
  return out;
}

const generated = (m: EntryData): Buffer => Buffer.from(EntryData.encode(m).finish());

describe('EntryData codec (copy-free)', () => {
  const names = ['', 'obj.0.0', 'obj.12345.9', 'ü€😀 name', 'n'.repeat(127), 'n'.repeat(128), 'n'.repeat(300)];
  const sizes = [0, 1, 127, 128, 16_383, 16_384, 1 << 20];

  it('encodes exactly the bytes the generated codec encodes, and both decode each other', () => {
    for (const name of names) {
      for (const size of sizes) {
        const m = { name, data: bytes(`${name}/${size}`, size) };
        const ours = encodeEntryData(m);
        assert.ok(ours.equals(generated(m)), `${JSON.stringify(name.slice(0, 20))} / ${size}`);
        const back = decodeEntryData(ours);
        assert.equal(back.name, name);
        assert.ok(back.data.equals(m.data));
        const theirs = EntryData.decode(ours);
        assert.equal(theirs.name, name);
        assert.ok(theirs.data.equals(m.data));
      }
    }
  });

  it('encodes a view into a larger buffer by its own bytes only', () => {
    const big = bytes('big', 4096);
    const m = { name: 'obj.1.2', data: big.subarray(100, 1100) };
    assert.ok(encodeEntryData(m).equals(generated(m)));
  });

  it('skips unknown fields and wrong wire types, keeps the last value, as the generated decoder does', () => {
    const unknown = Buffer.concat([
      Buffer.from([0x18, 0x96, 0x01]), // field 3 varint
      Buffer.from([0x21, 1, 2, 3, 4, 5, 6, 7, 8]), // field 4 fixed64
      Buffer.from([0x2d, 1, 2, 3, 4]), // field 5 fixed32
      Buffer.from([0x08, 0x05]), // field 1 as a varint: wrong wire type, skipped
      generated({ name: 'first', data: Buffer.from('one') }),
      generated({ name: 'second', data: Buffer.from('two') }),
    ]);
    const ours = decodeEntryData(unknown);
    const theirs = EntryData.decode(unknown);
    assert.deepEqual({ name: ours.name, data: ours.data.toString() }, { name: theirs.name, data: theirs.data.toString() });
    assert.equal(ours.name, 'second');
  });

  it('on random and mutated bytes: never accepts what the generated decoder refuses, and agrees when both accept', () => {
    const valid = generated({ name: 'obj.3.1', data: bytes('v', 300) });
    let bothOk = 0;
    let bothRefused = 0;
    let oursStricter = 0;
    for (let i = 0; i < 4000; i++) {
      let input: Buffer;
      if (i % 3 === 0) input = bytes(`r${i}`, i % 64);
      else if (i % 3 === 1) input = valid.subarray(0, i % valid.length); // truncations
      else {
        input = Buffer.from(valid);
        const at = i % input.length;
        input[at] = (input[at] as number) ^ (1 << (i % 8)); // one bit flipped
      }
      let theirs: EntryData | Error;
      let ours: EntryData | Error;
      try {
        theirs = EntryData.decode(input);
      } catch (e) {
        theirs = e as Error;
      }
      try {
        ours = decodeEntryData(input);
      } catch (e) {
        ours = e as Error;
      }
      if (ours instanceof Error) {
        assert.ok(ours instanceof RangeError, `a RangeError with a reason, got ${String(ours)}`);
        if (theirs instanceof Error) bothRefused++;
        else oursStricter++;
        continue;
      }
      assert.ok(!(theirs instanceof Error), `accepted what the generated decoder refuses (${theirs instanceof Error ? theirs.message : ''}): ${input.toString('hex')}`);
      assert.equal(ours.name, theirs.name, input.toString('hex'));
      assert.ok(ours.data.equals(theirs.data), input.toString('hex'));
      bothOk++;
    }
    assert.ok(bothOk > 100 && bothRefused > 100, `exercised both ways (${bothOk} accepted, ${bothRefused} refused, ${oursStricter} refused only here)`);
  });
});
