// Where a retried task starts: each target's holder reports the good entries an earlier attempt
// left in its partial archive; the task keeps, per target, the longest prefix whose names and
// sizes are exactly what it would send now (a re-planned task may assign other stripes to a
// slot: then nothing is kept), and resumes at the first block some target lacks. A holder that
// cannot answer (down, an older agent) just means starting that block range over.
import { errorText } from '../../shared/errors.js';
import type { StripeRebuild } from '../../shared/xrdec/rebuild/stripe-rebuild.js';
import type { KeptProgress } from '../stripes/placement-progress.js';

export interface ResumePoint {
  /** First block to read and decode. */
  readonly fromBlock: number;
  /** Per target: entries of its partial archive to keep (all before fromBlock). */
  readonly keep: readonly number[];
}

export async function resumePoint(r: StripeRebuild, ask: readonly (() => Promise<KeptProgress>)[], problems: string[]): Promise<ResumePoint> {
  const expected = ask.map((_, i) => [...r.expectedEntries(i)]);
  const kept = await Promise.all(ask.map((f, i) => f().catch((err: unknown) => {
    problems.push(`target ${i}: cannot ask what an earlier attempt left (${errorText(err).slice(0, 200)}): starting over`);
    return undefined;
  })));
  let fromBlock = r.blockCount;
  kept.forEach((k, i) => {
    const exp = expected[i] ?? [];
    if (k?.alreadyPlaced) return; // nothing to send to it
    let j = 0;
    const have = k?.entries ?? [];
    while (j < have.length && j < exp.length && have[j]?.name === exp[j]?.name && have[j]?.size === exp[j]?.size) j++;
    fromBlock = Math.min(fromBlock, j < exp.length ? (exp[j]?.block ?? 0) : r.blockCount);
  });
  const keep = expected.map((exp, i) => (kept[i]?.alreadyPlaced ? 0 : exp.filter((e) => e.block < fromBlock).length));
  return { fromBlock, keep };
}
