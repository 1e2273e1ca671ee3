// Paths the config tests read: the shared xrootd config examples (outside the repo) and the
// repo's deploy/ folder, found from the compiled test's location (dist/test/agent/config/).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const sharedConfigs = resolve(repoRoot, '..', 'shared', 'xrootd-configs');

/** A temp directory the test fills with files; `write` creates parent directories. */
export class TempTree {
  readonly root = mkdtempSync(join(tmpdir(), 'ecguard-cfg-'));

  path(rel: string): string {
    return join(this.root, rel);
  }

  write(rel: string, text: string): string {
    const p = this.path(rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
    return p;
  }

  mkdir(rel: string): string {
    const p = this.path(rel);
    mkdirSync(p, { recursive: true });
    return p;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
