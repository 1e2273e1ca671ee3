// Which EC profile a file was written with. The XrdEc client plug-in config holds one profile
// per site (per URL pattern); sites that changed profile, or write some paths with another,
// name them by LFN prefix (`--profile /data/ec42/=4+2:1048576`). The longest matching prefix
// wins; otherwise the site default (configured, or the one the agents report).
import { UsageError } from '../shared/errors.js';
import { validateProfile, type EcProfile } from '../shared/xrdec/profile.js';

export class ProfileMap {
  private readonly byPrefix: { prefix: string; profile: EcProfile }[] = [];

  constructor(private fallback: EcProfile | undefined) {}

  /** Parses `N+M:C` (site default) or `PREFIX=N+M:C`. */
  static parseSpec(spec: string): { prefix?: string; profile: EcProfile } {
    const m = /^(?:(\/[^=]*)=)?(\d+)\+(\d+):(\d+)$/.exec(spec);
    if (!m) throw new UsageError(`--profile wants N+M:C or /lfn/prefix/=N+M:C (e.g. 8+2:1048576), got ${JSON.stringify(spec)}`);
    const profile = validateProfile({ nbData: Number(m[2]), nbParity: Number(m[3]), chunkSize: Number(m[4]) });
    return m[1] !== undefined ? { prefix: m[1], profile } : { profile };
  }

  add(prefix: string, profile: EcProfile): void {
    this.byPrefix.push({ prefix, profile });
    this.byPrefix.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get default(): EcProfile | undefined {
    return this.fallback;
  }

  setDefault(p: EcProfile): void {
    this.fallback = p;
  }

  hasDefault(): boolean {
    return this.fallback !== undefined;
  }

  for(lfn: string | undefined): EcProfile | undefined {
    if (lfn !== undefined) for (const e of this.byPrefix) if (lfn.startsWith(e.prefix)) return e.profile;
    return this.fallback;
  }

  /** Most archives any known profile needs (N+M), 0 when none is known. */
  widest(): number {
    return Math.max(0, ...[...this.byPrefix.map((e) => e.profile), ...(this.fallback ? [this.fallback] : [])].map((p) => p.nbData + p.nbParity));
  }

  describe(): string {
    const parts = this.byPrefix.map((e) => `${e.prefix}=${e.profile.nbData}+${e.profile.nbParity}:${e.profile.chunkSize}`);
    if (this.fallback) parts.push(`default ${this.fallback.nbData}+${this.fallback.nbParity}:${this.fallback.chunkSize}`);
    return parts.join(', ') || 'none yet';
  }
}
