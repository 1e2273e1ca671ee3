// For a task on an object with .mt files (targets carry directoryDigest): the directory each new
// archive must keep (shared/xrdec/rebuild/kept-directory.ts), from the first of the plan's .mt
// files that holds a member with every target's digest. This server's own .mt is read directly,
// a peer's through Stripes.ReadMetadata. Nothing is written here.
import * as grpc from '@grpc/grpc-js';
import type { StripesClient } from '../../proto/gen/ecguard/v1/stripes.js';
import type { ErasureCodec } from '../../shared/codec/codec.js';
import type { RepairPlan, RepairSourceRef } from '../../shared/domain/repair-task.js';
import { EcguardError, errorText } from '../../shared/errors.js';
import { directoryDigest } from '../../shared/xrdec/directory-digest.js';
import { metadataMembersOf, type MetadataMember } from '../../shared/xrdec/mt-file.js';
import { keptDirectory, type KeptEntry } from '../../shared/xrdec/rebuild/kept-directory.js';
import { readMetadataBytes, resolveArchiveRef } from '../stripes/archive-ref.js';
import { peerError } from '../stripes/peer-pool.js';
import type { StripesContext } from '../stripes/stripes-context.js';

export interface KeptDeps {
  readonly ctx: StripesContext;
  readonly codec: ErasureCodec;
  /** The Stripes client of a peer. */
  readonly client: (serverId: string) => StripesClient;
  readonly deadlineMs?: number;
}

function remoteBytes(client: StripesClient, s: RepairSourceRef, deadlineMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    client.readMetadata({ diskId: s.diskId, dataPath: s.dataPath }, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => {
      if (err) reject(peerError(err, s.serverId, `ReadMetadata ${s.diskId}/${s.dataPath}`));
      else resolve(Buffer.from(res.data));
    });
  });
}

function membersOf(bytes: Buffer, serverId: string): MetadataMember[] {
  try {
    return metadataMembersOf(bytes);
  } catch (e) {
    throw new EcguardError('NOT_METADATA', `${serverId} holds a .mt file that does not parse: ${errorText(e)}`);
  }
}

export interface KeptPlan {
  /** Per target, the directory it keeps (none for the empty object: its archives are 0 bytes). */
  readonly kept?: KeptEntry[][];
  /** The `.mt` file they came from (to restore a copy a target server lost). */
  readonly metadataFile: Buffer;
}

/**
 * undefined when no target keeps a directory or restores a `.mt` copy; else one layout per
 * target (in target order) when they keep directories, and the `.mt` file they come from.
 */
export async function keptDirectories(plan: RepairPlan, d: KeptDeps, problems: string[]): Promise<KeptPlan | undefined> {
  const digests = plan.targets.map((t) => t.directoryDigest);
  const keeps = digests.some((x) => x !== undefined);
  if (!keeps && plan.targets.every((t) => t.metadataLostOnDisk === undefined)) return undefined;
  if (keeps && digests.some((x) => x === undefined)) throw new EcguardError('BAD_TASK', 'some targets keep a directory and some do not');
  // This server's own copy first: no network, and it is the copy its reader uses.
  const sources = [...(plan.metadataSources ?? [])].sort((a, b) => Number(b.serverId === d.ctx.serverId) - Number(a.serverId === d.ctx.serverId));
  for (const s of sources) {
    try {
      const bytes = s.serverId === d.ctx.serverId
        ? Buffer.from((await readMetadataBytes(resolveArchiveRef(d.ctx, { diskId: s.diskId, dataPath: s.dataPath }))).data)
        : await remoteBytes(d.client(s.serverId), s, d.deadlineMs ?? 30_000);
      const members = membersOf(bytes, s.serverId);
      if (!keeps) return { metadataFile: bytes };
      const byDigest = new Map(members.map((m) => [directoryDigest(d.codec, m.bytes), m.bytes]));
      const missing = digests.filter((g) => !byDigest.has(g as string));
      if (missing.length > 0) {
        problems.push(`${s.serverId} .mt ${s.dataPath}: no member with directory digest ${missing.join(', ')}`);
        continue;
      }
      return { kept: digests.map((g) => keptDirectory(byDigest.get(g as string) as Buffer, plan.profile, plan.filesize)), metadataFile: bytes };
    } catch (err) {
      if (err instanceof EcguardError && err.code === 'DIRECTORY_MISMATCH') throw err;
      problems.push(`${s.serverId} .mt ${s.dataPath}: ${errorText(err)}`);
    }
  }
  if (!keeps) {
    // Only a lost .mt copy to restore: the archives themselves need nothing from it.
    problems.push(`no readable .mt file to restore a lost copy from`);
    return undefined;
  }
  throw new EcguardError('NO_METADATA', `none of the object's ${sources.length} .mt file(s) gives the directory of every lost archive (${problems.slice(-4).join('; ')}); the archives cannot be rebuilt so that the .mt files stay true: copy the file instead`);
}
