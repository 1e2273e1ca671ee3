// Namespace rebuild with evidence: an agent may recreate the symlink of an LFN only when other
// servers hold archives of it at the same strpver and no tombstone says it was deleted — so a
// file deleted while this server's disk was away does not come back (unlike frm_admin -fix).
import type { ConfirmLfnsReply, ConfirmLfnsRequest } from '../../proto/gen/ecguard/v1/admin.js';
import type { AdminContext } from './admin-context.js';

export async function confirmLfns(c: AdminContext, req: ConfirmLfnsRequest): Promise<ConfirmLfnsReply> {
  if (c.safeMode.isActive) {
    return { verdicts: req.candidates.map((x) => ({ lfn: x.lfn, confirmed: false, reason: `pending evidence: ${c.safeMode.status().reason}` })), pendingEvidence: true };
  }
  const lfns = req.candidates.slice(0, 100_000).map((x) => x.lfn);
  const archives = await c.store.archivesOf(lfns);
  const tombs = await c.store.tombstonesFor(lfns);
  const verdicts = req.candidates.slice(0, 100_000).map((x) => {
    const others = (archives.get(x.lfn) ?? []).filter((a) => a.serverId !== req.serverId && a.strpver === x.strpver && (a.parseStatus === 'ok' || a.parseStatus === 'empty'));
    const deleted = (tombs.get(x.lfn) ?? []).find((t) => t.strpver === x.strpver);
    if (deleted) return { lfn: x.lfn, confirmed: false, reason: `deleted (${deleted.reason}) at ${new Date(deleted.at).toISOString()}` };
    if (others.length === 0) return { lfn: x.lfn, confirmed: false, reason: `no other server holds an archive of ${x.lfn} at strpver ${x.strpver}` };
    return { lfn: x.lfn, confirmed: true, reason: `${others.length} other server(s) hold strpver ${x.strpver}: ${[...new Set(others.map((a) => a.serverId))].join(', ')}` };
  });
  return { verdicts, pendingEvidence: false };
}
