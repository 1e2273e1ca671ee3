// `set NAME = VALUE` and `setenv NAME = VALUE` as XrdOucStream::isSet reads them: the words are
// taken raw (no substitution); `NAME=VALUE`, `NAME= VALUE`, `NAME =VALUE` and `NAME = VALUE`
// all work; the value is one word. A value `$V` (also `$(V)`, `${V}`, `$[V]`) is looked up in
// xrootd's environment for `set` and among the set variables for `setenv`.

export interface SetScope {
  readonly vars: ReadonlyMap<string, string>;
  readonly env: ReadonlyMap<string, string>;
  /** False when environment variables not in `env` are unknown rather than absent. */
  readonly envKnown: boolean;
}

export interface SetOutcome {
  readonly assign?: { readonly name: string; readonly value: string };
  readonly problems: { readonly severity: 'error' | 'warning'; readonly message: string }[];
}

const NAME_RE = /^[A-Za-z0-9_]+$/;
const CLOSERS: Record<string, string> = { '(': ')', '{': '}', '[': ']' };

/** `words` are the words after `set`/`setenv`. */
export function parseSet(words: readonly string[], isEnv: boolean, scope: SetScope): SetOutcome {
  const label = isEnv ? 'setenv' : 'set';
  const problems: SetOutcome['problems'] = [];
  const refused = (m: string): SetOutcome => ({ problems: [...problems, { severity: 'error', message: `${label}: ${m} (XRootD refuses the config)` }] });
  const w0 = words[0];
  if (w0 === undefined) return refused('variable name missing');
  if (!isEnv && (w0 === '-q' || w0 === '-v' || w0 === '-V')) return { problems }; // echo options
  let name: string;
  let value: string;
  let k = 1;
  const eq = w0.indexOf('=');
  if (eq >= 0) {
    name = w0.slice(0, eq);
    value = w0.slice(eq + 1);
  } else {
    name = w0;
    const w1 = words[1];
    if (w1 === undefined || !w1.startsWith('=')) return refused(`missing '=' after '${label} ${name}'`);
    value = w1.slice(1);
    k = 2;
  }
  if (value === '' && words[k] !== undefined) value = words[k++] as string;
  if (k < words.length) problems.push({ severity: 'warning', message: `${label} ${name}: XRootD takes one word as the value; '${words.slice(k).join(' ')}' is ignored` });
  if (!NAME_RE.test(name)) return refused(`variable name '${name}' is not alphanumeric`);
  if (name.length >= 64) return refused(`variable name '${name}' is too long`);
  if (isEnv && name.startsWith('XRD')) return refused(`variable '${name}' may not start with 'XRD'`);
  if (!isEnv && name.includes('_')) {
    problems.push({ severity: 'warning', message: `set ${name}: '$' substitution reads only letters and digits, so XRootD can never substitute a name containing '_'` });
  }
  if (!value.startsWith('$')) return { assign: { name, value }, problems };

  let ref = value.slice(1);
  let closer = CLOSERS[ref[0] ?? ''];
  if (closer !== undefined) {
    ref = ref.slice(1);
    const end = ref.indexOf(closer);
    if (end >= 0) ref = ref.slice(0, end);
    else closer = undefined; // XRootD then reads the rest as a plain name
  }
  if (ref === '') return refused(`malformed variable reference '${value}'`);
  const found = isEnv ? scope.vars.get(ref) : scope.env.get(ref);
  if (found !== undefined) return { assign: { name, value: found }, problems };
  if (!isEnv && !scope.envKnown) {
    problems.push({ severity: 'error', message: `'set ${name} = ${value}' takes ${ref} from xrootd's environment, which ecguard cannot see; ${name} is left undefined` });
    return { problems };
  }
  if (closer === ']') return { assign: { name, value: '' }, problems };
  return refused(`${isEnv ? 'variable' : 'environment variable'} '${ref}' is undefined; ${name} is not set`);
}
