// Types shared by the pieces of the xrootd config reader (lexer, conditions, reader, extraction).

/** Three-valued truth: conditions ecguard cannot evaluate are 'unknown', never guessed. */
export type Tri = true | false | 'unknown';

export interface XrootdDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** One directive that applies to this host/program/instance, after variable substitution. */
export interface XrootdDirective {
  /** `oss` of `oss.space` (empty when the word has no dot). */
  readonly component: string;
  /** `space` of `oss.space`. */
  readonly directive: string;
  readonly args: readonly string[];
  readonly file: string;
  /** First physical line of the (possibly continued) directive, 1-based. */
  readonly line: number;
  /** Physical line of each of `args` (a continued directive spans several). */
  readonly argLines: readonly number[];
}

export interface XrootdEvalOptions {
  /** This machine's fully qualified host name, as xrootd sees it (if-host patterns match it). */
  readonly host: string;
  /** `xrootd -n NAME`; absent means an unnamed instance, which XRootD calls `anon`. */
  readonly instance?: string;
  /** Program reading the config (`if exec …`); default `xrootd`. */
  readonly program?: string;
  /**
   * xrootd's environment, when known (for `if defined ?~VAR` and `set X = $VAR`). Without it
   * only the variables xrootd itself exports (XRDHOST, XRDNAME, XRDPROG, XRDINSTANCE) and
   * those the config `setenv`s are known; others are reported as unevaluable.
   */
  readonly env?: Readonly<Record<string, string>>;
}

export function and3(a: Tri, b: Tri): Tri {
  if (a === false || b === false) return false;
  if (a === 'unknown' || b === 'unknown') return 'unknown';
  return true;
}

export function or3(a: Tri, b: Tri): Tri {
  if (a === true || b === true) return true;
  if (a === 'unknown' || b === 'unknown') return 'unknown';
  return false;
}

export function not3(a: Tri): Tri {
  return a === 'unknown' ? 'unknown' : !a;
}
