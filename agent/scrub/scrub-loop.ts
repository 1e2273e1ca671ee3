// The agent's background scrub (DESIGN.md §3): passes over the usable disks at `mbps`, one
// every `intervalMs` (counted from the start of the previous pass), the cursor saved in the
// state directory so a restarted agent goes on where it stopped instead of starting over.
// What it finds goes to `onFinding` (the runtime downgrades the disk, the link reports it).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ErasureCodec } from '../../shared/codec/codec.js';
import { errnoCode, errorText } from '../../shared/errors.js';
import { getLogger } from '../../shared/logger.js';
import { TokenBucket } from '../../shared/throttle/token-bucket.js';
import type { DiskSpec } from '../scan/disk-layout.js';
import { runScrubPass, type LocalScrubFinding, type ScrubPassSummary } from './scrub-pass.js';
import type { ScrubCursor } from './scrub-walk.js';
import type { ArchiveIdentity } from '../state/corrupt-store.js';

const log = getLogger('scrub');

export interface ScrubLoopOptions {
  /** The disks to scrub now (online or downgraded); asked again before each disk. */
  readonly disks: () => readonly DiskSpec[];
  readonly localroot?: string;
  readonly exports: readonly string[];
  readonly codec: ErasureCodec;
  readonly mbps: number;
  readonly intervalMs: number;
  /** JSON file with the cursor and the pass times. */
  readonly stateFile: string;
  readonly onFinding: (f: LocalScrubFinding) => void;
  /** An archive already found corrupt, still the same file: not read or reported again. */
  readonly known?: (diskId: string, dataPath: string, id: ArchiveIdentity) => boolean;
  readonly now?: () => number;
  /** How often the cursor is saved during a pass (default 30 s). */
  readonly saveEveryMs?: number;
  /** The wait after a pass failed before it is tried again (default 60 s). */
  readonly retryMs?: number;
}

interface SavedState {
  /** A pass is under way (resumed at once after a restart, even before its first archive). */
  inPass?: boolean;
  /** Where the pass under way got to. */
  cursor?: ScrubCursor;
  /** Disks the pass under way has finished. */
  doneDisks?: string[];
  passStartedAt?: number;
  lastPassDoneAt?: number;
}

export interface ScrubStats {
  readonly running: boolean;
  readonly passes: number;
  readonly archives: number;
  readonly bytes: number;
  readonly corruptArchives: number;
  readonly lastPassDoneAt?: number;
}

export class ScrubLoop {
  private readonly stop$ = new AbortController();
  private readonly bucket: TokenBucket;
  private done: Promise<void> | undefined;
  private running = false;
  private passes = 0;
  private archives = 0;
  private bytes = 0;
  private corruptArchives = 0;
  private state: SavedState;

  constructor(private readonly o: ScrubLoopOptions) {
    this.bucket = new TokenBucket(o.mbps * 1e6);
    this.state = loadState(o.stateFile);
  }

  start(): void {
    this.done ??= this.loop().catch((err: unknown) => {
      log.error(`scrub stopped: ${errorText(err)}`);
    });
  }

  async stop(): Promise<void> {
    this.stop$.abort();
    await this.done;
  }

  setRate(mbps: number): void {
    this.bucket.setRate(mbps * 1e6);
  }

  stats(): ScrubStats {
    return { running: this.running, passes: this.passes, archives: this.archives, bytes: this.bytes, corruptArchives: this.corruptArchives, ...(this.state.lastPassDoneAt !== undefined ? { lastPassDoneAt: this.state.lastPassDoneAt } : {}) };
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  private async loop(): Promise<void> {
    const signal = this.stop$.signal;
    while (!signal.aborted) {
      // A pass under way resumes at once; otherwise the next starts intervalMs after the last one did.
      if (!this.state.inPass && this.state.passStartedAt !== undefined) {
        const wait = this.state.passStartedAt + this.o.intervalMs - this.now();
        if (wait > 0) {
          await sleep(Math.min(wait, 60_000), undefined, { signal }).catch(() => undefined);
          continue;
        }
      }
      let summary: ScrubPassSummary;
      try {
        summary = await this.pass(signal);
      } catch (err) {
        // e.g. the state directory unwritable: try again later, never stop scrubbing for good
        const retryMs = this.o.retryMs ?? 60_000;
        log.error(`scrub pass failed: ${errorText(err)}; trying again in ${Math.round(retryMs / 1000)} s`);
        await sleep(retryMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (!summary.complete) return; // stopped: the cursor is saved
      this.passes++;
      this.state = { passStartedAt: this.state.passStartedAt ?? this.now(), lastPassDoneAt: this.now() };
      this.save();
      log.info(`scrub pass done: ${summary.archives} archives, ${(summary.bytes / 1e9).toFixed(2)} GB, ${summary.corruptArchives} with corrupt stripes`);
    }
  }

  private async pass(signal: AbortSignal): Promise<ScrubPassSummary> {
    if (!this.state.inPass) {
      this.state = { ...this.state, inPass: true, passStartedAt: this.now(), doneDisks: [] };
      delete this.state.cursor;
      this.save();
    }
    this.running = true;
    let saved = this.now();
    const bytesBefore = this.bytes;
    const archivesBefore = this.archives;
    try {
      return await runScrubPass({
        disks: this.o.disks, exports: this.o.exports, ...(this.o.localroot !== undefined ? { localroot: this.o.localroot } : {}), codec: this.o.codec,
        ...(this.state.cursor ? { after: this.state.cursor } : {}), ...(this.state.doneDisks ? { doneDisks: this.state.doneDisks } : {}), ...(this.o.known ? { known: this.o.known } : {}),
        onDiskDone: (_diskId, done) => {
          this.state = { ...this.state, doneDisks: [...done] };
          this.save();
        },
        take: (n) => this.bucket.take(n, signal), signal, // stop() never sits out a long entry's wait
        onFinding: (f) => {
          this.corruptArchives++;
          try {
            this.o.onFinding(f);
          } catch (err) {
            log.error(`scrub finding for ${f.diskId} ${f.dataPath} not handled: ${errorText(err)}`);
          }
        },
        onArchive: (cursor, p) => {
          this.archives = archivesBefore + p.archives;
          this.bytes = bytesBefore + p.bytes;
          this.state = { ...this.state, cursor };
          if (this.now() - saved >= (this.o.saveEveryMs ?? 30_000)) {
            saved = this.now();
            this.save();
          }
        },
      });
    } finally {
      this.running = false;
      this.save();
    }
  }

  private save(): void {
    const temp = `${this.o.stateFile}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify(this.state) + '\n', { mode: 0o600 });
      renameSync(temp, this.o.stateFile);
    } catch (err) {
      log.warn(`cannot save the scrub cursor in ${this.o.stateFile}: ${errorText(err)} (a restart starts the pass over)`);
    }
  }
}

function loadState(file: string): SavedState {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') log.warn(`cannot read ${file}: ${errorText(err)}; starting a new scrub pass`);
    return {};
  }
  try {
    const v = JSON.parse(text) as SavedState;
    const c = v.cursor;
    const cursorOk = c === undefined || (typeof c.diskId === 'string' && typeof c.bucket === 'string' && typeof c.name === 'string');
    const num = (x: unknown): boolean => x === undefined || (typeof x === 'number' && Number.isFinite(x));
    const done = v.doneDisks as unknown;
    const doneOk = done === undefined || (Array.isArray(done) && done.every((d) => typeof d === 'string'));
    if (!cursorOk || !doneOk || !num(v.passStartedAt) || !num(v.lastPassDoneAt) || (v.inPass !== undefined && typeof v.inPass !== 'boolean')) throw new Error('unexpected fields');
    return { ...(v.inPass === true || c ? { inPass: true } : {}), ...(c ? { cursor: { diskId: c.diskId, bucket: c.bucket, name: c.name } } : {}), ...(v.doneDisks ? { doneDisks: [...v.doneDisks] } : {}), ...(v.passStartedAt !== undefined ? { passStartedAt: v.passStartedAt } : {}), ...(v.lastPassDoneAt !== undefined ? { lastPassDoneAt: v.lastPassDoneAt } : {}) };
  } catch (err) {
    log.warn(`${file} is not a scrub state (${errorText(err)}); starting a new scrub pass`);
    return {};
  }
}
