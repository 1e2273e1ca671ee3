// A namespace owned by the xrootd account (what it can write, it can plant symlinks in) next to
// root-owned things it must not reach: a directory standing for /etc and a file standing for
// /etc/shadow. For the tests of root writing into that namespace; they need root to chown.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface HostileNamespace {
  readonly base: string;
  /** <base>/ns/data, owned by xrootd. */
  readonly nsRoot: string;
  /** A root-owned directory outside the namespace (stands for /etc). */
  readonly outside: string;
  /** A root-owned 0600 file outside the namespace (stands for /etc/shadow). */
  readonly victim: string;
  readonly owner: { readonly uid: number; readonly gid: number };
  cleanup(): void;
}

export const asRoot = process.getuid?.() === 0;

function xrootdIds(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'xrootd'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

export function makeHostileNamespace(): HostileNamespace {
  const base = mkdtempSync(join(tmpdir(), 'ecguard-ns-'));
  const nsRoot = join(base, 'ns', 'data');
  const outside = join(base, 'outside');
  const victim = join(base, 'victim');
  mkdirSync(nsRoot, { recursive: true });
  mkdirSync(join(outside, 'ssl'), { recursive: true });
  writeFileSync(victim, 'secret');
  chmodSync(victim, 0o600);
  const owner = xrootdIds();
  chownSync(nsRoot, owner.uid, owner.gid);
  return { base, nsRoot, outside, victim, owner, cleanup: () => rmSync(base, { recursive: true, force: true }) };
}

export { withMkdirSwappedForSymlink } from './staged-swap.js';
