// The longer scenarios of the repair cluster test: down-server graces, and corrupt sources.
import assert from 'node:assert/strict';
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import type { LocalCluster, PlacedFile } from '../../cli/demo/local-cluster.js';
import type { ListServersReply, RepairStatusReply, RepairTaskInfo, StatusReply } from '../../proto/gen/ecguard/v1/admin.js';
import { readZipDirectoryFileSync } from '../../shared/xrdec/archive-io.js';
import type { EcProfile } from '../../shared/xrdec/profile.js';
import { dataFiles, decodesTo, linkedArchive, tempFiles } from './repair-checks.js';

export interface RepairWorld {
  readonly cluster: LocalCluster;
  readonly files: PlacedFile[];
  admin<T>(args: string[]): T;
  until(what: string, ok: () => boolean, ms?: number): Promise<number>;
  tasks(): RepairTaskInfo[];
  allHealthy(): boolean;
  profileOf(f: PlacedFile): EcProfile;
  /** Files placed with an archive on disk `disk` of server `server`. */
  onDisk(server: number, disk: number): PlacedFile[];
  removeDisk(server: number, disk: number): void;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function freshTasks(w: RepairWorld): () => RepairTaskInfo[] {
  const before = new Set(w.tasks().map((t) => t.taskId));
  return () => w.tasks().filter((t) => !before.has(t.taskId));
}

export async function killScenario(w: RepairWorld): Promise<void> {
  const { cluster } = w;
  const on = (s: number): PlacedFile[] => w.files.filter((f) => f.servers.includes(s));
  const both = on(8).filter((f) => f.servers.includes(9));
  const only8 = on(8).filter((f) => !f.servers.includes(9));
  const only9 = on(9).filter((f) => !f.servers.includes(8));
  const lfns = (fs: readonly PlacedFile[]): Set<string> => new Set(fs.map((f) => f.lfn));
  const fresh = freshTasks(w);
  await cluster.killAgent(8, 'SIGKILL');
  await cluster.killAgent(9, 'SIGKILL');
  await w.until('srv08 and srv09 down', () => w.admin<ListServersReply>(['servers']).servers.filter((s) => (s.serverId === 'srv08' || s.serverId === 'srv09') && s.state === 'down').length === 2);
  const downAt = Date.now();
  // In the grace (criticalAfter 8 s, lostAfter 1 h): nothing is planned, the files wait.
  while (Date.now() - downAt < 4000) {
    assert.deepEqual(fresh().map((t) => t.lfn), [], 'nothing planned within the grace');
    await sleep(400);
  }
  const waiting = w.admin<RepairStatusReply>(['repair', 'status']).waiting;
  const affected = both.length + only8.length + only9.length;
  assert.equal(waiting, affected, `every file with an archive on srv08 or srv09 waits for the grace (${waiting} of ${affected})`);
  // Redundancy 0 after criticalAfter: planned and repaired; redundancy 1 still waits (lostAfter).
  const critical = lfns(both);
  const doneFor = (want: Set<string>): boolean => {
    const done = new Set(fresh().filter((t) => t.state === 'done').map((t) => t.lfn));
    return [...want].every((l) => done.has(l));
  };
  await w.until('critical files repaired after server.criticalAfter', () => doneFor(critical), 300_000);
  const early = fresh().filter((t) => !critical.has(t.lfn));
  assert.deepEqual(early.map((t) => t.lfn), [], 'files with redundancy left wait for server.lostAfter');
  const firstStart = Math.min(...fresh().map((t) => t.createdMs));
  assert.ok(firstStart - downAt >= 8000 - 2500, `critical repairs planned ${firstStart - downAt} ms after the servers went down (grace 8 s from down)`);
  // `server lost` plans at once.
  w.admin(['server', 'lost', 'srv08']);
  const want8 = lfns(only8);
  const took = await w.until('srv08 files planned', () => {
    const planned = new Set(fresh().map((t) => t.lfn));
    return [...want8].every((l) => planned.has(l));
  }, 30_000);
  assert.ok(took < 6000, `server lost planned its files in ${took} ms`);
  await w.until('srv08 files repaired', () => doneFor(want8));
  const nine = lfns(only9);
  assert.deepEqual(fresh().filter((t) => nine.has(t.lfn)).map((t) => t.lfn), [], 'srv09 is still only down: its files wait');
  cluster.startAgent(8);
  cluster.startAgent(9);
  await w.until('all healthy with both agents back', () => w.allHealthy());
}

/** Flips the first data byte of entry obj.0.<stripe> of an archive. */
function corruptEntry(path: string, name: string): void {
  const dir = readZipDirectoryFileSync(path);
  const e = dir.entries.find((x) => x.name === name);
  if (!e || e.size === 0) throw new Error(`${path} has no non-empty ${name}`);
  const fd = openSync(path, 'r+');
  try {
    const lfh = Buffer.alloc(30);
    readSync(fd, lfh, 0, 30, e.lfhOffset);
    const at = e.lfhOffset + 30 + lfh.readUInt16LE(26) + lfh.readUInt16LE(28);
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = (b[0] as number) ^ 0x01;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

/** The survivor holding the lowest stripe of block 0 (the block reader reads it first). */
function firstReadSurvivor(archives: readonly string[]): { path: string; entry: string } {
  let best: { path: string; entry: string; stripe: number } | undefined;
  for (const p of archives) {
    const e = readZipDirectoryFileSync(p).entries.find((x) => x.stripe?.block === 0);
    if (e && e.stripe && e.size > 0 && (!best || e.stripe.stripe < best.stripe)) best = { path: p, entry: e.name, stripe: e.stripe.stripe };
  }
  if (!best) throw new Error('no survivor with a non-empty block 0');
  return best;
}

export async function corruptionScenario(w: RepairWorld): Promise<void> {
  const { cluster } = w;
  // Where each 4+2 multi-block file's archives are now (earlier repairs moved some).
  const disk2 = `${cluster.sites[2]?.disks[0]}/`;
  const disk4 = `${cluster.sites[4]?.disks[0]}/`;
  const links = (f: PlacedFile): string[] => cluster.sites.map((_, s) => linkedArchive(cluster, s, f.lfn)).filter((p): p is string => p !== undefined);
  const candidates = w.files.filter((f) => f.lfn.startsWith('/data/ec42/') && f.size >= 20_000 && links(f).length === 6);
  const on = (f: PlacedFile, d: string): boolean => links(f).some((p) => p.startsWith(d));
  const doomed = candidates.find((f) => on(f, disk2) && on(f, disk4));
  const saved = candidates.find((f) => on(f, disk2) && !on(f, disk4));
  assert.ok(doomed && saved, 'a 4+2 file on both disks and one on only the first');
  const survivorsOf = (f: PlacedFile): string[] => links(f).filter((p) => !p.startsWith(disk2) && !p.startsWith(disk4));
  const survD = survivorsOf(doomed);
  const survS = survivorsOf(saved);
  const badD = firstReadSurvivor(survD);
  const badS = firstReadSurvivor(survS);
  const holdersOf = (lfn: string): number => [...dataFiles(cluster).entries()].filter(([p, x]) => x.pfn === `${cluster.sites[x.server]?.localroot}${lfn}` && !p.startsWith(disk2) && !p.startsWith(disk4)).length;
  const heldBefore = holdersOf(doomed.lfn);
  const fresh = freshTasks(w);
  w.admin(['repair', 'pause']);
  corruptEntry(badD.path, badD.entry);
  corruptEntry(badS.path, badS.entry);
  w.removeDisk(2, 0);
  w.removeDisk(4, 0);
  await w.until('tasks queued', () => fresh().some((t) => t.lfn === doomed.lfn) && fresh().some((t) => t.lfn === saved.lfn));
  w.admin(['repair', 'resume']);
  const task = (lfn: string): RepairTaskInfo | undefined => fresh().find((t) => t.lfn === lfn);
  await w.until('the doomed file\'s task parked', () => task(doomed.lfn)?.state === 'parked');
  const d = task(doomed.lfn) as RepairTaskInfo;
  assert.match(d.error, /TOO_FEW_SOURCES/);
  assert.ok(d.sourceProblems.some((p) => p.includes(badD.entry) && /CRC mismatch/.test(p)), `the CRC mismatch is named: ${d.sourceProblems.join('; ')}`);
  assert.equal(holdersOf(doomed.lfn), heldBefore, `nothing written for ${doomed.lfn}`);
  await w.until('everything else healthy', () => {
    const s = w.admin<StatusReply>(['status']);
    return (s.filesByState.find((x) => x.state === 'healthy')?.count ?? 0) === w.files.length - 1 && (s.filesByState.find((x) => x.state === 'critical')?.count ?? 0) === 1;
  });
  const s = task(saved.lfn) as RepairTaskInfo;
  assert.equal(s.state, 'done');
  assert.ok(s.sourceProblems.some((p) => p.includes(badS.entry) && /CRC mismatch/.test(p)), `the bad entry was detected and skipped: ${s.sourceProblems.join('; ')}`);
  const rebuilt = linkedArchive(cluster, 2, saved.lfn) as string;
  const good = survS.filter((p) => p !== badS.path);
  assert.ok(await decodesTo(saved.lfn, saved.size, [rebuilt, ...good.slice(0, 3)], w.profileOf(saved)), 'the file rebuilt around the corrupt entry decodes');
  assert.deepEqual(tempFiles(cluster), []);
}
