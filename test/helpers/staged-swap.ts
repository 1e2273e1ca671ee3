// Stages the xrootd account's move at an exact point of root's work by wrapping one node:fs
// call for the duration of `fn`. ESM imports of node:fs see the wrapper through
// syncBuiltinESMExports. A run in which the wrapper never staged its move throws: it proved nothing.
import { createRequire, syncBuiltinESMExports } from 'node:module';

type Fs = typeof import('node:fs');

/** Runs `fn` with fs[name] wrapped; `wrap` returns the wrapper and reports whether it staged the move. */
function withFsHook<K extends 'openSync' | 'mkdirSync', T>(name: K, wrap: (real: Fs[K]) => { hook: Fs[K]; fired: () => boolean }, fn: () => T, what: string): T {
  const fs = createRequire(import.meta.url)('node:fs') as Fs;
  const real = fs[name];
  const { hook, fired } = wrap(real);
  fs[name] = hook;
  syncBuiltinESMExports();
  try {
    let out: T | undefined;
    let failure: unknown;
    try {
      out = fn();
    } catch (err) {
      failure = err;
    }
    if (!fired()) throw new Error(`${what}: no race was staged`);
    if (failure !== undefined) throw failure;
    return out as T;
  } finally {
    fs[name] = real;
    syncBuiltinESMExports();
  }
}

/** `swap` runs once, right before the first fs.openSync whose path `match`es. */
export function withSwapBeforeOpen<T>(match: (path: string) => boolean, swap: () => void, fn: () => T): T {
  return withFsHook('openSync', (real) => {
    let fired = false;
    const hook = ((path: import('node:fs').PathLike, ...rest: unknown[]) => {
      if (!fired && typeof path === 'string' && match(path)) {
        fired = true;
        swap();
      }
      return (real as (...a: unknown[]) => number)(path, ...rest);
    }) as Fs['openSync'];
    return { hook, fired: () => fired };
  }, fn, 'withSwapBeforeOpen: no matching fs.openSync ran');
}

/**
 * Every fs.mkdirSync's new directory is replaced by a symlink to `to` right after it is made:
 * what the namespace owner does between root's mkdir and chown. A code path that never calls
 * fs.mkdirSync (the native walk uses mkdirat) proves nothing and throws.
 */
export function withMkdirSwappedForSymlink<T>(to: string, fn: () => T): T {
  const fs = createRequire(import.meta.url)('node:fs') as Fs;
  return withFsHook('mkdirSync', (real) => {
    let swapped = 0;
    const hook = ((path: string, opts?: { mode?: number }) => {
      const r = (real as (p: string, o?: { mode?: number }) => unknown)(path, opts);
      fs.rmdirSync(path);
      fs.symlinkSync(to, path);
      swapped++;
      return r;
    }) as Fs['mkdirSync'];
    return { hook, fired: () => swapped > 0 };
  }, fn, 'withMkdirSwappedForSymlink: fs.mkdirSync was never called');
}
