// What the reclassifier reads of archives, and the role writes it makes. Classification reads
// every archive of every dirty file, and turning cells into JS strings is most of that cost, so
// only the columns classification uses are read (not the agent-only detail archivesOf returns),
// plus the stored role: roles are then written only where they change, instead of clearing
// and rewriting every role of every reclassified file.
import type { ArchiveRole } from '../../shared/domain/file-health.js';
import type { ParseStatus } from '../../shared/domain/archive-record.js';
import type { ArchiveRoleRow, ArchiveState } from './catalog-types.js';
import { eachForLfns } from './sqlite-lfn-batch.js';
import type { StatementCache } from './sqlite-statements.js';

// Each cell costs about as much as the next whatever it holds (NULL included), so the columns
// that are nearly always the same (regular, parse status 'ok', no stripe map, no parse error, no
// role) come as one cell: NULL in the common case, else a JSON array of the six.
const RARE = `CASE WHEN regular = 1 AND parse_status = 'ok' AND stripe_map IS NULL AND parse_error IS NULL AND role IS NULL AND role_reason IS NULL
  THEN NULL ELSE json_array(regular, parse_status, stripe_map, parse_error, role, role_reason) END`;
// cd_digest: copies of one archive (the same directory) count once toward coverage
const SELECT = `lfn, server_id, disk_id, data_path, mtime_ms, strpver, filesize, nblocks, cd_digest, ${RARE}`;

type Cells = (string | number | null)[];
type Rare = [number, ParseStatus, string | null, string | null, ArchiveRole | null, string | null];

function cellsToState(d: Readonly<Cells>): ArchiveState {
  const r: { -readonly [K in keyof ArchiveState]: ArchiveState[K] } = {
    lfn: d[0] as string,
    serverId: d[1] as string,
    diskId: d[2] as string,
    dataPath: d[3] as string,
    mtimeMs: d[4] as number,
    nblocks: d[7] as number,
    regular: true,
    parseStatus: 'ok',
  };
  if (d[5] !== null) r.strpver = d[5] as number;
  if (d[6] !== null) r.filesize = d[6] as number;
  if (d[8] !== null) r.cdDigest = d[8] as string;
  if (d[9] !== null) {
    const [regular, parseStatus, stripeMap, parseError, role, roleReason] = JSON.parse(d[9] as string) as Rare;
    r.regular = regular === 1;
    r.parseStatus = parseStatus;
    if (stripeMap !== null) r.stripeMap = JSON.parse(stripeMap) as Record<number, number[]>;
    if (parseError !== null) r.parseError = parseError;
    if (role !== null) r.role = role;
    if (roleReason !== null) r.roleReason = roleReason;
  }
  return r;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const byKey = (a: ArchiveState, b: ArchiveState): number => cmp(a.serverId, b.serverId) || cmp(a.diskId, b.diskId) || cmp(a.dataPath, b.dataPath);

/** Archive states of these LFNs (every LFN asked has an entry), each list in archive key order like archivesOf. */
export function archiveStatesOf(q: StatementCache, lfns: readonly string[]): Map<string, ArchiveState[]> {
  const out = new Map<string, ArchiveState[]>();
  for (const l of lfns) out.set(l, []);
  // rows come grouped by LFN (the lfn index is walked): look the list up once per group
  let lastLfn: string | undefined;
  let last: ArchiveState[] | undefined;
  eachForLfns(q, lfns, (list) => `SELECT ${SELECT} FROM archives WHERE lfn IN (${list})`, (d) => {
    const a = cellsToState(d as Cells);
    if (a.lfn !== lastLfn) {
      lastLfn = a.lfn;
      last = out.get(a.lfn as string);
    }
    last?.push(a);
  }, true);
  for (const list of out.values()) if (list.length > 1) list.sort(byKey);
  return out;
}

/**
 * Sets the role of each archive named (role 'current' is stored as NULL, like putArchiveRoles);
 * archives not named keep theirs. Call inside a transaction.
 */
export function updateArchiveRoles(q: StatementCache, rows: readonly ArchiveRoleRow[]): void {
  const set = q.get('UPDATE archives SET role = ?, role_reason = ? WHERE server_id = ? AND disk_id = ? AND data_path = ?');
  for (const r of rows) {
    const current = r.role === 'current';
    set.run(current ? null : r.role, current ? null : r.reason, r.serverId, r.diskId, r.dataPath);
  }
}
