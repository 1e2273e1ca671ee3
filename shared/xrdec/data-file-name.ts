// xrootd's data file names under oss.space (XRDEC-FORMAT.md §A):
//   <start time u32><pid u32> (memory order, UPPERCASE hex) <port u16 + IPv4> (12 lowercase hex)
//   <create counter u32> (memory order, UPPERCASE hex) <off><len>%   — 40 chars for IPv4
// where <off> = length of "<diskdir>/" mod 256 (2 hex digits) and <len> = length of the space
// name (1 hex digit, f if > 15). The bucket directory is the counter's low byte.

export interface DataFileNameParts {
  readonly startTime: number;
  readonly pid: number;
  readonly port: number;
  /** IPv4 address as four octets. */
  readonly ipv4: readonly [number, number, number, number];
  readonly counter: number;
}

const u32le = (n: number): string => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b.toString('hex').toUpperCase();
};

export function dataFileSuffix(diskDir: string, space: string): string {
  const off = (diskDir.replace(/\/+$/, '').length + 1) % 256;
  const len = space.length > 15 ? 15 : space.length;
  return off.toString(16).padStart(2, '0').toUpperCase() + len.toString(16).toUpperCase() + '%';
}

export function bucketOf(counter: number): string {
  return (counter & 0xff).toString(16).padStart(2, '0').toUpperCase();
}

export function dataFileName(p: DataFileNameParts, diskDir: string, space: string): string {
  const portIp = Buffer.alloc(6);
  portIp.writeUInt16BE(p.port & 0xffff, 0);
  p.ipv4.forEach((o, i) => portIp.writeUInt8(o & 0xff, 2 + i));
  return u32le(p.startTime) + u32le(p.pid) + portIp.toString('hex') + u32le(p.counter) + dataFileSuffix(diskDir, space);
}

/** `<space>/<XX>/<name>` relative to the disk directory. */
export function dataFileRelPath(p: DataFileNameParts, diskDir: string, space: string): string {
  return `${space}/${bucketOf(p.counter)}/${dataFileName(p, diskDir, space)}`;
}

const NAME_RE = /^([0-9A-F]{8})([0-9A-F]{8})([0-9a-f]{12})([0-9A-F]{8})([0-9A-F]{2})([0-9a-fA-F])%$/;

export interface ParsedDataFileName extends DataFileNameParts {
  readonly diskDirLength: number;
  readonly spaceLength: number;
}

/** Parses an IPv4-style data file name; undefined for anything else (IPv6 names are longer). */
export function parseDataFileName(name: string): ParsedDataFileName | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const le = (h: string): number => Buffer.from(h, 'hex').readUInt32LE(0);
  const pi = Buffer.from(m[3] as string, 'hex');
  return {
    startTime: le(m[1] as string),
    pid: le(m[2] as string),
    port: pi.readUInt16BE(0),
    ipv4: [pi[2] as number, pi[3] as number, pi[4] as number, pi[5] as number],
    counter: le(m[4] as string),
    diskDirLength: parseInt(m[5] as string, 16),
    spaceLength: parseInt(m[6] as string, 16),
  };
}
