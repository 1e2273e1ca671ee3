// The repair bench's cluster: data servers laid out like xrootd's (cli/demo/local-site.ts, 2
// disks each, on tmpfs), each with its own Stripes service on loopback (insecure, the agents'
// default of 4 read streams), served from a child process (repair-bench-peers.ts) or this one,
// and one PeerPool the executor and the raw reader share. Objects are encoded with XrdEc's
// geometry and stored archive i on server i, as xrootd would hold them.
import { fork } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeerPool } from '../agent/stripes/peer-pool.js';
import type { StripesContext } from '../agent/stripes/stripes-context.js';
import { StripesServer } from '../agent/stripes/stripes-server.js';
import { makeLocalSite, storeArchive, type LocalSite } from '../cli/demo/local-site.js';
import type { ErasureCodec } from '../shared/codec/codec.js';
import { UsageError } from '../shared/errors.js';
import { encodeObject } from '../shared/xrdec/object-encoder.js';
import { randomPlacement, seededRandom } from '../shared/xrdec/placement.js';
import { stripeCount, type EcProfile } from '../shared/xrdec/profile.js';

export const DISK_IDS = ['sda', 'sdb'] as const;

export interface BenchServer {
  readonly serverId: string;
  readonly site: LocalSite;
  readonly ctx: StripesContext;
}

export interface BenchCluster {
  readonly servers: readonly BenchServer[];
  readonly pool: PeerPool;
  /** serverId → host:port of its Stripes service. */
  readonly addresses: ReadonlyMap<string, string>;
  stop(): Promise<void>;
}

export interface StoredArchive {
  readonly serverId: string;
  readonly diskId: string;
  /** Relative to the disk: <space>/<XX>/<name>%. */
  readonly dataPath: string;
  /** Absolute path of the data file. */
  readonly path: string;
  readonly size: number;
}

export interface BenchObject {
  readonly lfn: string;
  readonly profile: EcProfile;
  readonly filesize: number;
  readonly strpver: number;
  /** archives[i] is placement index i, stored on servers[i]. */
  readonly archives: readonly StoredArchive[];
}

function siteContext(site: LocalSite, codec: ErasureCodec): StripesContext {
  return {
    serverId: site.serverId,
    codec,
    xrootdServer: { ipv4: [127, 0, 0, 1], port: 1094 },
    disk(diskId) {
      const i = DISK_IDS.indexOf(diskId as (typeof DISK_IDS)[number]);
      const path = site.disks[i];
      return path === undefined ? undefined : { diskId, path, space: site.space, state: 'online' };
    },
    linkFor(lfn) {
      if (!lfn.startsWith(site.exportPath + '/')) throw new UsageError(`${lfn} is not below the export ${site.exportPath}`);
      return { linkPath: site.localroot + lfn, namespaceRoot: site.localroot + site.exportPath };
    },
  };
}

export interface ServerSet {
  readonly servers: readonly (BenchServer & { readonly server: StripesServer })[];
  readonly addresses: ReadonlyMap<string, string>;
  stop(): Promise<void>;
}

/** Sites srv00… under `root`, each with its Stripes service on a free loopback port. */
export async function startServers(root: string, count: number, codec: ErasureCodec, maxStreams?: number): Promise<ServerSet> {
  const servers: (BenchServer & { server: StripesServer })[] = [];
  const addresses = new Map<string, string>();
  const stop = async (): Promise<void> => void (await Promise.all(servers.map((s) => s.server.stop(500))));
  try {
    for (const b of benchSites(root, count, codec)) {
      const server = new StripesServer(b.ctx, { listen: '127.0.0.1:0', insecure: true, ...(maxStreams ? { maxStreams } : {}) });
      servers.push({ ...b, server });
      addresses.set(b.serverId, `127.0.0.1:${await server.start()}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { servers, addresses, stop };
}

function benchSites(root: string, count: number, codec: ErasureCodec): BenchServer[] {
  return Array.from({ length: count }, (_, i) => {
    const site = makeLocalSite(root, `srv${String(i).padStart(2, '0')}`, DISK_IDS.length);
    return { serverId: site.serverId, site, ctx: siteContext(site, codec) };
  });
}

export interface PeerRequest {
  readonly root: string;
  readonly count: number;
  readonly maxStreams?: number;
}

export type PeerReply = { readonly addresses: [string, string][] } | { readonly error: string };

/**
 * `count` sites under `root` with their Stripes services: in a child process by default
 * (repair-bench-peers.ts; the executor's process then runs only the executor, as in production
 * where the sources are other machines), or in this process ('in-process': one event loop
 * serves the peers and runs the repair). The executor's side (contexts, pool) is always here.
 */
export async function startCluster(root: string, count: number, codec: ErasureCodec, o: { peers?: 'child' | 'in-process'; maxStreams?: number } = {}): Promise<BenchCluster> {
  const pool = new PeerPool({ insecure: true });
  if (o.peers === 'in-process') {
    const set = await startServers(root, count, codec, o.maxStreams);
    return { servers: set.servers, pool, addresses: set.addresses, stop: async () => (pool.close(), await set.stop()) };
  }
  const child = fork(fileURLToPath(new URL('./repair-bench-peers.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const reply = await new Promise<PeerReply>((resolve, reject) => {
    child.once('message', (m) => resolve(m as PeerReply));
    child.once('exit', (code) => reject(new Error(`the bench's peer process exited (${code}) before it served`)));
    child.send({ root, count, ...(o.maxStreams ? { maxStreams: o.maxStreams } : {}) } satisfies PeerRequest);
  });
  const stop = async (): Promise<void> => {
    pool.close();
    if (child.exitCode === null && child.signalCode === null) child.send('stop');
    await exited;
  };
  if ('error' in reply) {
    await stop();
    throw new Error(`the bench's peer process failed: ${reply.error}`);
  }
  return { servers: benchSites(root, count, codec), pool, addresses: new Map(reply.addresses), stop };
}

/**
 * Encodes `filesize` random bytes as one object (seeded random placement, CRC-32C, user.U.
 * xattrs: what XrdEc writing through xrootd leaves) and stores archive i on server i, disk
 * `index % 2`. The staging files are removed again.
 */
export function storeObject(cluster: BenchCluster, o: { profile: EcProfile; lfn: string; filesize: number; stage: string; index: number; codec: ErasureCodec }): BenchObject {
  const k = stripeCount(o.profile);
  if (cluster.servers.length < k) throw new UsageError(`${k} archives need ${k} servers, the cluster has ${cluster.servers.length}`);
  const dir = join(o.stage, `obj${o.index}`);
  mkdirSync(dir, { recursive: true });
  const input = join(dir, 'input');
  writeFileSync(input, randomFillSync(Buffer.allocUnsafe(o.filesize)));
  const strpver = 1_700_000_000 + o.index;
  try {
    const paths = Array.from({ length: k }, (_, i) => join(dir, `a${i}.zip`));
    const enc = encodeObject({
      profile: o.profile, crcKind: 'crc32c', input, archivePaths: paths, xattrNamespace: 'user.U.', mtFile: false, strpver, codec: o.codec,
      placement: (blocks) => randomPlacement(k, k, blocks, seededRandom(0x5eed + o.index)),
    });
    const disk = o.index % DISK_IDS.length;
    const archives = enc.archives.map((a, i): StoredArchive => {
      const s = cluster.servers[i] as BenchServer;
      const path = storeArchive(s.site, o.lfn, disk, a.path);
      const diskPath = s.site.disks[disk] as string;
      return { serverId: s.serverId, diskId: DISK_IDS[disk] as string, dataPath: path.slice(diskPath.length + 1), path, size: statSync(path).size };
    });
    return { lfn: o.lfn, profile: o.profile, filesize: enc.filesize, strpver, archives };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
