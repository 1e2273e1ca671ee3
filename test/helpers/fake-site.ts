// A data server's disks and namespace laid out on real files exactly as xrootd lays them out
// (XRDEC-FORMAT.md §A): data files in <disk>/<space>/<XX>/ with xrootd-style names, Pfn xattr,
// absolute symlinks in <localroot><export>. For scanner tests that do not need a running
// server; the real xrootd tests check that this layout is what xrootd really does.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setAttributeSync } from 'fs-xattr';
import { dataFileRelPath } from '../../shared/xrdec/data-file-name.js';
import type { DiskSpec } from '../../agent/scan/disk-layout.js';

export interface FakeSite {
  readonly root: string;
  readonly serverId: string;
  readonly disks: DiskSpec[];
  readonly localroot?: string;
  readonly exportPath: string;
  /** <localroot><export>: where the symlinks live. */
  readonly nsRoot: string;
  /**
   * Creates a data file for `lfn` on disk `disk` via `write(path)`, with Pfn and symlink. Returns its
   * absolute path. `counter` picks the create counter, hence the bucket (its low byte).
   */
  store(lfn: string, disk: number, write: (path: string) => void, opts?: { symlink?: boolean; pfn?: Buffer; counter?: number }): string;
  cleanup(): void;
}

let counter = 1;

export function makeFakeSite(opts: { serverId?: string; disks?: number; localroot?: boolean; space?: string; base?: string } = {}): FakeSite {
  const root = mkdtempSync(join(opts.base ?? tmpdir(), 'ecguard-site-'));
  const serverId = opts.serverId ?? 'srv01';
  const space = opts.space ?? 'public';
  const disks: DiskSpec[] = Array.from({ length: opts.disks ?? 2 }, (_, i) => {
    const path = join(root, 'disk', `sd${String.fromCharCode(97 + i)}`);
    mkdirSync(join(path, space), { recursive: true });
    return { diskId: `${serverId}:${path}`, space, path };
  });
  const localroot = opts.localroot === false ? undefined : join(root, 'ns');
  const exportPath = opts.localroot === false ? join(root, 'data') : '/data';
  const nsRoot = (localroot ?? '') + exportPath;
  mkdirSync(nsRoot, { recursive: true });
  return {
    root, serverId, disks, exportPath, nsRoot, ...(localroot !== undefined ? { localroot } : {}),
    store(lfn, diskIndex, write, o = {}) {
      const disk = disks[diskIndex];
      if (!disk) throw new Error(`no disk ${diskIndex}`);
      const rel = dataFileRelPath({ startTime: 0x6b031234, pid: 0x2443, port: 1094, ipv4: [127, 0, 0, 1], counter: o.counter ?? counter++ }, disk.path, space);
      const path = join(disk.path, rel);
      mkdirSync(dirname(path), { recursive: true });
      write(path);
      const linkPath = (localroot ?? '') + lfn;
      setAttributeSync(path, 'user.XrdFrm.Pfn', o.pfn ?? Buffer.concat([Buffer.from(linkPath), Buffer.from([0])]));
      if (o.symlink !== false) {
        mkdirSync(dirname(linkPath), { recursive: true });
        symlinkSync(path, linkPath);
      }
      return path;
    },
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}
