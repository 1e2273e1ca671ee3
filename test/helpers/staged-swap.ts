// Stages the xrootd account's move at an exact point of root's work: `swap` runs once, right
// before the first fs.openSync whose path `match`es. ESM imports of node:fs see the hook through
// syncBuiltinESMExports. A run in which the hook never fired throws: it staged no race.
import { createRequire, syncBuiltinESMExports } from 'node:module';

export function withSwapBeforeOpen<T>(match: (path: string) => boolean, swap: () => void, fn: () => T): T {
  const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
  const real = fs.openSync;
  let fired = false;
  fs.openSync = ((path: import('node:fs').PathLike, ...rest: unknown[]) => {
    if (!fired && typeof path === 'string' && match(path)) {
      fired = true;
      swap();
    }
    return (real as (...a: unknown[]) => number)(path, ...rest);
  }) as typeof fs.openSync;
  syncBuiltinESMExports();
  try {
    let out: T | undefined;
    let failure: unknown;
    try {
      out = fn();
    } catch (err) {
      failure = err;
    }
    if (!fired) throw new Error('withSwapBeforeOpen: no matching fs.openSync ran, no race was staged');
    if (failure !== undefined) throw failure;
    return out as T;
  } finally {
    fs.openSync = real;
    syncBuiltinESMExports();
  }
}
