// Builds the data server layout (disks, localroot, exports) for standalone commands from the
// site's xrootd config, as xrootd on this host would read it, optionally narrowed to one disk.
import { hostname } from 'node:os';
import { parseXrootdConfig } from '../agent/config/xrootd-config.js';
import type { DiskSpec } from '../agent/scan/disk-layout.js';
import type { SiteLayout } from '../agent/scan/site-scanner.js';
import { UsageError } from '../shared/errors.js';

export interface LayoutFlags {
  xrootdConfig?: string;
  spacePath?: string;
  serverId?: string;
  host?: string;
  instance?: string;
}

export interface LayoutResult {
  readonly layout: SiteLayout;
  /** Config diagnostics for stderr (file:line: message). */
  readonly warnings: string[];
}

export function layoutFromFlags(f: LayoutFlags): LayoutResult {
  if (!f.xrootdConfig) throw new UsageError('--xrootd-config FILE is required (the data server\'s xrootd config, e.g. /etc/xrootd/xrootd-clustered.cfg)');
  const host = f.host ?? hostname();
  const cfg = parseXrootdConfig(f.xrootdConfig, { host, ...(f.instance !== undefined ? { instance: f.instance } : {}), env: process.env as Record<string, string> });
  const warnings = cfg.diagnostics.map((d) => `${d.file}:${d.line}: ${d.severity}: ${d.message}`);
  const serverId = f.serverId ?? cfg.sitename ?? host;
  const paths = new Map<string, number>();
  for (const s of cfg.spaces) paths.set(s.path, (paths.get(s.path) ?? 0) + 1);
  let disks: DiskSpec[] = cfg.spaces.map((s) => ({
    // One physical disk may serve several spaces: keep their ids apart.
    diskId: (paths.get(s.path) ?? 0) > 1 ? `${serverId}:${s.path}#${s.name}` : `${serverId}:${s.path}`,
    space: s.name,
    path: s.path,
  }));
  if (f.spacePath !== undefined) {
    const want = f.spacePath.replace(/\/+$/, '');
    disks = disks.filter((d) => d.path === want);
    if (disks.length === 0) throw new UsageError(`--space-path ${f.spacePath} is not an oss.space path in ${f.xrootdConfig} (known: ${cfg.spaces.map((s) => s.path).join(', ') || 'none'})`);
  }
  if (disks.length === 0) throw new UsageError(`${f.xrootdConfig} defines no oss.space for this host (${host}${f.instance ? `, instance ${f.instance}` : ''}); check --host/--instance${warnings.length ? `; config problems: ${warnings.join('; ')}` : ''}`);
  if (cfg.exports.length === 0) throw new UsageError(`${f.xrootdConfig} has no all.export for this host: the namespace cannot be located`);
  return {
    layout: { serverId, disks, exports: cfg.exports.map((e) => e.path), ...(cfg.localroot !== undefined ? { localroot: cfg.localroot } : {}) },
    warnings,
  };
}
