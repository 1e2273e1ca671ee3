// The first census of a new catalog. A catalog that knows no server yet learns a whole site at
// once, and every file it finds would be a file.created: a million events for files written
// years ago, flooding the stream and every backup consumer of "new files". During the census
// such files are counted instead, and one census.completed event says how many. A file whose
// version (strpver: the writer's close time, by the client's clock) is not older than the
// census start less CLOCK_MARGIN_MS may have been written meanwhile: it is still announced (a
// client clock further behind is the one way a new file goes unannounced; `ecguard files
// --created-since` still lists it). Alerts (degraded, critical, lost) are never suppressed. The
// census ends at the first release of held changes after safe mode ended by itself (when an
// operator left it early, once no server is still sending its inventory and every known one has
// reported or is down: the inventories still coming would be the flood). The tally lives in the
// event log's meta table, so a restart goes on with it.
import { EcguardError } from '../../shared/errors.js';
import type { FileRow } from '../catalog/catalog-types.js';
import type { EventLog } from './event-log.js';

const KEY = 'census';
/** Client clocks this far behind still get their new files announced. */
export const CLOCK_MARGIN_MS = 10 * 60_000;

export interface CensusTally {
  /** When the coordinator found its catalog empty (ms). */
  readonly startedAt: number;
  /** Files first seen during the census, and their bytes. */
  readonly files: number;
  readonly bytes: number;
  /** Of those, complete files written before the census: no file.created each. */
  readonly notAnnounced: number;
}

export class Census {
  private tally: CensusTally | undefined;

  constructor(private readonly log: EventLog) {
    const raw = log.meta(KEY);
    this.tally = raw === undefined ? undefined : parseTally(raw);
  }

  get pending(): boolean {
    return this.tally !== undefined;
  }

  /** The tally so far, while the census lasts. */
  get current(): CensusTally | undefined {
    return this.tally;
  }

  /** The catalog knows no server: what it learns until the first release is the census. */
  begin(now = Date.now()): void {
    if (this.tally) return; // a restart during the census goes on with it
    this.tally = { startedAt: now, files: 0, bytes: 0, notAnnounced: 0 };
    this.save();
  }

  /**
   * A file's change during the census: counted when first seen. True when its file.created is
   * left out (written before the census started).
   */
  quiet(prev: FileRow | undefined, next: FileRow): boolean {
    const t = this.tally;
    if (!t || prev) return false;
    const old = next.createdAt !== undefined && (next.latestStrpver === undefined || next.latestStrpver * 1000 < t.startedAt - CLOCK_MARGIN_MS);
    this.tally = { ...t, files: t.files + 1, bytes: t.bytes + (next.filesize ?? next.bytes), notAnnounced: t.notAnnounced + (old ? 1 : 0) };
    return old;
  }

  /**
   * Runs `write` (a transaction that records counted changes and calls save()); if it fails the
   * tally is as before, so the retried changes are not counted twice.
   */
  counting<T>(write: () => T): T {
    const before = this.tally;
    try {
      return write();
    } catch (err) {
      this.tally = before;
      throw err;
    }
  }

  /** Writes the tally (call inside the transaction that records the counted changes). */
  save(): void {
    this.log.setMeta(KEY, this.tally ? JSON.stringify(this.tally) : undefined);
  }

  /** The census is over: its tally, forgotten from now on (call inside the transaction that records its event). */
  end(): CensusTally | undefined {
    const t = this.tally;
    this.tally = undefined;
    this.save();
    return t;
  }
}

/** A stored tally, or a clear error: a damaged row must not end or reset a census silently. */
function parseTally(raw: string): CensusTally {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = undefined;
  }
  const t = v as Partial<Record<keyof CensusTally, unknown>> | undefined;
  const count = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) >= 0;
  if (!t || typeof t !== 'object' || !count(t.startedAt) || !count(t.files) || !count(t.bytes) || !count(t.notAnnounced)) {
    throw new EcguardError('EVENT_LOG_CORRUPT', `the event log's events_meta row "${KEY}" is not a census tally (${JSON.stringify(raw.slice(0, 120))}): delete that row to end the census (its files are then announced as they change), or restore the event log`);
  }
  return { startedAt: t.startedAt as number, files: t.files as number, bytes: t.bytes as number, notAnnounced: t.notAnnounced as number };
}
