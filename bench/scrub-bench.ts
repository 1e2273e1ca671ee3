// Scrub bench: the agent's scrub pass (every entry read and CRC-checked, rate limit off) against
// a plain read of the same archive files in the same run (1 MiB reads, nothing checked), on
// tmpfs so the page cache is not what is measured. Rounds alternate their order.
import { closeSync, mkdirSync, openSync, readSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScrubPass } from '../agent/scrub/scrub-pass.js';
import { getCodec } from '../shared/codec/index.js';
import { encodeObject } from '../shared/xrdec/object-encoder.js';

export interface ScrubBenchRow {
  readonly what: string;
  readonly archives: number;
  readonly bytes: number;
  readonly seconds: number;
  readonly mbps: number;
  readonly vsRawRead?: number;
}

export async function runScrubBench(o: { objects?: number; objectMiB?: number; rounds?: number; log?: (s: string) => void } = {}): Promise<ScrubBenchRow[]> {
  const log = o.log ?? (() => undefined);
  const codec = getCodec();
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const root = join(base, `ecguard-scrub-bench-${process.pid}`);
  const disk = { diskId: 'bench:sda', space: 'public', path: join(root, 'sda') };
  try {
    const objects = o.objects ?? 8;
    const size = (o.objectMiB ?? 32) << 20;
    mkdirSync(join(root, 'in'), { recursive: true });
    for (let i = 0; i < objects; i++) {
      const input = join(root, 'in', `o${i}`);
      writeFileSync(input, randomBytes(size));
      const paths = Array.from({ length: 6 }, (_, a) => {
        const bucket = join(disk.path, disk.space, ((i * 6 + a) & 0xff).toString(16).padStart(2, '0').toUpperCase());
        mkdirSync(bucket, { recursive: true });
        return join(bucket, `obj${i}-${a}%`);
      });
      encodeObject({ profile: { nbData: 4, nbParity: 2, chunkSize: 1 << 20 }, crcKind: i % 2 === 0 ? 'crc32c' : 'crc32', input, archivePaths: paths, xattrNamespace: 'user.U.', mtFile: false, strpver: 1_700_000_000, codec });
      rmSync(input);
    }
    const files = readdirSync(join(disk.path, disk.space)).flatMap((b) => readdirSync(join(disk.path, disk.space, b)).map((n) => join(disk.path, disk.space, b, n)));
    const total = files.reduce((a, f) => a + statSync(f).size, 0);
    log(`scrub bench: ${files.length} archives, ${(total / 1e6).toFixed(0)} MB (4+2, 1 MiB chunks, both CRC kinds)`);
    const buf = Buffer.allocUnsafe(1 << 20);
    const raw = (): number => {
      const t0 = performance.now();
      for (const f of files) {
        const fd = openSync(f, 'r');
        try {
          while (readSync(fd, buf, 0, buf.length, null) > 0);
        } finally {
          closeSync(fd);
        }
      }
      return (performance.now() - t0) / 1000;
    };
    const scrub = async (): Promise<{ seconds: number; bytes: number; archives: number }> => {
      const t0 = performance.now();
      const s = await runScrubPass({ disks: () => [disk], exports: ['/data'], codec, onFinding: () => undefined });
      if (s.corruptArchives > 0 || s.notArchives > 0) throw new Error(`scrub bench: ${s.corruptArchives} corrupt, ${s.notArchives} not archives in a clean tree`);
      return { seconds: (performance.now() - t0) / 1000, bytes: s.bytes, archives: s.archives };
    };
    raw();
    await scrub(); // warm-up
    let tRaw = 0;
    let tScrub = 0;
    let entryBytes = 0;
    const rounds = o.rounds ?? 4;
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) tRaw += raw();
      const s = await scrub();
      tScrub += s.seconds;
      entryBytes = s.bytes;
      if (r % 2 === 1) tRaw += raw();
    }
    const rawMbps = (total * rounds) / tRaw / 1e6;
    const scrubMbps = (total * rounds) / tScrub / 1e6;
    return [
      { what: 'baseline: plain read of the same files (1 MiB reads, nothing checked)', archives: files.length, bytes: total, seconds: tRaw / rounds, mbps: rawMbps },
      { what: `scrub pass, no rate limit (${(entryBytes / 1e6).toFixed(0)} MB of entries CRC-checked)`, archives: files.length, bytes: total, seconds: tScrub / rounds, mbps: scrubMbps, vsRawRead: scrubMbps / rawMbps },
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
