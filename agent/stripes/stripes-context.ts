// What the Stripes service needs from the agent: its disks (with their current state), where an
// LFN's namespace symlink lives, and the codec. Kept narrow so tests can fake it with a few lines.
import type { ErasureCodec } from '../../shared/codec/codec.js';
import type { DiskStateName } from '../../shared/wire/enums.js';

export interface StripesDisk {
  readonly diskId: string;
  /** The disk directory (oss.space PATH). */
  readonly path: string;
  /** The space name (oss.space NAME): archives live in <path>/<space>/<XX>/. */
  readonly space: string;
  readonly state: DiskStateName;
}

export interface NamespacePlace {
  /** `<localroot><lfn>`: the symlink a placed archive gets, and its Pfn. */
  readonly linkPath: string;
  /** `<localroot><export>`: must exist, never created. */
  readonly namespaceRoot: string;
}

export interface StripesContext {
  /** This agent's server id (the one its certificate names). */
  readonly serverId: string;
  /** The disk with this id on this server, or undefined when unknown. */
  disk(diskId: string): StripesDisk | undefined;
  /** Where `lfn` is linked; throws UsageError when the LFN is outside the exports. */
  linkFor(lfn: string): NamespacePlace;
  /** This server's xrootd address, for new data file names (placer default otherwise). */
  readonly xrootdServer?: { readonly ipv4: readonly [number, number, number, number]; readonly port: number };
  readonly codec: ErasureCodec;
  /** The data file is one this server's scrub found corrupt: a repair may take over its namespace link. */
  corruptArchive?(diskId: string, dataPath: string): boolean;
}
