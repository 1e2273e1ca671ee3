// The daemons' V8 heap setting (shared/daemon-node-flags.ts) against V8's defaults, side by
// side in one run: the same repair bench cluster, objects and loss, raw stripe reads and
// stripe repairs with the agent's default tasks in flight, each side in its own process
// (heap-bench-child.ts) started with or without the flags, in alternating order.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DAEMON_NODE_FLAGS } from '../shared/daemon-node-flags.js';
import type { HeapSideResult } from './heap-bench-child.js';

export interface HeapBenchRow {
  readonly flags: string;
  readonly profile: string;
  readonly lost: number;
  readonly sourceBytes: number;
  readonly rawMBps: number;
  readonly repairMBps: number;
  /** repair MB/s of this row over the V8-defaults row's. */
  readonly repairVsDefaults: number;
  readonly rawVsDefaults: number;
}

const CASES = [[8, 2, 1], [4, 2, 2]] as const;

export function runHeapBench(o: { rounds?: number; pairs?: number; log?: (s: string) => void } = {}): HeapBenchRow[] {
  const log = o.log ?? (() => undefined);
  const child = fileURLToPath(new URL('./heap-bench-child.js', import.meta.url));
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const rows: HeapBenchRow[] = [];
  for (const [n, m, lost] of CASES) {
    const sums = new Map<string, { bytes: number; raw: number; repair: number }>();
    for (let pair = 0; pair < (o.pairs ?? 2); pair++) {
      const sides = pair % 2 === 0 ? [[], DAEMON_NODE_FLAGS] : [DAEMON_NODE_FLAGS, []];
      for (const flags of sides) {
        const root = join(base, `ecguard-heap-bench-${process.pid}-${pair}`);
        const r = spawnSync(process.execPath, [...flags, child, root, String(n), String(m), String(lost), '8', String(o.rounds ?? 3)], { encoding: 'utf8', maxBuffer: 1 << 20 });
        if (r.status !== 0) throw new Error(`heap bench: the ${flags.join(' ') || 'V8 defaults'} side failed (${r.error?.message ?? `status ${r.status}`}): ${r.stderr}`);
        const res = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as HeapSideResult;
        const key = flags.join(' ') || 'V8 defaults';
        const s = sums.get(key) ?? { bytes: 0, raw: 0, repair: 0 };
        sums.set(key, { bytes: s.bytes + res.sourceBytes, raw: s.raw + res.rawSeconds, repair: s.repair + res.repairSeconds });
        log(`heap ${n}+${m} lost ${lost}, ${key}: raw ${(res.sourceBytes / res.rawSeconds / 1e6).toFixed(0)} MB/s, repair reads ${(res.sourceBytes / res.repairSeconds / 1e6).toFixed(0)} MB/s`);
      }
    }
    const def = sums.get('V8 defaults') as { bytes: number; raw: number; repair: number };
    for (const [flags, s] of sums) {
      rows.push({
        flags, profile: `${n}+${m}`, lost, sourceBytes: s.bytes,
        rawMBps: s.bytes / s.raw / 1e6, repairMBps: s.bytes / s.repair / 1e6,
        repairVsDefaults: def.repair / s.repair, rawVsDefaults: def.raw / s.raw,
      });
    }
  }
  return rows;
}

export function heapTable(rows: readonly HeapBenchRow[]): string {
  const head = ['profile', 'lost', 'node flags', 'raw MB/s', 'repair MB/s', 'raw vs defaults', 'repair vs defaults'];
  const lines = rows.map((r) => [r.profile, String(r.lost), r.flags, r.rawMBps.toFixed(0), r.repairMBps.toFixed(0), `${r.rawVsDefaults.toFixed(2)}×`, `${r.repairVsDefaults.toFixed(2)}×`]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  return [head, ...lines].map((l) => l.map((c, i) => c.padStart(w[i] ?? 0)).join('  ')).join('\n');
}
