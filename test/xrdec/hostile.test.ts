// Hostile and broken archives: every one gives its typed error with an offset, never a crash,
// and no read (hence no allocation) is ever sized by an unchecked field: every read request the
// parser makes stays inside the real file.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ArchiveError } from '../../shared/xrdec/errors.js';
import { parseZipDirectory, type ReadRequest } from '../../shared/xrdec/zip-directory.js';
import { archiveLayout, localHeader, type LayoutEntry } from '../../shared/xrdec/zip-layout.js';
import { fixtureNames, fixturesRoot } from '../helpers/fixtures.js';
import { join } from 'node:path';

/** Runs the parser over bytes, asserting every read request lies within the file. */
function parse(bytes: Buffer): ReturnType<typeof drive> {
  return drive(bytes);
}

function drive(bytes: Buffer) {
  const gen = parseZipDirectory(bytes.length);
  let step = gen.next(Buffer.alloc(0));
  while (!step.done) {
    const r: ReadRequest = step.value;
    assert.ok(r.position >= 0 && r.length >= 0 && r.position + r.length <= bytes.length, `read ${r.position}+${r.length} outside a ${bytes.length}-byte file`);
    step = gen.next(bytes.subarray(r.position, r.position + r.length));
  }
  return step.value;
}

function expectError(bytes: Buffer, code: string | RegExp): ArchiveError {
  try {
    parse(bytes);
  } catch (err) {
    assert.ok(err instanceof ArchiveError, `expected an ArchiveError, got ${String(err)}`);
    assert.ok(typeof code === 'string' ? err.code === code : code.test(err.code), `code ${err.code}: ${err.message}`);
    assert.ok(Number.isInteger(err.offset) && err.offset >= 0 && err.offset <= bytes.length, `offset ${err.offset}`);
    return err;
  }
  assert.fail('parsed without error');
}

const t = { time: 0, date: 0x21 };

function build(entries: LayoutEntry[], data?: Buffer[]): Buffer {
  const layout = archiveLayout(entries, t);
  const parts: Buffer[] = [];
  entries.forEach((e, i) => parts.push(localHeader(e, t), data?.[i] ?? Buffer.alloc(e.size)));
  parts.push(layout.tail);
  return Buffer.concat(parts);
}

const small = readFileSync(join(fixturesRoot(), 'case-2p1-c1024-crc32c-mt-multi-short', 'server-0', 'file.dat'));

describe('hostile archives', () => {
  it('has the fixtures it needs', () => {
    assert.ok(fixtureNames().includes('case-2p1-c1024-crc32c-mt-multi-short'));
    assert.equal(parse(small).entries.length, 3);
  });

  it('truncated at every byte boundary: typed error (0 bytes is the empty-object archive)', () => {
    assert.equal(parse(small.subarray(0, 0)).empty, true);
    for (let n = 1; n < small.length; n++) expectError(small.subarray(0, n), 'TRUNCATED_ARCHIVE');
  });

  it('random bytes of many sizes: not a zip, or a typed error', () => {
    for (let i = 0; i < 500; i++) {
      const b = randomBytes(1 + (i * 37) % 5000);
      if (b[0] === 0x50) b[0] = 0; // never the start of a local header
      expectError(b, /^(NOT_A_ZIP|TRUNCATED_ARCHIVE|BAD_EOCD|BAD_CENTRAL_DIRECTORY)$/);
    }
  });

  it('random garbage before a forged EOCD', () => {
    for (let i = 0; i < 200; i++) {
      const b = Buffer.concat([randomBytes(100 + i), Buffer.alloc(22)]);
      const e = b.length - 22;
      b.writeUInt32LE(0x06054b50, e);
      b.writeUInt16LE(i % 7, e + 8);
      b.writeUInt16LE(i % 7, e + 10);
      b.writeUInt32LE(randomBytes(4).readUInt32LE(0) % (b.length * 2), e + 12);
      b.writeUInt32LE(randomBytes(4).readUInt32LE(0) % (b.length * 2), e + 16);
      expectError(b, /^(BAD_EOCD|BAD_CENTRAL_DIRECTORY|NOT_XRDEC_ENTRY)$/);
    }
  });

  it('central directory offset or size pointing outside the file', () => {
    const e = small.length - 22;
    const badOff = Buffer.from(small);
    badOff.writeUInt32LE(0x7fffffff, e + 16);
    assert.equal(expectError(badOff, 'BAD_EOCD').offset, e + 12);
    const badSize = Buffer.from(small);
    badSize.writeUInt32LE(small.length * 10, e + 12);
    expectError(badSize, 'BAD_EOCD');
    const bothMax = Buffer.from(small);
    bothMax.writeUInt32LE(0xffffffff, e + 12);
    bothMax.writeUInt32LE(0xffffffff, e + 16);
    expectError(bothMax, 'BAD_EOCD'); // ZIP64 markers without a locator
  });

  it('entry count of 65535 in a small central directory', () => {
    const b = Buffer.from(small);
    const e = b.length - 22;
    b.writeUInt16LE(0xffff, e + 8);
    b.writeUInt16LE(0xffff, e + 10);
    expectError(b, 'BAD_CENTRAL_DIRECTORY');
  });

  it('ZIP64 records with absurd values', () => {
    // a real ZIP64 archive (≥ 65535 entries) whose ZIP64 EOCD is then corrupted
    const entries = Array.from({ length: 65536 }, (_, i) => ({ name: `obj.${i}.0`, size: 0, crc: 0 }));
    const good = build(entries);
    assert.equal(parse(good).entries.length, 65536);
    assert.equal(parse(good).zip64, true);
    const z64 = good.length - 22 - 20 - 56;
    for (const [field, value] of [[32, 2n ** 62n], [40, 2n ** 62n], [48, 2n ** 62n], [40, 2n ** 40n], [32, 10n ** 9n]] as const) {
      const b = Buffer.from(good);
      b.writeBigUInt64LE(value, z64 + field);
      expectError(b, /^(BAD_EOCD|BAD_CENTRAL_DIRECTORY)$/);
    }
    const badLoc = Buffer.from(good);
    badLoc.writeBigUInt64LE(2n ** 63n, good.length - 22 - 20 + 8);
    expectError(badLoc, 'BAD_EOCD');
    const locToGarbage = Buffer.from(good);
    locToGarbage.writeBigUInt64LE(5n, good.length - 22 - 20 + 8);
    expectError(locToGarbage, 'BAD_EOCD');
  });

  it('ZIP64 extra field missing or with absurd values', () => {
    const b = build([{ name: 'obj.0.0', size: 4, crc: 1 }]);
    const cd = b.length - 22 - 46 - 7;
    const noExtra = Buffer.from(b);
    noExtra.writeUInt32LE(0xffffffff, cd + 42);
    expectError(noExtra, 'BAD_CENTRAL_DIRECTORY');
  });

  it('names that are not obj.<block>.<stripe>', () => {
    for (const name of ['foo', 'obj.1', 'obj.01.2', 'obj.1.02', 'obj.1.2.3', 'obj.-1.2', 'obj.1.255', 'OBJ.1.2', 'obj.1.2 ', 'obj.99999999999.0', 'obj.1.2\u0000']) {
      const err = expectError(build([{ name: 'obj.0.0', size: 1, crc: 0 }, { name, size: 2, crc: 0 }]), 'NOT_XRDEC_ENTRY');
      assert.match(err.message, /is not obj/);
    }
  });

  it('duplicate entries, compressed or encrypted entries, entries overlapping the directory', () => {
    expectError(build([{ name: 'obj.0.0', size: 1, crc: 0 }, { name: 'obj.0.0', size: 1, crc: 0 }]), 'BAD_CENTRAL_DIRECTORY');
    const b = build([{ name: 'obj.0.0', size: 8, crc: 0 }]);
    const cd = b.length - 22 - 46 - 7;
    for (const [off, val] of [[10, 8], [8, 1]] as const) {
      const x = Buffer.from(b);
      x.writeUInt16LE(val, cd + off);
      expectError(x, 'BAD_CENTRAL_DIRECTORY');
    }
    const big = Buffer.from(b);
    big.writeUInt32LE(1000, cd + 20);
    big.writeUInt32LE(1000, cd + 24);
    expectError(big, 'BAD_CENTRAL_DIRECTORY');
  });
});
