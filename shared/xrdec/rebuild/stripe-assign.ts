// Which rebuilt archive gets which missing stripe of a block.
//
// The missing stripes of a block, in stripe order, go one per target archive: the i-th missing
// stripe to target i. A block that misses fewer stripes than there are targets leaves the last
// targets without an entry for it (as archives of a K > N+M object lack some blocks); a block
// that misses more puts all the extra ones into the last target (as a retried XrdEc write puts
// two stripes of a block in one archive). Both shapes are ones the XrdEc reader accepts, since it
// finds stripes by entry name. With K = N+M and `targets` = the number of lost archives, every
// target gets exactly one stripe per block, as XrdEc itself would have written it.

/** result[t] = stripes of this block for target t, ascending. */
export function assignMissing(missing: readonly number[], targets: number): number[][] {
  const out: number[][] = Array.from({ length: targets }, () => []);
  const sorted = [...missing].sort((a, b) => a - b);
  sorted.forEach((s, i) => (out[Math.min(i, targets - 1)] as number[]).push(s));
  return out;
}
