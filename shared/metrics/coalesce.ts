/**
 * One call per scrape: collect callbacks run side by side, so callers arriving while a call is
 * in flight share its result (one catalog query can feed several metrics).
 */
export function coalesce<T>(fn: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    inFlight ??= fn().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
