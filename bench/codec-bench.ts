// Codec throughput: raw ISA-L (a C loop, bench/c/isal-raw.c) vs the addon through NativeCodec vs
// the pure TypeScript codec, on the same operations and sizes. The target is
// native >= 0.9x raw for 1 MiB chunks. Native numbers use encodeInto/decodeInto into
// preallocated buffers (allocation not measured); 'encode-alloc' is the allocating encode().
// Raw and native use 64-byte aligned buffers; nativeNodeBufGBps shows ordinary Node Buffers.
import { randomFillSync } from 'node:crypto';
import type { IndexedChunk } from '../shared/codec/codec.js';
import { getCodec } from '../shared/codec/index.js';
import type { NativeCodec } from '../shared/codec/native-codec.js';
import { TsCodec } from '../shared/codec/ts-codec.js';
import { runRawIsal, type RawResult } from './codec-bench-raw.js';
import { medianGBps, type TimingOptions } from './codec-bench-timing.js';

export interface CodecBenchRow {
  op: 'encode' | 'encode-alloc' | 'decode' | 'crc32c' | 'crc32';
  /** 'k+m', or '-' for the CRCs. */
  profile: string;
  /** Lost data stripes rebuilt (decode only). */
  erasures: number;
  /** Bytes per chunk (EC) or per CRC call. */
  chunkBytes: number;
  /** Raw C loop over 64-byte aligned buffers. */
  rawGBps: number;
  /** NativeCodec over 64-byte aligned buffers (NativeCodec.allocChunk), as the raw loop. */
  nativeGBps: number;
  /** NativeCodec over ordinary Buffer.allocUnsafe buffers (16 bytes past a page boundary). */
  nativeNodeBufGBps: number;
  tsGBps: number;
  nativeVsRaw: number;
}

export interface CodecBenchOptions {
  chunkBytes?: number;
  crcBytes?: number;
  /** Timed repetitions per op (native and raw); the median is kept. */
  reps?: number;
  repMs?: number;
  /**
   * Raw and native are measured alternately this many times and the best median of each kept:
   * on shared, noisy machines single runs of either swing by ±20%.
   */
  rounds?: number;
  tsReps?: number;
}

type BenchCodec = Pick<TsCodec, 'encodeInto' | 'encode' | 'decodeInto' | 'crc32c' | 'crc32'>;

interface BenchCase {
  op: CodecBenchRow['op'];
  profile: string;
  erasures: number;
  chunkBytes: number;
  bytes: number;
  /** The raw C row doing the same work. */
  raw: Pick<RawResult, 'op' | 'profile' | 'erasures'>;
  body: (codec: BenchCodec) => () => void;
}

const PROFILES: ReadonlyArray<readonly [number, number]> = [
  [8, 2],
  [4, 2],
];

type Alloc = (len: number) => Buffer;

function ecCases(k: number, m: number, len: number, alloc: Alloc): BenchCase[] {
  const profile = `${k}+${m}`;
  const data = Array.from({ length: k }, () => randomFillSync(alloc(len)));
  const parity = Array.from({ length: m }, () => alloc(len));
  new TsCodec().encodeInto(k, m, data, parity, len);
  const stripes: IndexedChunk[] = [...data, ...parity].map((d, index) => ({ index, data: d }));
  const base = { profile, chunkBytes: len, bytes: k * len };
  const cases: BenchCase[] = [
    { ...base, op: 'encode', erasures: 0, raw: { op: 'encode', profile, erasures: 0 }, body: (c) => () => c.encodeInto(k, m, data, parity, len) },
    { ...base, op: 'encode-alloc', erasures: 0, raw: { op: 'encode', profile, erasures: 0 }, body: (c) => () => void c.encode(k, m, data, len) },
  ];
  for (const erasures of [1, 2]) {
    const lost = Array.from({ length: erasures }, (_, i) => i);
    const available = stripes.filter((s) => !lost.includes(s.index));
    const out = lost.map(() => alloc(len));
    cases.push({
      ...base,
      op: 'decode',
      erasures,
      raw: { op: 'decode', profile, erasures },
      body: (c) => () => c.decodeInto(k, m, available, lost, out, len),
    });
  }
  return cases;
}

function crcCases(len: number, alloc: Alloc): BenchCase[] {
  const buf = randomFillSync(alloc(len));
  return (['crc32c', 'crc32'] as const).map((op) => ({
    op,
    profile: '-',
    erasures: 0,
    chunkBytes: len,
    bytes: len,
    raw: { op, profile: '-', erasures: 0 },
    body: (c: BenchCodec) => () => void c[op](buf), // a call into the addon or a JS loop: not elided
  }));
}

function rawRate(results: readonly RawResult[], key: BenchCase['raw']): number {
  const hit = results.find((r) => r.op === key.op && r.profile === key.profile && r.erasures === key.erasures);
  if (hit === undefined) throw new Error(`raw ISA-L bench printed no row for ${key.op} ${key.profile} e=${key.erasures}`);
  return hit.gbps;
}

export async function runCodecBench(opts: CodecBenchOptions = {}): Promise<CodecBenchRow[]> {
  const chunkBytes = opts.chunkBytes ?? 1 << 20;
  const crcBytes = opts.crcBytes ?? 1 << 20;
  const timing: TimingOptions = { reps: opts.reps ?? 7, repMs: opts.repMs ?? 30, warmMs: 100 };
  const tsTiming: TimingOptions = { reps: opts.tsReps ?? 3, repMs: 40, warmMs: 50 };
  const native = getCodec({ prefer: 'native' }) as NativeCodec; // throws NATIVE_UNAVAILABLE with the fix
  const casesWith = (alloc: Alloc): BenchCase[] => [
    ...PROFILES.flatMap(([k, m]) => ecCases(k, m, chunkBytes, alloc)),
    ...crcCases(crcBytes, alloc),
  ];
  const aligned = casesWith((len) => native.allocChunk(len));
  const nodeBuf = casesWith((len) => Buffer.allocUnsafe(len));

  // Op by op, alternating raw / native / native-on-Node-buffers, so drift on a shared machine
  // hits all three alike; the best median of the rounds is kept for each.
  const raw = aligned.map(() => 0);
  const nat = aligned.map(() => 0);
  const natNodeBuf = aligned.map(() => 0);
  for (const [i, c] of aligned.entries()) {
    const only = `${c.raw.op}:${c.raw.profile}:${c.raw.erasures}`;
    for (let round = 0; round < (opts.rounds ?? 3); round++) {
      raw[i] = Math.max(raw[i]!, rawRate(runRawIsal(chunkBytes, crcBytes, timing.reps, timing.repMs, only).results, c.raw));
      nat[i] = Math.max(nat[i]!, medianGBps(c.body(native), c.bytes, timing));
      natNodeBuf[i] = Math.max(natNodeBuf[i]!, medianGBps(nodeBuf[i]!.body(native), c.bytes, timing));
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const ts = new TsCodec();
  const tsRates = nodeBuf.map((c) => medianGBps(c.body(ts), c.bytes, tsTiming));

  return aligned.map((c, i) => ({
    op: c.op,
    profile: c.profile,
    erasures: c.erasures,
    chunkBytes: c.chunkBytes,
    rawGBps: round3(raw[i]!),
    nativeGBps: round3(nat[i]!),
    nativeNodeBufGBps: round3(natNodeBuf[i]!),
    tsGBps: round3(tsRates[i]!),
    nativeVsRaw: round3(nat[i]! / raw[i]!),
  }));
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
