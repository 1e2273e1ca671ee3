// The repair bench's rows: what one (profile, loss count) measured, summed over its repairs,
// and the table run-bench prints. MB = 10^6 bytes.
import type { EcProfile } from '../shared/xrdec/profile.js';

export interface RepairBenchRow {
  /** 'n+m'. */
  profile: string;
  chunkBytes: number;
  /** Archives lost per object (all rebuilt by one task). */
  lost: number;
  /** Timed repairs; each also timed as the two raw reads of its source entries. */
  repairs: number;
  objectMiB: number;
  /** 'child': the peers' Stripes services in their own process; 'in-process': on the executor's event loop. */
  peers: 'child' | 'in-process';
  /** Σ source entry bytes (= ProgressReport.bytesRead = the raw reads' bytes, checked). */
  sourceBytes: number;
  /** Σ sizes of the rebuilt archive files (PlacedRef.size). */
  rebuiltBytes: number;
  rawSeconds: number;
  rawBlockSeconds: number;
  /** runRepairTask, start to 'done' (sources opened, rebuild, holder's verification, publish). */
  repairSeconds: number;
  /**
   * Σ of repairSeconds by phase (from the task's own forced progress reports): open = sources'
   * directories and xattrs read, placements opened; stream = every block read, CRC-checked,
   * decoded and written; finish = seal, the holder's verification re-read, publish, link.
   */
  repairPhaseSeconds: RepairPhases;
  /** Raw read of the source entries: one stream per survivor, all at once. */
  rawMBps: number;
  /** The same entries read as the repair reads them: block by block, one call per entry. */
  rawBlockMBps: number;
  /** Source bytes / repair time. */
  repairSourceMBps: number;
  /** Rebuilt archive bytes / repair time. */
  rebuiltMBps: number;
  /** Σ t_raw / Σ t_repair for the same source bytes (target >= 0.8). */
  repairVsRaw: number;
  /** Σ t_raw(block pattern) / Σ t_repair: what the rebuild itself costs beyond its read pattern. */
  repairVsRawBlock: number;
  /** t_raw / t_repair of single repairs: min, median, max. */
  perRepairRatio: { min: number; median: number; max: number };
  /** Σ (bytesRead + rebuilt archive bytes) / lost, over Σ (filesize + all n+m archive files). */
  ioPerLostVsCopy: number;
  /** The worst single repair's ratio. */
  ioPerLostVsCopyMax: number;
  /** Also counting the survivors' directory tails (ReadDirectory) and the holder's verification re-read of the new archives. */
  ioPerLostVsCopyAll: number;
  /** (n+1)/(2n+m). */
  ioTarget: number;
  /** The same repairs with `tasks` in flight (the agent's default), timed as a whole, vs the raw reads with as many in flight. */
  concurrent: { tasks: number; rounds: number; rawSeconds: number; repairSeconds: number; rawMBps: number; repairSourceMBps: number; ratio: number };
}

export interface ConcurrentTimes {
  readonly tasks: number;
  /** Rounds over all the objects (each round reads the same source bytes as the single repairs). */
  readonly rounds: number;
  readonly rawSeconds: number;
  readonly repairSeconds: number;
}

export interface RepairPhases {
  open: number;
  stream: number;
  finish: number;
}

export class RepairSums {
  repairs = 0;
  source = 0;
  rebuilt = 0;
  raw = 0;
  rawBlock = 0;
  repair = 0;
  copyIO = 0;
  repairIO = 0;
  repairIOAll = 0;
  worstIO = 0;
  readonly ratios: number[] = [];
  readonly phases: RepairPhases = { open: 0, stream: 0, finish: 0 };

  add(s: { sourceBytes: number; rebuiltBytes: number; raw: number; rawBlock: number; repair: number; phases: RepairPhases; lost: number; copyIO: number; tailBytes: number }): void {
    const repairIO = s.sourceBytes + s.rebuiltBytes;
    this.repairs++;
    this.source += s.sourceBytes;
    this.rebuilt += s.rebuiltBytes;
    this.raw += s.raw;
    this.rawBlock += s.rawBlock;
    this.repair += s.repair;
    this.phases.open += s.phases.open;
    this.phases.stream += s.phases.stream;
    this.phases.finish += s.phases.finish;
    this.copyIO += s.copyIO;
    this.repairIO += repairIO / s.lost;
    // The holder re-reads the whole new archive to verify it before publishing.
    this.repairIOAll += (repairIO + s.tailBytes + s.rebuiltBytes) / s.lost;
    this.worstIO = Math.max(this.worstIO, repairIO / s.lost / s.copyIO);
    this.ratios.push(s.raw / s.repair);
  }

  row(p: EcProfile, lost: number, objectBytes: number, peers: RepairBenchRow['peers'], conc: ConcurrentTimes): RepairBenchRow {
    const mbps = (bytes: number, sec: number): number => round(bytes / sec / 1e6, 2);
    const sorted = [...this.ratios].sort((a, b) => a - b);
    return {
      profile: `${p.nbData}+${p.nbParity}`,
      chunkBytes: p.chunkSize,
      lost,
      repairs: this.repairs,
      objectMiB: objectBytes / 2 ** 20,
      peers,
      sourceBytes: this.source,
      rebuiltBytes: this.rebuilt,
      rawSeconds: round(this.raw, 3),
      rawBlockSeconds: round(this.rawBlock, 3),
      repairSeconds: round(this.repair, 3),
      repairPhaseSeconds: { open: round(this.phases.open, 3), stream: round(this.phases.stream, 3), finish: round(this.phases.finish, 3) },
      rawMBps: mbps(this.source, this.raw),
      rawBlockMBps: mbps(this.source, this.rawBlock),
      repairSourceMBps: mbps(this.source, this.repair),
      rebuiltMBps: mbps(this.rebuilt, this.repair),
      repairVsRaw: round(this.raw / this.repair, 3),
      repairVsRawBlock: round(this.rawBlock / this.repair, 3),
      perRepairRatio: { min: round(sorted[0] ?? 0, 3), median: round(sorted[Math.floor(sorted.length / 2)] ?? 0, 3), max: round(sorted[sorted.length - 1] ?? 0, 3) },
      ioPerLostVsCopy: round(this.repairIO / this.copyIO, 6),
      ioPerLostVsCopyMax: round(this.worstIO, 6),
      ioPerLostVsCopyAll: round(this.repairIOAll / this.copyIO, 6),
      ioTarget: round((p.nbData + 1) / (2 * p.nbData + p.nbParity), 6),
      concurrent: {
        tasks: conc.tasks, rounds: conc.rounds, rawSeconds: round(conc.rawSeconds, 3), repairSeconds: round(conc.repairSeconds, 3),
        rawMBps: mbps(this.source * conc.rounds, conc.rawSeconds), repairSourceMBps: mbps(this.source * conc.rounds, conc.repairSeconds), ratio: round(conc.rawSeconds / conc.repairSeconds, 3),
      },
    };
  }
}

export function repairTable(rows: readonly RepairBenchRow[]): string {
  const head = ['profile', 'lost', 'repairs', 'MiB/obj', 'raw MB/s', 'raw/blk MB/s', 'repair src MB/s', 'rebuilt MB/s', 't_raw/t_rep', '(min..max)', 'in flight', 't_raw/t_rep', 'open+stream+finish s', 'I/O per lost/copy', 'target', '+dirs+verify'];
  const lines = rows.map((r) => [
    r.profile, String(r.lost), String(r.repairs), String(r.objectMiB), r.rawMBps.toFixed(0), r.rawBlockMBps.toFixed(0), r.repairSourceMBps.toFixed(0), r.rebuiltMBps.toFixed(0),
    r.repairVsRaw.toFixed(2), `${r.perRepairRatio.min.toFixed(2)}..${r.perRepairRatio.max.toFixed(2)}`, String(r.concurrent.tasks), r.concurrent.ratio.toFixed(2),
    `${r.repairPhaseSeconds.open.toFixed(2)}+${r.repairPhaseSeconds.stream.toFixed(2)}+${r.repairPhaseSeconds.finish.toFixed(2)}`, r.ioPerLostVsCopy.toFixed(4), `<= ${r.ioTarget.toFixed(4)}`, r.ioPerLostVsCopyAll.toFixed(4),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  return [head, ...lines].map((l) => l.map((c, i) => c.padStart(w[i] ?? 0)).join('  ')).join('\n');
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
