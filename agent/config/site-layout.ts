// The data server's layout (disks, localroot, exports) as this host's xrootd reads its config,
// optionally narrowed to one disk or with the disks given explicitly. Shared by the agent and
// the standalone commands.
import { hostname } from 'node:os';
import { UsageError } from '../../shared/errors.js';
import type { DiskSpec } from '../scan/disk-layout.js';
import type { SiteLayout } from '../scan/site-scanner.js';
import { chkmountMarker, parseXrootdConfig } from './xrootd-config.js';

export interface SiteLayoutInput {
  readonly xrootdConfig: string;
  readonly serverId?: string;
  readonly host?: string;
  readonly instance?: string;
  /** Only this oss.space path. */
  readonly spacePath?: string;
  /** Use these disks instead of the config's oss.space lines. */
  readonly spaces?: readonly { readonly name: string; readonly path: string }[];
}

export interface SiteLayoutResult {
  readonly layout: SiteLayout;
  /** Config diagnostics (file:line: severity: message). */
  readonly warnings: string[];
}

export function siteLayout(i: SiteLayoutInput): SiteLayoutResult {
  const host = i.host ?? hostname();
  const cfg = parseXrootdConfig(i.xrootdConfig, { host, ...(i.instance !== undefined ? { instance: i.instance } : {}), env: process.env as Record<string, string> });
  const warnings = cfg.diagnostics.map((d) => `${d.file}:${d.line}: ${d.severity}: ${d.message}`);
  const serverId = i.serverId ?? cfg.sitename ?? host;
  const spaces: readonly { readonly name: string; readonly path: string; readonly chkmount?: string }[] =
    i.spaces ?? cfg.spaces.map((s) => ({ name: s.name, path: s.path, ...(s.chkmount ? { chkmount: chkmountMarker(s) as string } : {}) }));
  const perPath = new Map<string, number>();
  for (const s of spaces) perPath.set(s.path, (perPath.get(s.path) ?? 0) + 1);
  let disks: DiskSpec[] = spaces.map((s) => ({
    // One physical disk may serve several spaces: keep their ids apart.
    diskId: (perPath.get(s.path) ?? 0) > 1 ? `${serverId}:${s.path}#${s.name}` : `${serverId}:${s.path}`,
    space: s.name,
    path: s.path,
    ...(s.chkmount !== undefined ? { chkmount: s.chkmount } : {}),
  }));
  if (i.spacePath !== undefined) {
    const want = i.spacePath.replace(/\/+$/, '');
    disks = disks.filter((d) => d.path === want);
    if (disks.length === 0) throw new UsageError(`--space-path ${i.spacePath} is not an oss.space path in ${i.xrootdConfig} (known: ${spaces.map((s) => s.path).join(', ') || 'none'})`);
  }
  if (disks.length === 0) throw new UsageError(`${i.xrootdConfig} defines no oss.space for this host (${host}${i.instance ? `, instance ${i.instance}` : ''}); check the host and instance${warnings.length ? `; config problems: ${warnings.join('; ')}` : ''}`);
  if (cfg.exports.length === 0) throw new UsageError(`${i.xrootdConfig} has no all.export for this host: the namespace cannot be located`);
  return {
    layout: { serverId, disks, exports: cfg.exports.map((e) => e.path), ...(cfg.localroot !== undefined ? { localroot: cfg.localroot } : {}) },
    warnings,
  };
}
