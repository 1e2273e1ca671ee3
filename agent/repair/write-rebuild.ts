// Connects a stripe rebuild to the placer: one placement per target archive, fed block by
// block, committed only when every block was rebuilt. If any block fails (TOO_FEW_SOURCES, a
// read error, a full disk) every placement is aborted, so nothing is written at all.
import { EcguardError } from '../../shared/errors.js';
import type { StripeRebuild } from '../../shared/xrdec/rebuild/stripe-rebuild.js';
import { ArchivePlacement, type PlacedArchive, type PlaceTarget } from './archive-placer.js';

/** A target without the version: that comes from the rebuild (the survivors' own texts). */
export type RebuildTarget = Omit<PlaceTarget, 'version'>;

export async function writeRebuild(rebuild: StripeRebuild, targets: readonly RebuildTarget[]): Promise<PlacedArchive[]> {
  if (targets.length !== rebuild.targets) {
    throw new EcguardError('TARGETS_MISMATCH', `the rebuild spreads stripes over ${rebuild.targets} archives but ${targets.length} targets were given`);
  }
  const version = { strpverText: rebuild.version.strpverText, filesizeText: rebuild.version.filesizeText };
  const placements: ArchivePlacement[] = [];
  const placed: PlacedArchive[] = [];
  try {
    for (const t of targets) placements.push(ArchivePlacement.open({ ...t, version }));
    for await (const block of rebuild.stream()) {
      block.targets.forEach((entries, i) => {
        for (const e of entries) (placements[i] as ArchivePlacement).append(e);
      });
    }
    // Only now is every archive complete: publish them one after the other.
    for (const p of placements) placed.push(p.commit());
    return placed;
  } finally {
    for (const p of placements) p.abort();
  }
}
