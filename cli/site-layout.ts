// Standalone commands' layout flags → the data server layout.
import { siteLayout, type SiteLayoutResult } from '../agent/config/site-layout.js';
import { UsageError } from '../shared/errors.js';

export interface LayoutFlags {
  xrootdConfig?: string;
  spacePath?: string;
  serverId?: string;
  host?: string;
  instance?: string;
}

export function layoutFromFlags(f: LayoutFlags): SiteLayoutResult {
  if (!f.xrootdConfig) throw new UsageError('--xrootd-config FILE is required (the data server\'s xrootd config, e.g. /etc/xrootd/xrootd-clustered.cfg)');
  return siteLayout({
    xrootdConfig: f.xrootdConfig,
    ...(f.serverId !== undefined ? { serverId: f.serverId } : {}),
    ...(f.host !== undefined ? { host: f.host } : {}),
    ...(f.instance !== undefined ? { instance: f.instance } : {}),
    ...(f.spacePath !== undefined ? { spacePath: f.spacePath } : {}),
  });
}
