// Sources that stream (a peer's StreamEntries): the rebuild takes its first picks from one
// stream per source and gives the same result as entry-by-entry reads; a bad streamed entry is
// still an erasure (CRC checked, another stripe read on its own), and a stream that fails fails
// only the entries it owed: later ones come over a new stream.
import assert from 'node:assert/strict';
import { getCodec } from '../../shared/codec/index.js';
import { rebuildStripes, type StripeRebuild } from '../../shared/xrdec/rebuild/stripe-rebuild.js';
import { closeSources, localArchiveSource, type EntryStream, type LocalArchiveSource, type StripeSource } from '../../shared/xrdec/rebuild/stripe-source.js';
import type { ZipEntry } from '../../shared/xrdec/zip-directory.js';
import { encodeRandomObject, stripeMap, type EncodedObject } from './repair-harness.js';

const codec = getCodec();
const profile = { nbData: 4, nbParity: 2, chunkSize: 1024 };
const size = 9 * 4096 + 700;

interface Counts {
  streams: number;
  streamed: number;
  single: number;
}

/** A local source that also streams; `spoil(i, data)` may fail or alter the i-th streamed entry. */
function streaming(src: StripeSource, c: Counts, spoil: (i: number, data: Buffer) => Buffer | Error = (_, d) => d): StripeSource {
  let nth = 0;
  return {
    id: src.id,
    directory: () => src.directory(),
    xattrs: () => src.xattrs(),
    readEntry: (e) => (c.single++, src.readEntry(e)),
    openEntryStream(entries: readonly ZipEntry[]): EntryStream {
      c.streams++;
      let k = 0;
      let broken: Error | undefined;
      return {
        async next() {
          const e = entries[k++] as ZipEntry;
          if (broken) throw broken;
          const got = spoil(nth++, await src.readEntry(e));
          c.streamed++;
          if (got instanceof Error) throw (broken = got);
          return got;
        },
        close: () => undefined,
      };
    },
  };
}

async function rebuiltKeys(r: StripeRebuild): Promise<string[]> {
  const out: string[] = [];
  for await (const b of r.stream()) for (const e of b.targets.flat()) out.push(`${e.name}:${e.crc}`);
  return out;
}

describe('repair: streaming sources', function () {
  this.timeout(60_000);
  let obj: EncodedObject;
  let locals: LocalArchiveSource[];
  const lost = 2;
  beforeEach(() => {
    obj = encodeRandomObject({ profile, size, crcKind: 'crc32c', seed: 7, codec });
    locals = obj.archives.filter((_, i) => i !== lost).map((p) => localArchiveSource(p));
  });
  afterEach(async () => {
    await closeSources(locals);
    obj.cleanup();
  });

  const rebuild = (sources: readonly StripeSource[]) => rebuildStripes({ profile, sources, targets: 1, codec, crcKind: 'crc32c' });

  it('reads every first pick over one stream per source and rebuilds what single reads rebuild', async () => {
    const want = await rebuiltKeys(await rebuild(locals));
    const c: Counts = { streams: 0, streamed: 0, single: 0 };
    const r = await rebuild(locals.map((s) => streaming(s, c)));
    assert.deepEqual(await rebuiltKeys(r), want);
    assert.equal(c.single, 0);
    assert.ok(c.streams <= locals.length, `${c.streams} streams`);
    assert.equal(c.streamed, r.blockCount * profile.nbData);
    assert.deepEqual(r.badEntries, []);
  });

  it('a corrupt streamed entry is caught by its CRC and another stripe is read on its own', async () => {
    const want = await rebuiltKeys(await rebuild(locals));
    const c: Counts = { streams: 0, streamed: 0, single: 0 };
    const victim = locals.findIndex((s) => stripeMap(s.path).get(1)?.includes(0));
    const sources = locals.map((s, i) => streaming(s, c, i === victim ? (_, d) => (d.length > 0 && d[0] !== undefined ? Buffer.from([d[0] ^ 1, ...d.subarray(1)]) : d) : undefined));
    const r = await rebuild(sources);
    assert.deepEqual(await rebuiltKeys(r), want);
    assert.ok(r.badEntries.length > 0 && r.badEntries.every((b) => b.source === locals[victim]?.id && /CRC mismatch/.test(b.reason)), JSON.stringify(r.badEntries));
    assert.ok(c.single > 0, 'the replacement stripes were read one by one');
  });

  it('a stream that breaks fails only what it owed; the rest comes over a new stream', async () => {
    const want = await rebuiltKeys(await rebuild(locals));
    const c: Counts = { streams: 0, streamed: 0, single: 0 };
    const c0: Counts = { streams: 0, streamed: 0, single: 0 };
    const sources = locals.map((s, i) => (i === 0 ? streaming(s, c0, (n, d) => (n === 1 ? new Error('peer went away') : d)) : streaming(s, c)));
    const r = await rebuild(sources);
    assert.deepEqual(await rebuiltKeys(r), want);
    const lostEntries = r.badEntries.filter((b) => b.source === locals[0]?.id);
    assert.ok(lostEntries.length >= 1 && lostEntries.every((b) => /unreadable: peer went away/.test(b.reason)), JSON.stringify(r.badEntries));
    assert.equal(c0.streams, 2, 'source 0 opened a second stream after the first broke');
  });
});
