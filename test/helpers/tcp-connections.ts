// Established IPv4 TCP connections per process, read from /proc (no ss/netstat needed): which
// process holds a socket (via /proc/<pid>/fd inodes) and where it connects to.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface TcpConnection {
  readonly pid: number;
  readonly localPort: number;
  readonly remotePort: number;
  readonly remoteAddress: string;
}

function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) out.add(m[1] as string);
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

function ipv4(hex: string): string {
  const n = parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
}

/** Established connections (state 01) of these processes. */
export function establishedConnections(pids: readonly number[]): TcpConnection[] {
  const owner = new Map<string, number>();
  for (const pid of pids) for (const ino of socketInodes(pid)) owner.set(ino, pid);
  const out: TcpConnection[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '01') continue;
    const pid = owner.get(f[9] as string);
    if (pid === undefined) continue;
    const [, lport] = (f[1] as string).split(':') as [string, string];
    const [raddr, rport] = (f[2] as string).split(':') as [string, string];
    out.push({ pid, localPort: parseInt(lport, 16), remotePort: parseInt(rport, 16), remoteAddress: ipv4(raddr) });
  }
  return out;
}

/** Listening TCP ports (state 0A) of a process. */
export function listeningPorts(pid: number): number[] {
  const inodes = socketInodes(pid);
  const out: number[] = [];
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '0A' || !inodes.has(f[9] as string)) continue;
    out.push(parseInt((f[1] as string).split(':')[1] as string, 16));
  }
  return out;
}
