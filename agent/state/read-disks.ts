// The disks this agent state has read whole at least once. An agent that starts from a fresh
// state while a disk is unmounted knows nothing of that disk's archives; the coordinator keeps
// what its catalog holds for the disk (a sync sweeps readable disks only). When the disk is
// first read, those rows must be compared with what is really there: the runtime then asks
// for a resync (DeltaJournal.requireResync), whose sweep drops what the disk no longer holds.
import { EcguardError } from '../../shared/errors.js';
import { getMeta, setMeta, type AgentDb } from './agent-db.js';

const KEY = 'readDisks';

export class ReadDisks {
  private readonly ids: Set<string>;

  /** `existing`: the state was in use before this set was kept (an upgrade): every disk counts as read. */
  constructor(private readonly db: AgentDb, allDisks: readonly string[], existing: boolean) {
    const raw = getMeta(db, KEY);
    this.ids = new Set(raw !== undefined ? parseIds(raw) : existing ? allDisks : []);
    if (raw === undefined) this.save();
  }

  has(diskId: string): boolean {
    return this.ids.has(diskId);
  }

  /** Marks disks read (call in the transaction that records their scan); returns those read for the first time. */
  add(diskIds: readonly string[]): string[] {
    const fresh = diskIds.filter((d) => !this.ids.has(d));
    if (fresh.length === 0) return [];
    for (const d of fresh) this.ids.add(d);
    this.save();
    return fresh;
  }

  private save(): void {
    setMeta(this.db, KEY, JSON.stringify([...this.ids].sort()));
  }
}

function parseIds(raw: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    v = undefined;
  }
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'string')) {
    throw new EcguardError('AGENT_STATE_CORRUPT', `the agent state's meta row "${KEY}" is not a list of disk ids (${JSON.stringify(raw.slice(0, 120))}): delete that row (every configured disk then counts as read), or restore the state directory`);
  }
  return v as string[];
}
