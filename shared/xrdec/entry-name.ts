// XrdEc entry names: `obj.<block>.<stripe>`, decimal, no padding, literal prefix `obj`.

export interface StripeId {
  readonly block: number;
  readonly stripe: number;
}

const ENTRY_RE = /^obj\.(0|[1-9][0-9]{0,9})\.(0|[1-9][0-9]{0,2})$/;

/** Parses an entry name; undefined when it is not XrdEc's form (or its numbers are out of range). */
export function parseEntryName(name: string): StripeId | undefined {
  const m = ENTRY_RE.exec(name);
  if (!m) return undefined;
  const block = Number(m[1]);
  const stripe = Number(m[2]);
  if (block > 0xffffffff || stripe > 254) return undefined;
  return { block, stripe };
}

export function entryName(block: number, stripe: number): string {
  return `obj.${block}.${stripe}`;
}
