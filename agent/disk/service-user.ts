// The xrootd service account, looked up from /etc/passwd and /etc/group: the agent usually runs
// as root, which reads everything, so "can xrootd read this disk?" must be asked with the
// service user's uid and groups and the mode bits, not with access(2).
import { readFileSync, type Stats } from 'node:fs';

export interface ServiceUser {
  readonly name: string;
  readonly uid: number;
  readonly gids: readonly number[];
}

export function lookupServiceUser(name: string): ServiceUser | undefined {
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  const line = passwd.split('\n').find((l) => l.split(':')[0] === name);
  if (!line) return undefined;
  const f = line.split(':');
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  const gids = [gid];
  try {
    for (const g of readFileSync('/etc/group', 'utf8').split('\n')) {
      const p = g.split(':');
      if ((p[3] ?? '').split(',').includes(name)) gids.push(Number(p[2]));
    }
  } catch {
    /* primary group only */
  }
  return { name, uid, gids };
}

/** Whether `user` may read and enter the directory with stats `st` (root may always). */
export function userCanEnter(st: Stats, user: ServiceUser): boolean {
  if (user.uid === 0) return true;
  const mode = st.mode;
  if (st.uid === user.uid) return (mode & 0o500) === 0o500;
  if (user.gids.includes(st.gid)) return (mode & 0o050) === 0o050;
  return (mode & 0o005) === 0o005;
}
