// Human durations in config files ("30s", "10m", "6h", "1d", "250ms", "1h30m") to milliseconds.
// A bare number is refused: "6" could mean seconds or hours, and a wrong guess silently
// changes how often every disk is rescanned.
import { UsageError } from '../errors.js';

export const DURATION_HINT = 'a duration like 30s, 10m or 6h';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;

/** Milliseconds in `text`, or undefined when it is not a duration. */
export function tryParseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!WHOLE.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(PART)) ms += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** Milliseconds in `text`; throws a UsageError naming what was expected. */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw new UsageError(`expected ${DURATION_HINT}, got ${JSON.stringify(text)}`);
  return ms;
}
